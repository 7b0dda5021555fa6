"""Facility-siting models on matrices: MCLP, LSCP and p-median, exact (HiGHS) and greedy.

Every model works on *sites* = existing facilities (held fixed: always open, counted, never
removed) followed by candidate sites (chosen by the model).  Demand is a vector of population
weights, one per demand point, each point belonging to a unit (for per-unit targets).

* **MCLP** (maximal covering): open at most ``k`` candidates to maximise the population within
  reach of an open site.
* **LSCP** (set covering with a share target): the fewest candidates so that in every unit at
  least ``target`` of the population is within reach; where a unit cannot reach the target even
  with every candidate open, its target is lowered to the best reachable share (reported).
* **p-median**: open ``k`` candidates to minimise the population-weighted time to the nearest
  open site.

Each takes an optional ``capacity`` per site (population a site can serve, e.g. beds x people per
bed); then demand is assigned fractionally to open sites in reach and no site serves more than its
capacity (the capacity-constrained variants).

Exact models are mixed-integer programs solved by HiGHS through :func:`scipy.optimize.milp`
(installed with SciPy, no system binary).  Uncapacitated covering models aggregate demand points
with the same set of reaching candidates into one row (exact, and what makes 100,000 demand cells
fast).  The greedy heuristics add, one at a time, the site with the largest gain.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from geo.errors import InputError

__all__ = [
    "MODELS",
    "Solution",
    "covered_weight",
    "greedy_lscp",
    "greedy_mclp",
    "greedy_pmedian",
    "order_by_gain",
    "reachable_share",
    "solve_lscp",
    "solve_mclp",
    "solve_pmedian",
    "unit_served",
]

#: Models this module solves.
MODELS: tuple[str, ...] = ("mclp", "lscp", "pmedian")
#: Largest number of assignment variables (demand x sites) of an exact p-median or capacitated
#: model; beyond it use the greedy heuristic or coarser demand.
MAX_ASSIGNMENT_VARS = 400_000
_EPS = 1e-9
#: Grouped MCLP models with more demand groups than this are pruned by LP reduced costs first.
PRUNE_ABOVE = 5_000
#: Relative gap at which a solution counts as optimal (HiGHS ``mip_rel_gap``; also the bound test).
MIP_REL_GAP = 1e-7


@dataclass
class Solution:
    """A solved siting model.

    Attributes
    ----------
    model : str
        ``mclp``, ``lscp`` or ``pmedian``.
    method : str
        ``"exact (HiGHS MILP)"`` or ``"greedy"``.
    chosen : ndarray of int
        Indices (into the candidate columns, 0-based after the fixed sites) of opened candidates.
    objective : float
        Covered population (MCLP, LSCP) or population-weighted minutes (p-median).
    served : ndarray of float
        Share (0..1) of each demand point's population that is covered / served.
    status : str
        Solver message (``"optimal"`` for a proven optimum).
    mip_gap : float
        Relative MIP gap at the end (0 for a proven optimum; NaN for greedy).
    seconds : float
        Wall time of the solve.
    targets : ndarray, optional
        LSCP: the share each unit had to reach (after lowering to the reachable share).
    notes : list of str
        Statements about the run (lowered targets, k larger than the candidates, ...).
    load : ndarray, optional
        Capacity-constrained variants: population assigned to each site (n_sites,).
    """

    model: str
    method: str
    chosen: NDArray[np.int64]
    objective: float
    served: NDArray[np.float64]
    status: str = "optimal"
    mip_gap: float = 0.0
    seconds: float = 0.0
    targets: dict[str, float] | None = None
    notes: list[str] = field(default_factory=list)
    load: NDArray[np.float64] | None = None


def _check(
    cover: sparse.csr_matrix, weight: NDArray, fixed: NDArray, capacity: NDArray | None
) -> None:
    n, m = cover.shape
    if weight.shape != (n,):
        msg = f"weights must have one value per demand point ({n}), got shape {weight.shape}"
        raise InputError(msg, field="population")
    if not np.all(np.isfinite(weight)) or (weight < 0).any():
        msg = "population weights must be finite and >= 0"
        raise InputError(msg, field="population")
    if fixed.shape != (m,):
        msg = f"fixed mask must have one value per site ({m}), got shape {fixed.shape}"
        raise InputError(msg, field="fixed")
    if capacity is not None and (
        capacity.shape != (m,) or not np.all(np.isfinite(capacity)) or (capacity < 0).any()
    ):
        msg = f"capacities must be finite, >= 0 and one per site ({m})"
        raise InputError(msg, field="capacity")


def _solve(
    c: NDArray,
    constraints: list[LinearConstraint],
    integrality: NDArray,
    bounds: Bounds,
    time_limit: float,
) -> tuple[NDArray, str, float]:
    x, status, gap, _ = _solve_bound(c, constraints, integrality, bounds, time_limit)
    return x, status, gap


def _solve_bound(
    c: NDArray,
    constraints: list[LinearConstraint],
    integrality: NDArray,
    bounds: Bounds,
    time_limit: float,
) -> tuple[NDArray, str, float, float]:
    """Solve a MILP (minimise ``c @ x``); return x, status text, relative gap and dual bound."""
    res = milp(
        c,
        constraints=constraints,
        integrality=integrality,
        bounds=bounds,
        options={"time_limit": float(time_limit), "mip_rel_gap": MIP_REL_GAP, "presolve": True},
    )
    if res.x is None:
        msg = (
            f"the solver found no solution within {time_limit:g} s ({res.message}): raise the "
            "time limit, use the greedy solver, fewer candidates or a coarser demand grid"
        )
        raise InputError(msg, field="time_limit")
    status = "optimal" if res.status == 0 else f"not proven optimal: {res.message}"
    gap = float(getattr(res, "mip_gap", 0.0) or 0.0) if res.status != 0 else 0.0
    bound = float(getattr(res, "mip_dual_bound", np.nan) or np.nan)
    return res.x, status, gap, bound


def _group_rows(
    cover: sparse.csr_matrix, keys: NDArray | None = None
) -> tuple[NDArray[np.int64], sparse.csr_matrix]:
    """Group rows with identical column sets (and key); return group of each row and patterns."""
    cover = cover.tocsr()
    cover.sort_indices()
    ind, ptr = cover.indices, cover.indptr
    labels = [ind[ptr[i] : ptr[i + 1]].tobytes() for i in range(cover.shape[0])]
    if keys is not None:
        labels = [f"{k}\x00".encode() + lab for k, lab in zip(keys, labels, strict=True)]
    group, uniques = pd.factorize(pd.Series(labels, dtype=object))
    first = np.full(len(uniques), -1, dtype=np.int64)
    first[group[::-1]] = np.arange(len(group))[::-1]
    return group.astype(np.int64), cover[first]


def covered_weight(cover: sparse.csr_matrix, open_sites: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Which demand points are within reach of an open site.

    Parameters
    ----------
    cover : scipy.sparse matrix (n_demand, n_sites)
        Nonzero where the site reaches the demand point.
    open_sites : ndarray of bool (n_sites,)
        Open sites.

    Returns
    -------
    ndarray of bool (n_demand,)
    """
    return np.asarray(cover.astype(bool) @ open_sites.astype(np.int64)).ravel() > 0


def _split(cover: sparse.csr_matrix, fixed: NDArray[np.bool_]) -> tuple[NDArray, NDArray]:
    """Candidate column indices and rows already covered by a fixed site."""
    cand = np.flatnonzero(~fixed)
    already = covered_weight(cover, fixed) if fixed.any() else np.zeros(cover.shape[0], bool)
    return cand, already


def solve_mclp(
    cover: sparse.csr_matrix,
    weight: NDArray,
    *,
    k: int,
    fixed: NDArray[np.bool_],
    capacity: NDArray | None = None,
    time_limit: float = 120.0,
) -> Solution:
    """Maximal covering: open at most ``k`` candidates to cover the most population.

    Parameters
    ----------
    cover : scipy.sparse matrix (n_demand, n_sites)
        Nonzero where a site reaches a demand point.
    weight : ndarray (n_demand,)
        Population per demand point.
    k : int
        Number of new sites (>= 0).
    fixed : ndarray of bool (n_sites,)
        Existing facilities, always open.
    capacity : ndarray (n_sites,), optional
        Population each site can serve (capacity-constrained variant).
    time_limit : float
        Solver time limit in seconds.

    Returns
    -------
    Solution
        ``objective`` is the population covered (served), existing coverage included.

    Examples
    --------
    >>> from scipy import sparse
    >>> cover = sparse.csr_matrix(np.array([[1, 0], [1, 1], [0, 1]]))
    >>> sol = solve_mclp(cover, np.array([5.0, 1.0, 3.0]), k=1, fixed=np.array([False, False]))
    >>> sol.chosen.tolist(), sol.objective
    ([0], 6.0)
    """
    t0 = time.perf_counter()
    cover = sparse.csr_matrix(cover, dtype=bool)
    weight = np.asarray(weight, dtype=float)
    fixed = np.asarray(fixed, dtype=bool)
    _check(cover, weight, fixed, capacity)
    if k < 0:
        msg = f"k must be >= 0, got {k}"
        raise InputError(msg, field="k")
    if capacity is not None:
        sol = _capacitated_cover(cover, weight, fixed, capacity, k=k, time_limit=time_limit)
        sol.seconds = time.perf_counter() - t0
        return sol
    return _mclp_plain(cover, weight, fixed, k=k, time_limit=time_limit, t0=t0)


def _mclp_plain(
    cover: sparse.csr_matrix,
    weight: NDArray,
    fixed: NDArray[np.bool_],
    *,
    k: int,
    time_limit: float,
    t0: float,
) -> Solution:
    """Solve the uncapacitated MCLP on demand grouped by covering pattern (timed from ``t0``)."""
    cand, already = _split(cover, fixed)
    sub = cover[:, cand]
    live = np.flatnonzero(~already & (weight > 0) & (np.diff(sub.indptr) > 0))
    base = float(weight[already].sum())
    notes = []
    if k > len(cand):
        notes.append(f"k = {k} exceeds the {len(cand)} candidates: all may be opened")
    if len(live) == 0 or k == 0:
        return Solution(
            "mclp",
            "exact (HiGHS MILP)",
            np.array([], dtype=np.int64),
            base,
            already.astype(float),
            seconds=time.perf_counter() - t0,
            notes=notes,
        )
    group, patterns = _group_rows(sub[live])
    w = np.bincount(group, weights=weight[live])
    chosen, status, gap = _mclp_groups(patterns, w, k, time_limit)
    open_sites = fixed.copy()
    open_sites[cand[chosen]] = True
    served = covered_weight(cover, open_sites).astype(float)
    return Solution(
        "mclp",
        "exact (HiGHS MILP)",
        chosen,
        float(weight @ served),
        served,
        status=status,
        mip_gap=gap,
        seconds=time.perf_counter() - t0,
        notes=notes,
    )


def _mclp_model(
    patterns: sparse.csr_matrix, w: NDArray, k: int
) -> tuple[NDArray, list[LinearConstraint], NDArray]:
    """Objective, constraints and integrality of the grouped MCLP (y binary, z in [0, 1])."""
    g, m = patterns.shape
    c = np.concatenate([np.zeros(m), -w])
    a_cover = sparse.hstack([-patterns.astype(float), sparse.identity(g)], format="csr")
    a_k = sparse.csr_matrix(np.concatenate([np.ones(m), np.zeros(g)])[None, :])
    cons = [LinearConstraint(a_cover, -np.inf, 0.0), LinearConstraint(a_k, 0.0, float(k))]
    return c, cons, np.concatenate([np.ones(m), np.zeros(g)])


def _mclp_groups(
    patterns: sparse.csr_matrix, w: NDArray, k: int, time_limit: float
) -> tuple[NDArray[np.int64], str, float]:
    """Solve the grouped MCLP exactly; large models are first pruned by reduced costs.

    A greedy solution improved by swaps is the incumbent: the result is never worse than it,
    also when the MILP stops at its time limit (then the status says so, with the gap to the
    solver's bound).  For models with more than :data:`PRUNE_ABOVE` demand groups: the LP
    relaxation gives a bound ``L`` and reduced costs ``d``; a candidate at 0 in the LP can only
    be in a solution covering more than the incumbent if ``L + d_j`` beats the
    incumbent, so the others are dropped before the MILP.  The better of the MILP on the
    remaining candidates and the incumbent is optimal for the whole problem.  When the incumbent
    reaches an upper bound (the k largest single-site covers, or the LP relaxation) it is
    optimal and no MILP is run: so with census_uniform demand, where many sites cover the same
    population, the proof takes no branching.
    """
    m = patterns.shape[1]
    c, cons, integrality = _mclp_model(patterns, w, k)
    incumbent = _swap_improve(
        patterns, w, greedy_mclp(patterns, w, k=k, fixed=np.zeros(m, bool)).chosen
    )
    single = np.asarray(sparse.csr_matrix(patterns, dtype=float).T @ w).ravel()
    if _reaches(incumbent.objective, float(np.sort(single)[::-1][:k].sum())):
        return incumbent.chosen, "optimal", 0.0
    keep = np.arange(m)
    if patterns.shape[0] > PRUNE_ABOVE and k > 0:
        lp = linprog(
            c,
            A_ub=sparse.vstack([con.A for con in cons], format="csr"),
            b_ub=np.concatenate([con.ub for con in cons]),
            bounds=(0.0, 1.0),
            method="highs-ipm",
        )
        if lp.status == 0 and lp.lower.marginals is not None:
            y = lp.x[:m]
            rounded = _swap_improve(patterns, w, np.argsort(-y)[:k])
            if rounded.objective > incumbent.objective:
                incumbent = rounded
            if _reaches(incumbent.objective, -float(lp.fun)):
                return incumbent.chosen, "optimal", 0.0
            reduced = np.asarray(lp.lower.marginals)[:m]
            slack = 1e-6 * max(1.0, abs(lp.fun))
            keep = np.flatnonzero((y > 1e-9) | (lp.fun + reduced <= -incumbent.objective + slack))
    sub = patterns[:, keep].tocsr()
    rows = np.flatnonzero(np.diff(sub.indptr) > 0)
    group, sub = _group_rows(sub[rows])
    c, cons, integrality = _mclp_model(sub, np.bincount(group, weights=w[rows]), k)
    try:
        x, status, gap, bound = _solve_bound(c, cons, integrality, Bounds(0.0, 1.0), time_limit)
    except InputError:  # no MILP solution within the time limit: the incumbent stands
        status = f"not proven optimal: HiGHS found no solution within {time_limit:g} s"
        return incumbent.chosen, f"{status}; greedy + swaps kept", float("nan")
    chosen = np.sort(keep[np.flatnonzero(x[: len(keep)] > 0.5)])
    best = -float(c @ x)
    if best + 1e-9 * max(1.0, incumbent.objective) < incumbent.objective:
        chosen, best = incumbent.chosen, incumbent.objective
    if status != "optimal":  # time limit: the best of HiGHS and greedy + swaps, gap to the bound
        gap = (-bound - best) / max(-bound, 1e-9) if np.isfinite(bound) else float("nan")
        status = f"{status}; best of HiGHS and greedy + swaps kept, upper bound {-bound:,.1f}"
    return chosen, status, gap


def _reaches(objective: float, bound: float) -> bool:
    """Tell whether a covering objective reaches an upper bound (the MILP's relative gap)."""
    return objective >= bound - MIP_REL_GAP * max(1.0, abs(bound))


def _swap_improve(patterns: sparse.csr_matrix, w: NDArray, chosen: NDArray) -> Solution:
    """Improve a covering solution by 1-for-1 swaps while one gains (a better incumbent)."""
    cols_t = patterns.T.tocsr().astype(float)
    cover = sparse.csr_matrix(patterns, dtype=float)
    chosen = [int(c) for c in chosen]
    improved = True
    for _ in range(20):  # passes
        if not improved or not chosen:
            break
        improved = False
        for pos in range(len(chosen)):
            others = np.zeros(patterns.shape[1])
            others[[c for i, c in enumerate(chosen) if i != pos]] = 1.0
            covered_others = np.asarray(cover @ others).ravel() > 0
            free = np.where(covered_others, 0.0, w)
            gains = cols_t @ free
            current = gains[chosen[pos]]
            gains[chosen] = -1.0
            best = int(np.argmax(gains))
            if gains[best] > current * (1 + 1e-12) + 1e-9:
                chosen[pos] = best
                improved = True
    open_sites = np.zeros(patterns.shape[1])
    open_sites[chosen] = 1.0
    served = (np.asarray(cover @ open_sites).ravel() > 0).astype(float)
    return Solution(
        "mclp",
        "greedy + swaps",
        np.array(sorted(chosen), dtype=np.int64),
        float(w @ served),
        served,
        "heuristic",
        float("nan"),
    )


def _assignment(
    cover: sparse.csr_matrix, weight: NDArray
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray]:
    """Pairs (demand, site) in reach with positive population, for assignment variables."""
    coo = cover.tocoo()
    keep = weight[coo.row] > 0
    rows, cols = coo.row[keep].astype(np.int64), coo.col[keep].astype(np.int64)
    if len(rows) > MAX_ASSIGNMENT_VARS:
        msg = (
            f"the capacity-constrained model needs {len(rows):,} assignment variables (limit "
            f"{MAX_ASSIGNMENT_VARS:,}): use a coarser demand grid or fewer candidates"
        )
        raise InputError(msg, field="capacity")
    return rows, cols, weight[rows]


def _capacity_rows(
    rows: NDArray, cols: NDArray, wr: NDArray, n: int, m: int, capacity: NDArray, fixed: NDArray
) -> tuple[sparse.csr_matrix, sparse.csr_matrix, NDArray]:
    """Matrices of 'sum_j x_ij <= 1' and 'sum_i w_i x_ij - cap_j y_j <= cap_j [fixed]'."""
    p = len(rows)
    cand = np.flatnonzero(~fixed)
    a_demand = sparse.csr_matrix((np.ones(p), (rows, np.arange(p))), shape=(n, p))
    a_load = sparse.csr_matrix((wr, (cols, np.arange(p))), shape=(m, p))
    y_part = sparse.csr_matrix(
        (-capacity[cand], (cand, np.arange(len(cand)))), shape=(m, len(cand))
    )
    upper = np.where(fixed, capacity, 0.0)
    return a_demand, sparse.hstack([y_part, a_load], format="csr"), upper


def _capacitated_cover(
    cover: sparse.csr_matrix,
    weight: NDArray,
    fixed: NDArray,
    capacity: NDArray,
    *,
    k: int | None,
    time_limit: float,
    unit_of: NDArray | None = None,
    target_weight: dict[str, float] | None = None,
) -> Solution:
    """Capacitated MCLP (``k`` given) or capacitated LSCP (``target_weight`` per unit)."""
    n, m = cover.shape
    cand = np.flatnonzero(~fixed)
    mc = len(cand)
    rows, cols, wr = _assignment(cover, weight)
    p = len(rows)
    a_demand, a_load, upper = _capacity_rows(rows, cols, wr, n, m, capacity, fixed)
    cons = [
        LinearConstraint(sparse.hstack([sparse.csr_matrix((n, mc)), a_demand]), -np.inf, 1.0),
        LinearConstraint(a_load, -np.inf, upper),
    ]
    if k is not None:
        c = np.concatenate([np.zeros(mc), -wr])
        a_k = sparse.csr_matrix(np.concatenate([np.ones(mc), np.zeros(p)])[None, :])
        cons.append(LinearConstraint(a_k, 0.0, float(k)))
    else:
        c = np.concatenate([np.ones(mc), np.zeros(p)])
        assert unit_of is not None and target_weight is not None
        names = list(target_weight)
        index = {u: i for i, u in enumerate(names)}
        urow = np.array([index.get(u, -1) for u in unit_of[rows]])
        ok = urow >= 0
        a_unit = sparse.csr_matrix((wr[ok], (urow[ok], np.arange(p)[ok])), shape=(len(names), p))
        need = np.array([target_weight[u] for u in names]) * (1 - 1e-9)
        cons.append(
            LinearConstraint(
                sparse.hstack([sparse.csr_matrix((len(names), mc)), a_unit]), need, np.inf
            )
        )
    x, status, gap = _solve(
        c, cons, np.concatenate([np.ones(mc), np.zeros(p)]), Bounds(0.0, 1.0), time_limit
    )
    chosen = np.flatnonzero(x[:mc] > 0.5)
    served = np.minimum(np.bincount(rows, weights=x[mc:], minlength=n), 1.0)
    model = "mclp" if k is not None else "lscp"
    objective = float(weight @ served) if k is not None else float(len(chosen))
    sol = Solution(model, "exact (HiGHS MILP)", chosen, objective, served, status, gap)
    sol.load = np.bincount(cols, weights=wr * x[mc:], minlength=m)
    return sol


def unit_served(weight: NDArray, served: NDArray, unit_of: NDArray) -> pd.DataFrame:
    """Sum population and served population per unit.

    Parameters
    ----------
    weight, served : ndarray (n_demand,)
        Population and served share per demand point.
    unit_of : ndarray (n_demand,)
        Unit id of each demand point.

    Returns
    -------
    DataFrame
        Index unit id; columns ``population``, ``served`` and ``share`` (0..1).
    """
    frame = pd.DataFrame({"unit": unit_of, "population": weight, "served": weight * served})
    out = frame.groupby("unit", sort=False)[["population", "served"]].sum()
    out["share"] = np.where(out["population"] > 0, out["served"] / out["population"], np.nan)
    return out


def reachable_share(
    cover: sparse.csr_matrix,
    weight: NDArray,
    unit_of: NDArray,
    *,
    capacity: NDArray | None = None,
    fixed: NDArray | None = None,
    time_limit: float = 60.0,
) -> pd.Series:
    """Best share of each unit's population that can be covered with every candidate open.

    Parameters
    ----------
    cover : scipy.sparse matrix (n_demand, n_sites)
    weight : ndarray (n_demand,)
    unit_of : ndarray (n_demand,)
    capacity : ndarray (n_sites,), optional
        With capacities, each unit's best share is a linear program (the unit alone served).
    fixed : ndarray of bool, optional
        Only needed with capacities (fixed sites' capacity is the same; flag kept for clarity).
    time_limit : float
        Per-LP time limit (capacitated case).

    Returns
    -------
    Series
        Unit id -> share (0..1).
    """
    cover = sparse.csr_matrix(cover, dtype=bool)
    all_open = np.ones(cover.shape[1], dtype=bool)
    if capacity is None:
        served = covered_weight(cover, all_open).astype(float)
        return unit_served(weight, served, unit_of)["share"]
    n, m = cover.shape
    out = {}
    for unit in pd.unique(unit_of):
        w_u = np.where(unit_of == unit, weight, 0.0)
        rows, cols, wr = _assignment(cover, w_u)
        a_demand, a_load, _ = _capacity_rows(rows, cols, wr, n, m, capacity, np.ones(m, dtype=bool))
        a_load = a_load[:, :]  # all sites open: y columns are empty
        x, _, _ = _solve(
            -wr,
            [LinearConstraint(a_demand, -np.inf, 1.0), LinearConstraint(a_load, -np.inf, capacity)],
            np.zeros(len(rows)),
            Bounds(0.0, 1.0),
            time_limit,
        )
        total = w_u.sum()
        out[unit] = float(wr @ x) / total if total > 0 else np.nan
    return pd.Series(out, name="share")


def _lscp_targets(
    reach: pd.Series, population: pd.Series, target: float
) -> tuple[dict[str, float], list[str]]:
    targets, notes = {}, []
    for unit, share in reach.items():
        if not population.get(unit, 0) > 0:
            continue
        goal = target
        if share + 1e-9 < target:
            goal = float(share)
            notes.append(
                f"unit {unit}: target {target:.0%} is not reachable; best reachable share "
                f"{share:.1%} used"
            )
        targets[str(unit)] = goal
    return targets, notes


def solve_lscp(
    cover: sparse.csr_matrix,
    weight: NDArray,
    *,
    unit_of: NDArray,
    target: float = 0.9,
    fixed: NDArray[np.bool_],
    capacity: NDArray | None = None,
    time_limit: float = 120.0,
) -> Solution:
    """Set covering with a share target: fewest candidates so each unit reaches ``target``.

    Parameters
    ----------
    cover : scipy.sparse matrix (n_demand, n_sites)
    weight : ndarray (n_demand,)
    unit_of : ndarray (n_demand,)
        Unit id of each demand point (one unit for the classic LSCP).
    target : float
        Share (0 < target <= 1) of each unit's population to cover; 1 is the classic LSCP.
    fixed : ndarray of bool (n_sites,)
    capacity : ndarray (n_sites,), optional
    time_limit : float

    Returns
    -------
    Solution
        ``objective`` is the number of new sites; ``targets`` the share each unit had to reach
        (lowered to the best reachable share where ``target`` is impossible, with a note).

    Examples
    --------
    >>> from scipy import sparse
    >>> cover = sparse.csr_matrix(np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1]]))
    >>> sol = solve_lscp(cover, np.ones(3), unit_of=np.array(["a"] * 3), target=1.0,
    ...                  fixed=np.zeros(3, bool))
    >>> sol.objective
    2.0
    """
    t0 = time.perf_counter()
    cover = sparse.csr_matrix(cover, dtype=bool)
    weight = np.asarray(weight, dtype=float)
    fixed = np.asarray(fixed, dtype=bool)
    unit_of = np.asarray(unit_of).astype(str)
    _check(cover, weight, fixed, capacity)
    if not 0 < target <= 1:
        msg = f"target must be a share in (0, 1], got {target!r}"
        raise InputError(msg, field="target")
    pop = pd.Series(weight).groupby(unit_of).sum()
    reach = reachable_share(cover, weight, unit_of, capacity=capacity, time_limit=time_limit)
    targets, notes = _lscp_targets(reach, pop, target)
    target_weight = {u: t * float(pop[u]) for u, t in targets.items()}
    if capacity is not None:
        sol = _capacitated_cover(
            cover,
            weight,
            fixed,
            capacity,
            k=None,
            time_limit=time_limit,
            unit_of=unit_of,
            target_weight=target_weight,
        )
    else:
        sol = _lscp_plain(cover, weight, fixed, unit_of, target_weight, time_limit)
        if sol.status != "optimal":  # time limit: never worse than the greedy
            greedy = greedy_lscp(cover, weight, unit_of=unit_of, target=target, fixed=fixed)
            if greedy.objective < sol.objective:
                sol.chosen, sol.objective, sol.served = (
                    greedy.chosen,
                    greedy.objective,
                    greedy.served,
                )
                sol.status += "; the greedy needed fewer sites and is kept"
    sol.targets, sol.notes = targets, notes + sol.notes
    sol.seconds = time.perf_counter() - t0
    return sol


def _lscp_plain(
    cover: sparse.csr_matrix,
    weight: NDArray,
    fixed: NDArray,
    unit_of: NDArray,
    target_weight: dict[str, float],
    time_limit: float,
) -> Solution:
    cand, already = _split(cover, fixed)
    sub = cover[:, cand]
    have = pd.Series(np.where(already, weight, 0.0)).groupby(unit_of).sum()
    need = {u: tw - float(have.get(u, 0.0)) for u, tw in target_weight.items()}
    need = {u: v for u, v in need.items() if v > 1e-9 * max(1.0, target_weight[u])}
    if not need:
        served = already.astype(float)
        return Solution("lscp", "exact (HiGHS MILP)", np.array([], np.int64), 0.0, served)
    live = np.flatnonzero(
        ~already & (weight > 0) & (np.diff(sub.indptr) > 0) & np.isin(unit_of, list(need))
    )
    group, patterns = _group_rows(sub[live], keys=unit_of[live])
    w = np.bincount(group, weights=weight[live])
    g_unit = np.empty(len(w), dtype=object)
    g_unit[group] = unit_of[live]
    g, m = patterns.shape
    names = list(need)
    urow = np.array([names.index(u) for u in g_unit])
    a_cover = sparse.hstack([-patterns.astype(float), sparse.identity(g)], format="csr")
    a_unit = sparse.hstack(
        [
            sparse.csr_matrix((len(names), m)),
            sparse.csr_matrix((w, (urow, np.arange(g))), shape=(len(names), g)),
        ],
        format="csr",
    )
    lower = np.array([need[u] for u in names]) * (1 - 1e-9)
    x, status, gap = _solve(
        np.concatenate([np.ones(m), np.zeros(g)]),
        [LinearConstraint(a_cover, -np.inf, 0.0), LinearConstraint(a_unit, lower, np.inf)],
        np.concatenate([np.ones(m), np.zeros(g)]),
        Bounds(0.0, 1.0),
        time_limit,
    )
    chosen = np.flatnonzero(x[:m] > 0.5)
    open_sites = fixed.copy()
    open_sites[cand[chosen]] = True
    served = covered_weight(cover, open_sites).astype(float)
    return Solution("lscp", "exact (HiGHS MILP)", chosen, float(len(chosen)), served, status, gap)


def _pmedian_k(
    k: int,
    *,
    n: int,
    m: int,
    cand: NDArray,
    fixed: NDArray[np.bool_],
    weight: NDArray,
    capacity: NDArray | None,
    notes: list[str],
) -> int:
    """Cap ``k`` at the candidates (noted) and refuse p-median instances that cannot be solved."""
    mc = len(cand)
    if k > mc:
        notes.append(f"k = {k} exceeds the {mc} candidates: all are opened")
    k = min(k, mc)
    if not fixed.any() and k < 1:
        msg = "p-median needs at least one open site: k >= 1 or an existing facility"
        raise InputError(msg, field="k")
    if n * m > MAX_ASSIGNMENT_VARS:
        msg = (
            f"exact p-median needs {n * m:,} assignment variables (limit {MAX_ASSIGNMENT_VARS:,}):"
            " use --solver greedy, a coarser demand grid or fewer candidates"
        )
        raise InputError(msg, field="solver")
    if (
        capacity is not None
        and capacity[fixed].sum() + np.sort(capacity[cand])[::-1][:k].sum() < weight.sum() - 1e-9
    ):
        msg = "capacities are too small to serve all demand with k new sites"
        raise InputError(msg, field="capacity")
    return k


def _pmedian_constraints(
    n: int,
    m: int,
    *,
    cand: NDArray,
    k: int,
    weight: NDArray,
    fixed: NDArray[np.bool_],
    capacity: NDArray | None,
) -> list[LinearConstraint]:
    """Return the p-median MILP rows: one assignment each, only to open sites, k opened, loads."""
    mc = len(cand)
    # variables: y (mc), x (n*m, row-major)
    p = n * m
    col = np.arange(p).reshape(n, m)
    a_assign = sparse.csr_matrix(
        (np.ones(p), (np.repeat(np.arange(n), m), col.ravel())), shape=(n, p)
    )
    cons = [LinearConstraint(sparse.hstack([sparse.csr_matrix((n, mc)), a_assign]), 1.0, 1.0)]
    # x_ij - y_j <= 0 for candidate columns
    xi = col[:, cand].ravel()
    yj = np.tile(np.arange(mc), n)
    r = np.arange(len(xi))
    a_link = sparse.csr_matrix(
        (
            np.concatenate([np.ones(len(r)), -np.ones(len(r))]),
            (np.concatenate([r, r]), np.concatenate([mc + xi, yj])),
        ),
        shape=(len(r), mc + p),
    )
    cons.append(LinearConstraint(a_link, -np.inf, 0.0))
    a_k = sparse.csr_matrix(np.concatenate([np.ones(mc), np.zeros(p)])[None, :])
    cons.append(LinearConstraint(a_k, float(k), float(k)))
    if capacity is not None:
        rows = np.repeat(np.arange(n), m)
        cols = np.tile(np.arange(m), n)
        _, a_load, upper = _capacity_rows(rows, cols, weight[rows], n, m, capacity, fixed)
        cons.append(LinearConstraint(a_load, -np.inf, upper))
    return cons


def solve_pmedian(
    minutes: NDArray,
    weight: NDArray,
    *,
    k: int,
    fixed: NDArray[np.bool_],
    capacity: NDArray | None = None,
    time_limit: float = 120.0,
) -> Solution:
    """p-median: open ``k`` candidates to minimise population-weighted time to the nearest site.

    Parameters
    ----------
    minutes : ndarray (n_demand, n_sites)
        Travel time from each demand point to each site (dense).
    weight : ndarray (n_demand,)
    k : int
        New sites to open (all candidates when fewer than ``k``).
    fixed : ndarray of bool (n_sites,)
    capacity : ndarray (n_sites,), optional
        Capacity-constrained variant: demand split among open sites, none above its capacity.
    time_limit : float

    Returns
    -------
    Solution
        ``objective`` is the population-weighted sum of minutes; ``served`` is all ones.

    Examples
    --------
    >>> t = np.array([[0.0, 4.0], [1.0, 1.0], [4.0, 0.0]])
    >>> sol = solve_pmedian(t, np.array([5.0, 1.0, 1.0]), k=1, fixed=np.array([False, False]))
    >>> sol.chosen.tolist(), sol.objective
    ([0], 5.0)
    """
    t0 = time.perf_counter()
    minutes = np.asarray(minutes, dtype=float)
    weight = np.asarray(weight, dtype=float)
    fixed = np.asarray(fixed, dtype=bool)
    n, m = minutes.shape
    _check(sparse.csr_matrix((n, m)), weight, fixed, capacity)
    cand = np.flatnonzero(~fixed)
    mc = len(cand)
    notes = []
    k = _pmedian_k(
        k, n=n, m=m, cand=cand, fixed=fixed, weight=weight, capacity=capacity, notes=notes
    )
    p = n * m
    cons = _pmedian_constraints(n, m, cand=cand, k=k, weight=weight, fixed=fixed, capacity=capacity)
    c = np.concatenate([np.zeros(mc), (weight[:, None] * minutes).ravel()])
    x, status, gap = _solve(
        c, cons, np.concatenate([np.ones(mc), np.zeros(p)]), Bounds(0.0, 1.0), time_limit
    )
    chosen = np.flatnonzero(x[:mc] > 0.5)
    return Solution(
        "pmedian",
        "exact (HiGHS MILP)",
        chosen,
        float(c @ x),
        np.ones(n),
        status,
        gap,
        time.perf_counter() - t0,
        notes=notes,
        load=(weight[:, None] * x[mc:].reshape(n, m)).sum(axis=0) if capacity is not None else None,
    )


def greedy_mclp(
    cover: sparse.csr_matrix,
    weight: NDArray,
    *,
    k: int,
    fixed: NDArray[np.bool_],
    stop: Callable[[NDArray], bool] | None = None,
) -> Solution:
    """Greedy maximal covering: add the candidate covering the most uncovered population.

    Parameters
    ----------
    cover : scipy.sparse matrix (n_demand, n_sites)
    weight : ndarray (n_demand,)
    k : int
        Most sites to add.
    fixed : ndarray of bool (n_sites,)
    stop : callable, optional
        Called with the covered mask after each addition; True stops early (used by LSCP).

    Returns
    -------
    Solution
        ``chosen`` in the order added.
    """
    t0 = time.perf_counter()
    cover = sparse.csr_matrix(cover, dtype=bool)
    weight = np.asarray(weight, dtype=float)
    chosen, covered = _greedy_picks(cover, weight, fixed, limit=k, stop=stop)
    served = covered.astype(float)
    return Solution(
        "mclp",
        "greedy",
        np.array(chosen, dtype=np.int64),
        float(weight @ served),
        served,
        "heuristic",
        float("nan"),
        time.perf_counter() - t0,
    )


def greedy_lscp(
    cover: sparse.csr_matrix,
    weight: NDArray,
    *,
    unit_of: NDArray,
    target: float = 0.9,
    fixed: NDArray[np.bool_],
) -> Solution:
    """Greedy share covering: add the best-covering candidate until every unit meets its target.

    Parameters
    ----------
    cover, weight, unit_of, target, fixed
        As for :func:`solve_lscp` (uncapacitated).

    Returns
    -------
    Solution
    """
    t0 = time.perf_counter()
    cover = sparse.csr_matrix(cover, dtype=bool)
    weight = np.asarray(weight, dtype=float)
    unit_of = np.asarray(unit_of).astype(str)
    pop = pd.Series(weight).groupby(unit_of).sum()
    reach = reachable_share(cover, weight, unit_of)
    targets, notes = _lscp_targets(reach, pop, target)
    codes, names = pd.factorize(unit_of)
    goal = np.array([targets.get(u, 0.0) * pop[u] for u in names]) * (1 - 1e-9)
    pending = np.ones(len(weight), dtype=bool)

    def met(covered: NDArray) -> bool:
        have = np.bincount(codes, weights=np.where(covered, weight, 0.0), minlength=len(names))
        pending[:] = (have < goal)[codes]
        return bool((have >= goal).all())

    chosen, covered = _greedy_picks(cover, weight, fixed, stop=met, counts=pending)
    sol = Solution(
        "lscp",
        "greedy",
        np.array(chosen, dtype=np.int64),
        float(len(chosen)),
        covered.astype(float),
        "heuristic",
        float("nan"),
    )
    sol.targets, sol.notes = targets, notes
    sol.seconds = time.perf_counter() - t0
    return sol


def _greedy_picks(
    cover: sparse.csr_matrix,
    weight: NDArray,
    fixed: NDArray,
    *,
    limit: int | None = None,
    stop: Callable[[NDArray], bool] | None = None,
    counts: NDArray | None = None,
) -> tuple[list[int], NDArray]:
    """Greedy loop shared by MCLP and LSCP: add the candidate covering the most population.

    ``stop`` is asked with the covered mask before each addition; ``counts`` (updated in place
    by ``stop``) marks the demand that still counts towards a candidate's gain.  Returns the
    candidates chosen (indices among the non-fixed sites, in order) and the covered mask.
    """
    cand, covered = _split(cover, np.asarray(fixed, dtype=bool))
    sub_t = cover[:, cand].T.tocsr().astype(float)
    chosen: list[int] = []
    most = len(cand) if limit is None else min(limit, len(cand))
    while len(chosen) < most:
        if stop is not None and stop(covered):
            break
        ignore = covered if counts is None else covered | ~counts
        gains = sub_t @ np.where(ignore, 0.0, weight)
        if chosen:
            gains[chosen] = -1.0
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            break
        chosen.append(best)
        covered = covered | (sub_t[best].toarray().ravel() > 0)
    return chosen, covered


def greedy_pmedian(
    minutes: NDArray, weight: NDArray, *, k: int, fixed: NDArray[np.bool_]
) -> Solution:
    """Greedy p-median: add the candidate that most lowers the weighted time, ``k`` times.

    Parameters
    ----------
    minutes : ndarray (n_demand, n_sites)
    weight : ndarray (n_demand,)
    k : int
    fixed : ndarray of bool (n_sites,)

    Returns
    -------
    Solution
    """
    t0 = time.perf_counter()
    minutes = np.asarray(minutes, dtype=float)
    weight = np.asarray(weight, dtype=float)
    fixed = np.asarray(fixed, dtype=bool)
    cand = np.flatnonzero(~fixed)
    current = minutes[:, fixed].min(axis=1) if fixed.any() else np.full(len(weight), np.inf)
    chosen: list[int] = []
    for _ in range(min(k, len(cand))):
        cost = (weight[:, None] * np.minimum(current[:, None], minutes[:, cand])).sum(axis=0)
        if chosen:
            cost[chosen] = np.inf
        best = int(np.argmin(cost))
        chosen.append(best)
        current = np.minimum(current, minutes[:, cand[best]])
    return Solution(
        "pmedian",
        "greedy",
        np.array(chosen, dtype=np.int64),
        float(weight @ current),
        np.ones(len(weight)),
        "heuristic",
        float("nan"),
        time.perf_counter() - t0,
    )


def order_by_gain(
    chosen: NDArray[np.int64],
    *,
    fixed: NDArray[np.bool_],
    cover: sparse.csr_matrix | None = None,
    minutes: NDArray | None = None,
    weight: NDArray,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Order chosen candidates by marginal gain (greedy within the solution).

    Parameters
    ----------
    chosen : ndarray of int
        Candidate indices of a solution.
    fixed : ndarray of bool (n_sites,)
    cover : scipy.sparse matrix, optional
        For covering models: gain = population newly covered.
    minutes : ndarray, optional
        For p-median: gain = reduction of population-weighted minutes.
    weight : ndarray (n_demand,)

    Returns
    -------
    (ndarray, ndarray)
        Chosen indices in order, and each one's gain given the existing facilities and the
        sites before it (gains sum to the solution's improvement over the existing facilities).
    """
    cand = np.flatnonzero(~fixed)
    left = [int(c) for c in chosen]
    order: list[int] = []
    gains: list[float] = []
    if cover is not None:
        cover = sparse.csr_matrix(cover, dtype=bool)
        covered = covered_weight(cover, fixed) if fixed.any() else np.zeros(len(weight), bool)
        cols = cover[:, cand[left]].T.tocsr().astype(float) if left else None
        while left:
            g = cols @ np.where(covered, 0.0, weight)
            g[[i for i, c in enumerate(chosen) if int(c) in order]] = -1.0
            i = int(np.argmax(g))
            order.append(int(chosen[i]))
            gains.append(float(g[i]))
            covered = covered | (cols[i].toarray().ravel() > 0)
            left.remove(int(chosen[i]))
    else:
        assert minutes is not None
        current = minutes[:, fixed].min(axis=1) if fixed.any() else None
        while left:
            best, best_cost = -1, np.inf
            for c in left:
                col = minutes[:, cand[c]]
                cost = weight @ (col if current is None else np.minimum(current, col))
                if cost < best_cost:
                    best, best_cost = c, cost
            before = np.inf if current is None else float(weight @ current)
            gains.append(before - best_cost if np.isfinite(before) else float("nan"))
            col = minutes[:, cand[best]]
            current = col.copy() if current is None else np.minimum(current, col)
            order.append(best)
            left.remove(best)
    return np.array(order, dtype=np.int64), np.array(gains, dtype=float)
