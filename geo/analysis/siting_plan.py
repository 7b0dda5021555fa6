"""Where should the next k facilities go: siting models over GeoDataFrames.

:func:`plan_sites` takes demand points (population, unit), candidate sites and the existing
facilities, all with a CRS, works in the CGCS2000 Gauss-Kruger zone of the demand
(:func:`geo.crs.metric_crs_for`), computes reach by straight-line distance (speed x minutes, a
KD-tree giving a sparse demand x site matrix) or, given a road network, by the shortest road path
from the resident to the site (:mod:`geo.analysis.siting_network`), and solves one of the models
of :mod:`geo.analysis.siting`. It returns the chosen sites with their gains, the marginal-gain curve
for k = 1..K, the before/after per unit, and the parameters and assumptions every output states.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy
from numpy.typing import NDArray
from scipy import sparse
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from geo.analysis.coverage import Reach
from geo.analysis.network import RoadNetwork
from geo.analysis.siting import (
    MODELS,
    Solution,
    greedy_lscp,
    greedy_mclp,
    greedy_pmedian,
    order_by_gain,
    solve_lscp,
    solve_mclp,
    solve_pmedian,
    unit_served,
)
from geo.analysis.siting_demand import CENSUS_MODEL, MODEL_TEXT
from geo.analysis.siting_network import (
    MAX_SNAP_M,
    NetworkTimes,
    check_near_roads,
    pmedian_costs,
    snap_points,
)
from geo.crs import metric_crs_for, require_crs
from geo.errors import InputError
from geo.settings import WGS84

__all__ = ["DEFAULT_TARGET", "SOLVERS", "SitingResult", "plan_sites", "reach_matrix"]

#: Solver choices: exact MILP (plus the greedy for its gap), or greedy only.
SOLVERS: tuple[str, ...] = ("exact", "greedy")
_ProgressFn = Callable[[str], None]
#: LSCP target share when none is given (MCLP and p-median have a target only when given).
DEFAULT_TARGET = 0.9
#: Largest dense demand x site time matrix (p-median), about 0.5 GB of float64.
MAX_DENSE_PAIRS = 60_000_000


@dataclass
class SitingResult:
    """Outcome of :func:`plan_sites`.

    Attributes
    ----------
    sites : GeoDataFrame
        WGS-84 points: the chosen new sites (``role = "new"``, ``rank``, ``gain``) and the
        existing facilities (``role = "existing"``).  ``gain`` is what a site adds when the
        chosen sites are added one by one in rank order (largest first) to the existing
        facilities; the gains sum to the final improvement.
    curve : DataFrame
        Marginal-gain curve: ``k``, ``objective``, ``gain`` and per-unit shares or minutes.
        With ``curve_per_k`` the objective is the optimum with k new sites, solved for each k
        (the k-site optimum need not contain the (k-1)-site one, so ``gain``, the optimum's
        change from k-1 to k, can differ from the sites' gains); otherwise it is the objective
        of the first k sites of the sequence (greedy order, or LSCP's chosen sites by gain).
    units : DataFrame
        Before/after per unit, with the population model of each unit.
    params : dict
        Model, parameters, solver status, assumptions and sources (str -> str).
    solution : Solution
        The raw model solution.
    excluded : DataFrame
        Candidates excluded by the mask (``id``, ``reason``).
    model : str
        ``mclp``, ``lscp`` or ``pmedian``.
    curve_per_k : bool
        Whether the curve is an exact solve for each k (not nested), see ``curve``.
    """

    sites: gpd.GeoDataFrame
    curve: pd.DataFrame
    units: pd.DataFrame
    params: dict[str, str]
    solution: Solution
    excluded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["id", "reason"]))
    model: str = ""
    curve_per_k: bool = False


def reach_matrix(
    demand_xy: NDArray, site_xy: NDArray, *, radius_m: float, metres_per_minute: float
) -> sparse.csr_matrix:
    """Sparse travel-time matrix (minutes) of every demand-site pair within ``radius_m``.

    Zero distances are stored as a tiny positive time so that every pair in reach is a stored
    entry.

    Parameters
    ----------
    demand_xy, site_xy : ndarray (n, 2), (m, 2)
        Metric coordinates.
    radius_m : float
        Reach in metres.
    metres_per_minute : float
        Speed.

    Returns
    -------
    scipy.sparse.csr_matrix (n, m)

    Examples
    --------
    >>> t = reach_matrix(np.array([[0.0, 0.0], [500.0, 0.0]]), np.array([[0.0, 0.0]]),
    ...                  radius_m=100.0, metres_per_minute=50.0)
    >>> t.toarray().round(3).ravel().tolist()
    [0.0, 0.0]
    >>> t.nnz
    1
    """
    n, m = len(demand_xy), len(site_xy)
    if n == 0 or m == 0:
        return sparse.csr_matrix((n, m))
    pairs = cKDTree(demand_xy).sparse_distance_matrix(
        cKDTree(site_xy), radius_m, output_type="ndarray"
    )
    minutes = np.maximum(pairs["v"] / metres_per_minute, 1e-9)
    return sparse.csr_matrix((minutes, (pairs["i"], pairs["j"])), shape=(n, m))


def _xy(gdf: gpd.GeoDataFrame, crs: object) -> NDArray:
    pts = gdf.to_crs(crs).geometry
    if not pts.geom_type.eq("Point").all():
        msg = "demand, candidates and facilities must be points"
        raise InputError(msg, field="geometry")
    return np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])


def _capacities(
    existing: gpd.GeoDataFrame | None, n_cand: int, *, column: str | None, candidate: float | None
) -> NDArray | None:
    if column is None and candidate is None:
        return None
    if column is None or candidate is None:
        msg = "capacities need both the facilities' capacity column and a candidate capacity"
        raise InputError(msg, field="capacity")
    fixed_cap = np.zeros(0)
    if existing is not None and len(existing):
        if column not in existing.columns:
            msg = f"existing facilities lack the capacity column {column!r}"
            raise InputError(msg, field=column)
        fixed_cap = pd.to_numeric(existing[column], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~(fixed_cap >= 0))
        if len(bad):
            ids = existing["id"].astype(str).to_numpy()[bad[:10]].tolist()
            msg = f"capacity must be a number >= 0; missing or negative for facility id(s) {ids}"
            raise InputError(msg, field=column)
    if not candidate >= 0:
        msg = f"candidate capacity must be >= 0, got {candidate!r}"
        raise InputError(msg, field="candidate_capacity")
    return np.concatenate([fixed_cap, np.full(n_cand, float(candidate))])


@dataclass
class _Instance:
    weight: NDArray
    unit_of: NDArray
    fixed: NDArray
    times: sparse.csr_matrix
    capacity: NDArray | None
    demand_xy: NDArray
    site_xy: NDArray
    reach: Reach
    net: NetworkTimes | None = None
    _dense: NDArray | None = field(default=None, repr=False)
    #: Network p-median: demand points no site reaches by road (left out), and the penalty.
    unreached: NDArray | None = field(default=None, repr=False)
    penalty: float = float("nan")

    @property
    def cover(self) -> sparse.csr_matrix:
        return sparse.csr_matrix(self.times, dtype=bool)

    @property
    def pm_weight(self) -> NDArray:
        """p-median weights: demand no site reaches by road is left out (network reach)."""
        if self.net is None:
            return self.weight
        self.dense_minutes()
        return np.where(self.unreached, 0.0, self.weight)

    def dense_minutes(self) -> NDArray:
        if self._dense is not None:
            return self._dense
        size = len(self.demand_xy) * len(self.site_xy)
        if size > MAX_DENSE_PAIRS:
            msg = (
                f"p-median needs every demand-site time ({size:,} pairs, limit "
                f"{MAX_DENSE_PAIRS:,}): use a coarser demand grid or fewer candidates"
            )
            raise InputError(msg, field="model")
        if self.net is None:
            self._dense = cdist(self.demand_xy, self.site_xy) / self.reach.metres_per_minute
        else:
            self._dense, self.unreached, self.penalty = pmedian_costs(self.net.all_minutes())
        return self._dense


def _solve_model(
    inst: _Instance, model: str, *, k: int, target: float, solver: str, time_limit: float
) -> tuple[Solution, Solution | None]:
    """Solve ``model``; also return the greedy solution (for the gap) when exact was run."""
    greedy: Solution | None = None
    cap = inst.capacity
    if model == "pmedian":
        minutes, weight = inst.dense_minutes(), inst.pm_weight
        if cap is None:
            greedy = greedy_pmedian(minutes, weight, k=k, fixed=inst.fixed)
        if solver == "greedy":
            return _need(greedy, "p-median"), None
        return solve_pmedian(
            minutes, weight, k=k, fixed=inst.fixed, capacity=cap, time_limit=time_limit
        ), greedy
    if cap is None and model == "mclp":
        greedy = greedy_mclp(inst.cover, inst.weight, k=k, fixed=inst.fixed)
    elif cap is None:
        greedy = greedy_lscp(
            inst.cover, inst.weight, unit_of=inst.unit_of, target=target, fixed=inst.fixed
        )
    if solver == "greedy":
        return _need(greedy, model.upper()), None
    if model == "mclp":
        sol = solve_mclp(
            inst.cover, inst.weight, k=k, fixed=inst.fixed, capacity=cap, time_limit=time_limit
        )
    else:
        sol = solve_lscp(
            inst.cover,
            inst.weight,
            unit_of=inst.unit_of,
            target=target,
            fixed=inst.fixed,
            capacity=cap,
            time_limit=time_limit,
        )
    return sol, greedy


def _need(sol: Solution | None, name: str) -> Solution:
    if sol is None:
        msg = f"the greedy {name} does not handle capacities: use --solver exact"
        raise InputError(msg, field="solver")
    return sol


def _nearest_minutes(inst: _Instance, open_sites: NDArray) -> NDArray:
    if inst.net is not None:
        return inst.net.nearest_minutes(open_sites)
    if not open_sites.any():
        return np.full(len(inst.weight), np.inf)
    tree = cKDTree(inst.site_xy[open_sites])
    dist, _ = tree.query(inst.demand_xy)
    return dist / inst.reach.metres_per_minute


def _served_before(inst: _Instance, time_limit: float) -> NDArray:
    if inst.capacity is None:
        cover = inst.cover
        return (np.asarray(cover @ inst.fixed.astype(np.int64)).ravel() > 0).astype(float)
    return solve_mclp(
        inst.cover,
        inst.weight,
        k=0,
        fixed=inst.fixed,
        capacity=inst.capacity,
        time_limit=time_limit,
    ).served


def _unit_table(
    inst: _Instance,
    demand: gpd.GeoDataFrame,
    sol: Solution,
    before: NDArray,
    target: float | None,
    model: str,
) -> pd.DataFrame:
    b = unit_served(inst.weight, before, inst.unit_of)
    served = sol.served
    if model == "pmedian":  # p-median assigns everyone; coverage is still "within reach"
        open_sites = inst.fixed.copy()
        open_sites[np.flatnonzero(~inst.fixed)[sol.chosen]] = True
        reached = np.asarray(inst.cover @ open_sites.astype(np.int64)).ravel() > 0
        served = reached.astype(float)
    a = unit_served(inst.weight, served, inst.unit_of)
    info = _unit_models(demand)
    out = pd.DataFrame(
        {
            "unit_id": b.index.astype(str),
            "name": info.loc[b.index, "unit_name"].to_numpy(),
            "population": b["population"].to_numpy(),
            "covered_before": b["served"].to_numpy(),
            "covered_after": a.loc[b.index, "served"].to_numpy(),
            "share_before_pct": 100 * b["share"].to_numpy(),
            "share_after_pct": 100 * a.loc[b.index, "share"].to_numpy(),
        }
    )
    if target is not None:  # LSCP, or a target the user gave: no target column otherwise
        out["target_pct"] = 100 * target
        if sol.targets:
            out["target_pct"] = [100 * sol.targets.get(u, target) for u in out["unit_id"]]
        out["target_met"] = out["share_after_pct"] + 1e-6 >= out["target_pct"]
    open_sites = inst.fixed.copy()
    open_sites[np.flatnonzero(~inst.fixed)[sol.chosen]] = True
    for label, mask in (("before", inst.fixed), ("after", open_sites)):
        means = _unit_means(inst, _nearest_minutes(inst, mask))
        out[f"mean_minutes_{label}"] = means.reindex(out["unit_id"]).to_numpy()
    for col in ("population_model", "population_coarse", "population_note"):
        out[col] = info.loc[b.index, col].to_numpy()
    return out


def _unit_means(inst: _Instance, t: NDArray) -> pd.Series:
    """Population-weighted mean minutes per unit over the population that reaches a site."""
    ok = np.isfinite(t)
    w = np.where(ok, inst.weight, 0.0)
    frame = pd.DataFrame({"u": inst.unit_of, "wt": w * np.where(ok, t, 0.0), "w": w})
    g = frame.groupby("u", sort=False)[["wt", "w"]].sum()
    return (g["wt"] / g["w"].where(g["w"] > 0)).astype(float)


def _unit_models(demand: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per unit: name, population model, coarse flag and note (first demand row of the unit)."""
    frame = pd.DataFrame(
        {
            "unit_id": demand["unit_id"].astype(str).to_numpy(),
            "unit_name": demand["unit_name"].to_numpy(),
            "population_model": demand["population_model"].astype(str).to_numpy(),
        }
    )
    coarse = demand.get("population_coarse")
    frame["population_coarse"] = (
        frame["population_model"].eq(CENSUS_MODEL).to_numpy()
        if coarse is None
        else coarse.fillna(False).astype(bool).to_numpy()
    )
    note = demand.get("population_note")
    frame["population_note"] = "" if note is None else note.fillna("").astype(str).to_numpy()
    return frame.groupby("unit_id", sort=False).first()


def _model_text(units: pd.DataFrame) -> str:
    """State each population model with its meaning and the units that use it."""
    parts = []
    for model, group in units.groupby("population_model", sort=True):
        meaning = MODEL_TEXT.get(str(model), str(model))
        if not meaning.startswith(str(model)):
            meaning = f"{model}: {meaning}"
        listed = ", ".join(group["name"].astype(str).head(10))
        more = " ..." if len(group) > 10 else ""
        parts.append(f"{meaning} ({len(group)} unit(s): {listed}{more})")
    return "; ".join(parts)


def _curve(
    inst: _Instance,
    model: str,
    *,
    k_max: int,
    target: float,
    solver: str,
    time_limit: float,
    progress: _ProgressFn | None,
    sequence: NDArray | None = None,
    solved: dict[int, NDArray] | None = None,
) -> pd.DataFrame:
    """Objective for k = 0..k_max, per-unit figures.

    MCLP and p-median: the exact optimum for each k (or the greedy sequence); a k in ``solved``
    (the run's own k) reuses that solution instead of solving it again.  LSCP: the chosen
    sites in ``sequence`` order (largest gain first), so the curve ends where every unit
    reaches its target.
    """
    solved = solved or {}
    rows = []
    cover_model = "pmedian" if model == "pmedian" else "mclp"
    minutes = inst.dense_minutes() if model == "pmedian" else None
    greedy_seq = sequence
    if greedy_seq is None and solver == "greedy":
        greedy_seq = _solve_model(
            inst, cover_model, k=k_max, target=target, solver="greedy", time_limit=time_limit
        )[0].chosen
    for k in range(k_max + 1):
        if greedy_seq is not None:
            chosen = greedy_seq[:k]
        elif k == 0:
            chosen = np.array([], dtype=np.int64)
        elif k in solved:
            chosen = solved[k]
        elif model == "pmedian":
            chosen = solve_pmedian(
                minutes,
                inst.pm_weight,
                k=k,
                fixed=inst.fixed,
                capacity=inst.capacity,
                time_limit=time_limit,
            ).chosen
        else:
            chosen = solve_mclp(
                inst.cover,
                inst.weight,
                k=k,
                fixed=inst.fixed,
                capacity=inst.capacity,
                time_limit=time_limit,
            ).chosen
        rows.append(_curve_row(inst, model, k, chosen, time_limit))
        if progress is not None:
            progress(f"curve k={k}")
    curve = pd.DataFrame(rows)
    curve["gain"] = curve["objective"].diff()
    if model == "pmedian":
        curve["gain"] = -curve["gain"]
    return curve


def _curve_row(inst: _Instance, model: str, k: int, chosen: NDArray, time_limit: float) -> dict:
    open_sites = inst.fixed.copy()
    open_sites[np.flatnonzero(~inst.fixed)[chosen]] = True
    row: dict[str, float | int] = {"k": k}
    if model == "pmedian":
        t = _nearest_minutes(inst, open_sites)
        if inst.net is None:
            row["objective"] = float(inst.weight @ t) if np.isfinite(t).all() else np.nan
        elif open_sites.any():  # the model's cost: penalty for no road path, unreached left out
            row["objective"] = float(inst.pm_weight @ inst.dense_minutes()[:, open_sites].min(1))
        else:
            row["objective"] = np.nan
        row.update({f"mean_minutes:{u}": float(v) for u, v in _unit_means(inst, t).items()})
        return row
    if inst.capacity is None:
        served = (np.asarray(inst.cover @ open_sites.astype(np.int64)).ravel() > 0).astype(float)
    else:
        fixed_now = open_sites
        served = solve_mclp(
            inst.cover,
            inst.weight,
            k=0,
            fixed=fixed_now,
            capacity=inst.capacity,
            time_limit=time_limit,
        ).served
    row["objective"] = float(inst.weight @ served)
    shares = unit_served(inst.weight, served, inst.unit_of)["share"]
    row.update({f"share_pct:{u}": 100 * float(v) for u, v in shares.items()})
    return row


def _sites_frame(
    candidates: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame | None,
    order: NDArray,
    gains: NDArray,
    capacity: NDArray | None,
) -> gpd.GeoDataFrame:
    new = candidates.iloc[order].to_crs(WGS84)
    keep = [c for c in ("id", "name", "source") if c in new.columns]
    frame = gpd.GeoDataFrame(
        new[keep].reset_index(drop=True), geometry=new.geometry.values, crs=WGS84
    )
    frame.insert(0, "role", "new")
    frame.insert(1, "rank", np.arange(1, len(order) + 1))
    frame["gain"] = gains
    n_fixed = 0 if existing is None else len(existing)
    if capacity is not None:
        frame["capacity"] = capacity[n_fixed + order]
    if existing is None or not len(existing):
        return frame
    ex = existing.to_crs(WGS84)
    old = gpd.GeoDataFrame(
        {
            "role": "existing",
            "rank": 0,
            "id": ex["id"].astype(str).to_numpy(),
            "name": ex["name"].astype(str).to_numpy() if "name" in ex else ex["id"].astype(str),
            "source": "existing",
            "gain": np.nan,
        },
        geometry=ex.geometry.values,
        crs=WGS84,
    )
    if capacity is not None:
        old["capacity"] = capacity[:n_fixed]
    return gpd.GeoDataFrame(pd.concat([frame, old], ignore_index=True), crs=WGS84)


def _check_inputs(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame | None,
    model: str,
    k: int,
    target: float | None,
    solver: str,
) -> None:
    require_crs(demand, name="demand")
    require_crs(candidates, name="candidates")
    if existing is not None:
        require_crs(existing, name="existing")
    if model not in MODELS:
        msg = f"unknown model {model!r}: use one of {list(MODELS)}"
        raise InputError(msg, field="model")
    if solver not in SOLVERS:
        msg = f"unknown solver {solver!r}: use one of {list(SOLVERS)}"
        raise InputError(msg, field="solver")
    missing = [
        c
        for c in ("population", "unit_id", "unit_name", "population_model")
        if c not in demand.columns
    ]
    if missing:
        msg = f"demand lacks column(s) {missing}"
        raise InputError(msg, field=missing[0])
    if not isinstance(k, (int, np.integer)) or k < 0:
        msg = f"k must be a whole number >= 0, got {k!r}"
        raise InputError(msg, field="k")
    if target is not None and not (
        isinstance(target, (int, float)) and math.isfinite(target) and 0 < target <= 1
    ):
        msg = f"target must be a share in (0, 1], e.g. 0.9, got {target!r}"
        raise InputError(msg, field="target")
    if demand.empty:
        msg = "no demand points"
        raise InputError(msg, field="demand")
    if candidates.empty:
        msg = "no candidate sites left (after the mask)"
        raise InputError(msg, field="candidates")


def plan_sites(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    reach: Reach,
    model: str = "mclp",
    k: int = 5,
    existing: gpd.GeoDataFrame | None = None,
    target: float | None = None,
    capacity_column: str | None = None,
    candidate_capacity: float | None = None,
    solver: str = "exact",
    time_limit: float = 120.0,
    curve_k: int | None = None,
    excluded: pd.DataFrame | None = None,
    sources: dict[str, str] | None = None,
    progress: _ProgressFn | None = None,
    network: RoadNetwork | None = None,
    max_snap_m: float = MAX_SNAP_M,
) -> SitingResult:
    """Choose new facility sites with MCLP, LSCP or p-median, existing facilities held fixed.

    Parameters
    ----------
    demand : GeoDataFrame
        Points with ``population``, ``unit_id``, ``unit_name`` and ``population_model``
        (see :mod:`geo.analysis.siting_demand`).
    candidates : GeoDataFrame
        Candidate points with ``id`` (and ``name``, ``source``).
    reach : Reach
        Mode, minutes and speed (:func:`geo.analysis.coverage.reach_for`); reach is
        straight-line unless a ``network`` is given.
    model : str
        ``mclp``, ``lscp`` or ``pmedian``.
    k : int
        New sites for MCLP and p-median (LSCP finds the number itself).
    existing : GeoDataFrame, optional
        Existing facilities (``id``, ``name``): always open, counted, never removed.
    target : float, optional
        Share (0..1] of each unit's population to cover (LSCP, default :data:`DEFAULT_TARGET`).
        Given with MCLP or p-median it marks whether and where (curve k) each unit reaches it;
        not given, the outputs have no target columns.
    capacity_column : str, optional
        Column of ``existing`` with the population each facility can serve.
    candidate_capacity : float, optional
        Population a new site can serve (with ``capacity_column``: capacity-constrained model).
    solver : str
        ``exact`` (HiGHS MILP; the greedy also runs, for its gap) or ``greedy``.
    time_limit : float
        Seconds per MILP solve.
    curve_k : int, optional
        Largest k of the marginal-gain curve (default ``k``; for LSCP the number of sites chosen).
        0 skips the curve.
    excluded : DataFrame, optional
        Candidates excluded by a mask, reported.
    sources : dict, optional
        Where demand, candidates and facilities come from (copied into ``params``).
    progress : callable, optional
        Called with a short label after each step.
    network : RoadNetwork, optional
        Road graph of the mode (:func:`geo.analysis.network.read_network`): reach becomes the
        shortest road path from the resident to the site plus the straight access legs
        (:mod:`geo.analysis.siting_network`); the work CRS becomes the network's.
    max_snap_m : float
        With a network: points farther than this from every road node are off the network
        (demand never covered, candidates excluded, existing facilities reach no one).

    Returns
    -------
    SitingResult

    Raises
    ------
    InputError
        For bad parameters, missing columns, a model too large for the exact solver, or a
        network whose roads lie nowhere near the demand.
    CRSError
        When an input has no CRS.
    """
    _check_inputs(demand, candidates, existing, model, k, target, solver)
    shown_target = DEFAULT_TARGET if target is None and model == "lscp" else target
    target = DEFAULT_TARGET if target is None else target
    crs = metric_crs_for(demand) if network is None else network.crs
    if network is not None:  # roads of another area: say so before anything else
        check_near_roads(network, _xy(demand, crs), max_snap_m=max_snap_m)
        candidates, excluded = _on_network(candidates, excluded, network, max_snap_m)
    inst = _instance(
        demand,
        candidates,
        existing,
        reach=reach,
        crs=crs,
        capacity_column=capacity_column,
        candidate_capacity=candidate_capacity,
        network=network,
        max_snap_m=max_snap_m,
    )
    if progress is not None:
        progress("reach matrix")
    sol, greedy = _solve_model(
        inst, model, k=k, target=target, solver=solver, time_limit=time_limit
    )
    if progress is not None:
        progress("solve")
    order, gains = _gain_order(inst, sol, model)
    before = _served_before(inst, time_limit)
    units = _unit_table(inst, demand, sol, before, shown_target, model)
    curve, units = _curve_and_reach(
        inst,
        units,
        model=model,
        order=order,
        solved={k: sol.chosen},
        k_curve=k if curve_k is None else curve_k,
        target=target,
        solver=solver,
        time_limit=time_limit,
        progress=progress,
    )
    sites = _sites_frame(candidates, existing, order, gains, inst.capacity)
    params = _params(
        inst,
        demand,
        candidates,
        sol,
        greedy,
        model=model,
        k=k,
        target=shown_target,
        solver=solver,
        sources=sources or {},
        capacity_column=capacity_column,
        candidate_capacity=candidate_capacity,
        excluded=excluded,
        crs=crs,
        unit_table=units,
    )
    return SitingResult(
        sites,
        curve,
        units,
        params,
        sol,
        excluded if excluded is not None else pd.DataFrame(columns=["id", "reason"]),
        model=model,
        curve_per_k=_curve_per_k(model, solver),
    )


def _curve_per_k(model: str, solver: str) -> bool:
    """Tell whether the gain curve is solved exactly for each k (MCLP, p-median, exact solver)."""
    return model != "lscp" and solver == "exact"


def _gain_texts(model: str, solver: str) -> dict[str, str]:
    """Say what the sites' gains and the gain curve's columns are (for the method text)."""
    what = "population-weighted minutes saved" if model == "pmedian" else "population newly covered"
    texts = {
        "gains_by_rank": f"sites' gain = {what} when the chosen sites are added one by one in "
        "rank order (largest gain first) to the existing facilities; the gains sum to the "
        "final improvement over the existing facilities",
    }
    if _curve_per_k(model, solver):
        texts["gain_curve"] = (
            "optimum with k new sites, solved exactly for each k = 0..K (not nested: the k-site "
            "optimum need not contain the (k-1)-site optimum); 'added by the k-th site' = "
            "optimum(k) - optimum(k-1), so it can differ from the sites' gains (same total at "
            "the chosen k; the best solution found where a solve stops at its time limit)"
        )
    else:
        order = "greedy order" if model != "lscp" else "the chosen sites, largest gain first"
        texts["gain_curve"] = (
            f"objective with the first k sites in {order}; 'added by the k-th site' is that "
            "site's gain in this order"
        )
    return texts


def _on_network(
    candidates: gpd.GeoDataFrame,
    excluded: pd.DataFrame | None,
    network: RoadNetwork,
    max_snap_m: float,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Drop candidates farther than ``max_snap_m`` from the roads; add them to ``excluded``."""
    snap = snap_points(network, _xy(candidates, network.crs), max_snap_m=max_snap_m)
    off = ~snap.on
    excluded = excluded if excluded is not None else pd.DataFrame(columns=["id", "reason"])
    if not off.any():
        return candidates, excluded
    ids = candidates["id"].astype(str) if "id" in candidates else candidates.index.astype(str)
    gone = pd.DataFrame(
        {
            "id": np.asarray(ids)[off],
            "reason": [
                f"{g:,.0f} m from the road network (over {max_snap_m:g} m)" for g in snap.gap_m[off]
            ],
        }
    )
    kept = candidates[~off]
    if kept.empty:
        msg = (
            f"no candidate site lies within {max_snap_m:g} m of the roads in {network.source}: "
            "raise --max-snap-m or use an extract of the units' area"
        )
        raise InputError(msg, file=network.source, field="osm")
    return kept, pd.concat([excluded, gone], ignore_index=True)


def _instance(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame | None,
    *,
    reach: Reach,
    crs: object,
    capacity_column: str | None,
    candidate_capacity: float | None,
    network: RoadNetwork | None = None,
    max_snap_m: float = MAX_SNAP_M,
) -> _Instance:
    """Build the siting instance: weights, fixed existing sites first, capacities, reach matrix."""
    n_fixed = 0 if existing is None else len(existing)
    site_parts = [candidates] if existing is None or not n_fixed else [existing, candidates]
    site_xy = np.vstack([_xy(p, crs) for p in site_parts])
    demand_xy = _xy(demand, crs)
    fixed = np.zeros(len(site_xy), dtype=bool)
    fixed[:n_fixed] = True
    capacity = _capacities(
        existing, len(candidates), column=capacity_column, candidate=candidate_capacity
    )
    weight = pd.to_numeric(demand["population"], errors="coerce").to_numpy(dtype=float)
    if not np.all(weight >= 0):
        msg = "demand population must be numbers >= 0"
        raise InputError(msg, field="population")
    net = None
    if network is None:
        times = reach_matrix(
            demand_xy, site_xy, radius_m=reach.radius_m, metres_per_minute=reach.metres_per_minute
        )
    else:
        net = NetworkTimes.build(network, demand_xy, site_xy, reach=reach, max_snap_m=max_snap_m)
        times = net.cover_minutes()
    return _Instance(
        weight,
        demand["unit_id"].astype(str).to_numpy(),
        fixed,
        times,
        capacity,
        demand_xy,
        site_xy,
        reach,
        net,
    )


def _gain_order(inst: _Instance, sol: Solution, model: str) -> tuple[NDArray, NDArray]:
    """Order the chosen sites by marginal gain (time saved for p-median, else population)."""
    if model == "pmedian":
        return order_by_gain(
            sol.chosen, fixed=inst.fixed, minutes=inst.dense_minutes(), weight=inst.pm_weight
        )
    return order_by_gain(sol.chosen, fixed=inst.fixed, cover=inst.cover, weight=inst.weight)


def _curve_and_reach(
    inst: _Instance,
    units: pd.DataFrame,
    *,
    model: str,
    order: NDArray,
    solved: dict[int, NDArray],
    k_curve: int,
    target: float,
    solver: str,
    time_limit: float,
    progress: _ProgressFn | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compute the marginal-gain curve (empty when ``k_curve`` is 0) and each unit's k reached."""
    if model == "lscp":  # the chosen sites, largest gain first, up to every target
        k_curve = len(order) if k_curve > 0 else 0
    curve = pd.DataFrame()
    if k_curve > 0:
        curve = _curve(
            inst,
            model,
            k_max=k_curve,
            target=target,
            solver=solver,
            time_limit=time_limit,
            progress=progress,
            sequence=order if model == "lscp" else None,
            solved=solved,
        )
        units = _reached_at(units, curve, model)
    return curve, units


def _reached_at(units: pd.DataFrame, curve: pd.DataFrame, model: str) -> pd.DataFrame:
    """First k of the curve at which each unit's share reaches its target (covering models)."""
    if model == "pmedian" or "target_pct" not in units:
        return units
    first = []
    for uid, goal in zip(units["unit_id"], units["target_pct"], strict=True):
        col = f"share_pct:{uid}"
        hit = curve.loc[curve[col] + 1e-6 >= goal, "k"] if col in curve else pd.Series([])
        first.append(int(hit.iloc[0]) if len(hit) else None)
    units = units.copy()
    units["target_reached_at_k"] = pd.array(first, dtype="Int64")
    return units


def _params(
    inst: _Instance,
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    sol: Solution,
    greedy: Solution | None,
    *,
    model: str,
    k: int,
    target: float | None,
    solver: str,
    sources: dict[str, str],
    capacity_column: str | None,
    candidate_capacity: float | None,
    excluded: pd.DataFrame | None,
    crs: object,
    unit_table: pd.DataFrame,
) -> dict[str, str]:
    names = {
        "mclp": "maximal covering (MCLP): at most k new sites maximising population within reach",
        "lscp": "set covering (LSCP): fewest new sites so each unit reaches the target share",
        "pmedian": "p-median: k new sites minimising population-weighted time to the nearest",
    }
    r = inst.reach
    p = {
        "model": names[model],
        "method": f"{sol.method}; status: {sol.status}; MIP gap {sol.mip_gap:.2e}; "
        f"{sol.seconds:.2f} s",
        "k": str(k) if model != "lscp" else f"{len(sol.chosen)} (found by the model)",
        "objective": f"{sol.objective:,.1f}"
        + (" population-weighted minutes" if model == "pmedian" else "")
        + (" new sites" if model == "lscp" else " population covered" if model == "mclp" else ""),
        "mode": r.mode,
        "minutes": f"{r.minutes:g}",
        "speed_kmh": f"{r.speed_kmh:g} ({r.speed_source})",
        "reach": f"straight-line distance {r.radius_m:,.0f} m (speed x minutes), in "
        f"{crs.to_string() if hasattr(crs, 'to_string') else crs} (CGCS2000 Gauss-Kruger)",
        "existing_facilities": f"{int(inst.fixed.sum())}, held fixed (always open, never removed)",
        "candidates": f"{len(candidates)} ("
        + ", ".join(
            f"{s}: {n}"
            for s, n in candidates.get("source", pd.Series(dtype=str)).value_counts().items()
        )
        + ")",
        "candidates_excluded": _excluded_text(excluded),
        "demand_points": f"{len(demand):,}, population {inst.weight.sum():,.0f}",
        "population_model": _model_text(unit_table),
        "capacity": "none (uncapacitated)"
        if capacity_column is None
        else f"existing: column {capacity_column!r}; new sites: {candidate_capacity:g} people "
        "each; demand split fractionally among open sites in reach, no site above its capacity",
        "solver_library": f"HiGHS via scipy.optimize.milp (SciPy {scipy.__version__})",
        "run_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    if target is not None:
        p["target"] = f"{target:.0%} of each unit's population within reach"
    p.update(_gain_texts(model, solver))
    p["reach_kind"] = "straight-line"
    if inst.net is not None:
        p.update(_network_params(inst, model))
    if greedy is not None and solver == "exact":
        gap = _gap(sol, greedy, model)
        p["greedy_heuristic"] = f"objective {greedy.objective:,.1f}; {gap}"
    if unit_table["population_coarse"].any():
        p["caveat"] = (
            "census_uniform (coarse) demand: every site whose reach lies inside one such unit "
            "covers about the same population, so the model tells how many sites and how much "
            "they add, but their positions are near-arbitrary among equals (small differences "
            "come from the demand grid); give a population grid (--population-grid) for where to "
            "build"
        )
    if sol.notes:
        p["notes"] = " | ".join(sol.notes)
    p.update({f"source_{key}": val for key, val in sources.items()})
    return p


def _excluded_text(excluded: pd.DataFrame | None) -> str:
    if excluded is None or excluded.empty:
        return "0"
    off = excluded["reason"].astype(str).str.contains("road network", regex=False)
    parts = []
    if (~off).any():
        parts.append(f"{int((~off).sum())} by the mask (outside the units or in water)")
    if off.any():
        parts.append(f"{int(off.sum())} off the road network")
    return f"{len(excluded)} (" + "; ".join(parts) + ")"


def _network_params(inst: _Instance, model: str) -> dict[str, str]:
    """Network reach: file, profile, direction, snapping and unreachable demand."""
    net = inst.net
    if net is None:
        return {}
    p = net.params()
    never = np.diff(inst.times.tocsr().indptr) == 0
    p["unreachable_within_minutes"] = (
        f"{int(never.sum()):,} demand point(s), population {inst.weight[never].sum():,.0f}, "
        f"reach no site (existing or candidate) within {inst.reach.minutes:g} min by road "
        "(off-network points included): no choice of sites can cover them"
    )
    if model == "pmedian" and inst.unreached is not None:
        none = inst.unreached
        p["pmedian_unreachable"] = (
            f"{int(none.sum()):,} demand point(s), population {inst.weight[none].sum():,.0f}, "
            "have no road path to any site (off the network or cut off): left out of the "
            f"p-median objective; a pair without a road path costs {inst.penalty:,.1f} min "
            "(twice the longest road time of the instance) so that sites people can reach win"
        )
        p["pmedian_times"] = "full road times without a cut-off (every demand-site pair)"
    return p


def _gap(sol: Solution, greedy: Solution, model: str) -> str:
    ref = (
        "the optimum" if sol.status == "optimal" else "the best solution found (not proven optimal)"
    )
    if model == "lscp":
        return f"{int(greedy.objective - sol.objective)} site(s) more than {ref}"
    if not sol.objective and not greedy.objective:
        return f"0 % (same as {ref})"
    if model == "mclp":
        gap = max(0.0, 100 * (sol.objective - greedy.objective) / max(sol.objective, 1e-9))
        return f"{gap:.2f} % less population covered than {ref}"
    gap = max(0.0, 100 * (greedy.objective - sol.objective) / max(sol.objective, 1e-9))
    return f"{gap:.2f} % more weighted minutes than {ref}"
