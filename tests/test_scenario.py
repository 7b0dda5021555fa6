"""Scenarios of the page: clicked sites, closed facilities, the CLI's report files."""

import io
import json
import math

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from geo.analysis.scenario import proposed_sites, report_files, run_scenario
from geo.errors import InputError


@pytest.fixture
def units(square_units):
    return square_units.to_crs("EPSG:4326")


def _centre(units, i):
    c = units.to_crs("EPSG:4547").geometry.iloc[i].centroid
    return gpd.GeoSeries([c], crs="EPSG:4547").to_crs(4326).iloc[0]


def test_added_site_adds_its_disc(units):
    west = _centre(units, 0)
    fac = gpd.GeoDataFrame(
        {"id": ["x"], "name": ["旧"]}, geometry=[Point(west.x, west.y)], crs=4326
    )
    east = _centre(units, 1)
    res = run_scenario(
        fac, units, "东单元", add=proposed_sites([(east.y, east.x)]), mode="walk", minutes=15
    )
    row = res.diff.iloc[0]
    assert row["covered_pct_before"] == pytest.approx(0.0, abs=1e-6)
    # a 1 km disc in a 10 km x 10 km unit: pi/100 of the area (16-segment polygon)
    assert row["covered_pct_after"] == pytest.approx(100 * math.pi / 100, rel=0.003)
    assert row["facilities_after"] == row["facilities_before"] + 1


def test_closing_removes_the_disc_and_unknown_ids_fail(units):
    west = _centre(units, 0)
    fac = gpd.GeoDataFrame(
        {"id": ["x", "y"], "name": ["甲", "乙"]},
        geometry=[Point(west.x, west.y), Point(west.x + 0.001, west.y)],
        crs=4326,
    )
    res = run_scenario(fac, units, "900001", remove=["y"])
    assert res.diff.iloc[0]["facilities_change"] == -1
    with pytest.raises(InputError, match="unknown facility id"):
        run_scenario(fac, units, "900001", remove=["zz"])
    with pytest.raises(InputError, match="unknown unit"):
        run_scenario(fac, units, "nowhere")


def test_report_files_are_the_cli_reports(units):
    west = _centre(units, 0)
    fac = gpd.GeoDataFrame(
        {"id": ["x"], "name": ["旧"]}, geometry=[Point(west.x, west.y)], crs=4326
    )
    res = run_scenario(fac, units, "900001", add=proposed_sites([(west.y + 0.05, west.x)]))
    files = report_files(res.after, units=units, scenario=res)
    sheets = pd.read_excel(io.BytesIO(files["xlsx"]), sheet_name=None)
    assert {"summary", "scenario", "method"} <= set(sheets)
    assert "Scenario" in files["html"].decode("utf-8")
    reach = json.loads(files["geojson"])
    assert reach["type"] == "FeatureCollection" and reach["features"]


def test_proposed_sites_reject_bad_positions():
    with pytest.raises(InputError, match="lat/lon degrees"):
        proposed_sites([(112.9, 28.2)])
