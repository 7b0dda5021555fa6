"""Accessibility beyond coverage: two-step floating catchment area (2SFCA) and Gaussian E2SFCA.

Step 1, for each facility j: ``R_j = S_j / sum_k P_k W(d_kj)`` over demand points k within the
catchment ``d0`` (S = capacity, P = population).  Step 2, for each demand point i:
``A_i = sum_j R_j W(d_ij)`` over facilities within ``d0``.  ``W`` is 1 inside the catchment
(2SFCA, Luo & Wang 2003) or the Gaussian decay of Dai (2010) in :func:`gaussian_weight`
(Gaussian E2SFCA).
Distances are straight-line metres in a metric CRS; scores are capacity per person (multiply by
1,000 for "beds per 1,000 people").

Demand is never a unit's whole population at one point: :func:`access_by_unit` takes the cells
of a population grid, or, for units without one, a regular sample of the unit's area carrying
equal shares of its census total (:func:`geo.analysis.population.demand_points`).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyproj import CRS
from scipy.sparse import coo_matrix
from scipy.spatial import cKDTree

from geo.analysis.population import PopulationGrid, demand_points
from geo.crs import metric_crs_for, parse_crs, require_crs, require_same_crs
from geo.errors import InputError

__all__ = ["DECAYS", "access_by_unit", "gaussian_weight", "two_step_fca", "unit_access"]

#: Distance-decay functions accepted by :func:`two_step_fca`.
DECAYS: tuple[str, ...] = ("uniform", "gaussian")


def gaussian_weight(d: NDArray, d0: float) -> NDArray:
    """Gaussian decay of Dai (2010), 1 at d = 0 and 0 at d >= d0.

    ``W(d) = (exp(-0.5 (d/d0)^2) - exp(-0.5)) / (1 - exp(-0.5))`` for ``d < d0``.

    Parameters
    ----------
    d : ndarray
        Distances (m).
    d0 : float
        Catchment radius (m).

    Returns
    -------
    ndarray

    Examples
    --------
    >>> gaussian_weight(np.array([0.0, 1000.0]), 1000.0).tolist()
    [1.0, 0.0]
    """
    d = np.asarray(d, dtype=float)
    edge = math.exp(-0.5)
    w = (np.exp(-0.5 * (d / d0) ** 2) - edge) / (1.0 - edge)
    return np.where(d < d0, w, 0.0)


def two_step_fca(
    supply: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    *,
    capacity_column: str = "capacity",
    demand_column: str = "population",
    catchment_m: float,
    decay: str = "uniform",
    metric_crs: CRS | str | None = None,
) -> pd.Series:
    """Compute the accessibility score of every demand point (capacity per person).

    Parameters
    ----------
    supply : GeoDataFrame
        Facility points with ``capacity_column``.
    demand : GeoDataFrame
        Demand points (grid cells, unit centres) with ``demand_column``; same CRS as ``supply``.
    capacity_column, demand_column : str
        Column names.
    catchment_m : float
        Catchment radius ``d0`` in metres.
    decay : str
        ``"uniform"`` (2SFCA) or ``"gaussian"`` (E2SFCA).
    metric_crs : pyproj.CRS or str, optional
        Metric CRS for distances (default: Gauss-Kruger zone of ``demand``).

    Returns
    -------
    Series
        Score per demand row (index of ``demand``), named ``access``.

    Raises
    ------
    CRSError
        For missing or different CRSs.
    InputError
        For missing columns, negative values, an unknown decay or a catchment <= 0.
    """
    require_same_crs(supply, demand, names=("supply", "demand"))
    if capacity_column not in supply.columns:
        msg = f"no capacity column {capacity_column!r}; the columns are {list(supply.columns)}"
        raise InputError(msg, field=capacity_column)
    if demand_column not in demand.columns:
        msg = f"no demand column {demand_column!r}; the columns are {list(demand.columns)}"
        raise InputError(msg, field=demand_column)
    if decay not in DECAYS:
        msg = f"unknown decay {decay!r}: use one of {list(DECAYS)}"
        raise InputError(msg, field="decay")
    if not catchment_m > 0:
        msg = f"catchment must be > 0 m, got {catchment_m!r}"
        raise InputError(msg, field="catchment_m")
    cap = pd.to_numeric(supply[capacity_column], errors="coerce").to_numpy(dtype=float)
    pop = pd.to_numeric(demand[demand_column], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(cap) & (cap >= 0)):
        msg = f"capacity must be numbers >= 0 ({int((~(cap >= 0)).sum())} bad)"
        raise InputError(msg, field=capacity_column)
    if not np.all(np.isfinite(pop) & (pop >= 0)):
        msg = "demand population must be numbers >= 0"
        raise InputError(msg, field=demand_column)
    metric = parse_crs(metric_crs) if metric_crs is not None else metric_crs_for(demand)
    s_xy = np.column_stack(_xy(supply.to_crs(metric)))
    d_xy = np.column_stack(_xy(demand.to_crs(metric)))
    pairs = cKDTree(d_xy).sparse_distance_matrix(cKDTree(s_xy), catchment_m, output_type="ndarray")
    rows, cols, dist = pairs["i"], pairs["j"], pairs["v"]  # zero distances included
    w = gaussian_weight(dist, catchment_m) if decay == "gaussian" else np.ones_like(dist)
    weights = coo_matrix((w, (rows, cols)), shape=(len(d_xy), len(s_xy))).tocsr()
    demand_at = weights.T @ pop  # sum_k P_k W(d_kj), per facility
    ratio = np.divide(cap, demand_at, out=np.zeros_like(cap), where=demand_at > 0)
    score = weights @ ratio
    return pd.Series(score, index=demand.index, name="access")


def _xy(gdf: gpd.GeoDataFrame) -> tuple[NDArray, NDArray]:
    geom = gdf.geometry
    if not geom.geom_type.eq("Point").all():
        geom = geom.representative_point()
    return geom.x.to_numpy(), geom.y.to_numpy()


def unit_access(
    access: pd.Series,
    demand: gpd.GeoDataFrame,
    *,
    unit_ids: pd.Series,
    demand_column: str = "population",
    per: float = 1000.0,
) -> pd.DataFrame:
    """Population-weighted mean accessibility per unit.

    Parameters
    ----------
    access : Series
        Output of :func:`two_step_fca`.
    demand : GeoDataFrame
        The demand points used.
    unit_ids : Series
        Unit id of every demand row (same index).
    demand_column : str
        Population column.
    per : float
        Scale (1000: capacity per 1,000 people).

    Returns
    -------
    DataFrame
        ``unit_id, access_per_1000`` (column named after ``per``).
    """
    pop = demand[demand_column].astype(float)
    frame = pd.DataFrame({"unit_id": unit_ids, "w": pop * access, "pop": pop})
    grouped = frame.groupby("unit_id", sort=False)[["w", "pop"]].sum()
    out = (grouped["w"] / grouped["pop"].where(grouped["pop"] > 0)) * per
    return out.rename(f"access_per_{int(per)}").reset_index()


def access_by_unit(
    supply: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    catchment_m: float,
    population: PopulationGrid | gpd.GeoDataFrame | None = None,
    capacity_column: str = "capacity",
    decay: str = "uniform",
    unit_id: str = "adcode",
    population_column: str = "population",
    sample_m: float = 200.0,
    metric_crs: CRS | str | None = None,
) -> pd.DataFrame:
    """2SFCA (or Gaussian E2SFCA) per unit, over grid cells or an area sample of each unit.

    Parameters
    ----------
    supply : GeoDataFrame
        Facilities with ``capacity_column`` (any CRS).
    units : GeoDataFrame
        Units with ``unit_id`` and ``population_column`` (any CRS).
    catchment_m : float
        Catchment radius (m).
    population : PopulationGrid or GeoDataFrame, optional
        Population grid; units without cells (all units when omitted) use their census total
        spread over a regular ``sample_m`` sample of their area.
    capacity_column, decay : str
        As for :func:`two_step_fca`.
    unit_id, population_column : str
        Column names in ``units``.
    sample_m : float
        Spacing of the area sample (m).
    metric_crs : pyproj.CRS or str, optional
        Default: Gauss-Kruger zone of ``units``.

    Returns
    -------
    DataFrame
        ``unit_id, access_per_1000, access_demand`` (the population model of the demand).

    Raises
    ------
    CRSError
        When an input has no CRS.
    InputError
        As for :func:`two_step_fca`.
    """
    require_crs(supply, name="supply")
    metric = parse_crs(metric_crs) if metric_crs is not None else metric_crs_for(units)
    units_m = units.to_crs(metric)
    demand = demand_points(
        units_m,
        grid=population,
        population_column=population_column,
        unit_id=unit_id,
        spacing_m=sample_m,
    )
    score = two_step_fca(
        supply.to_crs(metric),
        demand,
        capacity_column=capacity_column,
        catchment_m=catchment_m,
        decay=decay,
        metric_crs=metric,
    )
    out = unit_access(score, demand, unit_ids=demand["unit_id"])
    models = demand.groupby("unit_id", sort=False)["population_model"].first()
    out["access_demand"] = out["unit_id"].map(models)
    order = {u: i for i, u in enumerate(units_m[unit_id].astype(str))}
    return out.sort_values("unit_id", key=lambda c: c.map(order)).reset_index(drop=True)
