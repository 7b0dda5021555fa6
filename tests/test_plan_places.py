"""The committed layers place what the plans say where they say it (issue 10 acceptance)."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.crs import geodesic_area_km2
from geo.data.boundaries import load_units
from geo.data.layers import load_layer, load_manifest, plan_layers
from geo.data.sources import load_plans, load_targets
from geo.data.validate import check_target
from geo.settings import DATA_DIR


@pytest.fixture(scope="module")
def counties() -> pd.Series:
    return load_units(cities=None).set_index("name")["geometry"]


@pytest.fixture(scope="module")
def plan_features() -> pd.DataFrame:
    frames = [load_layer(i) for i in plan_layers(load_manifest())]
    return pd.concat(frames, ignore_index=True)


def _zone(layer: str, zid: str):
    return load_layer(layer).set_index("id").loc[zid, "geometry"]


def test_rongcheng_holds_the_medical_centre_and_its_three_rings() -> None:
    rongcheng = _zone("sanqu", "sanqu_rongcheng")
    rings = load_layer("yhsq").set_index("id")
    for rid in ("yhsq_rd", "yhsq_incubate", "yhsq_industry"):
        outside = geodesic_area_km2(rings.loc[rid, "geometry"].difference(rongcheng))
        assert outside < 0.01, f"{rid}: {outside:.3f} km² outside 融城片区"
    places = load_layer("yhsq_places").set_index("id")
    for pid in ("yhsq_core", "yhsq_txedz", "yhsq_xianfeng", "yhsq_niujiaotang"):
        assert rongcheng.contains(places.loc[pid, "geometry"]), pid
    for pid in ("yhsq_jiefangyuan", "yhsq_airport", "yhsq_furong_lab"):
        assert rongcheng.contains(places.loc[pid, "geometry"]), pid


def test_rongcheng_is_one_shape_cited_by_both_plans() -> None:
    health = load_layer("sanqu").set_index("id").loc["sanqu_rongcheng"]
    bio = load_layer("bio").set_index("id").loc["bio_rongcheng"]
    assert health["geometry"].equals(bio["geometry"])
    assert {c["plan"] for c in health["other_citations"]} == {"cs_bio"}
    assert {c["plan"] for c in bio["other_citations"]} == {"cs_health"}


def test_rongcheng_lies_mostly_in_tianxin(counties: pd.Series) -> None:
    rongcheng = _zone("sanqu", "sanqu_rongcheng")
    yuhua = geodesic_area_km2(rongcheng.intersection(counties["雨花区"]))
    assert yuhua < 0.15 * geodesic_area_km2(rongcheng)


def test_ring_areas_stay_exact() -> None:
    rings = load_layer("yhsq").set_index("id")
    for rid, km2 in (("yhsq_rd", 5.6), ("yhsq_incubate", 13.0), ("yhsq_industry", 24.9)):
        assert geodesic_area_km2(rings.loc[rid, "geometry"]) == pytest.approx(km2, rel=1e-3)


def test_seed_valley_is_compact_at_longping(counties: pd.Series) -> None:
    valley = _zone("bio", "bio_seed_valley")
    carriers = load_layer("bio_places").set_index("id")
    for cid in ("bio_longping", "bio_yls_seed", "bio_rice_centre", "bio_saline_rice"):
        assert valley.contains(carriers.loc[cid, "geometry"]), cid
    assert not valley.intersects(counties["岳麓区"])
    assert geodesic_area_km2(valley) < 20


@pytest.mark.parametrize(
    ("layer", "pid", "county"),
    [
        ("cs_sports", "sp_helong", "天心区"),
        ("cs_sports", "sp_heimifeng", "望城区"),
        ("sandai_carriers", "sd_lvxin", "雨花区"),
        ("sandai_carriers", "sd_lvxin_park", "雨花区"),
        ("provincial", "pv_nanhua", "石鼓区"),
        ("yhsq_places", "yhsq_furong_lab", "天心区"),
    ],
)
def test_corrected_points_lie_in_their_county(
    counties: pd.Series, layer: str, pid: str, county: str
) -> None:
    row = load_layer(layer).set_index("id").loc[pid]
    assert row["county"] == county
    assert counties[county].contains(row["geometry"])


def test_huangxing_anchor_is_in_changsha_county(counties: pd.Series) -> None:
    anchors = pd.read_csv(DATA_DIR / "anchors.csv").set_index("id")
    row = anchors.loc["a_huangxing"]
    assert row["county"] == "长沙县"
    from shapely.geometry import Point

    assert counties["长沙县"].contains(Point(row["lon"], row["lat"]))


def test_kangyang_belt_reaches_the_green_heart() -> None:
    belt = _zone("sandai", "sandai_kangyang")
    lvxin = load_layer("sandai_carriers").set_index("id").loc["sd_lvxin", "geometry"]
    assert belt.contains(lvxin)


def test_every_inferred_feature_says_why(plan_features: pd.DataFrame) -> None:
    assert set(plan_features["attribution"]) <= {"stated", "inferred"}
    inferred = plan_features[plan_features["attribution"] == "inferred"]
    assert len(inferred) > 0
    assert (inferred["attribution_reason"].str.len() > 10).all()
    stated = plan_features[plan_features["attribution"] == "stated"]
    assert (stated["attribution_reason"] == "").all()
    # schematic stand-ins are never presented as stated
    assert not (
        (plan_features["precision"] == "schematic") & (plan_features["attribution"] == "stated")
    ).any()


@pytest.mark.parametrize(
    ("layer", "pid"),
    [
        ("cs_medical", "cs_liuyang_hosp"),
        ("cs_medical", "cs_provincial"),
        ("cs_medical", "cs_county_changsha"),
        ("cs_medical", "cs_county_wangcheng"),
        ("cs_medical", "cs_county_ningxiang"),
        ("yz_network", "yz_goal_sanjia"),
        ("yz_network", "yz_goal_border"),
    ],
)
def test_roles_the_text_does_not_assign_are_inferred(layer: str, pid: str) -> None:
    row = load_layer(layer).set_index("id").loc[pid]
    assert row["attribution"] == "inferred"
    assert "专病中心建设" not in row["role"]
    assert not row["name"].endswith("（湘赣边区域医疗中心）")


def test_goal_points_have_no_county_and_are_not_facilities() -> None:
    network = load_layer("yz_network")
    goals = network[network["kind"] == "goal"]
    assert set(goals["id"]) == {"yz_goal_sanjia", "yz_goal_border"}
    assert (goals["county"].fillna("") == "").all()
    assert "道县" not in set(goals["county"]) and "江永县" not in set(goals["county"])


def test_target_comparators_and_years_are_in_their_quotes() -> None:
    plans = load_plans(DATA_DIR / "plans" / "index.csv")
    texts = {
        k: (DATA_DIR / "plans" / f).read_text(encoding="utf-8") for k, f in plans["file"].items()
    }
    targets = load_targets(DATA_DIR / "targets.csv")
    for _, rec in targets.iterrows():
        assert check_target(rec, texts) == [], rec["metric"]
    by_metric = targets.set_index(["feature_id", "metric"])
    assert by_metric.loc[("sanqu_lyjk", "industry_scale"), "comparator"] == "gt"  # 超 900
    core = by_metric.loc[("yhsq_rd", "core_area")]
    assert core["comparator"] == "approx" and pd.isna(core["year"])  # 约 5.6, no year
    assert pd.isna(by_metric.loc[("yhsq_industry", "planned_area"), "year"])
    assert by_metric.loc[("bio_lyjk", "industry_scale"), "value"] == 800
    assert "yhsq_core" not in set(targets["feature_id"])  # 400亿/2亿人 belong to the programme
    assert set(targets.loc[targets["feature_id"] == "cs_nmc_programme", "value"]) == {400, 2}


def test_check_target_rejects_a_comparator_not_in_the_quote() -> None:
    rec = {
        "quote": "到 2026 年，产业规模达 1300 亿元",
        "comparator": "gt",
        "year": 2026.0,
        "plan": "x",
    }
    assert [f for f, _ in check_target(rec, {"x": ""})] == ["comparator"]
    rec = {"quote": "产业规模达 1300 亿元", "comparator": "eq", "year": 2026.0, "plan": "x"}
    assert [f for f, _ in check_target(rec, {"x": ""})] == ["year"]


def test_schematic_zone_areas_are_notes_not_plans(plan_features: pd.DataFrame) -> None:
    zones = plan_features[plan_features["area_km2"].notna()]
    unplanned = zones[zones["area_km2_planned"].isna()]
    assert (unplanned["area_note"].str.startswith("示意面积 ≈ ")).all()
    assert (unplanned["area_km2_schematic"] % 1 == 0).all()
    planned = zones[zones["area_km2_planned"].notna()]
    notes = dict(zip(planned["id"], planned["area_note"], strict=True))
    assert notes["yhsq_incubate"] == "规划面积 13 平方公里"
    assert "约数，非规划面积" in notes["yhsq_rd"]  # 约 5.6 平方公里核心区域


def test_provincial_layer_shows_what_the_provincial_plan_places() -> None:
    prov = load_layer("provincial")
    kinds = prov["kind"].value_counts().to_dict()
    assert kinds["provincial_regional_centre"] == 4
    assert kinds["herb_market"] == 2
    tcm = prov[prov["id"].str.startswith("pv_tcm_")]
    assert len(tcm) == 7 and set(tcm["kind"]) == {"goal"}
    assert (tcm["attribution"] == "inferred").all()
    assert set(prov.loc[prov["kind"] == "sports_belt", "id"]) == {"pv_dongtinghu", "pv_dongjianghu"}


def test_missing_named_places_are_mapped() -> None:
    names = set(pd.concat([load_layer(i) for i in plan_layers(load_manifest())])["name"])
    for name in ("岳麓山实验室（长沙总部）", "中南大学", "湖南大学", "湖南中医药大学"):
        assert name in names
    for name in ("水稻国家工程研究中心", "永州市脑科医院"):
        assert name in names


def test_development_zones_carry_catalogue_area_not_boundary() -> None:
    lyjk = load_layer("sanqu").set_index("id").loc["sanqu_lyjk", "dev_zone"]
    assert (lyjk["approved_area_ha"], lyjk["approved"]) == (710, "2012.03")
    assert "不给边界" in lyjk["note"]
    carriers = load_layer("sandai_carriers").set_index("id")
    assert carriers.loc["sd_jinxia", "dev_zone"]["approved_area_ha"] == 2545.53
    txedz = load_layer("yhsq_places").set_index("id").loc["yhsq_txedz", "dev_zone"]
    assert txedz["name"] == "长沙天心经济开发区"


def test_yongzhou_roles_each_quote_their_sentence() -> None:
    network = load_layer("yz_network").set_index("id")
    tcm = network.loc["yz_tcm"]
    assert tcm["role"].endswith("医养结合示范医院")
    assert any("医养结合示范医院" in c["quote"] for c in tcm["other_citations"])
    brain = network.loc["yz_brain"]
    assert {c["role"] for c in brain["other_citations"]} == {
        "心理健康服务中心示范点",
        "医养结合服务示范点",
    }
    goal = network.loc["yz_goal_sanjia"]
    assert "湘粤桂边界医疗服务高地" in goal["role"] and "湘粤桂边界医疗服务高地" in goal["quote"]


def test_goal_points_are_dropped_from_facility_sets_unless_asked() -> None:
    from geo.data.layers import drop_goals

    for layer in ("yz_network", "provincial"):
        gdf = load_layer(layer)
        facilities = drop_goals(gdf)
        assert "goal" not in set(facilities["kind"])
        assert len(drop_goals(gdf, include_goals=True)) == len(gdf)
    prov = drop_goals(load_layer("provincial"))
    assert not prov["id"].str.startswith("pv_tcm_").any()
