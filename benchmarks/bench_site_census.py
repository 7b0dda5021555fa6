"""Benchmark of one siting run as the CLI does it: 浏阳市, census demand, gain curve included.

``site_units`` for 浏阳市 (census 2020 spread by area, the coarse census_uniform model: about
81,000 demand cells on a 250 m grid), the plan layer ``cs_medical`` held fixed, a 1,000 m
candidate grid (about 5,000 sites), MCLP k = 5 (walk 15 min) and k = 5 (drive 15 min), with the
gain curve k = 0..5.  The same as
``python -m geo site --units 浏阳市 --model mclp --k 5 --mode walk --existing-layers cs_medical``.

With census demand every inland site covers about the same population, so the exact MILP has
thousands of equivalent optima.  It used to branch for minutes for each k of the curve (the
tester's run: 3 min 22 s wall for walk, over 20 min for drive); the greedy + swap incumbent now
reaches the bound of the k best single sites and no MILP runs.  Prints wall and CPU seconds, the
number of MILP solves and the peak RSS (``resource.getrusage``).

Run: ``python benchmarks/bench_site_census.py [--modes walk,drive]``.
"""

from __future__ import annotations

import argparse
import resource
import time

import geo.analysis.siting as siting
from geo.analysis.facilities import facilities_from_layers
from geo.analysis.siting_run import site_units
from geo.cli.coverage import load_unit_set


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--modes", default="walk,drive")
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    units, _ = load_unit_set("浏阳市")
    existing = facilities_from_layers(["cs_medical"])
    solves = []
    milp = siting.milp

    def counted(*a: object, **kw: object) -> object:
        solves.append(1)
        return milp(*a, **kw)

    siting.milp = counted
    for mode in args.modes.split(","):
        solves.clear()
        c0, t0 = _cpu_s(), time.perf_counter()
        res = site_units(units, model="mclp", k=args.k, mode=mode, existing=existing)
        wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
        print(
            f"{mode}: {wall:.1f} s wall, {cpu:.1f} s CPU, {len(solves)} MILP solve(s), "
            f"status {res.solution.status}, objective {res.solution.objective:,.0f}, "
            f"curve {res.curve['objective'].round(0).tolist()}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
