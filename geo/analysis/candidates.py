"""Candidate sites for siting models: the user's list, a regular grid over the units, or both.

Candidates can be masked: outside every unit, or inside water polygons (e.g. the Xiangjiang
river outline in ``data/``).  Grids are laid out in the CGCS2000 Gauss-Kruger zone of the units
(:func:`geo.crs.metric_crs_for`), never in degrees.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import metric_crs_for, require_crs
from geo.errors import InputError
from geo.settings import WGS84

__all__ = ["CANDIDATE_SOURCES", "combine_candidates", "grid_candidates", "mask_candidates"]

#: Where candidates can come from.
CANDIDATE_SOURCES: tuple[str, ...] = ("user", "grid", "both")
#: Most grid candidates (beyond it, raise the spacing).
MAX_GRID_CANDIDATES = 50_000


def _grid_xy(geom: shapely.Geometry, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    minx, miny, maxx, maxy = geom.bounds
    xs = np.arange(minx + spacing / 2, maxx, spacing)
    ys = np.arange(miny + spacing / 2, maxy, spacing)
    if len(xs) * len(ys) > 4 * MAX_GRID_CANDIDATES:
        msg = (
            f"a {spacing:,.0f} m grid over this unit has {len(xs) * len(ys):,} cells: "
            "raise the grid spacing"
        )
        raise InputError(msg, field="grid_spacing")
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    shapely.prepare(geom)
    inside = shapely.contains_xy(geom, gx, gy)
    return gx[inside], gy[inside]


def grid_candidates(
    units: gpd.GeoDataFrame,
    *,
    spacing_m: float,
    unit_id: str = "adcode",
) -> gpd.GeoDataFrame:
    """Regular grid of candidate sites inside the units.

    Parameters
    ----------
    units : GeoDataFrame
        Polygons with a CRS and ``unit_id``.
    spacing_m : float
        Grid spacing in metres (cell centres are the candidates).
    unit_id : str
        Id column of ``units``.

    Returns
    -------
    GeoDataFrame
        WGS-84 points with ``id`` (``grid-<unit>-<n>``), ``name``, ``unit_id`` and
        ``source = "grid"``.

    Raises
    ------
    InputError
        For a spacing <= 0 or one giving too many candidates.
    """
    require_crs(units, name="units")
    if not spacing_m > 0:
        msg = f"grid spacing must be > 0 metres, got {spacing_m!r}"
        raise InputError(msg, field="grid_spacing")
    crs = metric_crs_for(units)
    metric = units.to_crs(crs)
    frames = []
    for uid, geom in zip(metric[unit_id].astype(str), metric.geometry.values, strict=True):
        x, y = _grid_xy(geom, spacing_m)
        ids = [f"grid-{uid}-{i + 1}" for i in range(len(x))]
        frames.append(
            pd.DataFrame({"id": ids, "name": ids, "unit_id": uid, "x": x, "y": y, "source": "grid"})
        )
    table = pd.concat(frames, ignore_index=True)
    if len(table) > MAX_GRID_CANDIDATES:
        msg = f"{len(table):,} grid candidates (limit {MAX_GRID_CANDIDATES:,}): raise the spacing"
        raise InputError(msg, field="grid_spacing")
    points = gpd.points_from_xy(table.pop("x"), table.pop("y"), crs=crs)
    return gpd.GeoDataFrame(table, geometry=points, crs=crs).to_crs(WGS84)


def mask_candidates(
    candidates: gpd.GeoDataFrame,
    *,
    units: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Drop candidates outside every unit or inside water.

    Parameters
    ----------
    candidates : GeoDataFrame
        Points with ``id`` and a CRS.
    units : GeoDataFrame, optional
        Keep only candidates inside one of these polygons.
    water : GeoDataFrame, optional
        Drop candidates inside these polygons (lines are ignored).

    Returns
    -------
    (GeoDataFrame, DataFrame)
        Kept candidates (input CRS) and the excluded ones (``id``, ``reason``).

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> cand = gpd.GeoDataFrame({"id": ["a", "b"]}, geometry=[Point(0.5, 0.5), Point(2, 2)],
    ...                         crs="EPSG:4326")
    >>> units = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs="EPSG:4326")
    >>> kept, dropped = mask_candidates(cand, units=units)
    >>> kept["id"].tolist(), dropped["reason"].tolist()
    (['a'], ['outside the units'])
    """
    crs = require_crs(candidates, name="candidates")
    metric_crs = metric_crs_for(candidates) if len(candidates) else crs
    pts = candidates.to_crs(metric_crs).geometry.values
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    reason = np.full(len(candidates), "", dtype=object)
    if units is not None and len(candidates):
        require_crs(units, name="units")
        area = shapely.union_all(units.to_crs(metric_crs).geometry.values)
        shapely.prepare(area)
        reason[~shapely.contains_xy(area, x, y)] = "outside the units"
    if water is not None and len(candidates):
        require_crs(water, name="water")
        polys = water.to_crs(metric_crs)
        polys = polys[polys.geom_type.isin(["Polygon", "MultiPolygon"])]
        if len(polys):
            wet = shapely.union_all(polys.geometry.values)
            shapely.prepare(wet)
            reason[(reason == "") & shapely.contains_xy(wet, x, y)] = "in water"
    drop = reason != ""
    excluded = pd.DataFrame({"id": candidates["id"].to_numpy()[drop], "reason": reason[drop]})
    return candidates[~drop].copy(), excluded


def combine_candidates(
    user: gpd.GeoDataFrame | None, grid: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame:
    """Stack user and grid candidates into one WGS-84 table with unique ``id``.

    Parameters
    ----------
    user, grid : GeoDataFrame or None
        Candidate points (``id`` column, a CRS).

    Returns
    -------
    GeoDataFrame
        ``id``, ``name``, ``source`` (``user``/``grid``), geometry (WGS-84).

    Raises
    ------
    InputError
        When there are no candidates or user ids repeat.
    """
    frames = []
    if user is not None and len(user):
        require_crs(user, name="candidates")
        u = user.to_crs(WGS84)
        ids = u["id"].astype(str)
        if ids.duplicated().any():
            msg = f"candidate ids repeat: {sorted(ids[ids.duplicated()].unique())[:10]}"
            raise InputError(msg, field="id")
        name = u["name"].astype(str) if "name" in u.columns else ids
        frames.append(
            gpd.GeoDataFrame(
                {"id": ids.to_numpy(), "name": name.to_numpy(), "source": "user"},
                geometry=u.geometry.values,
                crs=WGS84,
            )
        )
    if grid is not None and len(grid):
        g = grid.to_crs(WGS84)
        frames.append(g[["id", "name", "source", "geometry"]])
    if not frames:
        msg = "no candidate sites: give a candidate file or a grid spacing"
        raise InputError(msg, field="candidates")
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=WGS84)
