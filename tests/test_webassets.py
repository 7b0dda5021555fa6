"""Map assets: the offline HTML inlines every vendored file."""

import re

from geo.web.webmap import build_map, map_to_offline_html


def test_offline_html_still_inlines_every_asset(web_layers, web_manifest):
    html = map_to_offline_html(build_map(web_layers, web_manifest))
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+stylesheet", html)
    assert "data:text/javascript" not in html
    assert 'version="1.9.4"' in html  # Leaflet's version string
    assert "HgMap" in html  # the map client
    assert "leaflet-control-measure" in html and "leaflet-control-minimap" in html
