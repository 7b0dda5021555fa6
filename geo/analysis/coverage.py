"""15-minute coverage per unit: reach, population covered, gaps, time to the nearest facility.

Method (stated in every result's :attr:`CoverageResult.params`):

* Reach by distance: a facility reaches ``speed x minutes`` metres (mode presets in
  :data:`geo.settings.MODE_SPEEDS`), as a disc buffered in the CGCS2000 Gauss-Kruger zone of the
  units.  Discs are unioned once per unit (shapely 2, vectorised) rather than overlaid one by
  one.  Reach over a road network comes from :mod:`geo.analysis.network` through ``reach_geometry``
  and ``time_to_nearest``; a rasterised network reach (a hole per street block) is clipped to each
  unit as hole-free outlines plus holes, exactly as the full overlay but without overlaying
  the holes that lie inside the unit.
* Population covered, under the population model named per unit (:mod:`geo.analysis.population`):
  ``raster`` or ``points`` cells are assigned to units and to reach by their distance/time to
  the nearest facility (KD-tree, one query); ``census_uniform`` (coarse) spreads the census
  total evenly over the unit's area, used without a grid and, with a warning, for units in
  which the grid has no cells.
* Gaps: unit minus reach, split into parts, ranked by area and by population.
* Time to the nearest facility: population-weighted over the grid, or area-weighted over a
  regular sample of the unit when there is no grid.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from geo.analysis.population import (
    MODELS,
    PopulationGrid,
    assign_cells,
    fallback_units,
    grid_from_points,
    sample_unit,
    unit_index,
)
from geo.crs import metric_crs_for, parse_crs, require_crs, require_same_crs
from geo.errors import InputError
from geo.settings import DEFAULT_MINUTES, MODE_SPEEDS, WGS84

__all__ = [
    "TIME_BINS",
    "CoverageResult",
    "Reach",
    "ScenarioResult",
    "assign_units",
    "compare",
    "coverage_report",
    "positions_note",
    "reach_for",
    "read_population_grid",
    "read_population_points",
    "scenario_report",
]

#: Minute bins of the distribution of time to the nearest facility.
TIME_BINS: tuple[float, ...] = (0.0, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0, math.inf)
#: Vertices per quarter circle of reach discs (16: area within 0.17 % of pi r^2).
_QUAD_SEGS = 16
#: Points per KD-tree query batch (2 M points: 32 MiB of coordinates).
_QUERY_CHUNK = 1 << 21
#: Holes from which a reach polygon is clipped as outlines plus holes (:class:`_HoledReach`).
_HOLED_MIN = 256
_ProgressFn = Callable[[str], None]


@dataclass(frozen=True)
class Reach:
    """How far a facility reaches: mode, minutes and speed.

    Attributes
    ----------
    mode : str
        ``walk``, ``bike`` or ``drive``.
    minutes : float
        Travel time budget.
    speed_kmh : float
        Speed used (mode default unless overridden).
    speed_source : str
        Citation of the speed, or ``"user override"`` for a speed other than the mode's.
    """

    mode: str
    minutes: float
    speed_kmh: float
    speed_source: str

    @property
    def radius_m(self) -> float:
        """Reach distance in metres (speed x time)."""
        return self.speed_kmh * 1000.0 / 60.0 * self.minutes

    @property
    def metres_per_minute(self) -> float:
        """Speed in metres per minute."""
        return self.speed_kmh * 1000.0 / 60.0


def reach_for(
    mode: str = "walk", *, minutes: float = DEFAULT_MINUTES, speed_kmh: float | None = None
) -> Reach:
    """Build and check a :class:`Reach`.

    Parameters
    ----------
    mode : str
        A key of :data:`geo.settings.MODE_SPEEDS`.
    minutes : float
        Positive, at most 240.
    speed_kmh : float, optional
        Override of the mode's default speed (0 < speed <= 200).

    Returns
    -------
    Reach

    Raises
    ------
    InputError
        For an unknown mode or a minutes/speed value out of range.

    Examples
    --------
    >>> round(reach_for("walk", minutes=15).radius_m, 6)
    1000.0
    """
    if mode not in MODE_SPEEDS:
        msg = f"unknown mode {mode!r}: use one of {sorted(MODE_SPEEDS)}"
        raise InputError(msg, field="mode")
    if not (isinstance(minutes, (int, float)) and math.isfinite(minutes) and 0 < minutes <= 240):
        msg = f"minutes must be a number in (0, 240], got {minutes!r}"
        raise InputError(msg, field="minutes")
    preset = MODE_SPEEDS[mode]
    if speed_kmh is None:
        return Reach(mode, float(minutes), preset.kmh, preset.source)
    if not (math.isfinite(speed_kmh) and 0 < speed_kmh <= 200):
        msg = f"speed must be a number in (0, 200] km/h, got {speed_kmh!r}"
        raise InputError(msg, field="speed_kmh")
    if speed_kmh == preset.kmh:  # the page always passes its speed field: the standard's value
        return Reach(mode, float(minutes), preset.kmh, preset.source)
    return Reach(mode, float(minutes), float(speed_kmh), "user override")


@dataclass
class CoverageResult:
    """Per-unit coverage of one set of facilities.

    Attributes
    ----------
    summary : DataFrame
        One row per unit: ``unit_id, name, area_km2, covered_km2, covered_pct, population,
        population_covered, population_covered_pct, facilities, facilities_per_10k, gaps,
        largest_gap_km2, minutes_mean, minutes_p50, minutes_p90, population_model,
        population_coarse, population_note`` (the model is one of
        :data:`geo.analysis.population.MODELS`; the note names fallbacks and management zones
        added).
    gaps : GeoDataFrame
        Uncovered parts (WGS-84) with ``unit_id, name, area_km2, population, rank_area,
        rank_population`` (ranks over all units, 1 = largest).
    reach : GeoDataFrame
        Covered part of each unit (WGS-84).
    distribution : DataFrame
        Share of people (or area) per :data:`TIME_BINS` bin per unit.
    facilities : GeoDataFrame
        Facilities used (WGS-84) with the unit they lie in.
    params : dict
        Method, parameters, assumptions, sources and date, for reports.
    """

    summary: pd.DataFrame
    gaps: gpd.GeoDataFrame
    reach: gpd.GeoDataFrame
    distribution: pd.DataFrame
    facilities: gpd.GeoDataFrame
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class ScenarioResult:
    """Coverage before and after adding/removing facilities.

    Attributes
    ----------
    before, after : CoverageResult
    diff : DataFrame
        Per unit: before/after/change of covered %, population covered and facilities.
    """

    before: CoverageResult
    after: CoverageResult
    diff: pd.DataFrame


def read_population_grid(
    path: str | Path, *, column: str = "population", crs: str | int = "WGS84"
) -> gpd.GeoDataFrame:
    """Read a population grid given as points (CSV lon/lat or GeoJSON/GeoPackage).

    Polygon cells are reduced to their centroids (computed in a metric CRS).  Rows whose position
    cannot be used are left out (:func:`read_population_points` lists them).

    Parameters
    ----------
    path : str or Path
        File of cell centres with a population column.
    column : str
        Population column.
    crs : str or int
        Coordinate system of a CSV (``--population-crs``; not the facilities' ``--crs``), as
        for :func:`geo.analysis.facilities.read_facilities`.  GeoJSON/GeoPackage use their own CRS.

    Returns
    -------
    GeoDataFrame
        WGS-84 points with a float ``population`` column.

    Raises
    ------
    InputError
        For a missing column, negative or non-numeric counts, or an unreadable file.
    """
    return read_population_points(path, column=column, crs=crs)[0]


def read_population_points(
    path: str | Path, *, column: str = "population", crs: str | int = "WGS84"
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read population points as :func:`read_population_grid` does, with the rows left out.

    Parameters
    ----------
    path : str or Path
        File of cell centres with a population column.
    column : str
        Population column.
    crs : str or int
        Coordinate system of a table's positions (WGS84, GCJ02, BD09, CGCS2000, EPSG:xxxx).

    Returns
    -------
    (GeoDataFrame, DataFrame)
        WGS-84 points with a float ``population`` column, and the rows of a table whose position
        could not be used (:data:`geo.analysis.facilities.PROBLEM_COLUMNS`, row as Excel shows
        it; empty for GeoJSON/GeoPackage).

    Raises
    ------
    InputError
        For a missing column, negative or non-numeric counts, or an unreadable file.
    """
    from geo.analysis.facilities import PROBLEM_COLUMNS, read_facilities

    path = Path(path)
    problems = pd.DataFrame(columns=list(PROBLEM_COLUMNS))
    if path.suffix.lower() in (".gpkg", ".geojson", ".json") and path.exists():
        gdf = gpd.read_file(path)
        if gdf.crs is None:
            gdf = gdf.set_crs(WGS84)
        if not gdf.geom_type.eq("Point").all():
            metric = metric_crs_for(gdf)
            gdf = gdf.set_geometry(gdf.to_crs(metric).centroid.to_crs(gdf.crs))
        gdf = gdf.to_crs(WGS84)
    else:
        load = read_facilities(path, crs=crs, use_outline=False, max_rows=50_000_000)
        gdf, problems = load.facilities, load.problems
    if column not in gdf.columns:
        msg = f"no population column {column!r}; the columns are {list(gdf.columns)}"
        raise InputError(msg, file=path.name, field=column)
    values = pd.to_numeric(gdf[column], errors="coerce")
    bad = values.isna() | (values < 0)
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        # the row the user sees: Excel numbering for tables (header = row 1), feature number else
        rows = gdf["source_row"] if "source_row" in gdf.columns else None
        row = int(rows.iloc[first]) if rows is not None else first + 1
        msg = f"population must be a number >= 0 ({int(bad.sum())} bad rows)"
        raise InputError(msg, file=path.name, row=row, field=column)
    points = gpd.GeoDataFrame(
        {"population": values.astype(float)}, geometry=gdf.geometry, crs=WGS84
    )
    return points, problems.reset_index(drop=True)


def _weighted_quantiles(values: NDArray, weights: NDArray, qs: tuple[float, ...]) -> list[float]:
    ok = np.isfinite(values) & (weights > 0)
    if not ok.any():
        return [math.nan] * len(qs)
    v, w = values[ok], weights[ok]
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w) / w.sum()
    return [float(v[min(np.searchsorted(cum, q), len(v) - 1)]) for q in qs]


def _sum_in_parts(parts: list[BaseGeometry], x: NDArray, y: NDArray, values: NDArray) -> NDArray:
    """Sum ``values`` of points inside each of disjoint ``parts``.

    Points are sorted by x once; each part tests only the points in its x-slab (binary search)
    and bounding box, with a prepared point-in-polygon test.
    """
    out = np.zeros(len(parts))
    order = np.argsort(x, kind="stable")
    xs = x[order]
    free = np.ones(len(x), dtype=bool)
    for j in np.argsort([-p.area for p in parts]):
        part = parts[j]
        minx, miny, maxx, maxy = part.bounds
        slab = order[np.searchsorted(xs, minx, "left") : np.searchsorted(xs, maxx, "right")]
        cand = slab[free[slab] & (y[slab] >= miny) & (y[slab] <= maxy)]
        if len(cand) == 0:
            continue
        shapely.prepare(part)
        inside = cand[shapely.contains_xy(part, x[cand], y[cand])]
        out[j] = values[inside].sum()
        free[inside] = False
    return out


def assign_units(
    points: gpd.GeoDataFrame, units: gpd.GeoDataFrame, *, unit_id: str = "adcode"
) -> NDArray:
    """Id of the unit each point lies in (``""`` outside every unit).

    Parameters
    ----------
    points : GeoDataFrame
        Points, same CRS as ``units``.
    units : GeoDataFrame
        Polygons with ``unit_id``.
    unit_id : str
        Id column.

    Returns
    -------
    ndarray of str

    Raises
    ------
    CRSError
        When the CRSs differ or are missing.
    """
    require_same_crs(points, units, names=("points", "units"))
    x, y = shapely.get_x(points.geometry.values), shapely.get_y(points.geometry.values)
    out = np.full(len(points), "", dtype=object)
    for uid, geom in zip(units[unit_id].astype(str), units.geometry.values, strict=True):
        out[(out == "") & shapely.contains_xy(geom, x, y)] = uid
    return out


def _project(gdf: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    return gdf if CRS.from_user_input(gdf.crs) == crs else gdf.to_crs(crs)


def _check_units(units: gpd.GeoDataFrame, unit_id: str, unit_name: str) -> None:
    missing = [c for c in (unit_id, unit_name) if c not in units.columns]
    if missing:
        msg = f"units lack column(s) {missing}; the columns are {list(units.columns)}"
        raise InputError(msg, field=missing[0])
    if units.empty:
        msg = "no units to report on"
        raise InputError(msg, field="units")
    if units[unit_id].duplicated().any():
        dup = units.loc[units[unit_id].duplicated(), unit_id].iloc[0]
        msg = f"unit ids must be unique; {dup!r} repeats"
        raise InputError(msg, field=unit_id)
    types = set(units.geom_type.dropna())
    if not types <= {"Polygon", "MultiPolygon"}:
        msg = f"units must be polygons, got {sorted(types)}"
        raise InputError(msg, field="geometry")


def coverage_report(
    facilities: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    reach: Reach | None = None,
    population: gpd.GeoDataFrame | PopulationGrid | None = None,
    unit_id: str = "adcode",
    unit_name: str = "name",
    population_column: str = "population",
    metric_crs: CRS | str | None = None,
    reach_geometry: BaseGeometry | None = None,
    time_to_nearest: Callable[[NDArray, NDArray], NDArray] | None = None,
    method_note: str | None = None,
    min_gap_km2: float = 0.01,
    sample_m: float = 200.0,
    sources: dict[str, str] | None = None,
    progress: _ProgressFn | None = None,
) -> CoverageResult:
    """Report coverage of ``facilities`` per unit.

    Parameters
    ----------
    facilities : GeoDataFrame
        Points (any CRS, same as ``units``) with an ``id`` column (index used otherwise).
    units : GeoDataFrame
        Polygons with ``unit_id``, ``unit_name`` and (optionally) ``population_column``.
    reach : Reach, optional
        Mode, minutes and speed (default: 15 minutes' walk).
    population : GeoDataFrame or PopulationGrid, optional
        Population points with a ``population`` column (any CRS), or a grid from
        :func:`geo.analysis.population.read_population_raster`.  When omitted, census totals are
        spread evenly over each unit's area (model ``census_uniform``); units in which the grid has
        no cells fall back to it with a :class:`geo.analysis.population.PopulationFallbackWarning`.
    unit_id, unit_name, population_column : str
        Column names in ``units``.
    metric_crs : pyproj.CRS or str, optional
        Metric CRS for the work (default: Gauss-Kruger zone of the units).
    reach_geometry : shapely geometry, optional
        Reach polygon in ``metric_crs`` (network mode); default the union of distance discs.
    time_to_nearest : callable, optional
        ``f(x, y) -> minutes`` in ``metric_crs`` (network mode); default straight-line distance
        over speed.
    method_note : str, optional
        Method text replacing the distance-buffer description.
    min_gap_km2 : float
        Gaps smaller than this are not listed (they still count as uncovered).
    sample_m : float
        Spacing of area samples for the time distribution when there is no grid.
    sources : dict, optional
        Data source labels (facilities, units, population) for the report.
    progress : callable, optional
        Called with a short label after each step.

    Returns
    -------
    CoverageResult

    Raises
    ------
    CRSError
        When an input has no CRS or the CRSs differ.
    InputError
        For missing columns, non-point facilities, non-polygon units or empty inputs.
    """
    step = progress or (lambda _label: None)
    reach = reach or reach_for("walk")
    _check_inputs(facilities, units, unit_id, unit_name)
    if isinstance(population, gpd.GeoDataFrame):
        population = grid_from_points(population)
    metric = parse_crs(metric_crs) if metric_crs is not None else metric_crs_for(units)
    fac_m = _project(facilities, metric)
    units_m = _project(units, metric)
    fx, fy = shapely.get_x(fac_m.geometry.values), shapely.get_y(fac_m.geometry.values)
    tree = cKDTree(np.column_stack([fx, fy]))
    if time_to_nearest is None:
        time_to_nearest = _straight_line_time(tree, reach)
    discs, disc_tree = _reach_discs(fac_m, reach.radius_m, reach_geometry)
    step("reach")

    unit_geoms = units_m.geometry.values
    shapely.prepare(unit_geoms)
    names = units_m[unit_name].astype(str).tolist()
    grid = _unit_grid(population, units_m, metric, unit_id, names, time_to_nearest)
    if grid is not None:
        step("population grid")
    fac_unit = assign_cells(fx, fy, unit_geoms)
    fac_precision = _precisions(facilities)
    census, unit_notes = _census_columns(units_m, population_column)
    split = _split_units(unit_geoms, discs, disc_tree, reach_geometry)
    rows, reach_parts, gap_rows, dist_rows = _unit_rows(
        units_m,
        split,
        unit_id=unit_id,
        names=names,
        census=census,
        unit_notes=unit_notes,
        grid=grid,
        reach=reach,
        time_to_nearest=time_to_nearest,
        fac_unit=fac_unit,
        fac_precision=fac_precision,
        min_gap_km2=min_gap_km2,
        sample_m=sample_m,
        step=step,
    )
    summary = pd.DataFrame(rows)
    gaps = _ranked_gaps(gap_rows, metric)
    reach_gdf = _reach_frame(summary, reach_parts, metric)
    fac_out = _facilities_with_units(facilities, units_m[unit_id], fac_unit)
    params = _params(
        reach, metric, set(summary["population_model"]), len(facilities), method_note, sources or {}
    )
    params["facility_positions"] = positions_note(fac_precision)
    return CoverageResult(
        summary=summary,
        gaps=gaps.to_crs(WGS84),
        reach=reach_gdf.to_crs(WGS84),
        distribution=pd.DataFrame(dist_rows),
        facilities=fac_out.to_crs(WGS84),
        params=params,
    )


def _facilities_with_units(
    facilities: gpd.GeoDataFrame, unit_ids: pd.Series, fac_unit: NDArray
) -> gpd.GeoDataFrame:
    """Return a copy of ``facilities`` with text ``id`` and the ``unit_id`` each lies in."""
    ids = (
        facilities["id"].astype(str).to_numpy()
        if "id" in facilities
        else facilities.index.astype(str).to_numpy()
    )
    fac_out = facilities.copy()
    fac_out["id"] = ids
    unit_ids = unit_ids.astype(str).to_numpy()
    fac_out["unit_id"] = [unit_ids[k] if k >= 0 else "" for k in fac_unit]
    return fac_out


def _precisions(facilities: gpd.GeoDataFrame) -> NDArray:
    """Position precision per facility (``precision`` column; user files without one: "given")."""
    if "precision" not in facilities:
        return np.full(len(facilities), "given", dtype=object)
    return facilities["precision"].fillna("given").astype(str).to_numpy(dtype=object)


def positions_note(precision: NDArray) -> str:
    """Say how precise the facility positions behind a coverage figure are.

    Parameters
    ----------
    precision : array of str
        ``precision`` per facility (geocoded, surveyed, approximate, schematic, given).

    Returns
    -------
    str
        Counts per precision, and a warning when positions are approximate or schematic.

    Examples
    --------
    >>> positions_note(np.array(["geocoded", "surveyed", "geocoded"]))
    '3 facilities: 2 geocoded, 1 surveyed.'
    >>> "indicative" in positions_note(np.array(["approximate"]))
    True
    """
    values, counts = np.unique(np.asarray(precision, dtype=str), return_counts=True)
    parts = ", ".join(f"{c} {v}" for v, c in zip(values, counts, strict=True))
    text = f"{len(precision)} facilities: {parts}."
    if "approximate" in values:
        text += (
            " Approximate positions are within about 5 km of the real site, so coverage around"
            " them is indicative."
        )
    if "schematic" in values:
        text += (
            " Schematic positions are stand-ins for a site the plan does not locate; coverage"
            " around them is schematic."
        )
    return text


def _straight_line_time(tree: cKDTree, reach: Reach) -> Callable[[NDArray, NDArray], NDArray]:
    """Return ``f(x, y) -> minutes`` to the nearest facility in ``tree`` at the reach's speed."""

    def time_to_nearest(x: NDArray, y: NDArray) -> NDArray:
        out = np.empty(len(x))
        for i in range(0, len(x), _QUERY_CHUNK):  # chunks bound the memory of the query
            xy = np.column_stack([x[i : i + _QUERY_CHUNK], y[i : i + _QUERY_CHUNK]])
            out[i : i + _QUERY_CHUNK], _ = tree.query(xy, k=1, workers=-1)
        return out / reach.metres_per_minute

    return time_to_nearest


def _reach_discs(
    fac_m: gpd.GeoDataFrame, radius: float, reach_geometry: BaseGeometry | None
) -> tuple[NDArray | None, shapely.STRtree | None]:
    """Return the facilities' reach discs and their tree (both None with a given reach polygon)."""
    if reach_geometry is not None:
        return None, None
    discs = shapely.buffer(fac_m.geometry.values, radius, quad_segs=_QUAD_SEGS)
    return discs, shapely.STRtree(discs)


def _unit_rows(
    units_m: gpd.GeoDataFrame,
    split: list,
    *,
    unit_id: str,
    names: list[str],
    census: NDArray,
    unit_notes: list,
    grid: _UnitGrid | None,
    reach: Reach,
    time_to_nearest: Callable[[NDArray, NDArray], NDArray],
    fac_unit: NDArray,
    fac_precision: NDArray,
    min_gap_km2: float,
    sample_m: float,
    step: _ProgressFn,
) -> tuple[list[dict], list[BaseGeometry], list[dict], list[dict]]:
    """Compute per unit the summary row, covered part, listed gaps and time distribution."""
    rows: list[dict] = []
    reach_parts: list[BaseGeometry] = []
    gap_rows: list[dict] = []
    dist_rows: list[dict] = []
    unit_geoms = units_m.geometry.values
    for k, (geom, (covered, gap)) in enumerate(zip(unit_geoms, split, strict=True)):
        uid, uname = str(units_m[unit_id].iloc[k]), names[k]
        reach_parts.append(covered)
        parts = [p for p in shapely.get_parts(gap) if p.area >= min_gap_km2 * 1e6]
        up = _unit_population(
            k, geom, covered.area, parts, census[k], grid, reach.minutes, time_to_nearest, sample_m
        )
        dist_rows.extend(_distribution_rows(uid, uname, up.times, up.weights))
        gap_rows.extend(
            {"unit_id": uid, "name": uname, "area_km2": p.area / 1e6, "population": float(pop)}
            | {"geometry": p}
            for p, pop in zip(parts, up.gap_pop, strict=True)
        )
        census_note = unit_notes[k] if up.model == "census_uniform" else ""  # census figures
        note = "; ".join(n for n in (census_note, up.note) if n)
        here = fac_precision[fac_unit == k]
        rows.append(
            _summary_row(uid, uname, geom.area, covered.area, parts, up, len(here))
            | {
                "facilities_approximate": int((here == "approximate").sum()),
                "facilities_schematic": int((here == "schematic").sum()),
                "population_note": note,
            }
        )
        step(f"unit {uname}")
    return rows, reach_parts, gap_rows, dist_rows


def _reach_frame(
    summary: pd.DataFrame, reach_parts: list[BaseGeometry], metric: CRS
) -> gpd.GeoDataFrame:
    """Return the covered part of every unit as a frame in ``metric``."""
    return gpd.GeoDataFrame(
        {
            "unit_id": summary["unit_id"],
            "name": summary["name"],
            "covered_km2": summary["covered_km2"],
        },
        geometry=reach_parts,
        crs=metric,
    )


def _check_inputs(
    facilities: gpd.GeoDataFrame, units: gpd.GeoDataFrame, unit_id: str, unit_name: str
) -> None:
    require_same_crs(facilities, units, names=("facilities", "units"))
    _check_units(units, unit_id, unit_name)
    if facilities.empty:
        msg = "no facilities given"
        raise InputError(msg, field="facilities")
    if not facilities.geom_type.eq("Point").all():
        msg = f"facilities must be points, got {sorted(set(facilities.geom_type.dropna()))}"
        raise InputError(msg, field="geometry")


def _census_columns(units_m: gpd.GeoDataFrame, population_column: str) -> tuple[NDArray, list]:
    """Census totals (NaN when absent) and population notes of the units."""
    census = (
        pd.to_numeric(units_m[population_column], errors="coerce").to_numpy(dtype=float)
        if population_column in units_m.columns
        else np.full(len(units_m), math.nan)
    )
    notes = (
        units_m["population_note"].fillna("").astype(str).tolist()
        if "population_note" in units_m.columns
        else [""] * len(units_m)
    )
    return census, notes


def _ranked_gaps(gap_rows: list[dict], metric: CRS) -> gpd.GeoDataFrame:
    """Gap parts as a GeoDataFrame ranked by area and by population (1 = largest)."""
    gaps = gpd.GeoDataFrame(
        gap_rows or None,
        columns=["unit_id", "name", "area_km2", "population", "geometry"],
        geometry="geometry",
        crs=metric,
    )
    if gaps.empty:
        gaps["rank_area"] = pd.Series(dtype=int)
        gaps["rank_population"] = pd.Series(dtype=int)
        return gaps
    gaps["rank_area"] = gaps["area_km2"].rank(ascending=False, method="first").astype(int)
    gaps["rank_population"] = (
        gaps["population"].rank(ascending=False, method="first", na_option="bottom").astype(int)
    )
    return gaps.sort_values("rank_area").reset_index(drop=True)


def _split_units(
    geoms: NDArray,
    discs: NDArray | None,
    disc_tree: shapely.STRtree | None,
    reach_geometry: BaseGeometry | None,
) -> list[tuple[BaseGeometry, BaseGeometry]]:
    """(covered, gap) of every unit; units run on a thread pool (GEOS releases the GIL).

    A reach with many holes (a rasterised network reach: one per street block) is clipped as
    outlines plus holes (:class:`_HoledReach`), the same result without overlaying every hole.
    """
    holed = _HoledReach.of(reach_geometry) if reach_geometry is not None else None

    def one(geom: BaseGeometry) -> tuple[BaseGeometry, BaseGeometry]:
        if holed is not None:
            return holed.clip(geom)
        if reach_geometry is None:
            idx = disc_tree.query(geom, predicate="intersects")
            local = shapely.union_all(discs[idx]) if len(idx) else shapely.Polygon()
        else:
            local = reach_geometry
        if local.is_empty:
            return shapely.Polygon(), geom
        return shapely.intersection(geom, local), shapely.difference(geom, local)

    if len(geoms) < 4:
        return [one(g) for g in geoms]
    shapely.prepare(geoms)  # prepared once here, read-only in the threads
    if disc_tree is not None:
        disc_tree.query(geoms[0])  # build the tree before threads share it
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(one, geoms))


@dataclass
class _HoledReach:
    """A reach polygon split into hole-free outlines and its holes, for fast exact clipping.

    Overlaying a polygon with tens of thousands of holes costs seconds per unit.  Instead
    ``unit & reach = (unit & outlines) - holes`` and ``unit - reach = (unit - outlines) + (unit
    & holes)``: only the outlines and the few holes crossing the unit's boundary are overlaid;
    holes properly inside the unit are put back as rings, unchanged.
    """

    outlines: BaseGeometry
    holes: NDArray
    rings: NDArray
    first: NDArray
    tree: shapely.STRtree

    @classmethod
    def of(cls, reach: BaseGeometry) -> _HoledReach | None:
        """Split ``reach`` with at least :data:`_HOLED_MIN` holes and no nested parts, else None."""
        parts = shapely.get_parts(reach)
        if not np.all(shapely.get_type_id(parts) == 3):  # points, lines or nested collections
            return None
        n_holes = shapely.get_num_interior_rings(parts)
        if int(n_holes.sum()) < _HOLED_MIN:
            return None
        shells = shapely.polygons(shapely.get_exterior_ring(parts))
        pairs = shapely.STRtree(shells).query(shells, predicate="within")
        if np.any(pairs[0] != pairs[1]):  # a part inside another's hole: overlay the whole
            return None
        rings = np.concatenate(
            [
                shapely.get_interior_ring(p, np.arange(k))
                for p, k in zip(parts, n_holes, strict=True)
            ]
        )
        xy, which = shapely.get_coordinates(rings, return_index=True)
        first = xy[np.searchsorted(which, np.arange(len(rings)))]  # one vertex per hole
        holes = shapely.polygons(rings)
        tree = shapely.STRtree(holes)
        tree.query(shells[0])  # build the tree before threads share it
        return cls(shapely.multipolygons(shells), holes, rings, first, tree)

    def clip(self, unit: BaseGeometry) -> tuple[BaseGeometry, BaseGeometry]:
        """Return (covered, gap) of ``unit``, as the overlay with the whole reach would."""
        inside, crossing = self._sort_holes(unit)
        cross = shapely.union_all(self.holes[crossing])
        covered = shapely.difference(shapely.intersection(unit, self.outlines), cross)
        pieces = _polygons(shapely.get_parts(covered))
        if len(inside) and len(pieces):
            pieces = _insert_holes(pieces, self.holes[inside], self.rings[inside])
        gap = np.concatenate(
            [
                shapely.get_parts(shapely.difference(unit, self.outlines)),
                self.holes[inside],
                shapely.get_parts(shapely.intersection(unit, cross)),
            ]
        )
        return shapely.multipolygons(pieces), shapely.multipolygons(_polygons(gap))

    def _sort_holes(self, unit: BaseGeometry) -> tuple[NDArray, NDArray]:
        """Return the holes properly inside ``unit`` and those crossing its boundary (indices).

        Only holes near a boundary segment are tested against it; the others are inside or
        outside as a whole, told by one vertex (vectorised point-in-polygon).
        """
        rings = shapely.get_rings(shapely.get_parts(unit))
        xy, which = shapely.get_coordinates(rings, return_index=True)
        same = which[1:] == which[:-1]
        segments = shapely.linestrings(np.stack([xy[:-1][same], xy[1:][same]], axis=1))
        crossing = np.unique(self.tree.query(segments, predicate="intersects")[1])
        near = np.setdiff1d(self.tree.query(unit), crossing)
        first = self.first[near]
        inside = near[shapely.contains_xy(unit, first[:, 0], first[:, 1])]
        return inside, crossing


def _polygons(geoms: NDArray) -> NDArray:
    """Keep the non-empty polygons of ``geoms``."""
    return geoms[(shapely.get_type_id(geoms) == 3) & (shapely.area(geoms) > 0)]


def _insert_holes(pieces: NDArray, holes: NDArray, rings: NDArray) -> NDArray:
    """Add ``holes`` (each inside one of the disjoint ``pieces``; ``rings`` their outlines)."""
    if len(pieces) == 1:
        owner = np.zeros(len(holes), dtype=np.int64)
    else:
        probe = shapely.point_on_surface(holes)
        where = shapely.STRtree(pieces).query(probe, predicate="intersects")
        owner = np.full(len(holes), -1)
        owner[where[0]] = where[1]
    out = pieces.copy()
    for j in np.unique(owner[owner >= 0]):
        k = shapely.get_num_interior_rings(pieces[j])
        own = [*shapely.get_interior_ring(pieces[j], np.arange(k)), *rings[owner == j]]
        out[j] = shapely.polygons(shapely.get_exterior_ring(pieces[j]), holes=own)
    return out


@dataclass
class _UnitGrid:
    """A population grid in the metric CRS, cells grouped by unit, with minutes to nearest."""

    x: NDArray
    y: NDArray
    pop: NDArray
    minutes: NDArray
    order: NDArray
    starts: NDArray
    fallback: NDArray
    notes: list[str]
    model: str

    def cells(self, k: int) -> NDArray:
        """Return the indices of the cells of unit ``k``."""
        return self.order[self.starts[k] : self.starts[k + 1]]


@dataclass
class _UnitPop:
    """Population figures of one unit under its population model."""

    total: float
    covered: float
    times: NDArray
    weights: NDArray
    gap_pop: NDArray
    model: str
    note: str


def _unit_grid(
    population: gpd.GeoDataFrame | PopulationGrid | None,
    units_m: gpd.GeoDataFrame,
    metric: CRS,
    unit_id: str,
    names: list[str],
    time_fn: Callable[[NDArray, NDArray], NDArray],
) -> _UnitGrid | None:
    if population is None:
        return None
    grid = population if isinstance(population, PopulationGrid) else grid_from_points(population)
    grid = grid.to_crs(metric)
    unit = unit_index(grid, units_m, unit_id)
    fallback, notes = fallback_units(grid, unit, names)
    used = np.flatnonzero(unit >= 0)
    small = np.int16 if len(names) < np.iinfo(np.int16).max else np.int64
    order = used[np.argsort(unit[used].astype(small), kind="stable")]  # radix sort for int16
    starts = np.searchsorted(unit[order], np.arange(len(names) + 1))
    if len(used) == len(grid):  # every cell in a unit (raster grids): no copies
        minutes = np.asarray(time_fn(grid.x, grid.y), dtype=float)
    else:
        minutes = np.full(len(grid), np.nan)
        minutes[used] = time_fn(grid.x[used], grid.y[used])
    return _UnitGrid(
        grid.x, grid.y, grid.population, minutes, order, starts, fallback, notes, grid.model
    )


def _unit_population(
    k: int,
    geom: BaseGeometry,
    covered_m2: float,
    parts: list[BaseGeometry],
    census: float,
    grid: _UnitGrid | None,
    minutes: float,
    time_fn: Callable[[NDArray, NDArray], NDArray],
    sample_m: float,
) -> _UnitPop:
    """Compute population, covered population, times and gap populations of unit ``k``."""
    if grid is not None and not grid.fallback[k]:
        idx = grid.cells(k)
        pop, times = grid.pop[idx], grid.minutes[idx]
        out = ~(times <= minutes)
        gap_pop = (
            _sum_in_parts(parts, grid.x[idx[out]], grid.y[idx[out]], pop[out])
            if parts
            else np.zeros(0)
        )
        total = float(pop.sum())
        covered = total - float(pop[out].sum())
        return _UnitPop(total, covered, times, pop, gap_pop, grid.model, grid.notes[k])
    area = geom.area
    sx, sy = sample_unit(geom, sample_m)
    share = census / area if area > 0 else math.nan
    return _UnitPop(
        census,
        share * covered_m2,
        time_fn(sx, sy),
        np.ones(len(sx)),
        np.array([share * p.area for p in parts]),
        "census_uniform",
        grid.notes[k] if grid is not None else "",
    )


def _distribution_rows(uid: str, uname: str, times: NDArray, weights: NDArray) -> list[dict]:
    edges = np.array(TIME_BINS)
    hist, _ = np.histogram(np.nan_to_num(times, nan=np.inf), bins=edges, weights=weights)
    shares = hist / max(weights.sum(), 1e-12)
    return [
        {"unit_id": uid, "name": uname, "minutes_from": lo, "minutes_to": hi}
        | {"share_pct": 100.0 * float(share)}
        for lo, hi, share in zip(edges[:-1], edges[1:], shares, strict=True)
    ]


def _summary_row(
    uid: str,
    uname: str,
    area_m2: float,
    covered_m2: float,
    parts: list[BaseGeometry],
    up: _UnitPop,
    n_fac: int,
) -> dict:
    times, weights = up.times, up.weights
    q50, q90 = _weighted_quantiles(times, weights, (0.5, 0.9))
    wsum = weights[np.isfinite(times)].sum()
    total = up.total
    return {
        "unit_id": uid,
        "name": uname,
        "area_km2": area_m2 / 1e6,
        "covered_km2": covered_m2 / 1e6,
        "covered_pct": 100.0 * covered_m2 / area_m2 if area_m2 else math.nan,
        "population": total,
        "population_covered": up.covered,
        "population_covered_pct": 100.0 * up.covered / total if total else math.nan,
        "facilities": n_fac,
        "facilities_per_10k": n_fac / total * 1e4 if total else math.nan,
        "gaps": len(parts),
        "largest_gap_km2": max((p.area for p in parts), default=0.0) / 1e6,
        "minutes_mean": float(np.nansum(times * weights) / wsum) if wsum > 0 else math.nan,
        "minutes_p50": q50,
        "minutes_p90": q90,
        "population_model": up.model,
        "population_coarse": up.model == "census_uniform",
    }


_MODEL_TEXT = {
    "raster": "Population grid as a raster (model 'raster', per unit in column "
    "population_model): people per cell of the given raster, each cell at its centre "
    "(transformed to the metric CRS) in the unit containing that centre; a cell counts as "
    "covered when its centre is within reach.",
    "points": "Population grid as points (model 'points'): each point counts in the unit "
    "containing it and as covered when it lies within reach.",
    "census_uniform": "Population model 'census_uniform' (coarse, flagged population_coarse): "
    "census 2020 totals spread evenly over the unit's area (as many people per km² on the "
    "mountains as in town), so population covered = population x covered area share; times to "
    "the nearest facility are area-weighted over a regular sample of the unit.",
}


def _params(
    reach: Reach,
    metric: CRS,
    models: set[str],
    n_fac: int,
    method_note: str | None,
    sources: dict[str, str],
) -> dict[str, str]:
    method = method_note or (
        f"Distance buffers: each facility reaches {reach.radius_m:,.0f} m "
        f"({reach.speed_kmh:g} km/h x {reach.minutes:g} min) as a straight-line disc, computed in "
        f"{metric.name} (EPSG:{metric.to_epsg()}); discs are unioned and intersected with each "
        "unit. Time to the nearest facility is straight-line distance over speed."
    )
    population = " ".join(_MODEL_TEXT[m] for m in MODELS if m in models)
    out = {
        "method": method,
        "population_assumption": population,
        "mode": reach.mode,
        "minutes": f"{reach.minutes:g}",
        "speed_kmh": f"{reach.speed_kmh:g}",
        "speed_source": reach.speed_source,
        "reach_m": f"{reach.radius_m:.0f}",
        "metric_crs": f"EPSG:{metric.to_epsg()} {metric.name}",
        "facilities": str(n_fac),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    out.update({f"source_{k}": v for k, v in sources.items()})
    return out


def scenario_report(
    facilities: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    add: gpd.GeoDataFrame | None = None,
    remove: list[str] | None = None,
    **kwargs: object,
) -> ScenarioResult:
    """Coverage before and after adding and/or removing facilities.

    Parameters
    ----------
    facilities : GeoDataFrame
        Current facilities with an ``id`` column.
    units : GeoDataFrame
        Units, as for :func:`coverage_report`.
    add : GeoDataFrame, optional
        New facilities (same CRS as ``facilities``).
    remove : list of str, optional
        Ids of facilities to remove; each must exist.
    **kwargs
        Passed to :func:`coverage_report`.

    Returns
    -------
    ScenarioResult

    Raises
    ------
    InputError
        When a removed id does not exist, or nothing would remain.
    CRSError
        When ``add`` has another CRS.
    """
    require_crs(facilities, name="facilities")
    before = coverage_report(facilities, units, **kwargs)  # type: ignore[arg-type]
    current = facilities.copy()
    current["id"] = before.facilities["id"].to_numpy()
    if remove:
        unknown = sorted(set(remove) - set(current["id"]))
        if unknown:
            msg = f"cannot remove unknown facility id(s) {unknown}"
            raise InputError(msg, field="remove")
        current = current[~current["id"].isin(remove)]
    if add is not None and not add.empty:
        require_same_crs(current, add, names=("facilities", "add"))
        current = pd.concat([current, add], ignore_index=True)
        current = gpd.GeoDataFrame(current, geometry="geometry", crs=facilities.crs)
    if current.empty:
        msg = "the scenario removes every facility"
        raise InputError(msg, field="remove")
    after = coverage_report(current, units, **kwargs)  # type: ignore[arg-type]
    return ScenarioResult(before=before, after=after, diff=compare(before, after))


def compare(before: CoverageResult, after: CoverageResult) -> pd.DataFrame:
    """Per-unit before/after/change of coverage, population covered and facility counts.

    Parameters
    ----------
    before, after : CoverageResult
        Reports over the same units.

    Returns
    -------
    DataFrame
        ``unit_id, name`` and ``<key>_before/_after/_change`` for each key.

    Raises
    ------
    InputError
        When the two reports cover different units.
    """
    if list(before.summary["unit_id"]) != list(after.summary["unit_id"]):
        msg = "before and after reports cover different units"
        raise InputError(msg, field="units")
    keys = ["covered_pct", "population_covered", "population_covered_pct", "facilities"]
    diff = before.summary[["unit_id", "name"]].copy()
    for key in keys:
        diff[f"{key}_before"] = before.summary[key]
        diff[f"{key}_after"] = after.summary[key]
        diff[f"{key}_change"] = after.summary[key] - before.summary[key]
    return diff
