import json
import re

import folium
import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from geo.coords import from_wgs84
from geo.errors import CRSError, InputError
from geo.web.dashboard import indicator_table, zone_scale_table
from geo.web.search import facilities_in_unit, search_places, unit_coverage
from geo.web.webmap import (
    build_map,
    geojson_payload_bytes,
    layers_to_geojson,
    layers_to_gpkg,
    map_to_offline_html,
    prepare_layer,
)


def _geojsons(m: folium.Map) -> list[folium.GeoJson]:
    out = []

    def walk(e):
        if isinstance(e, folium.GeoJson):
            out.append(e)
        for c in e._children.values():
            walk(c)

    walk(m)
    return out


def _groups(m: folium.Map) -> list[str]:
    return [c.layer_name for c in m._children.values() if isinstance(c, folium.FeatureGroup)]


def test_one_group_per_visible_layer_drawn_areas_below_points(web_layers, web_manifest):
    m = build_map(web_layers, web_manifest)
    # draw order: boundaries, zones, points (points on top stay clickable)
    assert _groups(m) == ["行政区划 · 区县", "规划 · 示意区", "规划 · 医院"]
    legend = next(c for c in m._children.values() if type(c).__name__ == "_Legend")
    html = legend.legend_html
    assert html.index("示意区") < html.index("医院") < html.index("区县")  # manifest order
    m2 = build_map(web_layers, web_manifest, visible=["counties", "pts"])
    assert _groups(m2) == ["行政区划 · 区县", "规划 · 医院"]
    assert sum(len(g.data["features"]) for g in _geojsons(m2)) == 4


def test_legend_only_lists_visible_layers(web_layers, web_manifest):
    m = build_map(web_layers, web_manifest, visible=["pts"])
    legend = next(c for c in m._children.values() if type(c).__name__ == "_Legend")
    assert "医院" in legend.legend_html and "示意区" not in legend.legend_html
    assert "hg-legend" in m.get_root().render()


def test_popup_has_quote_role_targets_precision_and_schematic_note(web_layers, web_manifest):
    data = prepare_layer(web_layers["zones"], web_manifest["layers"][0])
    props = data["features"][0]["properties"]
    assert "建设国家医学中心" in props["_popup"]
    assert "《长沙规划》 专栏5" in props["_popup"]
    assert "一核" in props["_popup"] and "规划面积: 13平方公里 (2026)" in props["_popup"]
    assert "示意" in props["_popup"] and "schematic" in props["_popup"]
    assert props["_tip"] == "核心区（示意）"


def test_schematic_zones_are_dashed(web_layers, web_manifest):
    m = build_map(web_layers, web_manifest, visible=["zones"])
    gj = _geojsons(m)[0]
    assert gj.style_function(gj.data["features"][0])["dashArray"] == "6 4"


def test_text_is_html_escaped_everywhere(web_layers, web_manifest):
    m = build_map(web_layers, web_manifest, visible=["pts"])
    html = map_to_offline_html(m)
    assert "<script>alert" not in html
    feats = _geojsons(m)[0].data["features"]
    p = feats[0]["properties"]
    assert p["_tip"] == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;医院"
    assert "他说&quot;好&quot;&lt;b&gt;" in p["_popup"]
    assert "<b>" not in p["_popup"].replace("<b>定位</b>", "").replace("<b>位置精度</b>", "")


def test_gcj02_basemap_shifts_overlays(web_layers, web_manifest):
    wgs = build_map(web_layers, web_manifest, visible=["pts"])
    gcj = build_map(web_layers, web_manifest, visible=["pts"], basemap="amap")
    a = _geojsons(wgs)[0].data["features"][1]["geometry"]["coordinates"]
    b = _geojsons(gcj)[0].data["features"][1]["geometry"]["coordinates"]
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


@pytest.mark.parametrize("basemap", ["osm", "light", "amap"])
def test_online_basemaps_add_tiles(web_layers, web_manifest, basemap):
    m = build_map(web_layers, web_manifest, basemap=basemap)
    assert sum(isinstance(c, folium.TileLayer) for c in m._children.values()) == 1


def test_tianditu_needs_a_key(web_layers, web_manifest):
    with pytest.raises(InputError, match="天地图 needs a key"):
        build_map(web_layers, web_manifest, basemap="tianditu")
    m = build_map(web_layers, web_manifest, basemap="tianditu", tianditu_key="abc123def456")
    assert "tk=abc123def456" in m.get_root().render()


def test_unknown_basemap_and_unit(web_layers, web_manifest):
    with pytest.raises(InputError, match="unknown basemap 'bing'"):
        build_map(web_layers, web_manifest, basemap="bing")
    with pytest.raises(InputError, match="unknown unit '999999'"):
        build_map(web_layers, web_manifest, highlight_unit="999999")


def test_missing_crs_raises(web_layers, web_manifest):
    bad = dict(web_layers, pts=web_layers["pts"].set_crs(None, allow_override=True))
    with pytest.raises(CRSError, match="pts"):
        build_map(bad, web_manifest)


def test_highlight_unit_adds_group_and_population(web_layers, web_manifest):
    m = build_map(web_layers, web_manifest, highlight_unit="430103")
    assert "选中单元" in _groups(m)
    tip = _geojsons(m)[-1].data["features"][0]["properties"]["_tip"]
    assert tip == "天心区 · 人口 500,000"


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
    n = sum(len(g.data["features"]) for g in _geojsons(m))
    assert n == sum(len(v) for v in layers.values())


def test_search_places_substring(web_layers):
    hits = search_places(web_layers, "湘雅")
    assert hits["name"].tolist() == ["湘雅医院"]
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


def test_coverage_drawn(web_layers, web_manifest):
    poly = gpd.GeoSeries([box(112.9, 28.1, 112.95, 28.15)], crs="EPSG:4326")
    m = build_map(web_layers, web_manifest, coverage=poly)
    assert "覆盖范围" in _groups(m)


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
