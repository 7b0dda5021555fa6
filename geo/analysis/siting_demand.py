"""Demand points for siting models, from the population models of the coverage engine.

The models are those of :mod:`geo.analysis.population`, named as in the coverage summary, and
labelled on every demand row (``population_model``, ``population_coarse``, ``population_note``) so
that every siting output states them per unit:

* ``raster``: a population raster (GeoTIFF, any CRS, read by
  :func:`geo.analysis.population.read_population_raster`): each cell is a demand point at its
  centre, in the unit that contains the centre;
* ``points``: population points in their own CRS
  (:func:`geo.analysis.coverage.read_population_grid`);
* ``census_uniform`` (coarse): each unit's census population spread evenly over its area, as an
  area-weighted regular grid (a cell's weight is the share of the unit's area it holds).  This
  puts as many people per km² on mountains as in towns: used without a grid, and as the
  fallback (with a :class:`geo.analysis.population.PopulationFallbackWarning`) for a unit in which
  the grid has no cells (:func:`demand_from_grid`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analysis.coverage import assign_units
from geo.analysis.population import PopulationGrid, fallback_units, grid_from_points, unit_index
from geo.crs import metric_crs_for, require_crs
from geo.errors import InputError
from geo.settings import WGS84

__all__ = [
    "CENSUS_MODEL",
    "MODEL_TEXT",
    "POINTS_MODEL",
    "RASTER_MODEL",
    "census_uniform_demand",
    "demand_from_grid",
    "demand_from_points",
]

#: Label of the coarse census model (as in the coverage summary).
CENSUS_MODEL = "census_uniform"
#: Label of population points.
POINTS_MODEL = "points"
#: Label of population raster cells.
RASTER_MODEL = "raster"
#: What each model means, for the method text.
MODEL_TEXT = {
    RASTER_MODEL: "people per cell of a population raster, each cell a demand point at its centre",
    POINTS_MODEL: "population points, each a demand point",
    CENSUS_MODEL: "census_uniform (coarse): census 2020 total spread evenly over the unit's area",
}
#: Most demand cells per unit of the census grid (beyond it the spacing is raised).
MAX_CELLS_PER_UNIT = 200_000


def _unit_cells(
    geom: shapely.Geometry, spacing: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell centre (or a point of the clipped cell) and clipped area of each grid cell."""
    minx, miny, maxx, maxy = geom.bounds
    spacing = max(spacing, np.sqrt(geom.area / MAX_CELLS_PER_UNIT))
    xs = np.arange(minx, maxx, spacing)
    ys = np.arange(miny, maxy, spacing)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    boxes = shapely.box(gx, gy, gx + spacing, gy + spacing)
    shapely.prepare(geom)
    touching = shapely.intersects(geom, boxes)
    boxes, gx, gy = boxes[touching], gx[touching], gy[touching]
    inside = shapely.contains_properly(geom, boxes)
    area = np.full(len(boxes), spacing * spacing)
    cx, cy = gx + spacing / 2, gy + spacing / 2
    edge = np.flatnonzero(~inside)
    if len(edge):
        # a border cell keeps its centre (possibly just outside the unit) and carries the
        # population of its part inside: moving it onto the part would crowd border cells
        # together and make border sites look better than inland ones
        area[edge] = shapely.area(shapely.intersection(boxes[edge], geom))
    keep = area > 0
    return cx[keep], cy[keep], area[keep]


def _note(row: pd.Series) -> str:
    note = row.get("population_note", "")
    return note if isinstance(note, str) else ""


def census_uniform_demand(
    units: gpd.GeoDataFrame,
    *,
    spacing_m: float = 500.0,
    unit_id: str = "adcode",
    unit_name: str = "name",
    population: str = "population",
) -> gpd.GeoDataFrame:
    """Area-weighted regular grid of demand points carrying each unit's census population.

    Parameters
    ----------
    units : GeoDataFrame
        Polygons with a CRS, ``unit_id``, ``unit_name`` and ``population``.
    spacing_m : float
        Cell size in metres (raised for very large units so a unit has at most
        :data:`MAX_CELLS_PER_UNIT` cells).
    unit_id, unit_name, population : str
        Column names.

    Returns
    -------
    GeoDataFrame
        WGS-84 cell centres with ``population`` (summing to each unit's population; a border
        cell carries the population of its part inside the unit), ``unit_id``, ``unit_name``
        and ``population_model``.

    Raises
    ------
    InputError
        For missing columns, a spacing <= 0 or a unit without census population.
    """
    require_crs(units, name="units")
    missing = [c for c in (unit_id, unit_name, population) if c not in units.columns]
    if missing:
        msg = f"units lack column(s) {missing}; they have {list(units.columns)}"
        raise InputError(msg, field=missing[0])
    if not spacing_m > 0:
        msg = f"demand grid spacing must be > 0 metres, got {spacing_m!r}"
        raise InputError(msg, field="demand_spacing")
    pops = pd.to_numeric(units[population], errors="coerce")
    bad = units.loc[~(pops >= 0), unit_name].astype(str).tolist()
    if bad:
        msg = (
            f"no census population for unit(s) {bad} (and no population-grid cells there): "
            "give a population grid covering them (--population-grid) or a units file with a "
            "population column"
        )
        raise InputError(msg, field=population)
    crs = metric_crs_for(units)
    metric = units.to_crs(crs)
    frames = []
    for (_, row), pop in zip(metric.iterrows(), pops, strict=True):
        x, y, area = _unit_cells(row.geometry, spacing_m)
        frames.append(
            pd.DataFrame(
                {
                    "x": x,
                    "y": y,
                    "population": float(pop) * area / area.sum(),
                    "unit_id": str(row[unit_id]),
                    "unit_name": str(row[unit_name]),
                    "population_model": CENSUS_MODEL,
                    "population_coarse": True,
                    "population_note": _note(row),
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    geometry = gpd.points_from_xy(table.pop("x"), table.pop("y"), crs=crs)
    return gpd.GeoDataFrame(table, geometry=geometry, crs=crs).to_crs(WGS84)


def demand_from_points(
    points: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    population: str = "population",
    unit_id: str = "adcode",
    unit_name: str = "name",
) -> tuple[gpd.GeoDataFrame, int]:
    """Demand from population points, assigned to the units they lie in.

    Parameters
    ----------
    points : GeoDataFrame
        Points with a CRS and a ``population`` column (>= 0).
    units : GeoDataFrame
        Polygons with a CRS, ``unit_id`` and ``unit_name``.
    population, unit_id, unit_name : str
        Column names.

    Returns
    -------
    (GeoDataFrame, int)
        WGS-84 demand (``population``, ``unit_id``, ``unit_name``, ``population_model``) of the
        points inside a unit, and the number of points outside every unit (left out).

    Raises
    ------
    InputError
        For a missing or negative population, or no point inside the units.
    """
    require_crs(points, name="demand points")
    require_crs(units, name="units")
    if population not in points.columns:
        msg = f"demand points lack a {population!r} column; they have {list(points.columns)}"
        raise InputError(msg, field=population)
    pop = pd.to_numeric(points[population], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~(pop >= 0))
    if len(bad):
        msg = (
            f"population must be a number >= 0; bad at data row(s) "
            f"{[int(i) + 2 for i in bad[:10]]} (header = row 1)"
        )
        raise InputError(msg, field=population)
    pts = points.to_crs(WGS84)
    u = units.to_crs(WGS84)
    where = assign_units(pts, u, unit_id=unit_id)
    inside = where != ""
    if not inside.any():
        msg = "no demand point lies inside the chosen units"
        raise InputError(msg, field="demand")
    names = dict(zip(u[unit_id].astype(str), u[unit_name].astype(str), strict=True))
    out = gpd.GeoDataFrame(
        {
            "population": pop[inside],
            "unit_id": where[inside].astype(str),
            "unit_name": [names[w] for w in where[inside]],
            "population_model": POINTS_MODEL,
            "population_coarse": False,
            "population_note": "",
        },
        geometry=pts.geometry.values[inside],
        crs=WGS84,
    )
    return out, int((~inside).sum())


def _grid_demand(
    g: PopulationGrid,
    keep: np.ndarray,
    unit: np.ndarray,
    ids: np.ndarray,
    names: list[str],
    crs: object,
) -> gpd.GeoDataFrame:
    """Return the kept grid cells or points as WGS-84 demand in the unit that holds each."""
    return gpd.GeoDataFrame(
        {
            "population": g.population[keep].astype(float),
            "unit_id": ids[unit[keep]],
            "unit_name": np.asarray(names, dtype=object)[unit[keep]],
            "population_model": g.model,
            "population_coarse": False,
            "population_note": "",
        },
        geometry=gpd.points_from_xy(g.x[keep], g.y[keep]),
        crs=crs,
    ).to_crs(WGS84)


def _fallback_demand(
    units_m: gpd.GeoDataFrame,
    use_census: np.ndarray,
    notes: list[str],
    *,
    spacing_m: float,
    unit_id: str,
    unit_name: str,
    population: str,
) -> gpd.GeoDataFrame:
    """Return census demand of the units without grid cells, noting why they fell back."""
    fallback = units_m[use_census].copy()
    old = fallback.get("population_note", pd.Series("", index=fallback.index)).fillna("")
    why = [n for n, e in zip(notes, use_census, strict=True) if e]
    fallback["population_note"] = [f"{w}; {o}" if o else w for w, o in zip(why, old, strict=True)]
    return census_uniform_demand(
        fallback,
        spacing_m=spacing_m,
        unit_id=unit_id,
        unit_name=unit_name,
        population=population,
    )


def demand_from_grid(
    grid: PopulationGrid | gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    spacing_m: float = 500.0,
    unit_id: str = "adcode",
    unit_name: str = "name",
    population: str = "population",
) -> gpd.GeoDataFrame:
    """Demand from a population grid (raster cells or points); census fallback where it is empty.

    Each cell or point inside a unit becomes a demand point (a raster cell at its centre, in the
    unit containing the centre); points outside every unit are left out.  A unit in which the
    grid has no cells falls back to :func:`census_uniform_demand`, with a
    :class:`geo.analysis.population.PopulationFallbackWarning` naming it.

    Parameters
    ----------
    grid : PopulationGrid or GeoDataFrame
        From :func:`geo.analysis.population.read_population_raster` (model ``raster``) or population
        points with a CRS and a ``population`` column (model ``points``).
    units : GeoDataFrame
        Polygons with a CRS, ``unit_id``, ``unit_name`` and (for the fallback) ``population``.
    spacing_m : float
        Census grid cell size of fallback units (m).
    unit_id, unit_name, population : str
        Column names of ``units``.

    Returns
    -------
    GeoDataFrame
        WGS-84 demand (``population``, ``unit_id``, ``unit_name``, ``population_model``,
        ``population_coarse``, ``population_note``); ``attrs["outside_units"]`` counts the
        cells or points outside every unit (left out).

    Raises
    ------
    InputError
        For negative or non-numeric counts, or a fallback unit without census population.
    """
    require_crs(units, name="units")
    if isinstance(grid, gpd.GeoDataFrame):
        grid = grid_from_points(grid)
    bad = np.flatnonzero(~(np.asarray(grid.population, dtype=float) >= 0))
    if len(bad):
        msg = f"population must be a number >= 0 ({len(bad)} bad cells or points)"
        raise InputError(msg, field=population)
    crs = metric_crs_for(units)
    units_m = units.to_crs(crs).reset_index(drop=True)
    g = grid.to_crs(crs)
    unit = unit_index(g, units_m, unit_id)
    names = units_m[unit_name].astype(str).tolist()
    use_census, notes = fallback_units(g, unit, names)
    keep = (unit >= 0) & ~use_census[np.maximum(unit, 0)]
    frames = [_grid_demand(g, keep, unit, units_m[unit_id].astype(str).to_numpy(), names, crs)]
    if use_census.any():
        frames.append(
            _fallback_demand(
                units_m,
                use_census,
                notes,
                spacing_m=spacing_m,
                unit_id=unit_id,
                unit_name=unit_name,
                population=population,
            )
        )
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=WGS84)
    out.attrs["outside_units"] = int((unit < 0).sum())
    return out
