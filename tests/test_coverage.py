"""Coverage engine: hand-checkable areas, shares, populations, gaps and scenarios."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point

from geo.analysis.coverage import (
    _HoledReach,
    assign_units,
    coverage_report,
    reach_for,
    scenario_report,
)
from geo.errors import CRSError, InputError

X0, Y0 = 500_000.0, 3_120_000.0


def _points(xy: list[tuple[float, float]], crs: str = "EPSG:4547") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": [f"p{i}" for i in range(len(xy))]},
        geometry=[Point(x, y) for x, y in xy],
        crs=crs,
    )


def test_one_facility_gives_pi_r_squared(empty_square: gpd.GeoDataFrame) -> None:
    fac = _points([(X0 + 10_000, Y0 + 10_000)])
    result = coverage_report(fac, empty_square, reach=reach_for("walk", minutes=15))
    row = result.summary.iloc[0]
    expected = math.pi * 1.0**2  # 4 km/h x 15 min = 1 km
    assert row["covered_km2"] == pytest.approx(expected, rel=0.005)
    assert row["covered_pct"] == pytest.approx(100 * expected / 400, rel=0.005)
    # census spread by area: population covered = 40,000 x area share
    assert row["population_covered"] == pytest.approx(40_000 * expected / 400, rel=0.005)
    assert row["facilities"] == 1
    assert row["facilities_per_10k"] == pytest.approx(0.25)
    assert "spread evenly" in result.params["population_assumption"]
    # the one gap is the square minus the disc
    assert len(result.gaps) == 1
    assert result.gaps["area_km2"].iloc[0] == pytest.approx(400 - expected, rel=1e-3)


@pytest.mark.parametrize(
    ("mode", "minutes", "speed", "radius"),
    [
        ("walk", 10, None, 666.667),
        ("bike", 15, None, 3000.0),
        ("walk", 15, 6.0, 1500.0),
    ],
)
def test_radius_follows_mode_minutes_speed(
    empty_square: gpd.GeoDataFrame, mode: str, minutes: float, speed: float | None, radius: float
) -> None:
    fac = _points([(X0 + 10_000, Y0 + 10_000)])
    reach = reach_for(mode, minutes=minutes, speed_kmh=speed)
    assert reach.radius_m == pytest.approx(radius, rel=1e-5)
    result = coverage_report(fac, empty_square, reach=reach)
    assert result.summary["covered_km2"].iloc[0] == pytest.approx(
        math.pi * (radius / 1000) ** 2, rel=0.005
    )


def test_the_modes_own_speed_keeps_its_citation() -> None:
    """The page always passes its speed field; 4 km/h walking is the standard's, not an override
    (reports said "user override" for the default speed)."""
    walk = reach_for("walk", minutes=15, speed_kmh=4.0)
    assert walk.speed_source == reach_for("walk", minutes=15).speed_source != "user override"
    assert reach_for("walk", minutes=15, speed_kmh=5.0).speed_source == "user override"


def test_known_layout_per_unit_shares(square_units: gpd.GeoDataFrame) -> None:
    # west unit: one full disc; the shared border: one disc split half/half
    fac = _points([(X0 + 5_000, Y0 + 5_000), (X0 + 10_000 + 1e-6, Y0 + 5_000)])
    result = coverage_report(fac, square_units, reach=reach_for("walk"))
    s = result.summary.set_index("unit_id")
    disc = math.pi  # km² of a 1 km disc
    assert s.loc["900001", "covered_km2"] == pytest.approx(1.5 * disc, rel=0.005)
    assert s.loc["900002", "covered_km2"] == pytest.approx(0.5 * disc, rel=0.005)
    assert s.loc["900001", "covered_pct"] == pytest.approx(1.5 * disc, rel=0.005)  # of 100 km²
    assert s.loc["900002", "population_covered"] == pytest.approx(
        3000 * 0.5 * disc / 100, rel=0.005
    )
    assert s["facilities"].tolist() == [1, 1]
    assert s.loc["900002", "facilities_per_10k"] == pytest.approx(1 / 3000 * 1e4)


def test_population_grid_counts_points_in_reach(empty_square: gpd.GeoDataFrame) -> None:
    rng = np.random.default_rng(4)
    xs, ys = np.meshgrid(np.arange(X0 + 50, X0 + 20_000, 100), np.arange(Y0 + 50, Y0 + 20_000, 100))
    xs, ys = xs.ravel(), ys.ravel()
    pop = rng.integers(0, 20, len(xs)).astype(float)
    grid = gpd.GeoDataFrame(
        {"population": pop}, geometry=gpd.points_from_xy(xs, ys), crs="EPSG:4547"
    )
    fac_xy = [(X0 + 4_000, Y0 + 4_000), (X0 + 15_000, Y0 + 12_000)]
    result = coverage_report(_points(fac_xy), empty_square, population=grid)
    # independent reference: brute-force distance of each cell to each facility
    d = np.min([np.hypot(xs - fx, ys - fy) for fx, fy in fac_xy], axis=0)
    row = result.summary.iloc[0]
    assert row["population"] == pytest.approx(pop.sum())
    assert row["population_covered"] == pytest.approx(pop[d <= 1000].sum())
    assert result.gaps["population"].sum() == pytest.approx(pop[d > 1000].sum())
    assert "grid" in result.params["population_assumption"]
    # time distribution: share within 15 minutes is the covered population share
    dist = result.distribution
    within = dist[dist["minutes_to"] <= 15]["share_pct"].sum()
    assert within == pytest.approx(100 * pop[d <= 1000].sum() / pop.sum())
    w = np.repeat(d / (4000 / 60), pop.astype(int))
    assert row["minutes_p50"] == pytest.approx(np.quantile(w, 0.5), abs=0.1)


def test_gaps_ranked_by_area_and_population(square_units: gpd.GeoDataFrame) -> None:
    # a row of discs cuts the west unit into two gaps of different size
    fac = _points([(X0 + 3_000, Y0 + y) for y in range(0, 10_001, 1000)])
    result = coverage_report(fac, square_units)
    gaps = result.gaps
    assert gaps["rank_area"].tolist() == list(range(1, len(gaps) + 1))
    assert gaps["area_km2"].is_monotonic_decreasing
    assert gaps.iloc[0]["unit_id"] == "900002"  # the whole east unit (100 km², untouched)
    assert gaps.iloc[0]["area_km2"] == pytest.approx(100.0)
    assert gaps.iloc[0]["rank_population"] == 1  # 3000 people vs a share of 1000
    west = gaps[gaps["unit_id"] == "900001"]
    assert len(west) == 2
    s = result.summary.set_index("unit_id")
    assert west["area_km2"].sum() + s.loc["900001", "covered_km2"] == pytest.approx(100.0)


def test_scenario_add_and_remove(square_units: gpd.GeoDataFrame) -> None:
    fac = _points([(X0 + 5_000, Y0 + 5_000), (X0 + 15_000, Y0 + 5_000)])
    add = _points([(X0 + 2_000, Y0 + 8_000)])
    add["id"] = ["new"]
    sc = scenario_report(fac, square_units, add=add, remove=["p1"])
    d = sc.diff.set_index("unit_id")
    assert d.loc["900001", "covered_pct_change"] == pytest.approx(math.pi, rel=0.005)
    assert d.loc["900002", "covered_pct_change"] == pytest.approx(-math.pi, rel=0.005)
    assert d.loc["900001", "facilities_change"] == 1
    assert d.loc["900002", "facilities_after"] == 0
    with pytest.raises(InputError, match=r"cannot remove unknown facility id\(s\) \['zz'\]"):
        scenario_report(fac, square_units, remove=["zz"])


def test_wgs84_inputs_are_projected(changsha_points: gpd.GeoDataFrame) -> None:
    from geo.data.boundaries import load_units

    units = load_units(cities=("430100",))
    result = coverage_report(changsha_points, units)
    assert result.params["metric_crs"].startswith("EPSG:4547")
    assert result.summary["facilities"].sum() == 3
    assert result.reach.crs == "EPSG:4326"
    # three 1 km discs, two of which overlap nothing: covered total <= 3 pi
    assert result.summary["covered_km2"].sum() <= 3 * math.pi * 1.001
    assert set(assign_units(changsha_points, units)) <= set(units["adcode"])


def test_crs_errors(square_units: gpd.GeoDataFrame) -> None:
    wgs = _points([(112.98, 28.2)], crs="EPSG:4326")
    with pytest.raises(CRSError, match=r"CRS mismatch between facilities \(EPSG:4326\) and units"):
        coverage_report(wgs, square_units)
    naive = gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(0, 0)])
    with pytest.raises(CRSError, match="facilities has no CRS"):
        coverage_report(naive, square_units)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mode": "fly"}, "unknown mode 'fly'"),
        ({"minutes": -5}, r"minutes must be a number in \(0, 240\], got -5"),
        ({"speed_kmh": 0.0}, "speed must be a number"),
    ],
)
def test_reach_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        reach_for(**kwargs)


def test_unit_columns_checked(square_units: gpd.GeoDataFrame) -> None:
    fac = _points([(X0, Y0)])
    with pytest.raises(InputError, match=r"units lack column\(s\) \['code'\]"):
        coverage_report(fac, square_units, unit_id="code")


def test_many_holed_reach_clips_like_the_overlay() -> None:
    # a reach like a rasterised street grid: a 4 x 4 km block with 20 x 20 holes (> _HOLED_MIN)
    holes = [
        shapely.box(X0 + 200 * i + 50, Y0 + 200 * j + 50, X0 + 200 * i + 150, Y0 + 200 * j + 150)
        for i in range(20)
        for j in range(20)
    ]
    reach = shapely.Polygon(
        shapely.box(X0, Y0, X0 + 4000, Y0 + 4000).exterior.coords,
        [h.exterior.coords for h in holes],
    )
    units = gpd.GeoDataFrame(
        {"adcode": ["a", "b", "c", "d"], "name": ["甲", "乙", "丙", "丁"]},
        geometry=[
            shapely.box(X0 - 500, Y0 - 500, X0 + 1730, Y0 + 4500),  # cuts holes
            shapely.box(X0 + 1730, Y0 - 500, X0 + 4500, Y0 + 2000),
            shapely.box(X0 + 1730, Y0 + 2000, X0 + 4500, Y0 + 4500).difference(
                Point(X0 + 3000, Y0 + 3000).buffer(420)  # a unit with a hole
            ),
            shapely.box(X0 + 9000, Y0, X0 + 9500, Y0 + 500),  # nothing reached
        ],
        crs="EPSG:4547",
    )
    fac = _points([(X0 + 1000, Y0 + 1000)])
    result = coverage_report(fac, units, reach_geometry=reach, metric_crs="EPSG:4547")
    for k, unit in enumerate(units.geometry):
        row = result.summary.iloc[k]
        assert row["covered_km2"] * 1e6 == pytest.approx(unit.intersection(reach).area, abs=1e-3)
        got = result.reach.to_crs("EPSG:4547").geometry.iloc[k]
        assert got.is_valid
        assert got.symmetric_difference(unit.intersection(reach)).area < 1e-3
    # gaps: unit minus reach, the 100 m holes below min_gap_km2 not listed but not covered
    big = shapely.get_parts(units.geometry.iloc[3].difference(reach))
    assert result.summary["gaps"].iloc[3] == len(big) == 1
    assert result.summary["covered_km2"].iloc[3] == 0.0
    small = coverage_report(
        fac, units, reach_geometry=reach, metric_crs="EPSG:4547", min_gap_km2=0.0
    )
    for k, unit in enumerate(units.geometry):
        parts = shapely.get_parts(unit.difference(reach))
        assert small.summary["gaps"].iloc[k] == len(parts)
        listed = small.gaps[small.gaps["unit_id"] == units["adcode"].iloc[k]]
        assert listed["area_km2"].sum() == pytest.approx(unit.difference(reach).area / 1e6)


def test_holed_reach_with_an_island_in_a_hole() -> None:
    holes = [
        shapely.box(X0 + 200 * i + 50, Y0 + 200 * j + 50, X0 + 200 * i + 150, Y0 + 200 * j + 150)
        for i in range(20)
        for j in range(20)
    ]
    block = shapely.Polygon(
        shapely.box(X0, Y0, X0 + 4000, Y0 + 4000).exterior.coords,
        [h.exterior.coords for h in holes],
    )
    island = shapely.box(X0 + 80, Y0 + 80, X0 + 120, Y0 + 120)  # inside the first hole
    reach = shapely.MultiPolygon([block, island])
    assert _HoledReach.of(block) is not None
    assert _HoledReach.of(reach) is None  # nested parts: the plain overlay
    units = gpd.GeoDataFrame(
        {"adcode": ["a"], "name": ["甲"]},
        geometry=[shapely.box(X0 - 500, Y0 - 500, X0 + 1730, Y0 + 4500)],
        crs="EPSG:4547",
    )
    result = coverage_report(
        _points([(X0, Y0)]), units, reach_geometry=reach, metric_crs="EPSG:4547"
    )
    expected = units.geometry.iloc[0].intersection(reach).area / 1e6
    assert result.summary["covered_km2"].iloc[0] == pytest.approx(expected)
