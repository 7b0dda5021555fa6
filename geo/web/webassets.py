"""Vendored browser assets (Leaflet, plugins, the map client) as ``data:`` URLs or inline tags.

Every file comes from ``geo/assets`` (npm packages, licences in ``geo/assets/LICENSES.md``); CSS
``url(...)`` references to images are inlined too, so a map needs no request beyond its own page.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from typing import Final

from geo.settings import ASSETS_DIR

__all__ = [
    "LEAFLET_CSS",
    "LEAFLET_JS",
    "PLUGIN_CSS",
    "PLUGIN_JS",
    "asset_data_url",
    "inline_assets",
]

#: Leaflet itself (name, path under ``geo/assets``).
LEAFLET_JS: Final = ("leaflet", "leaflet/leaflet.js")
LEAFLET_CSS: Final = ("leaflet_css", "leaflet/leaflet.css")
#: Plugins and the project's map client, loaded after Leaflet in this order.
PLUGIN_JS: Final[tuple[tuple[str, str], ...]] = (
    ("hg_fullscreen", "fullscreen/Control.FullScreen.umd.js"),
    ("hg_minimap", "minimap/Control.MiniMap.min.js"),
    ("hg_measure", "measure/leaflet-measure.{lang}.js"),
    ("hg_mouseposition", "mouseposition/L.Control.MousePosition.js"),
    ("hg_client", "hgmap/hgmap.js"),
)
PLUGIN_CSS: Final[tuple[tuple[str, str], ...]] = (
    ("hg_fullscreen_css", "fullscreen/Control.FullScreen.css"),
    ("hg_minimap_css", "minimap/Control.MiniMap.min.css"),
    ("hg_measure_css", "measure/leaflet-measure.css"),
    ("hg_mouseposition_css", "mouseposition/L.Control.MousePosition.css"),
    ("hg_client_css", "hgmap/hgmap.css"),
)
_MIME: Final[dict[str, str]] = {".png": "image/png", ".svg": "image/svg+xml"}
_CSS_URL: Final = re.compile(r"""url\(["']?((?:images|assets)/[\w\-@.]+\.(?:png|svg))["']?\)""")


@lru_cache(maxsize=32)
def asset_data_url(relpath: str) -> str:
    """Return a vendored file as a base64 ``data:`` URL (CSS images inlined).

    Parameters
    ----------
    relpath : str
        Path under ``geo/assets``, e.g. ``"leaflet/leaflet.js"``.

    Returns
    -------
    str
    """
    path = ASSETS_DIR / relpath
    data = path.read_bytes()
    if relpath.endswith(".css"):
        css = data.decode("utf-8")

        def _inline(match: re.Match[str]) -> str:
            img = path.parent / match.group(1)
            mime = _MIME[img.suffix]
            return f"url(data:{mime};base64,{base64.b64encode(img.read_bytes()).decode()})"

        data = _CSS_URL.sub(_inline, css).encode("utf-8")
        return f"data:text/css;base64,{base64.b64encode(data).decode()}"
    return f"data:text/javascript;base64,{base64.b64encode(data).decode()}"


def inline_assets(page: str) -> str:
    """Turn ``data:`` script/style links of a rendered page into inline ``<script>``/``<style>``.

    Parameters
    ----------
    page : str
        Rendered HTML.

    Returns
    -------
    str
    """

    def _script(match: re.Match[str]) -> str:
        code = base64.b64decode(match.group(1)).decode("utf-8")
        return "<script>" + code.replace("</script", "<\\/script") + "</script>"

    def _style(match: re.Match[str]) -> str:
        return "<style>" + base64.b64decode(match.group(1)).decode("utf-8") + "</style>"

    page = re.sub(
        r'<script src="data:text/javascript;base64,([A-Za-z0-9+/=]+)"></script>', _script, page
    )
    return re.sub(
        r'<link rel="stylesheet" href="data:text/css;base64,([A-Za-z0-9+/=]+)"/>', _style, page
    )
