"""The per-unit coverage report partitioned by county on Dask (dask-geopandas).

For province scale (Hunan's ~21 M 100 m cells), each county is one partition: a worker gets its
county, the facilities and the grid points inside the county's bounding box, and runs
:func:`geo.analysis.coverage.coverage_report` on them.  Results are identical to one-machine runs
because a unit's coverage depends only on facilities within one reach radius of it.

Requires the ``dask`` extra (``dask-geopandas``, ``distributed``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from geo.analysis.coverage import Reach, coverage_report, reach_for
from geo.analysis.population import PopulationGrid, grid_from_points
from geo.crs import metric_crs_for, parse_crs, require_same_crs

__all__ = ["SUMMARY_COLUMNS", "coverage_by_county"]

#: Columns of the summary frame :func:`coverage_by_county` returns.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "unit_id",
    "name",
    "area_km2",
    "covered_km2",
    "covered_pct",
    "population",
    "population_covered",
    "population_covered_pct",
    "facilities",
    "facilities_per_10k",
    "gaps",
    "largest_gap_km2",
    "minutes_mean",
    "minutes_p50",
    "minutes_p90",
    "population_model",
    "population_coarse",
    "population_note",
)


def _meta() -> pd.DataFrame:
    types = {
        "unit_id": object,
        "name": object,
        "facilities": np.int64,
        "gaps": np.int64,
        "population_model": object,
        "population_coarse": bool,
        "population_note": object,
    }
    return pd.DataFrame({c: pd.Series(dtype=types.get(c, float)) for c in SUMMARY_COLUMNS})


def _partition_summary(
    part: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    population: PopulationGrid | None,
    reach: Reach,
    metric: CRS,
    unit_id: str,
    unit_name: str,
) -> pd.DataFrame:
    if part.empty:
        return _meta()
    minx, miny, maxx, maxy = part.total_bounds
    pop = None
    if population is not None:
        px, py = population.x, population.y
        pop = population.subset((px >= minx) & (px <= maxx) & (py >= miny) & (py <= maxy))
    # every facility is passed: reach only unions discs touching the unit, and the time to the
    # nearest facility may come from one beyond the reach radius
    result = coverage_report(
        facilities,
        part,
        reach=reach,
        population=pop,
        unit_id=unit_id,
        unit_name=unit_name,
        metric_crs=metric,
    )
    out = result.summary[list(SUMMARY_COLUMNS)].astype(_meta().dtypes.to_dict())
    return out


def coverage_by_county(
    facilities: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    reach: Reach | None = None,
    population: gpd.GeoDataFrame | PopulationGrid | None = None,
    unit_id: str = "adcode",
    unit_name: str = "name",
    npartitions: int | None = None,
    metric_crs: CRS | str | None = None,
) -> pd.DataFrame:
    """Per-unit coverage summary computed partition by partition on Dask.

    Uses the active ``dask.distributed`` client when there is one (e.g. a ``LocalCluster``),
    else Dask's default scheduler.

    Parameters
    ----------
    facilities : GeoDataFrame
        Points, same CRS as ``units``.
    units : GeoDataFrame
        Units (counties) with ``unit_id``, ``unit_name`` and ``population``.
    reach : Reach, optional
        Default 15 minutes' walk.
    population : GeoDataFrame or PopulationGrid, optional
        Population points with ``population`` (any CRS) or a raster grid
        (:func:`geo.analysis.population.read_population_raster`).
    unit_id, unit_name : str
        Column names.
    npartitions : int, optional
        Default one partition per unit (county).
    metric_crs : pyproj.CRS or str, optional
        Shared metric CRS (default: Gauss-Kruger zone of all units).

    Returns
    -------
    DataFrame
        Columns :data:`SUMMARY_COLUMNS`, one row per unit, in the order of ``units``.

    Raises
    ------
    CRSError
        For missing or different CRSs.
    """
    import dask_geopandas  # local: optional dependency

    require_same_crs(facilities, units, names=("facilities", "units"))
    reach = reach or reach_for("walk")
    metric = parse_crs(metric_crs) if metric_crs is not None else metric_crs_for(units)
    units_m = units.to_crs(metric)
    fac_m = facilities.to_crs(metric)
    pop_m = None
    if population is not None:
        grid = population
        if isinstance(grid, gpd.GeoDataFrame):
            grid = grid_from_points(grid)
        pop_m = grid.to_crs(metric)
    parts = dask_geopandas.from_geopandas(
        units_m, npartitions=npartitions or len(units_m), sort=False
    )
    lazy = parts.map_partitions(
        _partition_summary,
        fac_m,
        pop_m,
        reach,
        metric,
        unit_id,
        unit_name,
        meta=_meta(),
        align_dataframes=False,
    )
    out = lazy.compute()
    order = {u: i for i, u in enumerate(units_m[unit_id].astype(str))}
    return out.sort_values("unit_id", key=lambda s: s.map(order)).reset_index(drop=True)
