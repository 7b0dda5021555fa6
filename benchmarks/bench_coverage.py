"""Benchmark of the 15-minute coverage engine (one run on this machine; prints a table).

1. Changsha, 5,036 synthetic facilities (the plan's count of health institutions; uniform random
   positions inside the city, seed 2026) and a 100 m population grid (synthetic, seeded, scaled
   to each county's census 2020 total): :func:`geo.analysis.coverage.coverage_report` vs a naive
   geopandas approach (per facility: buffer, overlay with the units; then dissolve per unit and
   a spatial join of the grid).
2. Road network: a synthetic 250 x 250 street grid (100 m blocks, 62,500 nodes, 124,500 edges,
   25 x 25 km; no Changsha road file ships with the project) with 1,000 facilities: the
   multi-source pass of :mod:`geo.analysis.network` vs per-facility ``networkx.ego_graph``
   isochrones (end to end, with reach polygons and the report: ``bench_network.py``).
3. Province scale, run for real (issue 8): a seeded WorldPop-like GeoTIFF of 100 m cells over
   Hunan (~21 M populated cells, in the analysis CRS, tiled and deflate-compressed; written once
   to ``--raster``) and 90,400 facilities (Changsha's density over Hunan; seeded uniform
   positions).  The raster is read with :func:`geo.analysis.population.read_population_raster` and
   the full per-county report computed in a fresh process, whose peak RSS (``ru_maxrss``, which
   includes GEOS/PROJ/GDAL allocations, unlike tracemalloc) is printed.

Run: ``python benchmarks/bench_coverage.py [--naive-sample N] [--full] [--raster PATH]``.
With the default sample the naive per-facility loops run on N facilities and are scaled
linearly to all of them (their merge steps are measured on the sample only, which flatters
the naive side).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from geo.analysis.coverage import coverage_report, reach_for
from geo.analysis.network import RoadNetwork, nearest_distances, network_from_edges, network_reach
from geo.analysis.population import PopulationFallbackWarning, read_population_raster
from geo.crs import metric_crs_for, parse_crs
from geo.data.boundaries import load_units
from geo.settings import WGS84

SEED = 2026
N_FACILITIES = 5036
CELL_M = 100.0
HUNAN_KM2 = 211_800.0
#: Hunan's census 2020 resident population.
HUNAN_PEOPLE = 66_444_864
#: Facilities over Hunan at Changsha's density (5,036 per 11,800 km²).
N_PROVINCE = 90_400


def _cpu_s() -> float:
    """CPU seconds (user + system) this process has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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


def province_raster(path: Path, *, geographic: bool = False) -> dict[str, float]:
    """Write a seeded WorldPop-like GeoTIFF over Hunan.

    100 m cells in the analysis CRS (Gauss-Kruger), or with ``geographic`` WorldPop's own
    layout: EPSG:4326, 3 arc-second cells (about 82 m x 93 m here).  People per cell are
    gamma-distributed (seed 2026), scaled to Hunan's census 2020 total (66,444,864), nodata
    (-99999) outside the province; tiled, deflate-compressed float32.
    """
    import rasterio
    from affine import Affine
    from rasterio.features import rasterize
    from rasterio.windows import Window

    units = load_units(cities=None)
    metric = metric_crs_for(units)
    crs = parse_crs(WGS84) if geographic else metric
    cell_m = 1 / 1200 if geographic else CELL_M
    province = units.to_crs(crs).union_all()
    minx, miny, maxx, maxy = (math.floor(v / cell_m) * cell_m for v in province.bounds)
    width, height = int((maxx - minx) // cell_m) + 2, int((maxy - miny) // cell_m) + 2
    top = miny + height * cell_m
    transform = Affine(cell_m, 0.0, minx, 0.0, -cell_m, top)
    rng = np.random.default_rng(SEED)
    mean = HUNAN_PEOPLE / (province.area / cell_m**2)
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": crs.to_wkt(),
        "transform": transform,
        "nodata": -99999.0,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
    }
    cells = 0
    with rasterio.open(path, "w", **profile) as dst:
        for row0 in range(0, height, 512):
            rows = min(512, height - row0)
            t = Affine(cell_m, 0.0, minx, 0.0, -cell_m, top - row0 * cell_m)
            inside = rasterize([(province, 1)], out_shape=(rows, width), transform=t) == 1
            values = rng.gamma(0.3, mean / 0.3, (rows, width)).astype("float32")
            values[~inside] = -99999.0
            cells += int(inside.sum())
            dst.write(values, 1, window=Window(0, row0, width, rows))
    return {"cells": cells, "width": width, "height": height}


def province_facilities(n: int) -> gpd.GeoDataFrame:
    """``n`` facilities at seeded uniform random positions inside Hunan (WGS-84)."""
    units = load_units(cities=None)
    metric = metric_crs_for(units)
    province = units.to_crs(metric).union_all()
    shapely.prepare(province)
    rng = np.random.default_rng(SEED)
    minx, miny, maxx, maxy = province.bounds
    xs, ys = [], []
    while sum(len(x) for x in xs) < n:
        x, y = rng.uniform(minx, maxx, 200_000), rng.uniform(miny, maxy, 200_000)
        ok = shapely.contains_xy(province, x, y)
        xs.append(x[ok])
        ys.append(y[ok])
    pts = gpd.GeoSeries(
        gpd.points_from_xy(np.concatenate(xs)[:n], np.concatenate(ys)[:n]), crs=metric
    ).to_crs(WGS84)
    return gpd.GeoDataFrame({"id": [f"p{i:06d}" for i in range(n)]}, geometry=pts, crs=WGS84)


def province_worker(tif: Path, n_fac: int) -> None:
    """Run the province report in this (fresh) process; print its figures as JSON."""
    t = time.perf_counter()
    fac = province_facilities(n_fac)
    units = load_units(cities=None)
    inputs_s = time.perf_counter() - t
    t0, cpu0 = time.perf_counter(), _cpu_s()
    grid = read_population_raster(tif, units=units)
    read_s = time.perf_counter() - t0
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PopulationFallbackWarning)
        res = coverage_report(fac, units, reach=reach_for("walk"), population=grid)
    report_s = time.perf_counter() - t
    s = res.summary
    print(
        json.dumps(
            {
                "facilities": len(fac),
                "units": len(units),
                "cells": len(grid),
                "people": float(grid.population.sum()),
                "inputs_s": inputs_s,
                "read_s": read_s,
                "report_s": report_s,
                "total_s": read_s + report_s,
                "cpu_s": _cpu_s() - cpu0,
                "load": os.getloadavg()[0],
                "rss_mib": _rss_mb(),
                "models": sorted(set(s["population_model"])),
                "covered_pct_people": float(
                    s["population_covered"].sum() / s["population"].sum() * 100
                ),
                "gaps": len(res.gaps),
            }
        )
    )


def province_rows(tif: Path, n_fac: int, *, geographic: bool = False) -> list[tuple[str, str]]:
    """Generate the raster if needed, run :func:`province_worker` in a fresh process."""
    rows: list[tuple[str, str]] = []
    if not tif.exists():
        t = time.perf_counter()
        info = province_raster(tif, geographic=geographic)
        rows.append(
            (
                "province: raster written",
                f"{info['cells']:,} cells in Hunan ({info['width']:,} x "
                f"{info['height']:,}), {tif.stat().st_size / 2**20:,.0f} MiB GeoTIFF, "
                f"{time.perf_counter() - t:.0f} s",
            )
        )
    cmd = [sys.executable, __file__, "--province-worker", str(tif), "--province-facilities"]
    done = subprocess.run([*cmd, str(n_fac)], capture_output=True, text=True, check=True)
    fig = json.loads(done.stdout.strip().splitlines()[-1])
    rows += [
        (
            "province: inputs",
            f"{fig['cells']:,} populated cells ({fig['people']:,.0f} people), "
            f"{fig['facilities']:,} facilities, {fig['units']} counties",
        ),
        ("province: read raster (windowed, strips)", f"{fig['read_s']:.1f} s"),
        ("province: coverage report", f"{fig['report_s']:.1f} s ({fig['gaps']:,} gaps listed)"),
        (
            "province: read + report, one process",
            f"{fig['total_s']:.1f} s measured wall ({fig['cpu_s']:.1f} s CPU; machine load "
            f"{fig['load']:.1f} on {os.cpu_count()} cores)",
        ),
        ("province: peak RSS of that process", f"{fig['rss_mib']:,.0f} MiB (ru_maxrss)"),
        (
            "province: result",
            f"{fig['covered_pct_people']:.1f} % of people within 15 min walk; models "
            f"{', '.join(fig['models'])}",
        ),
        (
            "province goal checks",
            f"<= 60 s: {fig['total_s'] <= 60}; <= 4 GB RSS: {fig['rss_mib'] <= 4096}",
        ),
    ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--naive-sample", type=int, default=400)
    parser.add_argument("--full", action="store_true", help="run the naive loops on everything")
    parser.add_argument(
        "--raster", type=Path, default=Path("/tmp/hunan_pop_100m.tif"), help="province GeoTIFF"
    )
    parser.add_argument("--skip-province", action="store_true")
    parser.add_argument(
        "--geographic",
        action="store_true",
        help="province raster in WorldPop's layout (EPSG:4326, 3 arc-seconds), not 100 m GK",
    )
    parser.add_argument("--province-worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--province-facilities", type=int, default=N_PROVINCE)
    args = parser.parse_args()
    if args.province_worker is not None:
        province_worker(args.province_worker, args.province_facilities)
        return
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
    t, cpu = time.perf_counter(), _cpu_s()
    res = coverage_report(fac, units, reach=reach, population=grid)
    engine_s = time.perf_counter() - t
    engine_cpu = _cpu_s() - cpu
    t = time.perf_counter()
    res_census = coverage_report(fac, units, reach=reach)
    census_s = time.perf_counter() - t
    rows.append(
        (
            "engine, Changsha, 100 m grid",
            f"{engine_s:.2f} s wall, {engine_cpu:.2f} s CPU (load {os.getloadavg()[0]:.1f}; "
            f"process RSS {_rss_mb():,.0f} MiB)",
        )
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

    if not args.skip_province:
        rows += province_rows(args.raster, N_PROVINCE, geographic=args.geographic)
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
