"""Place search over feature names, unit summaries and a simple buffer-based coverage.

Coverage here is a straight-line buffer of ``speed x minutes`` drawn in the Gauss-Kruger metric
CRS (:func:`geo.crs.to_metric`); the reach radius comes from
:func:`geo.analysis.coverage.reach_for`. Population covered comes from an uploaded population grid
(:mod:`geo.web.popgrid`) when there is one, else from census population spread uniformly over the
unit's area.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.analysis.coverage import coverage_report, reach_for
from geo.analysis.population import PopulationGrid
from geo.crs import require_crs
from geo.errors import InputError
from geo.settings import DEFAULT_MINUTES, WGS84
from geo.web.popgrid import population_fallbacks

__all__ = ["UnitCoverage", "facilities_in_unit", "find_unit", "search_places", "unit_coverage"]


def search_places(
    layers: dict[str, gpd.GeoDataFrame],
    query: str,
    *,
    limit: int = 20,
    manifest: dict[str, Any] | None = None,
    lang: str = "zh",
) -> pd.DataFrame:
    """Find features whose name contains ``query`` (case-insensitive substring).

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        Layer id -> features with a ``name`` column.
    query : str
        Substring, e.g. ``"湘雅"``.
    limit : int
        Most rows returned.
    manifest : dict, optional
        ``layers/manifest.json`` content: gives each hit its readable layer name.
    lang : str
        ``"zh"`` or ``"en"`` for the layer name.

    Returns
    -------
    DataFrame
        Columns ``layer, layer_name, id, name, label, minx, miny, maxx, maxy`` (WGS-84), exact
        matches first; ``layer_name`` is the manifest's name in ``lang`` (the id without a
        manifest) and ``label`` is ``"name · layer_name"``, the text to show for a hit.
    """
    q = query.strip().casefold()
    cols = ["layer", "layer_name", "id", "name", "label", "minx", "miny", "maxx", "maxy"]
    names_by_id = {
        m["id"]: str(m.get(lang) or m.get("zh") or m["id"])
        for m in (manifest or {}).get("layers", [])
    }
    if not q:
        return pd.DataFrame(columns=cols)
    rows: list[dict[str, Any]] = []
    for lid, gdf in layers.items():
        if "name" not in gdf.columns or gdf.empty:
            continue
        require_crs(gdf, name=f"layer {lid!r}")
        g = gdf.to_crs(WGS84)
        names = g["name"].astype(str)
        hit = g[names.str.casefold().str.contains(q, regex=False)]
        for idx, row in hit.iterrows():
            b = row.geometry.bounds
            fid = row.get("id", row.get("adcode", idx))
            rows.append(
                {
                    "layer": lid,
                    "layer_name": names_by_id.get(lid, lid),
                    "id": str(fid),
                    "name": str(row["name"]),
                    "label": f"{row['name']} · {names_by_id.get(lid, lid)}",
                    "minx": b[0],
                    "miny": b[1],
                    "maxx": b[2],
                    "maxy": b[3],
                }
            )
    df = pd.DataFrame(rows, columns=cols)
    if df.empty:
        return df
    df["_rank"] = (df["name"].str.casefold() != q).astype(int)
    df["_len"] = df["name"].str.len()
    return (
        df.sort_values(["_rank", "_len", "name"])
        .drop(columns=["_rank", "_len"])
        .head(limit)
        .reset_index(drop=True)
    )


def find_unit(units: gpd.GeoDataFrame, unit: str) -> gpd.GeoDataFrame:
    """Return the one-row frame of a unit given by adcode or name.

    Parameters
    ----------
    units : GeoDataFrame
        Units with ``adcode`` and ``name``.
    unit : str
        Adcode or name.

    Returns
    -------
    GeoDataFrame

    Raises
    ------
    InputError
        When no unit matches.
    """
    require_crs(units, name="units")
    hit = units[(units["adcode"].astype(str) == str(unit)) | (units["name"] == unit)]
    if hit.empty:
        msg = f"unknown unit {unit!r}: use an adcode or name from the counties layer"
        raise InputError(msg, field="unit")
    return hit.iloc[[0]]


def facilities_in_unit(
    layers: dict[str, gpd.GeoDataFrame],
    units: gpd.GeoDataFrame,
    unit: str,
    *,
    point_ids: list[str] | None = None,
) -> pd.DataFrame:
    """List the plan's point places inside a unit (hospitals, parks, sports bases, zones' sites).

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        Layers to look in.
    units : GeoDataFrame
        Units (adcode, name).
    unit : str
        Adcode or name.
    point_ids : list of str, optional
        Only these layers (default: every layer whose geometries are all points).

    Returns
    -------
    DataFrame
        Columns ``layer, name, kind, role, precision`` (``kind`` says what the place is; goal
        points keep ``kind == "goal"``).
    """
    target = find_unit(units, unit).to_crs(WGS84).geometry.iloc[0]
    rows = []
    for lid, gdf in layers.items():
        if point_ids is not None and lid not in point_ids:
            continue
        if gdf.empty or not (gdf.geom_type == "Point").all():
            continue
        g = gdf.to_crs(WGS84)
        inside = g[g.within(target)]
        for _, row in inside.iterrows():
            rows.append({"layer": lid} | {c: row.get(c, "") for c in _PLACE_COLUMNS[1:]})
    return pd.DataFrame(rows, columns=list(_PLACE_COLUMNS))


_PLACE_COLUMNS = ("layer", "name", "kind", "role", "precision")


@dataclass(frozen=True)
class UnitCoverage:
    """Coverage of one unit (or all units) by facility reach, from :mod:`geo.analysis.coverage`.

    Attributes
    ----------
    reach : geopandas.GeoSeries
        Covered area (WGS-84, one geometry).
    area_share : float
        Covered share of the unit's area (0-1); 0 when no unit is selected.
    population_covered : float or None
        Population covered (model in ``population_model``); None without a unit or census.
    radius_m : float
        Reach distance (speed x minutes).
    summary : DataFrame
        The engine's per-unit summary (area, population, gaps, time to nearest facility).
    assumption : str
        How population was counted, as the engine states it.
    population_model : str
        The unit's population model (``raster``, ``points`` or ``census_uniform``).
    notes : tuple of str
        Population fallback warnings (a grid without cells in the unit: census used instead).
    """

    reach: gpd.GeoSeries
    area_share: float
    population_covered: float | None
    radius_m: float
    summary: pd.DataFrame
    assumption: str
    population_model: str = "census_uniform"
    notes: tuple[str, ...] = ()


def unit_coverage(
    facilities: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    unit: str | None = None,
    *,
    mode: str = "walk",
    minutes: float = DEFAULT_MINUTES,
    speed_kmh: float | None = None,
    population: PopulationGrid | gpd.GeoDataFrame | None = None,
) -> UnitCoverage:
    """Run the coverage engine (:func:`geo.analysis.coverage.coverage_report`) for the map's panel.

    Parameters
    ----------
    facilities : GeoDataFrame
        Facility points (any CRS).
    units : GeoDataFrame
        Units with ``adcode``, ``name`` and optionally ``population``.
    unit : str, optional
        Unit whose share is reported; without it every unit is covered and the share is 0.
    mode, minutes, speed_kmh
        As in :func:`geo.analysis.coverage.reach_for`.
    population : PopulationGrid or GeoDataFrame, optional
        Population grid (an upload, :mod:`geo.web.popgrid`); default the census spread by area.
        A unit without cells falls back to the census; the warning is kept in ``notes``.

    Returns
    -------
    UnitCoverage

    Raises
    ------
    CRSError
        When an input has no CRS.
    InputError
        For a bad mode/minutes/speed or unknown unit.
    """
    require_crs(facilities, name="facilities")
    require_crs(units, name="units")
    reach = reach_for(mode, minutes=minutes, speed_kmh=speed_kmh)
    target = units if unit is None else find_unit(units, unit)
    with population_fallbacks() as notes:
        result = coverage_report(
            facilities.to_crs(target.crs), target, reach=reach, population=population
        )
    covered = result.reach.to_crs(WGS84).geometry.union_all()
    share, pop, model = 0.0, None, "census_uniform"
    if unit is not None:
        row = result.summary.iloc[0]
        share = float(row["covered_pct"]) / 100.0
        value = row.get("population_covered")
        pop = None if value is None or pd.isna(value) else float(value)
        model = str(row.get("population_model", model))
    return UnitCoverage(
        gpd.GeoSeries([covered], crs=WGS84),
        share,
        pop,
        reach.radius_m,
        result.summary,
        result.params.get("population_assumption", ""),
        model,
        tuple(notes),
    )
