"""The siting tab's pure functions on a hand-solvable unit: a 4 km x 250 m strip, two candidates.

The strip holds 4,000 people (census spread by area on the default 250 m grid for a 1,000 m
walking reach: 16 cells of 250 people in one row).  Candidate A at x = 1 km reaches x in 0-2 km
(8 cells, 2,000 people); B at x = 3.5 km reaches 2.5-4 km (6 cells, 1,500 people).
"""

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.web.siting_page import (
    REPORT_FILES,
    curve_chart,
    curve_table,
    default_existing_layers,
    method_caption,
    new_sites,
    population_caption,
    report_bytes,
    run_unit_siting,
    sites_table,
    units_table,
)

GK = "EPSG:4547"  # CGCS2000 Gauss-Kruger, central meridian 114E
X0, Y0 = 500_000.0, 3_120_000.0  # about 114E, 28.2N


def _pts(xs: list[float], ids: list[str]) -> gpd.GeoDataFrame:
    geom = [shapely.Point(X0 + x, Y0 + 125) for x in xs]
    return gpd.GeoDataFrame({"id": ids, "name": ids}, geometry=geom, crs=GK).to_crs("EPSG:4326")


@pytest.fixture
def strip() -> gpd.GeoDataFrame:
    box = shapely.box(X0, Y0, X0 + 4000, Y0 + 250)
    return gpd.GeoDataFrame(
        {"adcode": ["T1"], "name": ["条带"], "population": [4000]}, geometry=[box], crs=GK
    ).to_crs("EPSG:4326")


def _run(strip, *, k: int, existing=None):
    return run_unit_siting(
        strip, "T1", model="mclp", k=k, target=0.9, mode="walk", minutes=15, speed_kmh=4.0,
        existing=existing, candidates=_pts([1000, 3500], ["A", "B"]),
    )  # fmt: skip


def test_mclp_k1_picks_the_larger_reach_and_tables_say_so(strip):
    res = _run(strip, k=1)
    table = sites_table(res, "zh")
    assert list(table.columns) == ["序号", "名称", "按序加入时新增", "经度", "纬度"]
    assert table["名称"].tolist() == ["A"] and table["按序加入时新增"].tolist() == [2000]
    assert abs(table["经度"].iloc[0] - new_sites(res).geometry.x.iloc[0]) < 1e-6
    ba = units_table(res, "en").iloc[0]
    assert ba["Covered before (%)"] == 0 and ba["Covered after (%)"] == 50
    assert ba["People covered after"] == 2000 and ba["Population model"] == "census_uniform"


def test_k2_takes_both_and_curve_gives_each_sites_gain(strip):
    res = _run(strip, k=2)
    assert sites_table(res, "en")["Gain when added in rank order"].tolist() == [2000, 1500]
    curve = curve_table(res, "en")
    assert curve["Added by the k-th site (optimum k − k−1)"].iloc[1:].tolist() == [2000, 1500]
    assert curve["Optimum with k new sites"].tolist() == [0, 2000, 3500]
    chart = curve_chart(res, "en")  # the page's bar chart: the gains, not the objective
    assert chart.index.tolist() == [1, 2]
    assert chart.iloc[:, 0].tolist() == [2000, 1500]
    assert units_table(res, "zh").iloc[0]["选址后覆盖率 (%)"] == 87.5


def test_existing_site_is_held_fixed_and_not_drawn_as_new(strip):
    res = _run(strip, k=1, existing=_pts([1000], ["old"]))
    new = new_sites(res)
    assert len(new) == 1 and new.crs.to_epsg() == 4326
    assert sites_table(res, "zh")["按序加入时新增"].tolist() == [1500]  # B: A adds nothing
    assert (res.sites["role"] == "existing").sum() == 1
    ba = units_table(res, "zh").iloc[0]
    assert ba["选址前覆盖人口"] == 2000 and ba["选址后覆盖人口"] == 3500


def test_report_bytes_are_the_three_downloads(strip):
    res = _run(strip, k=2)
    files = report_bytes(res, strip, radius_m=1000)
    assert set(files) == set(REPORT_FILES) == {"xlsx", "html", "geojson"}
    assert files["xlsx"][:2] == b"PK"
    assert "条带" in files["html"].decode("utf-8")
    sites = gpd.read_file(files["geojson"].decode("utf-8"))
    assert sorted(sites.loc[sites["role"] == "new", "name"]) == ["A", "B"]
    sheet = pd.read_excel(pd.io.common.BytesIO(files["xlsx"]), sheet_name=None)
    assert len(sheet) >= 2


def test_default_existing_layers_follow_the_city():
    pts = ["cs_medical", "yz_network", "cs_parks"]
    assert default_existing_layers("430181", pts) == ["cs_medical"]
    assert default_existing_layers("431102", pts) == ["yz_network"]
    assert default_existing_layers("430300", pts) == []
    assert default_existing_layers("430102", ["yz_network"]) == []


def test_unknown_language_is_refused(strip):
    with pytest.raises(ValueError, match="zh"):
        sites_table(_run(strip, k=1), "fr")


# --- reach over an uploaded road network -------------------------------------------------------


def _osm_xml(ways: list[list[tuple[float, float]]]) -> bytes:
    """OSM XML of residential ways through GK points (metres), as a user's upload."""
    from pyproj import Transformer

    to_wgs = Transformer.from_crs(GK, "EPSG:4326", always_xy=True)
    ids: dict[tuple[float, float], int] = {}
    nodes, way_xml = [], []
    for w, pts in enumerate(ways):
        refs = []
        for pt in pts:
            if pt not in ids:
                ids[pt] = len(ids) + 1
                lon, lat = to_wgs.transform(X0 + pt[0], Y0 + pt[1])
                nodes.append(f"<node id='{ids[pt]}' lat='{lat:.9f}' lon='{lon:.9f}'/>")
            refs.append(f"<nd ref='{ids[pt]}'/>")
        way_xml.append(f"<way id='{w + 1}'>{''.join(refs)}<tag k='highway' v='residential'/></way>")
    body = "".join(nodes) + "".join(way_xml)
    return f"<?xml version='1.0' encoding='UTF-8'?><osm version='0.6'>{body}</osm>".encode()


def _strip_road_with_a_gap() -> bytes:
    """The strip's centre line, nodes every 125 m, broken between x = 1500 and 1625 m."""
    west = [(float(x), 125.0) for x in range(0, 1501, 125)]
    east = [(float(x), 125.0) for x in range(1625, 4001, 125)]
    return _osm_xml([west, east])


def test_uploaded_road_network_changes_the_reach_and_reports_say_so(strip):
    cand = _pts([1000], ["A"])
    line = run_unit_siting(
        strip, "T1", model="mclp", k=1, target=0.9, mode="walk", minutes=15,
        speed_kmh=4.0, candidates=cand,
    )  # fmt: skip
    road = run_unit_siting(
        strip, "T1", model="mclp", k=1, target=0.9, mode="walk", minutes=15,
        speed_kmh=4.0, candidates=cand, osm=("strip.osm", _strip_road_with_a_gap()),
    )  # fmt: skip
    # straight line: x in 0-2 km, 8 cells; by road the gap at 1.5 km stops it: 6 cells
    assert line.units["covered_after"].iloc[0] == pytest.approx(2000)
    assert road.units["covered_after"].iloc[0] == pytest.approx(1500)
    assert road.params["reach_kind"] == "network"
    assert road.params["network_file"] == "strip.osm"
    assert road.params["source_roads"] == "OpenStreetMap extract strip.osm (uploaded)"
    files = report_bytes(road, strip, radius_m=1000.0)
    assert b"road network" in files["html"]
    assert b'"reach": "network"' in files["geojson"]
    assert "道路网络（OSM）15 分钟内可达" in method_caption(road, "zh")
    assert "直线距离 1,000 米（4 公里/小时 × 15 分钟）" in method_caption(line, "zh")


def test_method_and_population_lines_follow_the_language(strip):
    """The lines under the results were the report's English text in the Chinese page."""
    res = _run(strip, k=1, existing=_pts([3500], ["B"]))
    zh = method_caption(res, "zh")
    assert zh == (
        "最大覆盖（MCLP） · 精确求解（HiGHS），已证明最优，"
        f"用时 {res.solution.seconds:.1f} 秒 · 可达：直线距离 1,000 米（4 公里/小时 × 15 分钟）"
        " · 现有设施 1 处保留"
    )
    en = method_caption(res, "en")
    assert en.startswith("Maximal covering (MCLP) · exact (HiGHS), proven optimal, ")
    pop = population_caption(res, "zh")
    assert pop.startswith("人口模型：2020 年普查人口按面积均匀分布（census_uniform，粗略）。")
    assert "请上传人口网格" in pop
    assert population_caption(res, "en").startswith("Population model: census 2020 spread")
    greedy = run_unit_siting(
        strip, "T1", model="mclp", k=1, target=0.9, mode="walk", minutes=15, speed_kmh=4.0,
        candidates=_pts([1000, 3500], ["A", "B"]), solver="greedy",
    )  # fmt: skip
    assert greedy.solution.method.startswith("greedy")
    assert method_caption(greedy, "zh").startswith(
        "最大覆盖（MCLP） · 贪心算法，启发式解，未证明最优"
    )


def test_bad_uploaded_network_names_the_file(strip):
    from geo.errors import InputError

    with pytest.raises(InputError, match=r"^roads\.osm\.pbf, field 'osm': cannot read"):
        run_unit_siting(
            strip, "T1", model="mclp", k=1, target=0.9, mode="walk", minutes=15,
            speed_kmh=4.0, osm=("roads.osm.pbf", b"not an OSM file" * 20),
        )  # fmt: skip
    with pytest.raises(
        InputError, match=r"^empty\.osm, field 'osm': the uploaded OSM file is empty"
    ):
        run_unit_siting(
            strip, "T1", model="mclp", k=1, target=0.9, mode="walk", minutes=15,
            speed_kmh=4.0, osm=("empty.osm", b""),
        )  # fmt: skip


def test_pmedian_tables_say_minutes_not_people(strip):
    """A tester read p-median's person-minutes (69,027,955) under "按序加入时新增" and a chart
    titled as coverage."""
    res = run_unit_siting(
        strip, "T1", model="pmedian", k=1, target=None, mode="walk", minutes=15, speed_kmh=4.0,
        candidates=_pts([1000], ["A"]), existing=_pts([3500], ["B"]),
    )  # fmt: skip
    sites = sites_table(res, "zh")
    assert "按序加入时减少的人口加权分钟" in sites.columns and "按序加入时新增" not in sites.columns
    assert (sites["按序加入时减少的人口加权分钟"] > 0).all()
    curve = curve_table(res, "zh")
    assert {"第k个新址减少的人口加权分钟", "k个新址时的人口加权总分钟"} <= set(curve.columns)
    assert list(curve_chart(res, "en").columns) == ["Person-minutes saved by the k-th site"]
