"""Benchmark of the 15-minute coverage engine (one run on this machine; prints a table).

1. Changsha, 5,036 synthetic facilities (the plan's count of health institutions; uniform random
   positions inside the city, seed 2026) and a 100 m population grid (synthetic, seeded, scaled
   to each county's census 2020 total): :func:`geo.coverage.coverage_report` vs a naive
   geopandas approach (per facility: buffer, overlay with the units; then dissolve per unit and
   a spatial join of the grid).
2. Road network: a synthetic 250 x 250 street grid (100 m blocks, 62,500 nodes, 124,500 edges,
   25 x 25 km; no Changsha road file ships with the project) with 1,000 facilities: the
   multi-source pass of :mod:`geo.network` vs per-facility ``networkx.ego_graph`` isochrones
   (end to end, with reach polygons and the report, all measured: ``bench_network.py``).
3. Province scale (Hunan, ~21 M cells at 100 m): measured KD-tree pass over 21 M cells plus a
   linear extrapolation of the other stages from the Changsha run; peak memory measured.

Run: ``python benchmarks/bench_coverage.py [--naive-sample N] [--full]``.  With the default
sample the naive per-facility loops run on N facilities and are scaled linearly to all of them
(their merge steps are measured on the sample only, which flatters the naive side).
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
import tracemalloc

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo.boundaries import load_units
from geo.coverage import coverage_report, reach_for
from geo.crs import metric_crs_for
from geo.network import RoadNetwork, nearest_distances, network_from_edges, network_reach

SEED = 2026
N_FACILITIES = 5036
CELL_M = 100.0
HUNAN_KM2 = 211_800.0


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def changsha_inputs() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    units = load_units(cities=("430100",))
    metric = metric_crs_for(units)
    units_m = units.to_crs(metric)
    city = units_m.union_all()
    shapely.prepare(city)
    rng = np.random.default_rng(SEED)
    minx, miny, maxx, maxy = city.bounds
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    while sum(len(x) for x in xs) < N_FACILITIES:
        x, y = rng.uniform(minx, maxx, 10_000), rng.uniform(miny, maxy, 10_000)
        ok = shapely.contains_xy(city, x, y)
        xs.append(x[ok])
        ys.append(y[ok])
    fx, fy = np.concatenate(xs)[:N_FACILITIES], np.concatenate(ys)[:N_FACILITIES]
    fac = gpd.GeoDataFrame(
        {"id": [f"s{i:04d}" for i in range(N_FACILITIES)]},
        geometry=gpd.points_from_xy(fx, fy),
        crs=metric,
    )
    gx, gy = np.meshgrid(
        np.arange(minx + CELL_M / 2, maxx, CELL_M), np.arange(miny + CELL_M / 2, maxy, CELL_M)
    )
    gx, gy = gx.ravel(), gy.ravel()
    pop = np.zeros(len(gx))
    inside_any = np.zeros(len(gx), dtype=bool)
    for geom, total in zip(units_m.geometry, units_m["population"], strict=True):
        inside = shapely.contains_xy(geom, gx, gy) & ~inside_any
        inside_any |= inside
        w = rng.gamma(0.3, 1.0, int(inside.sum()))
        pop[inside] = w / w.sum() * total
    grid = gpd.GeoDataFrame(
        {"population": pop[inside_any]},
        geometry=gpd.points_from_xy(gx[inside_any], gy[inside_any]),
        crs=metric,
    )
    return fac, units_m, grid


def naive_coverage(
    fac: gpd.GeoDataFrame, units: gpd.GeoDataFrame, grid: gpd.GeoDataFrame, radius: float
) -> tuple[pd.DataFrame, float, float]:
    """Per facility buffer + overlay per unit; dissolve; sjoin the grid. Returns (areas, loop s,
    merge s)."""
    t0 = time.perf_counter()
    pieces = []
    for i in range(len(fac)):
        disc = gpd.GeoDataFrame(geometry=fac.geometry.iloc[[i]].buffer(radius), crs=fac.crs)
        pieces.append(gpd.overlay(disc, units[["adcode", "geometry"]], how="intersection"))
    loop = time.perf_counter() - t0
    t1 = time.perf_counter()
    allp = pd.concat(pieces, ignore_index=True)
    covered = gpd.GeoDataFrame(allp, crs=fac.crs).dissolve(by="adcode")
    joined = gpd.sjoin(grid, covered.reset_index()[["adcode", "geometry"]], predicate="within")
    out = pd.DataFrame(
        {
            "covered_km2": covered.area / 1e6,
            "population_covered": joined.groupby("adcode")["population"].sum(),
        }
    )
    return out, loop, time.perf_counter() - t1


def grid_graph(n: int = 250, spacing: float = 100.0) -> gpd.GeoDataFrame:
    x0, y0 = 480_000.0, 3_100_000.0
    lines = []
    for i in range(n):
        for j in range(n):
            x, y = x0 + i * spacing, y0 + j * spacing
            if i + 1 < n:
                lines.append(shapely.LineString([(x, y), (x + spacing, y)]))
            if j + 1 < n:
                lines.append(shapely.LineString([(x, y), (x, y + spacing)]))
    return gpd.GeoDataFrame(geometry=lines, crs="EPSG:4547")


def naive_network(
    net: RoadNetwork, fac_nodes: np.ndarray, budget: float, buffer_m: float
) -> tuple[np.ndarray, float, float, float]:
    """Per facility: ego graph (Dijkstra with cutoff), then its isochrone polygon; union all.

    Returns (node distances, search loop s, polygon loop s, final union s)."""
    graph = nx.Graph()
    for u, v, w, line in zip(net.u, net.v, net.length, net.lines, strict=True):
        graph.add_edge(int(u), int(v), length=float(w), geometry=line)
    best = np.full(net.n_nodes, np.inf)
    egos = []
    t0 = time.perf_counter()
    for s in fac_nodes:
        ego = nx.ego_graph(graph, int(s), radius=budget, distance="length")
        dist = nx.single_source_dijkstra_path_length(ego, int(s), weight="length")
        for node, d in dist.items():
            best[node] = min(best[node], d)
        egos.append(ego)
    search = time.perf_counter() - t0
    t1 = time.perf_counter()
    isochrones = []
    for ego in egos:
        lines = [data["geometry"] for _, _, data in ego.edges(data=True)]
        isochrones.append(shapely.union_all(shapely.buffer(lines, buffer_m, quad_segs=4)))
    polys = time.perf_counter() - t1
    t2 = time.perf_counter()
    shapely.union_all(isochrones)
    return best, search, polys, time.perf_counter() - t2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--naive-sample", type=int, default=400)
    parser.add_argument("--full", action="store_true", help="run the naive loops on everything")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []

    t = time.perf_counter()
    fac, units, grid = changsha_inputs()
    rows.append(
        (
            "inputs",
            f"{len(fac):,} facilities, {len(grid):,} grid cells (100 m), "
            f"{len(units)} units; built in {time.perf_counter() - t:.1f} s",
        )
    )
    reach = reach_for("walk")
    coverage_report(fac.iloc[:50], units, reach=reach)  # warm-up (imports, PROJ)
    gc.collect()
    tracemalloc.start()
    t = time.perf_counter()
    res = coverage_report(fac, units, reach=reach, population=grid)
    engine_s = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    t = time.perf_counter()
    res_census = coverage_report(fac, units, reach=reach)
    census_s = time.perf_counter() - t
    rows.append(
        ("engine, Changsha, 100 m grid", f"{engine_s:.2f} s (peak {peak / 2**20:.0f} MiB traced)")
    )
    rows.append(("engine, Changsha, census by area", f"{census_s:.2f} s"))

    n = len(fac) if args.full else min(args.naive_sample, len(fac))
    naive, loop, merge = naive_coverage(fac.iloc[:n], units, grid, reach.radius_m)
    naive_s = loop * len(fac) / n + merge
    how = "measured" if n == len(fac) else f"{n} measured, loop x{len(fac) / n:.1f}"
    rows.append(
        (
            "naive buffer+overlay per facility",
            f"{naive_s:.1f} s ({how}: loop {loop:.1f} s, dissolve+sjoin {merge:.1f} s)",
        )
    )
    rows.append(("speed-up coverage", f"{naive_s / engine_s:.0f}x"))
    # same answer on the sample
    check = coverage_report(fac.iloc[:n], units, reach=reach, population=grid).summary
    check = check.set_index("unit_id").reindex(naive.index)
    rel = np.nanmax(np.abs(check["covered_km2"] - naive["covered_km2"]) / naive["covered_km2"])
    rows.append(("engine vs naive covered km2 (sample)", f"max rel. diff {rel:.2e}"))

    edges = grid_graph()
    net = network_from_edges(edges, metric_crs="EPSG:4547", source="synthetic grid")
    rng = np.random.default_rng(SEED)
    fac_nodes = rng.choice(net.n_nodes, 1000, replace=False)
    nfac = gpd.GeoDataFrame(geometry=shapely.points(net.node_xy[fac_nodes]), crs="EPSG:4547")
    t = time.perf_counter()
    nearest_distances(net, nfac)
    pass_s = time.perf_counter() - t
    t = time.perf_counter()
    network_reach(net, nfac, reach=reach, edge_buffer_m=25)
    full_s = time.perf_counter() - t
    m = len(fac_nodes) if args.full else min(args.naive_sample // 4, len(fac_nodes))
    best, search, polys, union = naive_network(net, fac_nodes[:m], reach.radius_m, 25)
    k = len(fac_nodes) / m
    rows.append(("network graph", f"{net.n_nodes:,} nodes, {len(net.u):,} edges, 1,000 facilities"))
    rows.append(("multi-source pass (node times)", f"{pass_s:.3f} s"))
    rows.append(("per-facility ego-graph searches", f"{search * k:.1f} s ({m} measured, x{k:.1f})"))
    rows.append(("speed-up network pass", f"{search * k / pass_s:,.0f}x"))
    rows.append(("pass + reach polygon (edges)", f"{full_s:.1f} s"))
    naive_full = (search + polys) * k + union
    rows.append(
        (
            "ego-graphs + isochrone polygons",
            f"{naive_full:.1f} s (loops x{k:.1f}; final union of {m} isochrones: {union:.1f} s)",
        )
    )
    rows.append(
        (
            "speed-up network incl. polygons",
            f"{naive_full / full_s:.1f}x" + ("" if m == len(fac_nodes) else " (lower bound)"),
        )
    )
    sub = nearest_distances(net, nfac.iloc[:m])
    within = best <= reach.radius_m
    agree = np.allclose(sub[within], best[within])
    rows.append(("network: same node distances as ego-graphs", str(agree)))

    cells = int(HUNAN_KM2 * 1e6 / CELL_M**2)
    rng = np.random.default_rng(SEED)
    prov_fac = rng.uniform(0, 460_000, (int(N_FACILITIES * HUNAN_KM2 / 11_800), 2))
    t = time.perf_counter()
    px = rng.uniform(0, 460_000, cells)
    py = rng.uniform(0, 460_000, cells)
    gen_s = time.perf_counter() - t
    t = time.perf_counter()
    dist, _ = cKDTree(prov_fac).query(np.column_stack([px, py]), k=1, workers=-1)
    kd_s = time.perf_counter() - t
    del px, py, dist
    scale = cells / len(grid)
    est = engine_s * scale
    rows.append(
        (
            "province: grid cells",
            f"{cells:,} (Hunan {HUNAN_KM2:,.0f} km² / 100 m cells), "
            f"{len(prov_fac):,} facilities at Changsha density",
        )
    )
    rows.append(
        (
            "province: KD-tree pass over all cells",
            f"{kd_s:.1f} s measured (+{gen_s:.1f} s to make the arrays)",
        )
    )
    rows.append(
        (
            "province: full report, one machine",
            f"~{est:.0f} s extrapolated linearly, "
            f"~{peak / 2**30 * scale:.1f} GiB peak (from Changsha peak x{scale:.1f})",
        )
    )
    rows.append(("process max RSS", f"{_rss_mb():,.0f} MiB"))
    rows.append(
        (
            "goal checks",
            f"Changsha <= 2 s: {engine_s <= 2}; >= 10x naive: "
            f"{naive_s / engine_s >= 10}; network pass >= 20x: {search * k / pass_s >= 20}",
        )
    )
    width = max(len(k) for k, _ in rows)
    print(f"{'measure'.ljust(width)} | figure")
    print(f"{'-' * width}-|-{'-' * 60}")
    for k, v in rows:
        print(f"{k.ljust(width)} | {v}")
    print(res_census.summary[["name", "covered_pct"]].round(1).to_string(index=False))
    print(
        res.summary[["name", "covered_pct", "population_covered_pct", "minutes_p50"]]
        .round(1)
        .to_string(index=False)
    )


if __name__ == "__main__":
    main()
