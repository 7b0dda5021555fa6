"""Benchmark of network coverage end to end (one run on this machine; prints a table).

A synthetic 250 x 250 street grid (100 m blocks, 62,500 nodes, 124,500 edges, 25 x 25 km; no
Changsha road file ships with the project), 1,000 facilities on random nodes (seed 2026), a
15-minute walk (1,000 m) and 25 m road bands; one unit covers the grid.

- **engine**: :func:`geo.analysis.network.network_reach` (one multi-source Dijkstra pass, reached
  road parts rasterised once and polygonised) + :func:`geo.analysis.coverage.coverage_report` (the
  reach, with a hole per street block, clipped to the unit as outlines plus holes: same result as
  the full overlay).
- **naive**: per facility ``networkx.ego_graph`` + its isochrone (its edges buffered and
  unioned), all isochrones unioned, + the same :func:`geo.analysis.coverage.coverage_report`.

Both are measured in the same run on all 1,000 facilities (``--naive-sample N`` measures N and
scales the loops, for a quick look).  The check compares the reached nodes and edges of both
and the covered area against the exact union.  Peak memory is the process's max RSS
(``resource.getrusage``), which includes GEOS and GDAL.

Run: ``python benchmarks/bench_network.py [--naive-sample N]``.
"""

from __future__ import annotations

import argparse
import resource
import time

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

from geo.analysis.coverage import coverage_report, reach_for
from geo.analysis.network import RoadNetwork, nearest_distances, network_from_edges, network_reach

SEED = 2026
CRS = "EPSG:4547"
BUFFER_M = 25.0


def grid_graph(n: int = 250, spacing: float = 100.0) -> gpd.GeoDataFrame:
    """Return an ``n`` x ``n`` street grid with ``spacing`` m blocks (CGCS2000 GK 114E)."""
    x0, y0 = 480_000.0, 3_100_000.0
    lines = []
    for i in range(n):
        for j in range(n):
            x, y = x0 + i * spacing, y0 + j * spacing
            if i + 1 < n:
                lines.append(shapely.LineString([(x, y), (x + spacing, y)]))
            if j + 1 < n:
                lines.append(shapely.LineString([(x, y), (x, y + spacing)]))
    return gpd.GeoDataFrame(geometry=lines, crs=CRS)


def naive_isochrones(
    net: RoadNetwork, fac_nodes: np.ndarray, budget: float
) -> tuple[np.ndarray, shapely.Geometry, float, float, float]:
    """Per facility: ego graph and its isochrone polygon; then the union of all.

    Returns (node distances, union polygon, search s, polygon s, final union s).
    """
    graph = nx.Graph()
    for u, v, w, line in zip(net.u, net.v, net.length, net.lines, strict=True):
        graph.add_edge(int(u), int(v), length=float(w), geometry=line)
    best = np.full(net.n_nodes, np.inf)
    t0 = time.perf_counter()
    egos = []
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
        isochrones.append(shapely.union_all(shapely.buffer(lines, BUFFER_M, quad_segs=4)))
    polys = time.perf_counter() - t1
    t2 = time.perf_counter()
    union = shapely.union_all(isochrones)
    return best, union, search, polys, time.perf_counter() - t2


def _unit(net: RoadNetwork) -> gpd.GeoDataFrame:
    minx, miny = net.node_xy.min(axis=0)
    maxx, maxy = net.node_xy.max(axis=0)
    return gpd.GeoDataFrame(
        {"adcode": ["grid"], "name": ["网格 grid"], "population": [1_000_000.0]},
        geometry=[shapely.box(minx, miny, maxx, maxy)],
        crs=CRS,
    )


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--naive-sample", type=int, default=1000)
    args = parser.parse_args()
    net = network_from_edges(grid_graph(), metric_crs=CRS, source="synthetic grid")
    rng = np.random.default_rng(SEED)
    fac_nodes = rng.choice(net.n_nodes, 1000, replace=False)
    fac = gpd.GeoDataFrame(
        {"id": [f"f{i}" for i in range(len(fac_nodes))]},
        geometry=shapely.points(net.node_xy[fac_nodes]),
        crs=CRS,
    )
    unit, reach = _unit(net), reach_for("walk")
    coverage_report(fac.iloc[:5], unit, reach=reach, metric_crs=CRS)  # warm-up (imports)

    t = time.perf_counter()
    nr = network_reach(net, fac, reach=reach, edge_buffer_m=BUFFER_M)
    reach_s = time.perf_counter() - t
    res = coverage_report(
        fac,
        unit,
        reach=reach,
        metric_crs=CRS,
        reach_geometry=nr.geometry,
        time_to_nearest=nr.time_to_nearest,
        method_note=nr.method_note(),
    )
    engine_s = time.perf_counter() - t

    m = min(args.naive_sample, len(fac_nodes))
    best, union, search, polys, final = naive_isochrones(net, fac_nodes[:m], reach.radius_m)
    k = len(fac_nodes) / m
    t = time.perf_counter()
    naive_res = coverage_report(
        fac.iloc[:m], unit, reach=reach, metric_crs=CRS, reach_geometry=union
    )
    naive_report = time.perf_counter() - t
    naive_s = (search + polys) * k + final + naive_report

    ours = nearest_distances(net, fac.iloc[:m]) if m < len(fac) else nr.node_m
    budget = reach.radius_m
    same_nodes = np.array_equal(ours <= budget, best <= budget)
    edge_ours = (ours[net.u] <= budget) & (ours[net.v] <= budget)
    edge_naive = (best[net.u] <= budget) & (best[net.v] <= budget)
    exact = union if m == len(fac) else None
    how = "measured" if m == len(fac) else f"{m} measured, loops x{k:.1f}"
    rows = [
        ("graph", f"{net.n_nodes:,} nodes, {len(net.u):,} edges, {len(fac):,} facilities"),
        ("engine: pass + rasterised reach polygon", f"{reach_s:.2f} s"),
        ("engine: end to end (+ coverage_report)", f"{engine_s:.2f} s"),
        (
            "naive: ego-graphs + isochrones + union + report",
            f"{naive_s:.1f} s ({how}: searches {search:.1f} s, isochrones {polys:.1f} s, "
            f"union {final:.1f} s, report {naive_report:.1f} s)",
        ),
        ("speed-up end to end", f"{naive_s / engine_s:.1f}x"),
        ("same reached nodes", f"{same_nodes} ({int((ours <= budget).sum()):,})"),
        (
            "same reached edges",
            f"{np.array_equal(edge_ours, edge_naive)} ({int(edge_ours.sum()):,})",
        ),
    ]
    if exact is not None:
        ours_km2 = res.summary["covered_km2"].iloc[0]
        exact_km2 = naive_res.summary["covered_km2"].iloc[0]
        sym = shapely.symmetric_difference(nr.geometry, exact).area / exact.area
        rows.append(
            (
                "covered km2: raster vs exact union",
                f"{ours_km2:.2f} vs {exact_km2:.2f} ({(ours_km2 / exact_km2 - 1) * 100:+.2f} %; "
                f"symmetric difference {sym * 100:.2f} % of the area)",
            )
        )
    rows.append(
        ("process max RSS", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    )
    rows.append(("goal: >= 20x end to end", str(naive_s / engine_s >= 20)))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)} | figure")
    print(f"{'-' * width}-|-{'-' * 60}")
    for key, value in rows:
        print(f"{key.ljust(width)} | {value}")


if __name__ == "__main__":
    main()
