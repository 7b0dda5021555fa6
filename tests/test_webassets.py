"""Map assets: served by URL to the Streamlit page, inlined in the offline HTML."""

import hashlib
import re

import pytest

from geo.settings import ASSETS_DIR
from geo.web.webassets import asset_data_url, asset_paths, served_links
from geo.web.webmap import build_map, map_to_offline_html


def _links(m) -> tuple[list[str], list[str]]:
    """Script and stylesheet links of a built map, as st_folium collects them."""
    css, js, stack = [], [], [m]
    while stack:
        elem = stack.pop(0)
        css += [href for _, href in getattr(elem, "default_css", [])]
        js += [src for _, src in getattr(elem, "default_js", [])]
        stack += list(getattr(elem, "_children", {}).values())
    return css, js


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_link_of_a_built_map_becomes_a_url_of_a_vendored_file(web_layers, web_manifest, lang):
    css, js = _links(build_map(web_layers, web_manifest, lang=lang))
    assert css and js
    served_css = served_links(css, base="../../app/static")
    served_js = served_links(js, base="../../app/static/")
    paths = []
    for link in served_css + served_js:
        assert link.startswith("../../app/static/"), link[:60]
        path, version = link.removeprefix("../../app/static/").split("?v=")
        content = (ASSETS_DIR / path).read_bytes()
        assert version == hashlib.sha256(content).hexdigest()[:12]  # an edit changes the URL
        paths.append(path)
    # same order as built: Leaflet first, the map client last
    js_paths = paths[len(served_css) :]
    assert js_paths[0] == "leaflet/leaflet.js"
    assert js_paths[-1] == "hgmap/hgmap.js"
    assert f"measure/leaflet-measure.{'cn' if lang == 'zh' else 'en'}.js" in js_paths
    assert sum(map(len, served_css + served_js)) < 1_000  # instead of ~0.36 MB of base64
    assert sum(map(len, css + js)) > 300_000


def test_served_links_keep_unknown_links_and_need_a_base():
    leaflet = asset_data_url("leaflet/leaflet.js")
    links = served_links(["data:text/javascript;base64,AAAA", leaflet], base="/a")
    assert links[0] == "data:text/javascript;base64,AAAA"
    assert links[1].startswith("/a/leaflet/leaflet.js?v=")
    with pytest.raises(ValueError, match="base is empty"):
        served_links([leaflet], base="")


def test_asset_paths_exist_and_css_images_are_served_beside_them():
    for path in asset_paths():
        assert (ASSETS_DIR / path).is_file(), path
        if path.endswith(".css"):  # url(images/...) resolves next to the stylesheet's URL
            text = (ASSETS_DIR / path).read_text(encoding="utf-8")
            for ref in re.findall(r"url\([\"']?((?:images|assets)/[^)\"']+)", text):
                assert (ASSETS_DIR / path).parent.joinpath(ref).is_file(), ref


def test_offline_html_still_inlines_every_asset(web_layers, web_manifest):
    html = map_to_offline_html(build_map(web_layers, web_manifest))
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+stylesheet", html)
    assert "data:text/javascript" not in html
    assert 'version="1.9.4"' in html  # Leaflet's version string
    assert "HgMap" in html  # the map client
    assert "leaflet-control-measure" in html and "leaflet-control-minimap" in html
