"""Population models (issue 8): raster against hand sums, points in their own CRS, census
fallback with a warning, management zones with their host county, and the CLI end to end."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import Geod
from shapely.geometry import Point, box

from geo.analysis.coverage import coverage_report, reach_for
from geo.analysis.population import (
    PopulationFallbackWarning,
    add_management_zones,
    census_sample,
    demand_points,
    load_zone_hosts,
    read_population_raster,
)
from geo.cli import main
from geo.coords import from_wgs84
from geo.data.boundaries import load_units

NODATA = -99999.0


def from_origin(west: float, north: float, xsize: float, ysize: float) -> Affine:
    """North-up transform of a raster whose top-left corner is (west, north)."""
    return Affine(xsize, 0.0, west, 0.0, -ysize, north)


# 6 x 6 cells of 0.005 degrees (about 490 m x 554 m) with top-left corner at 112.90 E, 28.23 N
W0, N0, STEP = 112.90, 28.23, 0.005
VALUES = np.arange(1, 37, dtype="float32").reshape(6, 6)
VALUES[0, 0] = NODATA
VALUES[5, 5] = 0.0


def _write_tif(path: Path, values: np.ndarray, transform: object, crs: str) -> Path:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=values.shape[0],
        width=values.shape[1],
        count=1,
        dtype="float32",
        crs=crs,
        transform=transform,
        nodata=NODATA,
    ) as dst:
        dst.write(values, 1)
    return path


@pytest.fixture
def wgs_tif(tmp_path: Path) -> Path:
    """WorldPop-like raster: EPSG:4326, people per cell, nodata -99999."""
    return _write_tif(
        tmp_path / "worldpop_like.tif", VALUES, from_origin(W0, N0, STEP, STEP), "EPSG:4326"
    )


@pytest.fixture
def halves() -> gpd.GeoDataFrame:
    """West and east halves of the raster (split on a cell edge), in WGS-84."""
    mid = W0 + 3 * STEP
    s = N0 - 6 * STEP
    return gpd.GeoDataFrame(
        {"adcode": ["w", "e"], "name": ["西", "东"], "population": [5.0, 7.0]},
        geometry=[box(W0, s, mid, N0), box(mid, s, W0 + 6 * STEP, N0)],
        crs="EPSG:4326",
    )


def _hand_sums() -> tuple[float, float]:
    valid = np.where(VALUES == NODATA, 0.0, VALUES)
    return float(valid[:, :3].sum()), float(valid[:, 3:].sum())


@pytest.mark.parametrize("strip_rows", [1024, 2])
def test_raster_wgs84_sums_per_unit(
    wgs_tif: Path, halves: gpd.GeoDataFrame, strip_rows: int
) -> None:
    grid = read_population_raster(wgs_tif, units=halves, strip_rows=strip_rows)
    west, east = _hand_sums()
    assert grid.model == "raster"
    assert len(grid) == 34  # 36 cells minus nodata minus the zero cell
    sums = np.bincount(grid.unit, weights=grid.population, minlength=2)
    assert sums.tolist() == pytest.approx([west, east])
    # cell centres: the first kept cell is row 0, column 1
    assert (grid.x[0], grid.y[0]) == pytest.approx((W0 + 1.5 * STEP, N0 - 0.5 * STEP))


def test_raster_coverage_against_geodesic_hand_count(
    wgs_tif: Path, halves: gpd.GeoDataFrame
) -> None:
    """Covered people = cells whose centre is within 1 km (geodesic) of the facility."""
    fx, fy = W0 + 2.5 * STEP, N0 - 2.5 * STEP  # centre of cell (row 2, col 2)
    fac = gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(fx, fy)], crs="EPSG:4326")
    grid = read_population_raster(wgs_tif, units=halves)
    result = coverage_report(fac, halves, population=grid)
    rows, cols = np.mgrid[0:6, 0:6]
    lon, lat = W0 + (cols + 0.5) * STEP, N0 - (rows + 0.5) * STEP
    _, _, dist = Geod(ellps="WGS84").inv(np.full(36, fx), np.full(36, fy), lon.ravel(), lat.ravel())
    assert np.min(np.abs(dist - 1000)) > 5  # no cell on the edge of reach
    pop = np.where(VALUES == NODATA, 0.0, VALUES).ravel()
    west = cols.ravel() < 3
    s = result.summary.set_index("unit_id")
    assert s.loc["w", "population_covered"] == pytest.approx(pop[west & (dist <= 1000)].sum())
    assert s.loc["e", "population_covered"] == pytest.approx(pop[~west & (dist <= 1000)].sum())
    assert s["population_model"].tolist() == ["raster", "raster"]
    assert not s["population_coarse"].any()
    assert "raster" in result.params["population_assumption"]


def test_raster_projected_crs_and_window(tmp_path: Path) -> None:
    """A 100 m raster in CGCS2000 / GK 114E, larger than the units: only the window counts."""
    values = np.arange(100, dtype="float32").reshape(10, 10)
    x0, y0 = 500_000.0, 3_121_000.0
    tif = _write_tif(tmp_path / "gk.tif", values, from_origin(x0, y0, 100, 100), "EPSG:4547")
    unit = gpd.GeoDataFrame(
        {"adcode": ["u"], "name": ["单元"], "population": [1.0]},
        geometry=[box(x0 + 200, y0 - 500, x0 + 500, y0 - 200)],  # rows 2-4, cols 2-4
        crs="EPSG:4547",
    ).to_crs("EPSG:4326")
    grid = read_population_raster(tif, units=unit)
    assert grid.crs.to_epsg() == 4547
    # the unit went through WGS-84 and back: compare with the 3 x 3 block it covers
    assert grid.population.sum() == pytest.approx(values[2:5, 2:5].sum())
    assert len(grid) == 9


def test_raster_errors(tmp_path: Path, halves: gpd.GeoDataFrame) -> None:
    far = _write_tif(tmp_path / "far.tif", VALUES, from_origin(10.0, 50.0, STEP, STEP), "EPSG:4326")
    with pytest.raises(ValueError, match="does not overlap the units"):
        read_population_raster(far, units=halves)
    bad = VALUES.copy()
    bad[1, 1] = -5
    neg = _write_tif(tmp_path / "neg.tif", bad, from_origin(W0, N0, STEP, STEP), "EPSG:4326")
    with pytest.raises(ValueError, match="negative cells"):
        read_population_raster(neg, units=halves)
    with pytest.raises(ValueError, match="cannot read the population raster"):
        read_population_raster(tmp_path / "missing.tif", units=halves)


def test_units_without_cells_fall_back_to_census_with_warning(
    square_units: gpd.GeoDataFrame,
) -> None:
    x0, y0 = 500_000.0, 3_120_000.0
    grid = gpd.GeoDataFrame(
        {"population": [10.0, 20.0]},
        geometry=[Point(x0 + 1000, y0 + 1000), Point(x0 + 5000, y0 + 5000)],  # both in the west
        crs="EPSG:4547",
    )
    fac = gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(x0 + 1000, y0 + 1000)], crs="EPSG:4547")
    with pytest.warns(PopulationFallbackWarning, match="东单元"):
        result = coverage_report(fac, square_units, population=grid)
    s = result.summary.set_index("name")
    assert s.loc["西单元", "population"] == 30
    assert s.loc["西单元", "population_model"] == "points"
    assert s.loc["东单元", "population"] == 3000  # census, not a silent 0
    assert s.loc["东单元", "population_model"] == "census_uniform"
    assert s.loc["东单元", "population_coarse"]
    assert "no cells" in s.loc["东单元", "population_note"]


def test_census_sample_spreads_population_over_the_area() -> None:
    units = load_units(cities=("430100",))
    units_m = units.to_crs("EPSG:4547")
    sample = census_sample(units_m, spacing_m=500)
    per_unit = np.bincount(sample.unit, weights=sample.population)
    assert per_unit == pytest.approx(units_m["population"].to_numpy())
    counts = np.bincount(sample.unit)
    area = units_m.area.to_numpy()
    # a regular sample: points per km² equal up to the cap, never one point per unit
    assert counts.min() > 100
    assert counts / (area / 500**2) == pytest.approx(1.0, rel=0.05)
    demand = demand_points(units_m, spacing_m=500)
    assert demand.groupby("unit_id")["population"].sum().to_numpy() == pytest.approx(
        units_m.set_index("adcode").loc[demand["unit_id"].unique(), "population"].to_numpy()
    )


def test_management_zones_counted_in_host_county() -> None:
    zones = load_zone_hosts()
    assert dict(zip(zones["name"], zones["population"], strict=True)) == {
        "永州经济技术开发区": 47111,
        "永州市金洞管理区": 40874,
        "永州市回龙圩管理区": 10077,
    }
    assert set(zones["basis"]) <= {"stated", "inferred"}
    assert zones["basis_reason"].str.len().min() > 20
    units = add_management_zones(load_units(cities=("431100",)))
    pop = units.set_index("name")["population"]
    assert pop["冷水滩区"] == 536025 + 47111
    assert pop["祁阳市"] == 791939 + 40874
    assert pop["江永县"] == 225622 + 10077
    assert pop.sum() == 5_289_824  # the census city total
    fac = gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(111.61, 26.43)], crs="EPSG:4326")
    result = coverage_report(fac, units, reach=reach_for("drive"))
    s = result.summary.set_index("name")
    assert s.loc["冷水滩区", "population"] == 583136
    assert "永州经济技术开发区 47,111" in s.loc["冷水滩区", "population_note"]
    assert s.loc["零陵区", "population_note"] == ""


# --- CLI -----------------------------------------------------------------------------------


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["coverage", "--quiet", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _units_file(tmp_path: Path, halves: gpd.GeoDataFrame) -> Path:
    path = tmp_path / "units.geojson"
    halves.to_file(path, driver="GeoJSON")
    return path


def _projected_raster(path: Path, units_m: gpd.GeoDataFrame) -> tuple[float, float]:
    """Write a 100 m raster of ones over ``units_m``; hand-count the cell centres per unit."""
    b = units_m.total_bounds
    rows, cols = int((b[3] - b[1]) // 100) + 3, int((b[2] - b[0]) // 100) + 3
    west, north = b[0] - 137.0, b[3] + 137.0  # centres off the units' edges
    _write_tif(
        path, np.ones((rows, cols), "float32"), from_origin(west, north, 100, 100), "EPSG:4547"
    )
    cx, cy = np.meshgrid(west + 50 + 100 * np.arange(cols), north - 50 - 100 * np.arange(rows))
    inside = [shapely.contains_xy(g, cx.ravel(), cy.ravel()) for g in units_m.geometry]
    assert 400 < inside[0].sum() < 600  # about the unit area in hectares
    return float(inside[0].sum()), float(inside[1].sum())


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:4547"])
def test_cli_population_raster(
    tmp_path: Path, halves: gpd.GeoDataFrame, capsys: pytest.CaptureFixture[str], crs: str
) -> None:
    """``--population-grid worldpop_like.tif`` in EPSG:4326 and in a projected CRS."""
    if crs == "EPSG:4326":
        tif = _write_tif(
            tmp_path / "worldpop_like.tif", VALUES, from_origin(W0, N0, STEP, STEP), crs
        )
        expected = _hand_sums()
    else:  # a 100 m raster of one person per cell over the same place, in CGCS2000 / GK 114E
        expected = _projected_raster(tmp_path / "worldpop_like.tif", halves.to_crs(crs))
        tif = tmp_path / "worldpop_like.tif"
    fac = tmp_path / "f.csv"
    fac.write_text(
        f"id,name,lon,lat\na,诊所,{W0 + 2.5 * STEP},{N0 - 2.5 * STEP}\n", encoding="utf-8"
    )
    out = tmp_path / "o"
    code, _, err = _run(
        capsys,
        "--facilities",
        str(fac),
        "--units",
        str(_units_file(tmp_path, halves)),
        "--population-grid",
        str(tif),
        "--out",
        str(out),
        "--format",
        "csv,html",
    )
    assert code == 0, err
    s = pd.read_csv(out / "coverage_summary.csv")
    assert s["population_model"].tolist() == ["raster", "raster"]
    assert s["population"].tolist() == pytest.approx(list(expected))
    html = (out / "coverage_report.html").read_text(encoding="utf-8")
    assert html.count("<td>raster</td>") == 2  # the model named in each unit's row
    method = pd.read_csv(out / "coverage_method.csv").set_index("parameter")["value"]
    assert "worldpop_like.tif" in method["source_population"]


def test_cli_points_use_their_own_crs(
    tmp_path: Path, halves: gpd.GeoDataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    """GCJ-02 facilities and a WGS-84 grid: a resident 500 m from the clinic reads 7.5 min."""
    lon, lat = W0 + 2.5 * STEP, N0 - 2.5 * STEP
    glon, glat = from_wgs84([lon], [lat], "GCJ02")
    fac = tmp_path / "f.csv"
    fac.write_text(f"id,name,lon,lat\na,诊所,{glon[0]},{glat[0]}\n", encoding="utf-8")
    _, north, _ = Geod(ellps="WGS84").fwd(lon, lat, 0.0, 500.0)
    grid = tmp_path / "pop.csv"
    grid.write_text(f"lon,lat,population\n{lon},{north},100\n", encoding="utf-8")
    out = tmp_path / "o"
    code, _, err = _run(
        capsys,
        "--facilities",
        str(fac),
        "--crs",
        "GCJ02",
        "--units",
        str(_units_file(tmp_path, halves)),
        "--population-grid",
        str(grid),
        "--out",
        str(out),
        "--format",
        "csv",
    )
    assert code == 0, err
    s = pd.read_csv(out / "coverage_summary.csv").set_index("unit_id")
    assert s.loc["w", "minutes_p50"] == pytest.approx(7.5, abs=0.1)
    assert s.loc["w", "population_model"] == "points"
    assert s.loc["e", "population_model"] == "census_uniform"  # no points there: fallback
    assert "no population-grid cells" in err


def test_dask_partitions_take_a_raster_grid(wgs_tif: Path, halves: gpd.GeoDataFrame) -> None:
    pytest.importorskip("dask_geopandas")
    from geo.analysis.dask_coverage import coverage_by_county

    fac = gpd.GeoDataFrame(
        {"id": ["a"]}, geometry=[Point(W0 + 2.5 * STEP, N0 - 2.5 * STEP)], crs="EPSG:4326"
    )
    grid = read_population_raster(wgs_tif, units=halves)
    expected = coverage_report(fac, halves, population=grid).summary
    got = coverage_by_county(fac, halves, population=grid)
    cols = ["population", "population_covered", "minutes_p50", "population_model"]
    pd.testing.assert_frame_equal(got[cols], expected[cols], check_dtype=False)


def test_demand_points_mix_grid_and_census_sample(square_units: gpd.GeoDataFrame) -> None:
    grid = gpd.GeoDataFrame(
        {"population": [10.0, 20.0]},
        geometry=[Point(501_000, 3_121_000), Point(505_000, 3_125_000)],  # both in the west
        crs="EPSG:4547",
    )
    with pytest.warns(PopulationFallbackWarning, match="900002"):
        demand = demand_points(square_units, grid=grid, spacing_m=500)
    by_unit = demand.groupby("unit_id")
    assert by_unit["population"].sum().to_dict() == pytest.approx({"900001": 30, "900002": 3000})
    assert by_unit["population_model"].first().to_dict() == {
        "900001": "points",
        "900002": "census_uniform",
    }
    assert by_unit.size()["900002"] == 400  # 10 km x 10 km at 500 m: never one point


def test_cli_yongzhou_counts_management_zones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o"
    code, _, err = _run(
        capsys,
        "--layers",
        "yz_network",
        "--units",
        "yongzhou",
        "--out",
        str(out),
        "--format",
        "csv",
    )
    assert code == 0, err
    s = pd.read_csv(out / "coverage_summary.csv", keep_default_na=False).set_index("name")
    assert s["population"].sum() == 5_289_824  # the census city total, zones included
    assert s.loc["冷水滩区", "population"] == 583_136
    assert "永州经济技术开发区 47,111" in s.loc["冷水滩区", "population_note"]
    assert (s["population_model"] == "census_uniform").all() and s["population_coarse"].all()
    method = pd.read_csv(out / "coverage_method.csv").set_index("parameter")["value"]
    assert "management zones" in method["source_units"]


def test_bad_population_row_is_numbered_as_excel_shows_it(tmp_path: Path) -> None:
    from geo.analysis.coverage import read_population_grid
    from geo.errors import InputError

    csv = tmp_path / "pop.csv"
    csv.write_text("lon,lat,population\n113.0,28.2,10\n113.01,28.2,abc\n", encoding="utf-8")
    # header = row 1, so the bad value is on row 3 (it was reported as row 2)
    with pytest.raises(InputError, match=r"row 3"):
        read_population_grid(csv)


def test_raster_covering_part_of_a_unit_says_so(wgs_tif: Path) -> None:
    """A raster over the west quarter of a unit counts only those people, and says so."""
    s = N0 - 6 * STEP
    unit = gpd.GeoDataFrame(
        {"adcode": ["u"], "name": ["宽单元"], "population": [1e6]},
        geometry=[box(W0, s, W0 + 24 * STEP, N0)],  # four times as wide as the raster
        crs="EPSG:4326",
    )
    with pytest.warns(PopulationFallbackWarning, match="covers only 25%"):
        grid = read_population_raster(wgs_tif, units=unit)
        fac = gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(W0, N0)], crs="EPSG:4326")
        result = coverage_report(fac, unit, population=grid)
    row = result.summary.iloc[0]
    assert grid.unit_share.tolist() == pytest.approx([0.25])
    assert row["population"] == pytest.approx(sum(_hand_sums()))
    assert row["population_model"] == "raster"
    assert "covers only 25%" in row["population_note"]
    assert "not counted" in row["population_note"]


def test_raster_covering_the_units_adds_no_note(wgs_tif: Path, halves: gpd.GeoDataFrame) -> None:
    grid = read_population_raster(wgs_tif, units=halves)
    assert grid.unit_share.tolist() == pytest.approx([1.0, 1.0])
    fac = gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(W0, N0)], crs="EPSG:4326")
    result = coverage_report(fac, halves, population=grid)
    assert (result.summary["population_note"] == "").all()
