"""Vendored browser assets (Leaflet, plugins, map client) as ``data:`` URLs, inline tags or URLs.

Every file comes from ``geo/assets`` (npm packages, licences in ``geo/assets/LICENSES.md``). A built
map refers to them as ``data:`` URLs (CSS ``url(...)`` images inlined too), so the offline HTML
needs no request beyond its own page (:func:`inline_assets`). A server that serves ``geo/assets``
swaps them for URLs (:func:`served_links`): the browser then fetches each file once and caches it,
instead of receiving ~0.36 MB of base64 with every session's first map.
"""

from __future__ import annotations

import base64
import hashlib
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
    "asset_paths",
    "inline_assets",
    "served_links",
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


def asset_paths() -> tuple[str, ...]:
    """Return every vendored file a map links to, as paths under ``geo/assets``.

    Returns
    -------
    tuple of str
        Leaflet, the plugins (both languages of the measure plugin) and the map client.
    """
    paths = [LEAFLET_JS[1], LEAFLET_CSS[1]]
    for _, path in (*PLUGIN_JS, *PLUGIN_CSS):
        paths += [path.format(lang=lang) for lang in ("cn", "en")] if "{lang}" in path else [path]
    return tuple(paths)


@lru_cache(maxsize=1)
def _data_url_paths() -> dict[str, str]:
    """Map each data: URL to `path?v=<content hash>` (an edited file gets a new URL)."""
    out = {}
    for path in asset_paths():
        digest = hashlib.sha256((ASSETS_DIR / path).read_bytes()).hexdigest()[:12]
        out[asset_data_url(path)] = f"{path}?v={digest}"
    return out


def served_links(links: list[str], *, base: str) -> list[str]:
    """Replace the ``data:`` URLs of vendored files by URLs under ``base``.

    Parameters
    ----------
    links : list of str
        Script or stylesheet links of a built map (``data:`` URLs from :func:`asset_data_url`).
    base : str
        URL (absolute, or relative to the page that loads the links) at which the server serves
        the ``geo/assets`` folder; ``"/"`` is appended when missing.

    Returns
    -------
    list of str
        The links in the same order, each with ``?v=`` and a hash of the file's content (browsers
        cache them; an edited file gets a new URL). Links that are not vendored files are kept.

    Raises
    ------
    ValueError
        If ``base`` is empty.

    Examples
    --------
    >>> links = served_links([asset_data_url("leaflet/leaflet.js"), "x.js"], base="../static")
    >>> links[0].split("?")[0], links[1]
    ('../static/leaflet/leaflet.js', 'x.js')
    """
    if not base:
        msg = "served_links: base is empty; give the URL at which geo/assets is served"
        raise ValueError(msg)
    base = base if base.endswith("/") else base + "/"
    known = _data_url_paths()
    return [base + known[link] if link in known else link for link in links]


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
