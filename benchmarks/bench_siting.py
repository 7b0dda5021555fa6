"""Benchmark of the siting models (one run on this machine; prints a table).

Instance (synthetic, seeded): a 31.7 x 31.7 km county-sized square in the CGCS2000
Gauss-Kruger zone 114 E, 100,489 demand cells (317 x 317) on a 100 m grid whose population comes
from 25 towns (Gaussian kernels) over a rural background (1.4 M people in all), 2,000 candidate
sites at random positions, walk 15 minutes (1,000 m straight line), k = 20, no existing
facilities.

1. :mod:`geo.analysis.siting` exact MCLP (HiGHS via ``scipy.optimize.milp``), reach matrix included;
   the greedy heuristic on the same matrix and its gap.
2. PySAL ``spopt`` ``MCLP.from_cost_matrix`` + CBC on the same instance, in a child process
   capped at ``--spopt-cap`` seconds (it needs the dense 100,000 x 2,000 cost matrix).
3. Both on a small instance (2,500 cells, 50 candidates, k = 5, same density of candidates)
   where spopt finishes, to check the same optimum and give a ratio that does not depend on the
   cap.

4. ``--network``: reach over a road network instead (:mod:`geo.analysis.siting_network`): a
   synthetic 250 x 250 street grid (62,500 nodes, 124,500 edges, 127 m blocks) over the same
   square, built through :func:`geo.analysis.network.network_from_edges`; the same demand and
   candidates snapped to their nearest node; walk 15 minutes (1,000 m of road, access legs
   included), k = 20; then drive 3 minutes (1,500 m) with every other east-west street one-way
   (directed graph).  Times: graph build, the sparse cover matrix (chunked Dijkstra), the exact
   MCLP.  Run it alone so that the peak RSS is its own.

Peak memory is the process's peak RSS (``resource.getrusage``).

Run: ``python benchmarks/bench_siting.py [--spopt-cap SECONDS]`` or
``python benchmarks/bench_siting.py --network``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import signal
import time
import warnings

import numpy as np
from scipy import sparse

from geo.analysis.siting import greedy_mclp, solve_mclp
from geo.analysis.siting_plan import reach_matrix

SEED = 2026
RADIUS_M = 1000.0  # walk 4 km/h x 15 min
MPM = 4000.0 / 60.0


def instance(
    n_side: int, n_cand: int, seed: int = SEED
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Demand cell centres (n_side**2, 100 m grid), their population, candidate positions."""
    rng = np.random.default_rng(seed)
    side = n_side * 100.0
    xs = (np.arange(n_side) + 0.5) * 100.0
    gx, gy = (a.ravel() for a in np.meshgrid(xs, xs))
    pop = np.full(gx.shape, 2.0)
    for _ in range(25):
        cx, cy = rng.uniform(0, side, 2)
        sigma = rng.uniform(400, 2500)
        pop += rng.uniform(30, 400) * np.exp(-((gx - cx) ** 2 + (gy - cy) ** 2) / (2 * sigma**2))
    pop *= 1_400_000 * (len(gx) / 100_000) / pop.sum()
    cand = rng.uniform(0, side, (n_cand, 2))
    return np.column_stack([gx, gy]), pop, cand


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    """CPU seconds of this process and its threads (wall time suffers on a shared machine)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_ours(n_side: int, n_cand: int, k: int) -> dict:
    demand, pop, cand = instance(n_side, n_cand)
    c0 = _cpu_s()
    t0 = time.perf_counter()
    times = reach_matrix(demand, cand, radius_m=RADIUS_M, metres_per_minute=MPM)
    t_matrix = time.perf_counter() - t0
    fixed = np.zeros(n_cand, dtype=bool)
    sol = solve_mclp(times, pop, k=k, fixed=fixed, time_limit=120)
    t_exact = time.perf_counter() - t0
    cpu_exact = _cpu_s() - c0
    t1 = time.perf_counter()
    greedy = greedy_mclp(times, pop, k=k, fixed=fixed)
    t_greedy = time.perf_counter() - t1
    return {
        "demand": len(pop),
        "candidates": n_cand,
        "pairs_in_reach": int(times.nnz),
        "matrix_s": t_matrix,
        "exact_s": t_exact,
        "exact_cpu_s": cpu_exact,
        "objective": sol.objective,
        "status": sol.status,
        "greedy_s": t_greedy,
        "greedy_objective": greedy.objective,
        "greedy_gap_pct": 100 * (sol.objective - greedy.objective) / sol.objective,
        "population": float(pop.sum()),
    }


def _spopt_child(n_side: int, n_cand: int, k: int, queue: mp.Queue) -> None:
    import pulp
    from spopt.locate import MCLP

    os.setpgrp()  # own process group: the cap also stops the CBC process PuLP starts
    demand, pop, cand = instance(n_side, n_cand)
    t0 = time.perf_counter()
    # spopt takes a dense cost matrix; pairs beyond the radius only need to be > radius
    times = reach_matrix(demand, cand, radius_m=RADIUS_M, metres_per_minute=MPM)
    cost = np.full((len(pop), n_cand), 2 * RADIUS_M, dtype=np.float64)
    coo = sparse.coo_matrix(times)
    cost[coo.row, coo.col] = coo.data * MPM
    t_cost = time.perf_counter() - t0
    queue.put({"stage": "cost matrix built", "at_s": t_cost})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MCLP.from_cost_matrix(cost, pop, RADIUS_M, p_facilities=k)
        t_build = time.perf_counter() - t0
        queue.put({"stage": "model built, CBC solving", "at_s": t_build})
        model.solve(pulp.PULP_CBC_CMD(msg=False))
    queue.put(
        {
            "objective": float(model.problem.objective.value()),
            "cost_s": t_cost,
            "build_s": t_build,
            "total_s": time.perf_counter() - t0,
            "peak_mb": _peak_mb(),
        }
    )


def run_spopt(n_side: int, n_cand: int, k: int, cap_s: float) -> dict:
    queue: mp.Queue = mp.Queue()
    proc = mp.get_context("fork").Process(target=_spopt_child, args=(n_side, n_cand, k, queue))
    proc.start()
    proc.join(cap_s)
    stages = []
    while not queue.empty():
        stages.append(queue.get(timeout=10))
    if proc.is_alive():
        os.killpg(proc.pid, signal.SIGKILL)
        proc.join()
        while not queue.empty():
            stages.append(queue.get(timeout=10))
        return {"total_s": None, "capped_at_s": cap_s, "stages": stages}
    done = [s for s in stages if "total_s" in s]
    return done[0] if done else {"total_s": None, "error": proc.exitcode, "stages": stages}


def grid_network(n_side: int, side_m: float, *, oneway_rows: bool) -> object:
    """A street grid of ``n_side`` x ``n_side`` nodes over ``side_m`` metres (GK zone 114 E)."""
    import geopandas as gpd
    import shapely

    from geo.analysis.network import network_from_edges

    x0, y0 = 500_000.0, 3_100_000.0
    step = side_m / (n_side - 1)
    i, j = (a.ravel() for a in np.meshgrid(np.arange(n_side), np.arange(n_side - 1)))
    # east-west streets: row i, from column j to j + 1; north-south: column i, row j to j + 1
    ew = np.stack(
        [np.c_[x0 + j * step, y0 + i * step], np.c_[x0 + (j + 1) * step, y0 + i * step]], 1
    )
    ns = np.stack(
        [np.c_[x0 + i * step, y0 + j * step], np.c_[x0 + i * step, y0 + (j + 1) * step]], 1
    )
    lines = shapely.linestrings(np.concatenate([ew, ns]))
    oneway = np.concatenate([(i % 2 == 1) & oneway_rows, np.zeros(len(i), bool)])
    edges = gpd.GeoDataFrame(geometry=lines, crs="EPSG:4547")
    return network_from_edges(edges, metric_crs="EPSG:4547", oneway=oneway, source="grid")


def run_network(mode: str, minutes: float, speed_kmh: float, *, oneway: bool) -> dict:
    from geo.analysis.coverage import reach_for
    from geo.analysis.siting_network import NetworkTimes

    demand, pop, cand = instance(317, 2000)
    origin = np.array([500_000.0, 3_100_000.0])
    demand, cand = demand + origin, cand + origin
    reach = reach_for(mode, minutes=minutes, speed_kmh=speed_kmh)
    c0, t0 = _cpu_s(), time.perf_counter()
    net = grid_network(250, 31_700.0, oneway_rows=oneway)
    t_graph = time.perf_counter() - t0
    t1 = time.perf_counter()
    times = NetworkTimes.build(net, demand, cand, reach=reach).cover_minutes()
    t_cover = time.perf_counter() - t1
    t2 = time.perf_counter()
    fixed = np.zeros(len(cand), dtype=bool)
    sol = solve_mclp(times, pop, k=20, fixed=fixed, time_limit=120)
    t_solve = time.perf_counter() - t2
    straight = reach_matrix(demand, cand, radius_m=reach.radius_m, metres_per_minute=1.0)
    return {
        "case": f"network {mode} {minutes:g} min ({reach.radius_m:,.0f} m)"
        + (", every other east-west street one-way" if oneway else ""),
        "nodes": net.n_nodes,
        "edges": len(net.u),
        "demand": len(pop),
        "candidates": len(cand),
        "pairs_in_reach": int(times.nnz),
        "pairs_straight_line": int(straight.nnz),
        "graph_s": t_graph,
        "cover_matrix_s": t_cover,
        "solve_s": t_solve,
        "total_s": time.perf_counter() - t0,
        "cpu_s": _cpu_s() - c0,
        "objective": sol.objective,
        "status": sol.status,
        "peak_mb": _peak_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spopt-cap", type=float, default=600.0, help="seconds for spopt")
    parser.add_argument("--skip-spopt", action="store_true")
    parser.add_argument("--network", action="store_true", help="only the road-network cases")
    args = parser.parse_args()
    if args.network:
        for mode, minutes, speed, oneway in (("walk", 15, 4.0, False), ("drive", 3, 30.0, True)):
            print(json.dumps(run_network(mode, minutes, speed, oneway=oneway), indent=1))
        print(f"load average (1, 5, 15 min): {os.getloadavg()}, CPUs: {os.cpu_count()}")
        return
    rows = []
    for label, n_side, n_cand, k in (("full", 317, 2000, 20), ("small", 50, 50, 5)):
        ours = run_ours(n_side, n_cand, k)
        ours["label"], ours["k"] = label, k
        ours["peak_mb_after_ours"] = _peak_mb()
        if not args.skip_spopt:
            ref = run_spopt(n_side, n_cand, k, args.spopt_cap)
            ours["spopt"] = ref
            if ref.get("total_s"):
                ours["ratio_spopt_over_ours"] = ref["total_s"] / ours["exact_s"]
                ours["same_optimum"] = abs(ref["objective"] - ours["objective"]) <= 1e-6 * max(
                    1.0, ours["objective"]
                )
        rows.append(ours)
        print(json.dumps(ours, indent=1, default=str), flush=True)
    print("\nsummary")
    for r in rows:
        ref = r.get("spopt", {})
        spopt_text = (
            f"{ref['total_s']:.1f} s" if ref.get("total_s") else f"> {ref.get('capped_at_s')} s"
        )
        print(
            f"{r['label']:>5}: {r['demand']:,} cells x {r['candidates']:,} candidates, "
            f"k = {r['k']}: "
            f"exact {r['exact_s']:.2f} s wall, {r['exact_cpu_s']:.2f} s CPU ({r['status']}), "
            f"greedy {r['greedy_s']:.2f} s "
            f"(gap {r['greedy_gap_pct']:.3f} %), spopt+CBC {spopt_text}, "
            f"ratio {r.get('ratio_spopt_over_ours', float('nan')):.1f}x, "
            f"same optimum: {r.get('same_optimum')}"
        )
    print(f"peak RSS of this process: {_peak_mb():,.0f} MB")
    print(f"load average (1, 5, 15 min): {os.getloadavg()}, CPUs: {os.cpu_count()}")


if __name__ == "__main__":
    main()
