"""Attribute table, facility selection (goal points) and precision-marked reach."""

import math

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, box

from geo.errors import InputError
from geo.web.attributes import attribute_table, facility_points, filter_attributes, uncertain_reach


@pytest.fixture
def page_layers():
    pts = gpd.GeoDataFrame(
        {
            "id": ["a", "b", "g"],
            "name": ["医院甲", "基地乙", "目标丙"],
            "kind": ["hospital", "base", "goal"],
            "precision": ["geocoded", "approximate", "schematic"],
            "schematic": [False, False, True],
            "plan": ["cs_health", "cs_health", "yz_health"],
            "county": ["天心区", "岳麓区", "道县"],
        },
        geometry=[Point(112.98, 28.10), Point(112.90, 28.20), Point(111.60, 25.53)],
        crs="EPSG:4326",
    )
    zone = gpd.GeoDataFrame(
        {"id": ["z"], "name": ["片区"], "kind": ["zone"], "precision": ["schematic"]},
        geometry=[box(112.0, 28.0, 112.2, 28.2)],
        crs="EPSG:4326",
    )
    line = gpd.GeoDataFrame(
        {"id": ["l"], "name": ["连线"]},
        geometry=[LineString([(112.0, 28.0), (112.0, 28.4)])],
        crs="EPSG:4326",
    )
    return {"pts": pts, "zone": zone, "line": line, "counties": zone}


def test_table_has_every_feature_and_a_point_to_go_to(page_layers):
    t = attribute_table(page_layers, plan_titles={"cs_health": "长沙规划"})
    assert len(t) == 5  # counties skipped
    assert t.loc[t.id == "a", ["lon", "lat"]].values.tolist() == [[112.98, 28.10]]
    z = t[t.id == "z"].iloc[0]
    assert box(112.0, 28.0, 112.2, 28.2).contains(Point(z.lon, z.lat))
    ln = t[t.id == "l"].iloc[0]
    assert ln.lon == pytest.approx(112.0) and 28.0 <= ln.lat <= 28.4
    assert set(t["plan"]) >= {"长沙规划", "yz_health"}


def test_filters(page_layers):
    t = attribute_table(page_layers)
    assert filter_attributes(t, kinds=["hospital", "base"])["id"].tolist() == ["a", "b"]
    assert filter_attributes(t, precisions=["approximate"])["id"].tolist() == ["b"]
    assert filter_attributes(t, counties=["道县"], plans=["yz_health"])["id"].tolist() == ["g"]
    assert filter_attributes(t, hide_schematic_and_goals=True)["id"].tolist() == ["a", "b", "l"]
    assert len(filter_attributes(t, kinds=[])) == len(t)
    with pytest.raises(InputError, match="lacks columns"):
        filter_attributes(t.drop(columns="kind"))


def test_goals_are_not_facilities_unless_asked(page_layers):
    assert facility_points(page_layers, ["pts"])["id"].tolist() == ["pts:a", "pts:b"]
    with_goals = facility_points(page_layers, ["pts"], include_goals=True)
    assert with_goals["id"].tolist() == ["pts:a", "pts:b", "pts:g"]
    with pytest.raises(InputError, match="unknown layer 'nope'"):
        facility_points(page_layers, ["nope"])


def test_uncertain_reach_is_the_disc_around_imprecise_points_only(page_layers):
    fac = facility_points(page_layers, ["pts"], include_goals=True)
    reach = uncertain_reach(fac, 1000.0)
    metric = reach.to_crs("EPSG:4547")
    # two separate discs (approximate b, schematic g): 2 * pi r^2, within the 16-segment error
    assert metric.area.sum() == pytest.approx(2 * math.pi * 1e6, rel=0.003)
    assert not reach.iloc[0].contains(Point(112.98, 28.10))  # the geocoded hospital
    assert reach.iloc[0].contains(Point(112.90, 28.20))
    clipped = uncertain_reach(fac, 1000.0, within=gpd.GeoSeries([box(0, 0, 1, 1)], crs=4326))
    assert clipped.empty


def test_display_shows_kind_and_precision_words_not_ids() -> None:
    import pandas as pd

    from geo.web.attributes import attribute_display

    table = pd.DataFrame(
        {
            "layer": ["cs_medical"],
            "kind": ["national_medical_centre"],
            "precision": ["geocoded"],
            "plan": ["cs_health"],
        }
    )
    zh = attribute_display(table, lang="zh")
    assert zh.loc[0, "kind"] == "国家医学中心"
    en = attribute_display(table, lang="en")
    assert en.loc[0, "kind"] == "National medical centre"
