"""Session overlays: drawn above the base map but never catching clicks meant for it."""

import folium
import geopandas as gpd
import numpy as np
from shapely.geometry import Point, box

from geo.coords import from_wgs84
from geo.web.overlays import OVERLAY_PANES, overlay_groups


def _js(groups) -> str:
    m = folium.Map()
    for g in groups:
        g.add_to(m)
    return m.get_root().render()


def test_areas_are_not_interactive_points_are():
    unit = gpd.GeoDataFrame(
        {"name": ["天心区"]}, geometry=[box(112.9, 28.0, 113.0, 28.2)], crs=4326
    )
    cov = gpd.GeoSeries([box(112.95, 28.05, 112.97, 28.07)], crs=4326)
    own = gpd.GeoDataFrame({"name": ["<b>甲</b>"]}, geometry=[Point(112.96, 28.06)], crs=4326)
    groups = overlay_groups(unit=unit, coverage=cov, uncertain=cov, own=own, lang="zh")
    assert [g.layer_name for g in groups] == [
        "覆盖范围",
        "覆盖（近似/示意位置，仅供参考）",
        "所选区县",
        "我的设施",
    ]
    html = _js(groups)
    assert html.count('"interactive": false') == 3
    assert "&lt;b&gt;甲&lt;/b&gt;" in html and "<b>甲</b>" not in html  # user text escaped
    assert "$(" not in html  # no jQuery popups: the map ships none


def test_gcj02_basemap_shifts_overlays():
    own = gpd.GeoDataFrame({"name": ["甲"]}, geometry=[Point(112.96, 28.06)], crs=4326)
    (group,) = overlay_groups(own=own, datum="GCJ02")
    marker = next(iter(group._children.values()))
    lon, lat = from_wgs84(np.array([112.96]), np.array([28.06]), "GCJ02")
    assert marker.location == [lat[0], lon[0]]
    assert abs(lon[0] - 112.96) > 1e-3  # the shift is real (hundreds of metres)


def test_overlays_go_into_the_client_panes_and_the_mark_takes_no_click():
    unit = gpd.GeoDataFrame(
        {"name": ["天心区"]}, geometry=[box(112.9, 28.0, 113.0, 28.2)], crs=4326
    )
    cov = gpd.GeoSeries([box(112.95, 28.05, 112.97, 28.07)], crs=4326)
    mark = gpd.GeoSeries([Point(112.98, 28.19)], crs=4326)
    groups = overlay_groups(unit=unit, coverage=cov, mark=mark)
    panes = [next(iter(g._children.values())).options for g in groups]
    assert panes == [
        {"interactive": False, "pane": "hg-coverage"},  # legend entry "覆盖范围" in the client
        {"interactive": False, "pane": "hg-highlight"},
        {"interactive": False, "pane": "hg-search"},
    ]
    gj = next(iter(groups[-1]._children.values()))
    assert list(gj.data["features"][0]["geometry"]["coordinates"]) == [112.98, 28.19]
    assert OVERLAY_PANES["own"] == "hg-points"  # uploaded points keep their tooltip


def test_point_overlays_are_drawn_in_their_client_panes():
    """folium drops ``pane``/``interactive`` given to a CircleMarker: the selected row's ring and
    the uploaded/proposed points were drawn in Leaflet's default pane, under the plan's areas."""
    pt = gpd.GeoDataFrame({"name": ["甲"]}, geometry=[Point(112.96, 28.06)], crs=4326)
    groups = overlay_groups(own=pt, proposed=pt, closed=pt, selected=pt, mark=pt.geometry)
    options = {
        g.layer_name: next(iter(g._children.values())).options
        for g in groups
        if g.layer_name != "搜索结果"
    }
    assert {k: (o["pane"], o["interactive"]) for k, o in options.items()} == {
        "我的设施": ("hg-points", True),
        "拟建设施": ("hg-points", True),
        "拟关闭设施": ("hg-points", True),
        "选中要素": ("hg-search", False),
    }
    html = _js(groups)
    assert (
        html.count('"pane": "hg-points"') == 3 and html.count('"pane": "hg-search"') == 3
    )  # the mark: its GeoJSON and its marker
