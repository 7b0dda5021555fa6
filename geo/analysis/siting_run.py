"""One call from units to a siting result: what the CLI and the browser page both use.

:func:`site_units` builds the demand (the coverage engine's population models: raster cells,
points, or the coarse census grid, with the census fallback for units without cells), the
candidates (user list, grid, or both; masked by the units and water), keeps the existing
facilities within reach of the units and those nearest to some resident wherever they are (for
the time to the nearest; plan goal/placeholder points left out), and runs
:func:`geo.analysis.siting_plan.plan_sites`.  It reads no files: callers pass GeoDataFrames.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo.analysis.candidates import (
    CANDIDATE_SOURCES,
    combine_candidates,
    grid_candidates,
    mask_candidates,
)
from geo.analysis.coverage import reach_for
from geo.analysis.network import RoadNetwork
from geo.analysis.population import PopulationGrid
from geo.analysis.siting_demand import census_uniform_demand, demand_from_grid
from geo.analysis.siting_network import MAX_SNAP_M
from geo.analysis.siting_plan import SitingResult, plan_sites
from geo.crs import metric_crs_for, require_crs
from geo.errors import InputError
from geo.settings import MODE_SPEEDS

__all__ = ["existing_near", "site_units"]


def existing_near(
    facilities: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    radius_m: float,
    demand: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Facilities inside the units or within ``radius_m`` of them, goal points left out.

    With ``demand``, also every facility that is the nearest one of some demand point, wherever
    it is: the time to the nearest facility (and p-median) must see the hospital 4 km beyond
    the border, as the coverage report does, although it covers no one inside.

    Parameters
    ----------
    facilities : GeoDataFrame
        Points with a CRS; rows with ``kind == "goal"`` (plan goals, placeholders) are dropped.
    units : GeoDataFrame
        Polygons with a CRS.
    radius_m : float
        Reach: facilities just outside a unit still serve people inside it.
    demand : GeoDataFrame, optional
        Demand points with a CRS.

    Returns
    -------
    GeoDataFrame
        The kept facilities (input CRS), index reset.
    """
    require_crs(facilities, name="existing")
    require_crs(units, name="units")
    fac = facilities
    if "kind" in fac.columns:
        fac = fac[fac["kind"].fillna("") != "goal"]
    crs = metric_crs_for(units)
    area = units.to_crs(crs).union_all().buffer(radius_m)
    fac_m = fac.to_crs(crs)
    keep = fac_m.within(area).to_numpy().copy()
    if demand is not None and len(demand) and len(fac):
        require_crs(demand, name="demand")
        dem_m = demand.to_crs(crs).geometry
        tree = cKDTree(np.column_stack([fac_m.geometry.x, fac_m.geometry.y]))
        _, nearest = tree.query(np.column_stack([dem_m.x, dem_m.y]))
        keep[np.unique(nearest)] = True
    return fac[keep].reset_index(drop=True)


def _candidates(
    units: gpd.GeoDataFrame,
    user: gpd.GeoDataFrame | None,
    source: str,
    grid_spacing_m: float,
    water: gpd.GeoDataFrame | None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, str]:
    if source not in (*CANDIDATE_SOURCES, "auto"):
        msg = f"unknown candidate source {source!r}: use auto, {', '.join(CANDIDATE_SOURCES)}"
        raise InputError(msg, field="candidate_source")
    if source == "auto":
        source = "user" if user is not None else "grid"
    if source in {"user", "both"} and user is None:
        msg = f"candidate source {source!r} needs a candidate list (--candidates FILE)"
        raise InputError(msg, field="candidates")
    grid = grid_candidates(units, spacing_m=grid_spacing_m) if source != "user" else None
    if water is not None:
        require_crs(water, name="water")
        if not water.geom_type.isin(["Polygon", "MultiPolygon"]).any():
            msg = "the water layer holds no polygons (lines cannot mask sites): give water areas"
            raise InputError(msg, field="water")
    kept, excluded = mask_candidates(
        combine_candidates(user if source != "grid" else None, grid), units=units, water=water
    )
    text = {"user": "user list", "grid": "grid", "both": "user list + grid"}[source]
    if source != "user":
        text += f" (spacing {grid_spacing_m:g} m)"
    return kept, excluded, text


def _demand(
    units: gpd.GeoDataFrame,
    *,
    population: PopulationGrid | gpd.GeoDataFrame | None,
    demand_points: gpd.GeoDataFrame | None,
    spacing_m: float,
    sources: dict[str, str],
) -> gpd.GeoDataFrame:
    """Build the demand points from the population grid, else census; note the model in sources."""
    if population is not None and demand_points is not None:
        msg = "give the population grid once (population, or its old name demand_points)"
        raise InputError(msg, field="population")
    population = population if population is not None else demand_points
    census = f"census 2020 spread by area on a {spacing_m:g} m grid (census_uniform, coarse)"
    if population is None:
        demand = census_uniform_demand(units, spacing_m=spacing_m)
        sources.setdefault("demand", census)
    else:
        demand = demand_from_grid(population, units, spacing_m=spacing_m)
        if demand.attrs.get("outside_units"):
            n = demand.attrs["outside_units"]
            sources["demand_outside_units"] = f"{n:,} cell(s)/point(s) outside the units left out"
        if demand["population_coarse"].any():
            sources["demand_fallback"] = f"units without grid cells: {census}"
    return demand


def _fixed_existing(
    existing: gpd.GeoDataFrame | None,
    units: gpd.GeoDataFrame,
    *,
    radius_m: float,
    demand: gpd.GeoDataFrame,
    sources: dict[str, str],
) -> gpd.GeoDataFrame | None:
    """Return the existing facilities within reach of the units or nearest to some demand."""
    if existing is None or not len(existing):
        return None
    near = existing_near(existing, units, radius_m=radius_m)
    fixed = existing_near(existing, units, radius_m=radius_m, demand=demand)
    sources["existing_within_reach"] = f"{len(near)} of {len(existing)}"
    if len(fixed) > len(near):
        sources["existing_nearest_beyond_reach"] = (
            f"{len(fixed) - len(near)} more: the nearest facility of some residents although "
            "beyond reach of the units (held fixed, for the time to the nearest and p-median)"
        )
    return fixed


def _check_network_mode(network: RoadNetwork | None, mode: str) -> None:
    """Stop when the road network was read for another mode (its profile starts 'mode:')."""
    if network is None:
        return
    read_for = network.profile.split(":", 1)[0]
    if read_for in MODE_SPEEDS and read_for != mode:
        msg = f"the road network was read for {read_for!r}, not {mode!r}: read it for {mode!r}"
        raise InputError(msg, file=network.source, field="mode")


def site_units(
    units: gpd.GeoDataFrame,
    *,
    model: str = "mclp",
    k: int = 5,
    mode: str = "walk",
    minutes: float = 15.0,
    speed_kmh: float | None = None,
    target: float | None = None,
    existing: gpd.GeoDataFrame | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    candidate_source: str = "auto",
    grid_spacing_m: float = 1000.0,
    water: gpd.GeoDataFrame | None = None,
    population: PopulationGrid | gpd.GeoDataFrame | None = None,
    demand_points: gpd.GeoDataFrame | None = None,
    demand_spacing_m: float | None = None,
    capacity_column: str | None = None,
    candidate_capacity: float | None = None,
    solver: str = "exact",
    time_limit: float = 120.0,
    curve_k: int | None = None,
    sources: dict[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
    network: RoadNetwork | None = None,
    max_snap_m: float = MAX_SNAP_M,
) -> SitingResult:
    """Propose new facility sites for the units (MCLP, LSCP or p-median).

    Parameters
    ----------
    units : GeoDataFrame
        Unit polygons with a CRS and ``adcode``, ``name``, ``population`` (census).
    model, k, target, solver, time_limit, curve_k
        As for :func:`geo.analysis.siting_plan.plan_sites`.
    mode, minutes, speed_kmh
        Reach (:func:`geo.analysis.coverage.reach_for`).
    existing : GeoDataFrame, optional
        Existing facilities (``id``, ``name``; ``kind == "goal"`` rows are dropped); those within
        reach of the units, and those nearest to some demand point wherever they are (for the
        time to the nearest, as in the coverage report), are held fixed.
    candidates : GeoDataFrame, optional
        The user's candidate sites (``id``, ``name``).
    candidate_source : str
        ``auto`` (the list when given, else a grid), ``user``, ``grid`` or ``both``.
    grid_spacing_m : float
        Candidate grid spacing in metres.
    water : GeoDataFrame, optional
        Polygons where no site may go.
    population : PopulationGrid or GeoDataFrame, optional
        The coverage engine's population grid: raster cells
        (:func:`geo.analysis.population.read_population_raster`) or points with a ``population``
        column. Units without cells fall back to the census model with a
        :class:`geo.analysis.population.PopulationFallbackWarning`; without a grid every unit uses
        the coarse census model.
    demand_points : GeoDataFrame, optional
        Deprecated alias of ``population`` (points).
    demand_spacing_m : float, optional
        Census grid cell size (default a quarter of the reach, 100-500 m).
    capacity_column : str, optional
        Column of ``existing`` with the people each facility can serve.
    candidate_capacity : float, optional
        People a new site can serve.
    sources : dict, optional
        Provenance labels copied into the result's parameters.
    progress : callable, optional
        Called with a short label after each step.
    network : RoadNetwork, optional
        Road graph read for ``mode`` (:func:`geo.analysis.network.read_network`): reach over
        the roads instead of the straight line.
    max_snap_m : float
        With a network: largest straight access leg from a point to its nearest road node.

    Returns
    -------
    SitingResult

    Raises
    ------
    InputError
        For bad parameters or inputs (the message says what to fix).
    """
    require_crs(units, name="units")
    reach = reach_for(mode, minutes=minutes, speed_kmh=speed_kmh)
    _check_network_mode(network, reach.mode)
    sources = dict(sources or {})
    demand = _demand(
        units,
        population=population,
        demand_points=demand_points,
        spacing_m=demand_spacing_m or min(500.0, max(100.0, reach.radius_m / 4)),
        sources=sources,
    )
    if progress is not None:
        progress("demand")
    fixed = _fixed_existing(
        existing, units, radius_m=reach.radius_m, demand=demand, sources=sources
    )
    if progress is not None:
        progress("existing")
    cand, excluded, cand_text = _candidates(
        units, candidates, candidate_source, grid_spacing_m, water
    )
    sources.setdefault("candidates", cand_text)
    if progress is not None:
        progress("candidates")
    return plan_sites(
        demand,
        cand,
        reach=reach,
        model=model,
        k=k,
        existing=fixed,
        target=target,
        capacity_column=capacity_column,
        candidate_capacity=candidate_capacity,
        solver=solver,
        time_limit=time_limit,
        curve_k=curve_k,
        excluded=excluded,
        sources=sources,
        progress=progress,
        network=network,
        max_snap_m=max_snap_m,
    )
