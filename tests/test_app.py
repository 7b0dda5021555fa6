"""AppTest of the Streamlit page: widgets, state and query-string restore (no browser)."""

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.data.layers import layer_ids, load_layers, load_manifest
from geo.settings import MODE_SPEEDS
from geo.web.attributes import facility_points
from geo.web.i18n import COLUMN_LABELS
from geo.web.search import unit_coverage

# GEO_APP lets the same tests run against an earlier page (to show they failed before a fix).
APP = os.environ.get("GEO_APP") or str(Path(__file__).resolve().parent.parent / "app.py")
pytestmark = pytest.mark.slow


def _param(at: AppTest, key: str) -> str | None:
    if key not in at.query_params:
        return None
    value = at.query_params[key]
    return value[-1] if isinstance(value, list) else value


def _run(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    return at.run()


def test_default_page_chinese_all_layers_on_and_toggled_in_the_map():
    at = _run()
    assert not at.exception
    assert at.title[0].value == "湖南大健康产业空间布局"
    manifest = load_manifest()
    # layers are switched in the map's own control (no rerun), not by sidebar checkboxes
    assert not [cb for cb in at.sidebar.checkbox if cb.key.startswith("lyr_")]
    assert at.session_state["layers0"] == tuple(layer_ids(manifest))
    assert at.sidebar.selectbox(key="basemap@zh").value == "offline"
    assert at.sidebar.number_input(key="minutes").value == 15.0


def test_english_switch():
    at = _run()
    at.sidebar.radio(key="lang").set_value("en").run()
    assert at.title[0].value == "Hunan health-industry layout"
    assert at.query_params["lang"] == ["en"] or at.query_params["lang"] == "en"


def test_link_layers_are_the_initial_set_and_stay_in_the_link():
    at = _run({"layers": "cs_medical,counties"})
    at.sidebar.radio(key="lang").set_value("en").run()
    layers = at.query_params["layers"]
    layers = layers[-1] if isinstance(layers, list) else layers
    assert layers.split(",") == ["cs_medical", "counties"]


def test_query_string_restores_view():
    at = _run(
        {
            "layers": "cs_medical,counties",
            "unit": "430103",
            "basemap": "light",
            "mode": "bike",
            "min": "10",
            "cov": "cs_medical",
        }
    )
    assert not at.exception
    assert set(at.session_state["layers0"]) == {"cs_medical", "counties"}
    assert at.sidebar.selectbox(key="unit@zh").value == "430103"
    assert at.sidebar.selectbox(key="basemap@zh").value == "light"
    assert at.sidebar.radio(key="mode@zh").value == "bike"
    assert at.sidebar.number_input(key="minutes").value == 10.0
    assert at.sidebar.multiselect(key="cov_layers@zh").value == ["cs_medical"]
    labels = [m.label for m in at.metric]
    assert "面积覆盖率" in labels and "人口" in labels
    assert any("均匀分布" in c.value for c in at.caption)


def test_search_lists_hits():
    at = _run()
    at.sidebar.text_input(key="q").input("湘雅").run()
    assert not at.exception
    opts = at.sidebar.selectbox(key="hit@zh").options
    assert any("湘雅" in o for o in opts)


def test_bad_query_string_warns_not_crashes():
    at = _run({"basemap": "bing"})
    assert not at.exception
    assert "basemap" in at.warning[0].value


def test_downloads_offered():
    at = _run({"layers": "cs_medical,counties"})
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == [
        "下载图层 GeoJSON",
        "下载图层 GeoPackage",
        "下载当前地图（离线 HTML）",
    ]
    # A tester switched layers off in the map and still got them in "下载可见图层": the map's
    # switches stay in the browser, so the tab says which layers the files hold and how to change.
    caption = next(c.value for c in at.caption if c.value.startswith("下载包含"))
    assert "2 个图层：医疗资源（专栏2）、县级行政区" in caption
    assert "在新标签页中打开地址栏的链接" in caption


TIANXIN = {"unit": "430103", "cov": "cs_medical"}


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _expected_share(mode: str) -> str:
    layers = load_layers(["cs_medical", "counties"])
    fac = facility_points(layers, ["cs_medical"])
    return f"{unit_coverage(fac, layers['counties'], '430103', mode=mode).area_share:.1%}"


@pytest.mark.parametrize(("mode", "kmh"), [("bike", 12.0), ("drive", 30.0)])
def test_choosing_mode_sets_its_speed_and_coverage(mode, kmh):
    at = _run(TIANXIN)
    walk_share = _metric(at, "面积覆盖率")
    at.sidebar.radio(key="mode@zh").set_value(mode).run()
    assert not at.exception
    assert at.sidebar.number_input(key="speed").value == kmh
    assert _metric(at, "面积覆盖率") == _expected_share(mode) != walk_share
    assert _param(at, "mode") == mode and _param(at, "speed") is None


def test_link_and_page_agree_on_drive():
    via_link = _run({**TIANXIN, "mode": "drive"})
    via_page = _run(TIANXIN)
    via_page.sidebar.radio(key="mode@zh").set_value("drive").run()
    assert via_link.sidebar.number_input(key="speed").value == 30.0
    assert _metric(via_link, "面积覆盖率") == _metric(via_page, "面积覆盖率")
    assert _metric(via_link, "面积覆盖率") == _expected_share("drive")


def test_typed_speed_survives_in_link():
    at = _run(TIANXIN)
    at.sidebar.number_input(key="speed").set_value(5.5).run()
    assert _param(at, "speed") == "5.5"
    again = _run({**TIANXIN, "speed": "5.5"})
    assert again.sidebar.number_input(key="speed").value == 5.5


def test_share_link_keeps_zoom_and_centre():
    at = _run({"c": "28.10000,112.98000", "z": "13"})
    assert not at.exception
    assert _param(at, "c") == "28.10000,112.98000" and _param(at, "z") == "13"


def test_selecting_a_unit_moves_the_view_into_the_link():
    at = _run()
    at.sidebar.selectbox(key="unit@zh").set_value("430103").run()
    lat, lon = (float(v) for v in _param(at, "c").split(","))
    assert 28.0 < lat < 28.2 and 112.9 < lon < 113.1
    assert 10 <= int(_param(at, "z")) <= 14


def _labels(at: AppTest) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]


def test_pdf_of_previous_unit_is_never_offered():
    at = _run(TIANXIN)
    at.button(key="make_pdf").click().run()
    assert not at.exception
    assert "下载 PDF" in _labels(at)
    at.sidebar.selectbox(key="unit@zh").set_value("430104").run()
    assert "下载 PDF" not in _labels(at)  # 天心区's PDF is not offered for 岳麓区
    at.button(key="make_pdf").click().run()
    assert "下载 PDF" in _labels(at)
    assert any(c.value.endswith("岳麓区 · A4 · 横向") for c in at.caption)  # was "landscape"
    at.sidebar.radio(key="mode@zh").set_value("drive").run()
    assert "下载 PDF" not in _labels(at)  # the coverage shown changed


def test_headers_and_errors_follow_the_language():
    at = _run(TIANXIN)
    headers = [c for d in at.dataframe for c in d.value.columns]
    assert "覆盖面积 (km²)" in headers and "到最近设施时间中位数 (分钟)" in headers
    assert not set(headers) & set(COLUMN_LABELS)  # no raw column id in the Chinese page
    at.sidebar.radio(key="lang").set_value("en").run()
    headers = [c for d in at.dataframe for c in d.value.columns]
    assert "Covered area (km²)" in headers and "covered_km2" not in headers
    bad = _run({"basemap": "bing"})
    assert bad.warning[0].value.startswith("输入有误")


def _open_tab(at: AppTest, label: str) -> AppTest:
    """Open a tab as a click does (the tabs rerun the page; lazy tabs then send their content)."""
    at.session_state[f"tab@{at.session_state['lang']}"] = label
    return at.run()


def _grid(at: AppTest):
    """The attribute grid (one per filter set and language: its key carries their digest)."""
    (grid,) = [d for d in at.dataframe if (d.key or "").startswith("attr@")]
    return grid


def _pick(at: AppTest, row: int) -> None:
    """Select a row of the attribute grid, as a click on its selection cell does."""
    at.session_state[_grid(at).key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()


def test_a_new_filter_never_turns_the_chosen_row_into_another_place():
    """A tester chose 湖南省儿童医院, then changed the layer filter: row 3 of the new list
    (大围山, in 浏阳) became the selection and the map jumped there."""
    at = _open_tab(_run(), "属性表")
    at.multiselect(key="f_layer@zh").set_value(["cs_medical"]).run()
    _pick(at, 2)
    assert at.session_state["attr_pick"].iloc[0]["name"] == "湖南省儿童医院"
    view = at.session_state["view"]
    at.multiselect(key="f_layer@zh").set_value(["cs_sports", "yz_kangyang"]).run()
    assert not at.exception
    assert at.session_state["attr_pick"].iloc[0]["name"] == "湖南省儿童医院"
    assert at.session_state["view"] == view  # the map did not move
    assert any("湖南省儿童医院" in c.value for c in at.caption)  # "marked on the map: …"
    # a language switch keeps it too (the grid is rebuilt with English headers, unselected)
    at.sidebar.radio(key="lang").set_value("en").run()
    at.sidebar.radio(key="lang").set_value("zh").run()
    assert at.session_state["attr_pick"].iloc[0]["name"] == "湖南省儿童医院"
    # a row chosen in the new grid replaces it; clearing the choice clears the mark
    _pick(at, 0)
    picked = at.session_state["attr_pick"].iloc[0]["name"]
    assert picked != "湖南省儿童医院" and picked == _grid(at).value.iloc[0]["名称"]
    at.session_state[_grid(at).key] = {"selection": {"rows": [], "columns": [], "cells": []}}
    at.run()
    assert "attr_pick" not in at.session_state


def test_first_page_sends_no_table_until_its_tab_is_opened():
    # The table and dashboard grids pull ~1.5 MB of Streamlit's grid code into the first page
    # (0.2 s of the first map); they are sent when their tab is opened, and stay open across a
    # language switch.
    at = _run()
    assert not at.dataframe
    _open_tab(at, "属性表")
    assert len(_grid(at).value) > 100
    at.sidebar.radio(key="lang").set_value("en").run()
    assert at.session_state["tab@en"] == "Attribute table"
    assert "Precision" in _grid(at).value.columns
    _open_tab(at, "Dashboard")
    assert not [d for d in at.dataframe if (d.key or "").startswith("attr@")]
    assert any("Indicator" in d.value.columns for d in at.dataframe)


def test_dashboard_has_no_none_and_share_changes_in_points():
    at = _open_tab(_run(), "仪表盘")
    ind = next(
        d.value for d in at.dataframe if "指标" in d.value.columns and "变化" in d.value.columns
    )
    cells = ind.astype(str).to_numpy().ravel().tolist()
    assert not {"None", "nan", "NaN", "<NA>"} & set(cells)
    share = ind[ind["单位"] == "%"].iloc[0]
    assert share["变化"] == "+0.65 个百分点"


def test_attribute_table_filters_and_hides_schematic_and_goals():
    at = _open_tab(_run(), "属性表")
    table = _grid(at).value
    total = len(table)
    assert {"类别", "位置精度", "规划", "区县"} <= set(table.columns)
    at.toggle(key="hide_sg@zh").set_value(True).run()
    shown = _grid(at).value
    assert 0 < len(shown) < total
    assert "示意" not in set(shown["位置精度"]) and "goal" not in set(shown["类别"])
    at.multiselect(key="f_precision@zh").set_value(["geocoded"]).run()
    assert set(_grid(at).value["位置精度"]) == {"地理编码"}
    assert "医疗资源（专栏2）" in set(_grid(at).value["图层"])


def test_goal_points_are_not_facilities_unless_asked():
    at = _run({"cov": "yz_network", "unit": "431124"})
    without = _metric(at, "面积覆盖率")
    at.sidebar.checkbox(key="goals").check().run()
    assert not at.exception
    layers = load_layers(["yz_network", "counties"])
    n_goals = int((layers["yz_network"]["kind"] == "goal").sum())
    assert n_goals > 0
    with_goals = _metric(at, "面积覆盖率")
    fac = facility_points(layers, ["yz_network"], include_goals=True)
    share = unit_coverage(fac, layers["counties"], "431124").area_share
    assert with_goals == f"{share:.1%}"
    fac = facility_points(layers, ["yz_network"])
    assert without == f"{unit_coverage(fac, layers['counties'], '431102').area_share:.1%}"
    assert without != with_goals


def test_scenario_before_after_for_clicked_site():
    at = _run(TIANXIN)
    at.session_state["clicks"] = [(28.10, 112.98)]
    at.run()
    assert not at.exception
    diff = next(d.value for d in at.dataframe if "调整后面积覆盖率 (%)" in d.value.columns)
    row = diff.iloc[0]
    assert row["名称"] == "天心区"
    assert row["调整后面积覆盖率 (%)"] > row["调整前面积覆盖率 (%)"]
    assert row["调整后设施数"] == row["调整前设施数"] + 1
    assert {"下载报告 XLSX", "下载报告 HTML", "下载覆盖范围 GeoJSON"} <= set(_labels(at))


def test_link_with_unit_and_no_view_opens_on_the_unit():
    at = _run({"unit": "430103"})
    lat, lon = (float(v) for v in _param(at, "c").split(","))
    assert 28.0 < lat < 28.2 and 112.9 < lon < 113.1


def test_siting_tab_asks_for_a_unit_first():
    at = _run()
    assert "请先在侧栏选择区县。" in [i.value for i in at.info]
    assert not [b for b in at.button if b.key == "site_run"]


def test_siting_tab_runs_mclp_k2_for_furong():
    at = _run({"unit": "430102"})
    assert not at.exception
    assert at.multiselect(key="site_existing_430102@zh").value == ["cs_medical"]
    at.number_input(key="site_k").set_value(2)
    at.button(key="site_run").click().run()
    assert not at.exception
    sites = next(d.value for d in at.dataframe if "按序加入时新增" in d.value.columns)
    assert list(sites["序号"]) == [1, 2]
    assert (sites["按序加入时新增"] > 0).all()
    # both new sites inside 芙蓉区 (lon/lat in its bounding box)
    assert sites["经度"].between(112.970, 113.104).all()
    assert sites["纬度"].between(28.176, 28.227).all()
    before_after = next(d.value for d in at.dataframe if "选址后覆盖率 (%)" in d.value.columns)
    row = before_after.iloc[0]
    assert row["名称"] == "芙蓉区" and row["选址后覆盖率 (%)"] > row["选址前覆盖率 (%)"]
    assert row["人口模型"] == "census_uniform"
    assert {"下载选址报告 XLSX", "下载选址报告 HTML", "下载新址 GeoJSON"} <= set(_labels(at))
    # a rerun reuses the cached result and keeps showing it
    at.run()
    assert next(d.value for d in at.dataframe if "按序加入时新增" in d.value.columns).shape[0] == 2
    assert not any(w.value.startswith("设置已更改") for w in at.warning)
    # a tester changed k and saw the old sites with no word that they were old
    at.number_input(key="site_k").set_value(3).run()
    assert any(w.value.startswith("设置已更改") for w in at.warning)
    at.button(key="site_run").click().run()
    assert not any(w.value.startswith("设置已更改") for w in at.warning)
    assert next(d.value for d in at.dataframe if "按序加入时新增" in d.value.columns).shape[0] == 3


def _furong_streets() -> bytes:
    """OSM XML of a street grid over 芙蓉区 (about 500 m blocks), as a user's upload."""
    lons = [112.970 + 0.005 * i for i in range(28)]
    lats = [28.176 + 0.0045 * j for j in range(12)]
    nodes = "".join(
        f"<node id='{1 + i * 100 + j}' lat='{lat:.4f}' lon='{lon:.4f}'/>"
        for i, lon in enumerate(lons)
        for j, lat in enumerate(lats)
    )
    rows = [[1 + i * 100 + j for i in range(len(lons))] for j in range(len(lats))]
    cols = [[1 + i * 100 + j for j in range(len(lats))] for i in range(len(lons))]
    ways = "".join(
        f"<way id='{w + 1}'>" + "".join(f"<nd ref='{n}'/>" for n in refs)
        + "<tag k='highway' v='residential'/></way>"
        for w, refs in enumerate(rows + cols)
    )  # fmt: skip
    return f"<?xml version='1.0'?><osm version='0.6'>{nodes}{ways}</osm>".encode()


def test_siting_tab_uploaded_road_network_reaches_by_road():
    at = _run({"unit": "430102"})
    at.number_input(key="site_k").set_value(2)
    at.file_uploader(key="site_osm").set_value(("furong.osm", _furong_streets(), "text/xml"))
    at.run()
    at.button(key="site_run").click().run()
    assert not at.exception
    assert any("可达：道路网络（OSM）15 分钟内可达" in c.value for c in at.caption)
    sites = next(d.value for d in at.dataframe if "按序加入时新增" in d.value.columns)
    assert list(sites["序号"]) == [1, 2]
    assert sites["经度"].between(112.970, 113.104).all()
    # a file that is not OSM: the error names it
    at.file_uploader(key="site_osm").set_value(("bad.osm.pbf", b"not OSM" * 50, "x"))
    at.run()
    at.button(key="site_run").click().run()
    assert any("bad.osm.pbf" in e.value for e in at.error)


def test_siting_tab_in_english_lscp_greedy():
    at = _run({"unit": "430102", "lang": "en"})
    at.selectbox(key="site_model@en").set_value("lscp")
    at.run()
    at.selectbox(key="site_solver@en").set_value("greedy")
    at.button(key="site_run").click().run()
    assert not at.exception
    sites = next(
        d.value for d in at.dataframe if "Gain when added in rank order" in d.value.columns
    )
    assert len(sites) >= 1 and list(sites["Rank"]) == list(range(1, len(sites) + 1))
    units_ba = next(d.value for d in at.dataframe if "Covered after (%)" in d.value.columns)
    assert units_ba.iloc[0]["Unit"] == "芙蓉区"
    assert units_ba.iloc[0]["Covered after (%)"] >= 90 or not units_ba.iloc[0]["Target met"]
    assert {"Siting report XLSX", "Siting report HTML", "Sites as GeoJSON"} <= set(_labels(at))


def test_any_hunan_county_can_be_picked_with_its_census_population():
    # 岳阳楼区 (430602) lies outside Changsha and Yongzhou; 冷水滩区 holds 永州经开区's residents
    at = _run({"unit": "430602", "cov": "provincial"})
    assert not at.exception
    assert at.sidebar.selectbox(key="unit@zh").value == "430602"
    assert "430602" in at.sidebar.selectbox(key="unit@zh").options or any(
        "岳阳楼区" in o for o in at.sidebar.selectbox(key="unit@zh").options
    )
    assert len(at.sidebar.selectbox(key="unit@zh").options) == 123  # 122 counties + none
    at = _run({"unit": "431103"})
    assert not at.exception


def test_language_switch_keeps_every_choice():
    """Switching 中文 → English keeps mode, unit, basemap and layers (Streamlit keeps choices by
    label; the page once read the Chinese label '驾车' back as an unknown mode and crashed)."""
    at = _run({**TIANXIN, "basemap": "light"})
    at.sidebar.radio(key="mode@zh").set_value("drive").run()
    _open_tab(at, "属性表")
    at.multiselect(key="f_precision@zh").set_value(["geocoded"]).run()
    assert any("约30公里/小时" in c.value for c in at.sidebar.caption)  # speed source in Chinese
    at.sidebar.radio(key="lang").set_value("en").run()
    assert not at.exception
    assert any("about 30 km/h" in c.value for c in at.sidebar.caption)
    assert at.sidebar.radio(key="mode@en").value == "drive"
    assert at.sidebar.radio(key="mode@en").options == [s.label_en for s in MODE_SPEEDS.values()]
    assert at.sidebar.selectbox(key="unit@en").value == "430103"
    assert at.sidebar.selectbox(key="basemap@en").value == "light"
    assert at.sidebar.multiselect(key="cov_layers@en").value == ["cs_medical"]
    assert at.multiselect(key="f_precision@en").value == ["geocoded"]
    assert at.sidebar.number_input(key="speed").value == 30.0
    assert _param(at, "mode") == "drive" and _param(at, "lang") == "en"
    at.sidebar.radio(key="lang").set_value("zh").run()
    assert not at.exception
    assert at.sidebar.radio(key="mode@zh").value == "drive"
    # a closed tab keeps its filters: they are back when it is opened again
    _open_tab(at, "情景")
    assert not [m for m in at.multiselect if m.key == "f_precision@zh"]
    _open_tab(at, "属性表")
    assert at.multiselect(key="f_precision@zh").value == ["geocoded"]
    assert set(_grid(at).value["位置精度"]) == {"地理编码"}


def test_unit_tab_lists_plan_places_with_readable_layer_and_kind():
    """The unit tab's list holds parks and sports bases too: it says so, in readers' words."""
    at = _run({"unit": "430103"})
    assert not at.exception
    assert "区内规划地点" in [s.value for s in at.subheader]
    places = next(d.value for d in at.dataframe if {"图层", "类别", "名称"} <= set(d.value.columns))
    ids = set(layer_ids(load_manifest()))
    assert len(places) > 0 and not set(places["图层"]) & ids  # no raw layer ids
    assert not set(places["类别"]) & {"hospital", "park", "goal", "sports"}
