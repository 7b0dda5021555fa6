import json
import re
from pathlib import Path
from urllib.parse import urlparse

import folium
import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from geo.coords import from_wgs84
from geo.errors import CRSError, InputError
from geo.settings import ASSETS_DIR as ASSETS
from geo.web.dashboard import indicator_table, zone_scale_table
from geo.web.search import facilities_in_unit, search_places, unit_coverage
from geo.web.webmap import (
    build_map,
    geojson_payload_bytes,
    layers_to_geojson,
    layers_to_gpkg,
    map_to_offline_html,
    prepare_layer,
    view_for_bounds,
)
from geo.web.webstyle import shape_svg


def _client(m: folium.Map):
    return next(c for c in _walk(m) if type(c).__name__ == "_HgClient")


def _walk(e):
    yield e
    for c in getattr(e, "_children", {}).values():
        yield from _walk(c)


def _entries(m: folium.Map) -> list[dict]:
    return _client(m).config["layers"]


def _entry(m: folium.Map, lid: str) -> dict:
    return next(e for e in _entries(m) if e["id"] == lid)


def _overlays(m: folium.Map) -> list[folium.GeoJson]:
    return [c for c in _walk(m) if isinstance(c, folium.GeoJson)]


def test_one_entry_per_layer_in_manifest_group_order(web_layers, web_manifest):
    m = build_map(web_layers, web_manifest)
    assert [e["id"] for e in _entries(m)] == ["zones", "pts", "counties"]
    assert [e["group_name"] for e in _entries(m)] == ["规划", "规划", "行政区划"]
    cfg = _client(m).config
    assert cfg["visible"] == ["zones", "pts", "counties"]
    m2 = build_map(web_layers, web_manifest, visible=["counties", "pts"])
    # every layer is shipped once; only the visible ones are switched on at first
    assert _client(m2).config["visible"] == ["pts", "counties"]
    assert sum(len(e["data"]["features"]) for e in _entries(m2)) == 5


def test_legend_rows_per_layer_and_schematic_badge(web_layers, web_manifest):
    m = build_map(web_layers, web_manifest, visible=["pts"])
    assert "示意" in _entry(m, "zones")["legend"] and "示意" not in _entry(m, "pts")["legend"]
    assert "hg-legend" in (ASSETS / "hgmap" / "hgmap.js").read_text()


def test_popup_has_quote_role_targets_precision_and_schematic_note(web_layers, web_manifest):
    data = prepare_layer(web_layers["zones"], web_manifest["layers"][0])
    props = data["features"][0]["properties"]
    assert "建设国家医学中心" in props["_popup"]
    assert "《长沙规划》 专栏5" in props["_popup"]
    assert "一核" in props["_popup"] and "规划面积: 13平方公里 (2026)" in props["_popup"]
    assert "示意" in props["_popup"] and "schematic" in props["_popup"]
    assert props["_tip"] == "核心区（示意）"


def test_schematic_zones_are_dashed_in_legend(web_layers, web_manifest):
    m = build_map(web_layers, web_manifest, visible=["zones"])
    assert "stroke-dasharray='6 4'" in _entry(m, "zones")["legend"]


def test_text_is_html_escaped_everywhere(web_layers, web_manifest):
    m = build_map(web_layers, web_manifest, visible=["pts"])
    html = map_to_offline_html(m)
    assert "<script>alert" not in html
    p = _entry(m, "pts")["data"]["features"][0]["properties"]
    assert p["_tip"] == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;医院"
    assert "他说&quot;好&quot;&lt;b&gt;" in p["_popup"]
    assert "<b>" not in p["_popup"].replace("<b>定位</b>", "").replace("<b>位置精度</b>", "")


def test_gcj02_basemap_shifts_overlays(web_layers, web_manifest):
    wgs = build_map(web_layers, web_manifest, visible=["pts"])
    gcj = build_map(web_layers, web_manifest, visible=["pts"], basemap="amap")
    a = _entry(wgs, "pts")["data"]["features"][1]["geometry"]["coordinates"]
    b = _entry(gcj, "pts")["data"]["features"][1]["geometry"]["coordinates"]
    ex, ey = from_wgs84([112.98], [28.19], "GCJ02")
    assert list(a) == [112.98, 28.19]
    assert b == pytest.approx([round(float(ex[0]), 5), round(float(ey[0]), 5)])
    assert 0.002 < abs(b[0] - a[0]) + abs(b[1] - a[1]) < 0.02  # GCJ-02 offset is ~100-700 m


def test_offline_basemap_has_no_tiles_and_no_cdn(web_layers, web_manifest):
    m = build_map(web_layers, web_manifest)
    assert not any(isinstance(c, folium.TileLayer) for c in m._children.values())
    html = map_to_offline_html(m)
    srcs = re.findall(r'<(?:script|link|img)[^>]*(?:src|href)="([^"]+)"', html)
    assert not [s for s in srcs if s.startswith(("http:", "https:", "//"))]
    assert 'version="1.9.4"' in html  # Leaflet's version string, inlined
    for plugin in ("Control.MiniMap", "MousePosition", "leaflet-measure", "FullScreen"):
        assert plugin in html, plugin


@pytest.mark.parametrize("basemap", ["osm", "light", "amap"])
def test_online_basemaps_add_tiles(web_layers, web_manifest, basemap):
    m = build_map(web_layers, web_manifest, basemap=basemap)
    assert sum(isinstance(c, folium.TileLayer) for c in m._children.values()) == 1


def test_tianditu_without_key_keeps_unit_coverage_and_view(web_layers, web_manifest):
    poly = gpd.GeoSeries([box(112.9, 28.1, 112.95, 28.15)], crs="EPSG:4326")
    m = build_map(
        web_layers, web_manifest, basemap="tianditu", highlight_unit="430103", coverage=poly
    )
    cfg = _client(m).config
    assert any("天地图需要密钥" in n for n in cfg["notices"])
    assert {g.options["pane"] for g in _overlays(m)} == {"hg-highlight", "hg-coverage"}
    assert cfg["bounds"] == [[28.1, 113.0], [28.2, 113.1]]  # zoomed to 天心区


def test_tianditu_key_used_in_app_but_never_exported(web_layers, web_manifest):
    m = build_map(web_layers, web_manifest, basemap="tianditu", tianditu_key="abc123def456")
    assert "tk=abc123def456" in m.get_root().render()
    html = map_to_offline_html(m)
    assert "abc123def456" not in html
    assert "导出文件不含天地图密钥" in html


def test_share_url_is_written_only_when_the_app_asks_and_never_by_the_file(
    web_layers, web_manifest
):
    assert _client(build_map(web_layers, web_manifest)).config["share_url"] is None
    m = build_map(web_layers, web_manifest, share_url=True)
    assert _client(m).config["share_url"] == {"layers": "layers", "center": "c", "zoom": "z"}
    assert '"share_url":{"layers":"layers","center":"c","zoom":"z"}' in m.get_root().render()
    html = map_to_offline_html(m)  # a standalone file has no page URL to keep
    assert '"share_url":null' in html and '"share_url":{' not in html
    assert _client(m).config["share_url"] is not None  # the app's map is left as it was


def test_unknown_basemap_and_unit(web_layers, web_manifest):
    with pytest.raises(InputError, match="unknown basemap 'bing'"):
        build_map(web_layers, web_manifest, basemap="bing")
    with pytest.raises(InputError, match="unknown unit '999999'"):
        build_map(web_layers, web_manifest, highlight_unit="999999")


def test_missing_crs_raises(web_layers, web_manifest):
    bad = dict(web_layers, pts=web_layers["pts"].set_crs(None, allow_override=True))
    with pytest.raises(CRSError, match="pts"):
        build_map(bad, web_manifest)


def test_selected_unit_outline_is_non_interactive_in_its_own_pane(web_layers, web_manifest):
    m = build_map(web_layers, web_manifest, highlight_unit="430103")
    (outline,) = _overlays(m)
    assert outline.options == {"interactive": False, "pane": "hg-highlight"}
    assert outline.style_function(outline.data["features"][0])["fill"] is False


def test_coverage_is_non_interactive_and_has_a_legend_entry(web_layers, web_manifest):
    poly = gpd.GeoSeries([box(112.9, 28.1, 112.95, 28.15)], crs="EPSG:4326")
    m = build_map(web_layers, web_manifest, coverage=poly)
    (cov,) = _overlays(m)
    assert cov.options == {"interactive": False, "pane": "hg-coverage"}
    assert "覆盖范围" in _client(m).config["legend_extra"]["coverage"]


def test_view_for_bounds_fits_a_unit(web_layers):
    bounds = web_layers["counties"].query("name == '天心区'").total_bounds
    assert bounds == pytest.approx([113.0, 28.1, 113.1, 28.2])
    (lat, lon), zoom = view_for_bounds(bounds, width_px=900, height_px=640)
    assert (lat, lon) == pytest.approx((28.15, 113.05))
    # 0.1 deg of longitude is 900 px at zoom 11 (256 * 2**11 * 0.1 / 360 = 146 px per 0.1 at 9)
    assert zoom == 12


def test_popup_shows_inferred_attribution_with_reason(web_layers, web_manifest):
    pts = web_layers["pts"].assign(
        attribution=["inferred", "stated"],
        attribution_reason=["县名由规划段落<推断>", ""],
    )
    feats = prepare_layer(pts, web_manifest["layers"][1])["features"]
    assert "attribution: inferred" in feats[0]["properties"]["_popup"]
    assert "县名由规划段落&lt;推断&gt;" in feats[0]["properties"]["_popup"]
    assert "inferred" not in feats[1]["properties"]["_popup"]
    # before the layout helper's merge the property is missing: treated as stated
    assert (
        "inferred"
        not in prepare_layer(web_layers["pts"], web_manifest["layers"][1])["features"][0][
            "properties"
        ]["_popup"]
    )


def test_marker_shapes_and_kind_overrides_from_manifest(web_layers, web_manifest):
    meta = web_manifest["layers"][1]
    meta["style"] = dict(
        meta["style"],
        marker="square",
        kinds={"tcm": {"marker": "star", "color": "#8e44ad", "fillColor": "#d2b4de"}},
    )
    pts = web_layers["pts"].assign(kind=["tcm", "goal"])
    m = build_map(dict(web_layers, pts=pts), web_manifest, visible=["pts"])
    legend = _entry(m, "pts")["legend"]
    assert re.findall(r"data-marker='([a-z_]+)'", legend) == ["square", "square_open", "star"]
    hollow = legend.split("data-marker='square_open'")[1].split("</svg>")[0]
    assert "fill='#ffffff'" in hollow  # goal points are hollow
    assert "(示意)" in _entry(m, "zones")["legend"]
    assert [f["properties"]["kind"] for f in _entry(m, "pts")["data"]["features"]] == [
        "tcm",
        "goal",
    ]


@pytest.mark.parametrize("marker", ["circle", "square", "diamond", "triangle", "star", "cross"])
def test_each_marker_shape_has_its_own_svg(marker):
    svg = shape_svg(marker, "#111111", "#222222")
    assert f"data-marker='{marker}'" in svg
    assert ("<circle" in svg) == (marker == "circle")


def test_offline_html_holds_every_layer_and_the_legend_once_after_st_folium(
    web_layers, web_manifest
):
    from streamlit_folium import _get_map_string

    m = build_map(web_layers, web_manifest)
    m.get_root().render()  # what st_folium does before the download button renders it again
    m.render()
    _get_map_string(m)
    html = map_to_offline_html(m)
    assert html.count("建设国家医学中心") == 2  # the zone's and 湘雅医院's quote, each once
    assert html.count('"id":"pts"') == 1 and html.count('"id":"zones"') == 1
    assert html.count("new HgMap(") == 1


def test_coordinates_rounded_and_boundaries_simplified(web_manifest):
    import numpy as np

    theta = np.linspace(0, 2 * np.pi, 2000)
    from shapely.geometry import Polygon

    ring = Polygon(zip(113 + 0.1 * np.cos(theta), 28 + 0.1 * np.sin(theta), strict=True))
    gdf = gpd.GeoDataFrame({"adcode": ["1"], "name": ["圆"]}, geometry=[ring], crs="EPSG:4326")
    data = prepare_layer(gdf, web_manifest["layers"][2], simplify_m=30)
    coords = data["features"][0]["geometry"]["coordinates"][0]
    assert len(coords) < 2000
    assert all(round(x, 5) == x for x, _ in coords)


def test_default_view_of_real_layers_fits_payload_budget():
    from geo.data.layers import layer_ids, load_layers, load_manifest

    manifest = load_manifest()
    layers = load_layers(layer_ids(manifest))
    m = build_map(layers, manifest)
    size = geojson_payload_bytes(m)
    assert 10_000 < size <= 1_500_000
    n = sum(len(e["data"]["features"]) for e in _entries(m))
    assert n == sum(len(v) for v in layers.values())


def test_search_places_substring(web_layers, web_manifest):
    hits = search_places(web_layers, "湘雅")
    assert hits["name"].tolist() == ["湘雅医院"]
    # readable layer names (manifest zh/en), not raw ids
    hits = search_places(web_layers, "湘雅", manifest=web_manifest)
    assert hits.loc[0, "layer_name"] == "医院" and hits.loc[0, "label"] == "湘雅医院 · 医院"
    en = search_places(web_layers, "湘雅", manifest=web_manifest, lang="en")
    assert en.loc[0, "label"] == "湘雅医院 · Hospitals"
    assert sorted(search_places(web_layers, "区")["name"]) == ["天心区", "核心区", "芙蓉区"]
    assert search_places(web_layers, "  ").empty


def test_facilities_in_unit(web_layers):
    got = facilities_in_unit(web_layers, web_layers["counties"], "芙蓉区")
    assert sorted(got["name"]) == sorted(web_layers["pts"]["name"])
    assert facilities_in_unit(web_layers, web_layers["counties"], "430103").empty


def test_unit_coverage_against_hand_computed_circle(square_units):
    # one facility at the centre of the 10 km x 10 km west unit; walk 15 min = 1000 m
    fac = gpd.GeoDataFrame(geometry=[Point(505_000, 3_125_000)], crs="EPSG:4547")
    cov = unit_coverage(fac, square_units, "900001", mode="walk", minutes=15)
    assert cov.radius_m == pytest.approx(1000.0)
    expected = 3.14159265 * 1000**2 / 1e8
    assert cov.area_share == pytest.approx(expected, rel=0.01)
    assert cov.population_covered == pytest.approx(1000 * expected, rel=0.01)
    assert cov.reach.crs.to_epsg() == 4326


def test_unit_coverage_needs_crs(square_units):
    fac = gpd.GeoDataFrame(geometry=[Point(0, 0)])
    with pytest.raises(CRSError, match="facilities"):
        unit_coverage(fac, square_units, "900001")


def test_exports_round_trip(web_layers, tmp_path):
    fc = json.loads(layers_to_geojson(web_layers))
    assert len(fc["features"]) == 5
    assert {f["properties"]["layer"] for f in fc["features"]} == {"zones", "pts", "counties"}
    path = tmp_path / "x.gpkg"
    path.write_bytes(layers_to_gpkg(web_layers))
    back = gpd.read_file(path, layer="pts")
    assert back["name"].tolist() == web_layers["pts"]["name"].tolist()
    zones = gpd.read_file(path, layer="zones")
    assert json.loads(zones["targets"][0])[0]["value"] == 13


def test_dashboard_tables(web_layers):
    t = indicator_table(
        [
            {
                "label": "营收",
                "unit": "亿元",
                "value": 5000,
                "year": 2026,
                "baseline": 3986,
                "baseline_year": 2022,
                "section": "专栏1",
            }
        ]
    )
    assert t.loc[0, "change_pct"] == pytest.approx(25.44, abs=0.01)
    s = zone_scale_table(web_layers)
    assert s[["name", "value", "unit"]].values.tolist() == [["核心区", 13, "平方公里"]]


# --- in headless Chromium (internet blocked): clicks, client-side display, tools ------------

CHROMIUM = "/usr/bin/chromium"
_BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
_LOCAL = {"localhost", "127.0.0.1", "::1"}

_POINT_PX = """([lid, fid]) => {
    const e = window.hgmap.layers[lid];
    const l = e.features.find((f) => f.feature.properties.id === fid);
    const p = window.hgmap.map.latLngToContainerPoint(l.getLatLng());
    const r = window.hgmap.map.getContainer().getBoundingClientRect();
    return {x: p.x + r.left, y: p.y + r.top, same: (x, y) => 0};
}"""
_HIT_IS = """([lid, fid, x, y]) => {
    const e = window.hgmap.layers[lid];
    const l = e.features.find((f) => f.feature.properties.id === fid);
    const el = document.elementFromPoint(x, y);
    return {self: el === l._path, pane: el.closest('.leaflet-pane').className};
}"""


@pytest.fixture(scope="module")
def real():
    from geo.data.layers import layer_ids, load_layers, load_manifest

    manifest = load_manifest()
    return load_layers(layer_ids(manifest)), manifest


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} absent")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=_BROWSER_ARGS)
        yield b
        b.close()


class _Page:
    """A map page opened from a file, with remote requests blocked and recorded."""

    def __init__(self, browser, html: str, path: Path) -> None:
        path.write_text(html, encoding="utf-8")
        self.ctx = browser.new_context(viewport={"width": 1200, "height": 800})
        self.remote: list[str] = []
        self.errors: list[str] = []

        def _route(route) -> None:
            url = urlparse(route.request.url)
            if url.scheme in {"http", "https"} and url.hostname not in _LOCAL:
                self.remote.append(route.request.url)
                route.abort()
            else:
                route.continue_()

        self.ctx.route("**/*", _route)
        self.page = self.ctx.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.url = path.as_uri()
        self.page.goto(self.url)
        self.page.wait_for_function("() => window.hgmap && window.hgmap.map")

    def js(self, code: str, arg=None):
        return self.page.evaluate(code, arg)

    def close(self) -> None:
        self.ctx.close()


@pytest.fixture
def open_map(browser, tmp_path):
    pages: list[_Page] = []

    def _open(m: folium.Map) -> _Page:
        pg = _Page(browser, map_to_offline_html(m), tmp_path / f"map{len(pages)}.html")
        pages.append(pg)
        return pg

    yield _open
    for pg in pages:
        assert pg.errors == []
        pg.close()


def _inside(layers, lid: str, unit: str) -> list[str]:
    units = layers["counties"]
    poly = units[units["name"] == unit].geometry.iloc[0]
    pts = layers[lid]
    return pts[pts.within(poly)]["id"].tolist()


@pytest.mark.slow
@pytest.mark.parametrize(("unit", "lid"), [("天心区", "cs_medical"), ("道县", "yz_network")])
def test_click_on_a_facility_inside_the_selected_unit_opens_its_popup(real, open_map, unit, lid):
    layers, manifest = real
    ids = _inside(layers, lid, unit)
    assert ids, f"no {lid} point inside {unit}"
    pg = open_map(build_map(layers, manifest, highlight_unit=unit))
    on_top = []
    for fid in ids:
        pt = pg.js(_POINT_PX, [lid, fid])
        hit = pg.js(_HIT_IS, [lid, fid, pt["x"], pt["y"]])
        # only another point marker (two facilities at one place) may be above a facility
        assert "hg-points" in hit["pane"], f"{fid} is covered at its pixel by {hit['pane']}"
        if hit["self"]:
            on_top.append(fid)
    assert on_top
    pt = pg.js(_POINT_PX, [lid, on_top[0]])
    pg.page.mouse.click(pt["x"], pt["y"])
    popup = pg.page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    name = layers[lid].set_index("id").loc[on_top[0], "name"]
    assert name in popup.inner_text()


_CLICK_AREA = """([lid, fid]) => {
    const h = window.hgmap, e = h.layers[lid];
    const l = e.features.find((f) => f.feature.properties.id === fid);
    h.map.closePopup();
    document.querySelectorAll('.leaflet-popup').forEach((p) => p.remove());  // fading ones
    h.map.stop();  // an open popup's auto-pan must not move the map under the next probes
    h.map.fitBounds(l.getBounds(), {animate: false});
    return true;
}"""


def _area_probe(layers, lid: str, fid: str, key: str = "id"):
    from shapely.geometry import Point as P

    geom = layers[lid].set_index(key).loc[fid, "geometry"]
    # points inside the feature, away from point markers: a grid through its bounds
    minx, miny, maxx, maxy = geom.bounds
    out = []
    for i in range(1, 6):
        for j in range(1, 6):
            p = P(minx + (maxx - minx) * i / 6, miny + (maxy - miny) * j / 6)
            if geom.contains(p):
                out.append((p.y, p.x))
    return out


_CLICK_PROBES = """(probes) => probes.map(([lat, lon]) => {
    L.Popup.prototype.options.autoPan = false;  // popups must not pan the map between probes
    const map = window.hgmap.map, r = map.getContainer().getBoundingClientRect();
    const p = map.latLngToContainerPoint([lat, lon]);
    const x = p.x + r.left, y = p.y + r.top, el = document.elementFromPoint(x, y);
    const pane = el && el.closest('.leaflet-pane') ? el.closest('.leaflet-pane').className : '';
    if (!pane.includes('hg-') || pane.includes('hg-points') || pane.includes('hg-lines')) {
        return null;  // a control, popup, point or line is on top: as it should be
    }
    map.closePopup();
    el.dispatchEvent(new MouseEvent('click', {clientX: x, clientY: y, bubbles: true}));
    const c = [...document.querySelectorAll('.leaflet-popup-content')].pop();  // older ones fade
    return c ? c.innerText : '(no popup: ' + pane + ')';
})"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lid", "name"),
    [
        ("yhsq", "攻关研发圈"),
        ("sanqu", "湘江新区"),
        ("sanqu", "浏阳经开区"),
        ("sandai", None),
        ("bio", None),
        ("counties", "天心区"),
        ("counties", "道县"),
    ],
)
def test_every_area_is_reachable_by_a_click_at_its_points(real, open_map, lid, name):
    layers, manifest = real
    pg = open_map(build_map(layers, manifest))
    key = "adcode" if lid == "counties" else "id"
    gdf = layers[lid]
    rows = gdf if name is None else gdf[gdf["name"] == name]
    assert len(rows)
    for _, row in rows.iterrows():
        pg.js(_CLICK_AREA, [lid, str(row[key])])
        probes = _area_probe(layers, lid, row[key], key)
        got = [(p, t) for p, t in zip(probes, pg.js(_CLICK_PROBES, probes), strict=True) if t]
        assert got, f"no free point to click in {row['name']}"
        missed = [(p, t) for p, t in got if row["name"] not in t]
        assert not missed, f"{row['name']}: not reached at {missed}"


@pytest.mark.slow
def test_county_not_city_is_on_top_and_draw_order_uses_panes(real, open_map):
    layers, manifest = real
    pg = open_map(build_map(layers, manifest))
    panes = pg.js(
        """() => {
            const h = window.hgmap, z = (n) => +h.map.getPane(n).style.zIndex;
            const pane = (lid) =>
                h.layers[lid].features[0]._path.closest('.leaflet-pane').className;
            return {order: ['hg-boundary', 'hg-areas', 'hg-lines', 'hg-points'].map(z),
                    cities: pane('cities'), counties: pane('counties'), sanqu: pane('sanqu'),
                    lines: pane('yz_links'), points: pane('cs_medical'),
                    cityFill: h.layers.cities.features[0]._path.getAttribute('fill')};
        }"""
    )
    assert panes["order"] == sorted(panes["order"])
    assert "hg-boundary" in panes["counties"] and "hg-areas" in panes["sanqu"]
    assert "hg-lines" in panes["lines"] and "hg-points" in panes["points"]
    assert panes["cityFill"] == "none"  # city outlines have no fill to swallow county clicks


@pytest.mark.slow
def test_layer_toggle_is_client_side_keeps_view_and_legend(real, open_map):
    layers, manifest = real
    pg = open_map(build_map(layers, manifest))
    pg.js("() => { window.hgmap.map.setView([28.2, 112.95], 11, {animate: false}); }")
    before = pg.js(
        "() => [window.hgView, document.querySelectorAll('path.leaflet-interactive').length]"
    )
    pg.page.locator("input[data-layer='cs_medical']").uncheck()
    after = pg.js(
        "() => [window.hgView, document.querySelectorAll('path.leaflet-interactive').length]"
    )
    assert before[1] - after[1] == len(layers["cs_medical"])
    assert (after[0]["lat"], after[0]["lng"], after[0]["zoom"]) == (
        before[0]["lat"],
        before[0]["lng"],
        11,
    )
    legend = pg.page.locator(".hg-legend").inner_text()
    assert "医疗资源（专栏2）" not in legend and "三区：健康产业集聚区" in legend
    assert pg.js("() => window.hgLastToggleMs") < 1000
    # a re-created map (e.g. after an analysis rerun) comes back with the same view and toggles
    pg.page.reload()
    pg.page.wait_for_function("() => window.hgmap && window.hgmap.map")
    view = pg.js("() => window.hgView")
    assert view["zoom"] == 11 and view["lat"] == pytest.approx(28.2, abs=1e-6)
    assert not pg.page.locator("input[data-layer='cs_medical']").is_checked()
    assert pg.remote == []


@pytest.mark.slow
def test_legend_collapses_scrolls_to_its_last_entry_and_lists_coverage(real, open_map):
    layers, manifest = real
    cov = gpd.GeoSeries([box(112.9, 28.1, 113.0, 28.2)], crs="EPSG:4326")
    pg = open_map(build_map(layers, manifest, coverage=cov))
    body = pg.page.locator(".hg-legend .hg-body")
    assert "覆盖范围" in body.inner_text()
    last = pg.page.locator(".hg-legend .hg-body .hg-lg").last
    last.scroll_into_view_if_needed()
    box_body, box_last = body.bounding_box(), last.bounding_box()
    assert box_last["y"] + box_last["height"] <= box_body["y"] + box_body["height"] + 1
    assert box_body["y"] >= 0
    pg.page.locator(".hg-legend .hg-head").click()
    assert not body.is_visible()
    pg.page.locator(".hg-legend .hg-head").click()
    assert body.is_visible()


@pytest.mark.slow
def test_search_marks_the_hit_and_the_box_shows_its_label(real, open_map):
    layers, manifest = real
    pg = open_map(build_map(layers, manifest))
    box_ = pg.page.locator(".hg-search-input")
    box_.fill("湘雅")
    hits = pg.page.locator(".hg-hit")
    assert hits.count() >= 2
    assert "医疗资源（专栏2）" in hits.all_inner_texts()[0] or any(
        "医疗资源（专栏2）" in t for t in hits.all_inner_texts()
    )
    assert not any("cs_medical" in t for t in hits.all_inner_texts())
    first = hits.first.inner_text().split(" · ")[0]
    hits.first.click()
    assert box_.input_value() == first
    assert pg.page.locator("path.hg-mark").count() == 1
    assert first in pg.page.locator(".leaflet-popup-content").inner_text()
    box_.fill("浏阳")
    second = pg.page.locator(".hg-hit").first
    label = second.inner_text().split(" · ")[0]
    second.click()
    assert box_.input_value() == label != first
    assert pg.page.locator("path.hg-mark").count() == 1


@pytest.mark.slow
def test_server_side_search_hit_is_marked(real, open_map):
    layers, manifest = real
    pg = open_map(build_map(layers, manifest, search_hit=("cs_medical", "cs_brain")))
    assert pg.page.locator(".hg-search-input").input_value() == "湖南省脑科医院"
    assert pg.page.locator("path.hg-mark").count() == 1


@pytest.mark.slow
def test_failed_tiles_show_a_notice_not_a_grey_map(real, open_map):
    layers, manifest = real
    pg = open_map(build_map(layers, manifest, basemap="osm"))
    notice = pg.page.locator(".hg-notice")
    notice.wait_for(timeout=10_000)
    assert "底图瓦片无法加载" in notice.inner_text()
    assert pg.remote  # the tiles were tried and refused


@pytest.mark.slow
def test_planner_tools_marker_shapes_and_labels(real, open_map):
    layers, manifest = real
    pg = open_map(build_map(layers, manifest))
    page = pg.page
    for sel in (
        ".leaflet-control-zoom-fullscreen",
        ".leaflet-control-minimap",
        ".leaflet-control-measure",
        ".leaflet-control-mouseposition",
        ".leaflet-control-scale",
    ):
        assert page.locator(sel).count() == 1, sel
    assert page.locator(".leaflet-control-scale-line").count() == 1  # metric scale only
    page.mouse.move(600, 400)
    # up to 5 decimals (Leaflet's formatNum drops trailing zeros), lon first, inside Hunan
    text_ = page.locator(".leaflet-control-mouseposition").inner_text()
    lon, lat = map(float, re.search(r"(1\d\d\.\d{1,5}), (2\d\.\d{1,5})", text_).groups())
    assert 108 < lon < 115 and 24 < lat < 31
    page.locator(".leaflet-control-measure").hover()
    page.locator(".leaflet-control-measure .start").click()
    page.mouse.click(500, 400)
    page.mouse.click(700, 400)
    assert re.search(r"\d", page.locator(".leaflet-control-measure .results").inner_text())
    page.locator(".leaflet-control-zoom-fullscreen").click()
    assert "leaflet-pseudo-fullscreen" in page.locator(".folium-map").get_attribute(
        "class"
    ) or pg.js("() => !!document.fullscreenElement")
    shapes = pg.js(
        """() => Object.fromEntries(['cs_medical', 'cs_parks', 'cs_sports', 'yhsq_places',
            'sandai_carriers', 'bio_places'].map((id) => {
            const d = window.hgmap.layers[id].features[0]._path.getAttribute('d');
            return [id, d.startsWith('M') && d.includes('a') ? 'circle' : d.split('L').length];
        }))"""
    )
    assert shapes == {
        "cs_medical": 4,  # square: its kind specialist_hospital overrides the cross (style.kinds)
        "cs_parks": 4,  # square
        "cs_sports": 3,  # triangle
        "yhsq_places": 10,  # star
        "sandai_carriers": 4,  # diamond
        "bio_places": "circle",
    }
    assert page.locator(".hg-label").count() == 0  # province view: no labels
    pg.js("() => { window.hgmap.map.setView([28.2, 112.95], 10, {animate: false}); }")
    labels = page.locator(".hg-label-boundary").all_inner_texts()
    assert "天心区" in labels and "芙蓉区" in labels


def test_coverage_without_unit_runs_only_over_units_reached(real):
    """No unit chosen: the reach drawn is the same as over all 122 counties, computed over fewer."""
    from geo.analysis.coverage import coverage_report, reach_for
    from geo.data.boundaries import load_units
    from geo.web.attributes import facility_points

    layers, _ = real
    counties = load_units(cities=None)  # all of Hunan, as the page has them
    fac = facility_points(layers, ["cs_medical"])
    cov = unit_coverage(fac, counties, None, mode="drive")
    full = coverage_report(fac.to_crs(counties.crs), counties, reach=reach_for("drive"))
    full_area = full.reach.to_crs("EPSG:4547").area.sum()
    # same discs; only the Gauss-Kruger zone of the work differs (that of the units reached)
    assert cov.reach.to_crs("EPSG:4547").area.sum() == pytest.approx(full_area, rel=2e-3)
    assert 0 < len(cov.summary) < len(counties) == 122
    assert set(cov.summary["name"]) >= {"天心区", "芙蓉区", "岳麓区"}
