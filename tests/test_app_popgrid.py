"""AppTest of the page's population grid upload: coverage, scenario and siting take the grid's
figures (checked against hand sums over its cells) and say the population model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.data.boundaries import load_units
from geo.data.layers import load_layers
from geo.web.attributes import facility_points
from geo.web.search import unit_coverage
from tests.test_popgrid import _hand, raster_4326

APP = os.environ.get("GEO_APP") or str(Path(__file__).resolve().parent.parent / "app.py")
pytestmark = pytest.mark.slow

TIANXIN = {"unit": "430103", "cov": "cs_medical"}
CSV_MIME = "text/csv"


def _run(params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def _upload(at: AppTest, name: str, data: bytes, mime: str) -> AppTest:
    at.file_uploader(key="pop_file").set_value((name, data, mime))
    return at.run()


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _table(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _tianxin_hand(sites=()) -> tuple[float, float]:
    """Hand sums over the test raster for 天心区 and the cs_medical facilities (+ ``sites``)."""
    layers = load_layers(["cs_medical"])
    fac = facility_points(layers, ["cs_medical"])
    xy = [*zip(fac.geometry.x, fac.geometry.y, strict=True), *sites]
    units = load_units(cities=None)
    geom = units.loc[units["adcode"] == "430103"].geometry.iloc[0]
    _, lon, lat, people = raster_4326()
    return _hand(lon, lat, people, geom, sites=xy)


def test_uploaded_raster_drives_the_coverage_panel_and_removal_restores_census():
    at = _run(TIANXIN)
    census = _metric(at, "覆盖人口")
    at = _upload(at, "worldpop_clip.tif", raster_4326()[0], "image/tiff")
    assert not at.exception and not at.error
    total, covered = _tianxin_hand()
    assert _metric(at, "覆盖人口") == f"{covered:,.0f}" != census
    summary = _table(at, "覆盖面积 (km²)")
    assert list(summary["人口模型"]) == ["raster"]
    assert summary.iloc[0]["人口"] == pytest.approx(total)
    assert summary.iloc[0]["人口覆盖率 (%)"] == pytest.approx(100 * covered / total)
    assert any("人口模型 raster" in c.value and "worldpop_clip.tif" in c.value for c in at.caption)
    assert any(s.value.startswith("已读入人口网格（raster）") for s in at.success)
    assert "普查人口（2020）" in [m.label for m in at.metric]  # the census figure, said so
    # removed: the census again, and said so
    at.file_uploader(key="pop_file").set_value(None)
    at.run()
    assert _metric(at, "覆盖人口") == census
    assert list(_table(at, "覆盖面积 (km²)")["人口模型"]) == ["census_uniform"]
    assert any("census_uniform，粗略" in c.value for c in at.caption)


def test_scenario_before_after_counts_the_grid_cells():
    at = _run(TIANXIN)
    at = _upload(at, "pop.tif", raster_4326()[0], "image/tiff")
    click = (112.962, 28.152)  # a proposed site in 天心区 (lon, lat)
    at.session_state["clicks"] = [(click[1], click[0])]
    at.run()
    assert not at.exception
    _, before = _tianxin_hand()
    _, after = _tianxin_hand(sites=[click])
    assert after > before
    diff = _table(at, "调整后覆盖人口").iloc[0]
    assert diff["调整前覆盖人口"] == pytest.approx(before)
    assert diff["调整后覆盖人口"] == pytest.approx(after)
    assert diff["人口模型"] == "raster"


POINTS = (
    "名称,经度,纬度,population\n"
    "甲,113.03,28.2,4000\n"
    "乙,113.033,28.2,2000\n"  # ~290 m east of 甲
    "丙,112.99,28.19,1000\n"  # ~4 km west
)


def test_siting_before_after_uses_uploaded_points():
    at = _run({"unit": "430102"})
    at = _upload(at, "人口.csv", POINTS.encode("gbk"), CSV_MIME)
    assert any(s.value.startswith("已读入人口网格（points）") for s in at.success)
    at.multiselect(key="site_existing_430102@zh").set_value([])
    at.number_input(key="site_k").set_value(1)
    at.number_input(key="site_grid").set_value(200)
    at.button(key="site_run").click().run()
    assert not at.exception
    row = _table(at, "选址后覆盖人口").iloc[0]
    # hand: 7,000 people in 芙蓉区; one site within 1 km of 甲 and 乙 covers 6,000
    assert (row["人口"], row["选址前覆盖人口"], row["选址后覆盖人口"]) == (7000, 0, 6000)
    assert row["人口模型"] == "points"
    assert any(c.value.startswith("人口模型：人口点（points，") for c in at.caption)
    # removing the grid reruns the siting on the census
    at.file_uploader(key="pop_file").set_value(None)
    at.run()
    row = _table(at, "选址后覆盖人口").iloc[0]
    assert row["人口模型"] == "census_uniform" and row["人口"] > 100_000


def test_grid_missing_the_unit_shows_the_fallback_warning():
    at = _run({"unit": "431124", "cov": "yz_network"})  # 道县, far from the raster
    at = _upload(at, "pop.tif", raster_4326()[0], "image/tiff")
    assert not at.exception
    warned = [w.value for w in at.warning if w.value.startswith("人口网格在该区县内没有格网")]
    assert len(warned) == 1 and "道县" in warned[0]
    assert list(_table(at, "覆盖面积 (km²)")["人口模型"]) == ["census_uniform"]
    layers = load_layers(["yz_network"])
    census = unit_coverage(
        facility_points(layers, ["yz_network"]), load_units(cities=None), "431124"
    )
    assert _metric(at, "覆盖人口") == f"{census.population_covered:,.0f}"
    at.sidebar.radio(key="lang").set_value("en").run()
    warned = [w.value for w in at.warning if w.value.startswith("The population grid has no cells")]
    assert len(warned) == 1 and "(census_uniform, coarse)" in warned[0]
    assert any(s.value.startswith("Population grid read (raster)") for s in at.success)


def test_bad_upload_named_by_file_row_and_field_in_the_page_language():
    at = _run(TIANXIN)
    bad = POINTS.replace("2000", "两千").encode("gbk")
    at = _upload(at, "人口.csv", bad, CSV_MIME)
    assert not at.exception
    assert at.error[0].value.startswith("输入有误（文件 人口.csv，第 3 行，字段 population）")
    assert list(_table(at, "覆盖面积 (km²)")["人口模型"]) == ["census_uniform"]
    at = _upload(at, "人口.csv", POINTS.replace("113.033", "x").encode("gbk"), CSV_MIME)
    rows = _table(at, "行号 (Excel)")
    assert list(rows["行号 (Excel)"]) == [3] and list(rows["字段"]) == ["经度"]
    assert list(rows["问题"]) == ["不是数字"]
