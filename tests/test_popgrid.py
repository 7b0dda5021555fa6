"""Population grid uploaded in the browser (geo.web.popgrid): reading and its use by the page's
coverage, scenario and siting, each checked against a hand sum over the grid's cells."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
import tomllib
from affine import Affine
from pyproj import Geod, Transformer

from geo.analysis.population import PopulationGrid
from geo.analysis.scenario import proposed_sites, report_files, run_scenario
from geo.coords import to_wgs84
from geo.data.boundaries import load_units
from geo.errors import InputError
from geo.settings import MAX_UPLOAD_BYTES
from geo.web.i18n import error_text
from geo.web.popgrid import population_fallbacks, read_population_upload
from geo.web.search import unit_coverage
from geo.web.siting_page import report_bytes, run_unit_siting, units_table

TIANXIN = "430103"
#: A facility inside 天心区 (WGS-84) and the 15-minute walk (4 km/h) reach.
FACILITY = (112.985, 28.12)
RADIUS_M = 1000.0
_GEOD = Geod(ellps="GRS80")


@pytest.fixture(scope="module")
def units() -> gpd.GeoDataFrame:
    return load_units(cities=None)


def _tianxin(units: gpd.GeoDataFrame) -> shapely.Geometry:
    return units.loc[units["adcode"] == TIANXIN].geometry.iloc[0]


def _facility() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["f1"], "name": ["测试诊所"]},
        geometry=[shapely.Point(*FACILITY)],
        crs="EPSG:4326",
    )


def from_origin(west: float, north: float, xsize: float, ysize: float) -> Affine:
    """North-up transform, top-left corner (west, north) (rasterio's uses a deprecated ``*``)."""
    return Affine(xsize, 0.0, west, 0.0, -ysize, north)


def _values(rows: int, cols: int) -> np.ndarray:
    i, j = np.indices((rows, cols))
    return (((i * 7 + j * 3) % 11) * 10 + 5).astype("float32")


def _tiff(values: np.ndarray, transform: object, crs: str) -> bytes:
    buf = io.BytesIO()
    with rasterio.MemoryFile() as mem:
        with mem.open(
            driver="GTiff",
            height=values.shape[0],
            width=values.shape[1],
            count=1,
            dtype="float32",
            crs=crs,
            transform=transform,
            nodata=-1.0,
        ) as dst:
            dst.write(values, 1)
        buf.write(mem.read())
    return buf.getvalue()


def raster_4326() -> tuple[bytes, np.ndarray, np.ndarray, np.ndarray]:
    """0.005° cells over central 天心区: bytes, cell-centre lon, lat, people."""
    rows, cols, size, west, north = 24, 24, 0.005, 112.93, 28.17
    values = _values(rows, cols)
    r, c = np.indices(values.shape)
    lon, lat = west + (c + 0.5) * size, north - (r + 0.5) * size
    return _tiff(values, from_origin(west, north, size, size), "EPSG:4326"), lon, lat, values


def raster_4547() -> tuple[bytes, np.ndarray, np.ndarray, np.ndarray]:
    """400 m cells in CGCS2000 / 3-degree GK CM 114E over 天心区: bytes, centre lon, lat, people."""
    rows, cols, size = 30, 30, 400.0
    to_gk = Transformer.from_crs("EPSG:4326", "EPSG:4547", always_xy=True)
    west, north = to_gk.transform(112.93, 28.17)
    values = _values(rows, cols)
    r, c = np.indices(values.shape)
    x, y = west + (c + 0.5) * size, north - (r + 0.5) * size
    lon, lat = Transformer.from_crs("EPSG:4547", "EPSG:4326", always_xy=True).transform(x, y)
    return _tiff(values, from_origin(west, north, size, size), "EPSG:4547"), lon, lat, values


def _hand(lon, lat, people, unit_geom, *, sites=(FACILITY,), radius=RADIUS_M):
    """People in cells whose centre is in the unit, and those within ``radius`` of a site."""
    lon, lat, people = (np.asarray(a, dtype=float).ravel() for a in (lon, lat, people))
    inside = shapely.contains_xy(unit_geom, lon, lat)
    dist = np.full(len(lon), np.inf)
    for slon, slat in sites:
        _, _, d = _GEOD.inv(np.full(len(lon), slon), np.full(len(lon), slat), lon, lat)
        dist = np.minimum(dist, d)
    # the engine draws the disc with 64 segments (1.2 m short between vertices): keep clear of it
    assert not (np.abs(dist[inside] - radius) < 5.0).any(), "a cell centre sits on the reach edge"
    return float(people[inside].sum()), float(people[inside & (dist <= radius)].sum())


# ---- reading ----------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [raster_4326, raster_4547], ids=["EPSG:4326", "EPSG:4547"])
def test_geotiff_cells_in_counties_match_a_hand_sum(make, units):
    data, lon, lat, people = make()
    up = read_population_upload(data, "worldpop_clip.tif", units=units)
    assert up.model == "raster" and isinstance(up.grid, PopulationGrid)
    hunan = shapely.union_all(units.geometry.values)
    inside = shapely.contains_xy(hunan, lon.ravel(), lat.ravel())
    assert up.cells == int(inside.sum())
    assert up.total == pytest.approx(float(people.ravel()[inside].sum()))
    assert "worldpop_clip.tif" in up.source and up.problems.empty


def test_geotiff_outside_hunan_says_so(units):
    values = _values(4, 4)
    data = _tiff(values, from_origin(116.3, 39.95, 0.01, 0.01), "EPSG:4326")  # Beijing
    with pytest.raises(InputError, match="does not overlap the units") as info:
        read_population_upload(data, "beijing.tif", units=units)
    assert error_text(info.value, "zh").startswith("输入有误（文件 beijing.tif）")


BAD_POINTS = (
    "名称,经度,纬度,population\n"
    "芙蓉广场,113.0,28.20,1200\n"
    "坏坐标,一百一十三,28.21,800\n"
    "五一广场,112.98,28.195,300.5\n"
)


def test_gbk_points_table_lists_the_bad_row_as_excel_shows_it(units):
    up = read_population_upload(BAD_POINTS.encode("gbk"), "人口点.csv", units=units)
    assert up.model == "points"
    assert up.cells == 2 and up.total == pytest.approx(1500.5)
    bad = up.problems.iloc[0]
    assert len(up.problems) == 1
    assert (int(bad["row"]), bad["field"]) == (3, "经度")  # the header as in the file


def test_bad_population_value_names_file_row_and_field_in_the_page_language(units):
    text = BAD_POINTS.replace("300.5", "三百")
    with pytest.raises(InputError, match="population must be a number") as info:
        read_population_upload(text.encode("gbk"), "人口点.csv", units=units)
    zh = error_text(info.value, "zh")
    assert zh.startswith("输入有误（文件 人口点.csv，第 4 行，字段 population）")
    assert "row 4, field population" in error_text(info.value, "en")


def test_gcj02_points_are_converted_to_wgs84(units):
    gcj = (112.99, 28.12)
    csv = f"lon,lat,population\n{gcj[0]},{gcj[1]},500\n".encode()
    up = read_population_upload(csv, "gcj.csv", units=units, datum="GCJ02")
    wlon, wlat = to_wgs84(np.array([gcj[0]]), np.array([gcj[1]]), "GCJ02")
    got = up.grid.geometry.iloc[0]
    assert (got.x, got.y) == pytest.approx((float(wlon[0]), float(wlat[0])), abs=1e-9)
    # GCJ-02 is offset by hundreds of metres around Changsha: the conversion really happened
    assert 200 < _GEOD.inv(gcj[0], gcj[1], got.x, got.y)[2] < 1000
    assert "datum GCJ02" in up.source


def test_the_browser_refuses_what_the_reader_would_refuse():
    config = tomllib.loads((Path(__file__).parent.parent / ".streamlit/config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == MAX_UPLOAD_BYTES


def test_xlsx_points_and_limits(units):
    buf = io.BytesIO()
    pd.DataFrame({"lon": [113.0], "lat": [28.2], "population": [42]}).to_excel(buf, index=False)
    assert read_population_upload(buf.getvalue(), "p.xlsx", units=units).total == 42.0
    with pytest.raises(InputError, match="MB limit"):
        read_population_upload(b"x" * (MAX_UPLOAD_BYTES + 1), "big.csv", units=units)
    with pytest.raises(InputError, match=r"unsupported file type '\.shp'"):
        read_population_upload(b"x", "pop.shp", units=units)
    with pytest.raises(InputError, match="empty"):
        read_population_upload(b"", "pop.csv", units=units)


# ---- use by the page's analyses -----------------------------------------------------------------
@pytest.mark.parametrize("make", [raster_4326, raster_4547], ids=["EPSG:4326", "EPSG:4547"])
def test_coverage_panel_counts_the_grid_cells_within_reach(make, units):
    data, lon, lat, people = make()
    up = read_population_upload(data, "pop.tif", units=units)
    total, covered = _hand(lon, lat, people, _tianxin(units))
    cov = unit_coverage(_facility(), units, TIANXIN, population=up.grid)
    assert cov.population_model == "raster" and cov.notes == ()
    assert cov.summary.iloc[0]["population"] == pytest.approx(total)
    assert cov.population_covered == pytest.approx(covered)
    census = unit_coverage(_facility(), units, TIANXIN)
    assert census.population_model == "census_uniform"
    assert census.population_covered != pytest.approx(covered)


def test_grid_missing_the_unit_falls_back_to_census_with_a_note(units):
    data, *_ = raster_4326()
    up = read_population_upload(data, "pop.tif", units=units)
    fac = gpd.GeoDataFrame(
        {"id": ["d1"]}, geometry=[shapely.Point(111.6, 25.52)], crs="EPSG:4326"
    )  # in 道县, far from the raster
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the note is collected, never raised
        cov = unit_coverage(fac, units, "431124", population=up.grid)
    assert cov.population_model == "census_uniform"
    assert len(cov.notes) == 1 and "道县" in cov.notes[0] and "census" in cov.notes[0]


def test_scenario_before_after_and_report_use_the_points(units):
    far = (112.97, 28.05)
    csv = (
        "lon,lat,population\n"
        f"{FACILITY[0] + 0.002},{FACILITY[1]},1000\n"  # ~200 m from the facility
        f"{far[0] + 0.003},{far[1]},700\n"  # ~300 m from the proposed site
        "112.99,28.02,50\n"  # covered by neither
    ).encode()
    up = read_population_upload(csv, "pts.csv", units=units)
    pts = up.grid
    total, before = _hand(pts.geometry.x, pts.geometry.y, pts["population"], _tianxin(units))
    _, after = _hand(
        pts.geometry.x, pts.geometry.y, pts["population"], _tianxin(units), sites=(FACILITY, far)
    )
    assert (total, before, after) == (1750.0, 1000.0, 1700.0)
    add = proposed_sites([(far[1], far[0])])
    scen = run_scenario(_facility(), units, TIANXIN, add=add, population=pts)
    row = scen.diff.iloc[0]
    assert row["population_covered_before"] == pytest.approx(before)
    assert row["population_covered_after"] == pytest.approx(after)
    assert set(scen.after.summary["population_model"]) == {"points"}
    files = report_files(scen.after, units=units[units["adcode"] == TIANXIN], scenario=scen)
    summary = pd.read_excel(io.BytesIO(files["xlsx"]), sheet_name=None)
    models = {
        v for df in summary.values() if "population_model" in df for v in df["population_model"]
    }
    assert models == {"points"}
    assert "Population grid as points" in files["html"].decode("utf-8")


def test_siting_before_after_and_report_use_the_grid(units):
    furong = units.loc[units["adcode"] == "430102"].geometry.iloc[0]
    a = (113.03, 28.20)
    csv = (
        "lon,lat,population\n"
        f"{a[0]},{a[1]},4000\n"
        f"{a[0] + 0.003},{a[1]},2000\n"  # ~290 m east of A
        "112.99,28.19,1000\n"  # ~4 km west
    ).encode()
    up = read_population_upload(csv, "pts.csv", units=units)
    pts = up.grid
    total, _ = _hand(pts.geometry.x, pts.geometry.y, pts["population"], furong, sites=())
    res = run_unit_siting(
        units, "430102", model="mclp", k=1, target=0.9, mode="walk", minutes=15.0,
        speed_kmh=None, grid_spacing_m=200.0, population=pts, population_source=up.source,
    )  # fmt: skip
    row = res.units.iloc[0]
    assert row["population_model"] == "points"
    assert row["population"] == pytest.approx(total) == 7000.0
    assert row["covered_before"] == 0.0 and row["covered_after"] == pytest.approx(6000.0)
    shown = units_table(res, "zh").iloc[0]
    assert shown["人口模型"] == "points" and shown["选址后覆盖人口"] == 6000.0
    html = report_bytes(res, units[units["adcode"] == "430102"], radius_m=RADIUS_M)["html"]
    assert "points" in html.decode("utf-8") and "pts.csv" in html.decode("utf-8")


def test_population_fallbacks_collects_only_its_own_warnings():
    with pytest.warns(UserWarning, match="other"), population_fallbacks() as notes:
        warnings.warn("other", UserWarning, stacklevel=1)
    assert notes == []
