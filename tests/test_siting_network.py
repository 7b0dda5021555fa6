"""Siting over a road network: times against networkx, optima against spopt, hand cases."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pyrosm
import pytest
from shapely.geometry import LineString, Point

from geo.analysis.coverage import reach_for
from geo.analysis.network import nearest_distances, network_from_edges, read_network
from geo.analysis.siting_network import NetworkTimes, pmedian_costs
from geo.analysis.siting_plan import plan_sites
from geo.errors import InputError

GK = "EPSG:4547"
X0, Y0 = 500_000.0, 3_100_000.0


@pytest.fixture(scope="module")
def test_pbf() -> Path:
    path = Path(pyrosm.get_data("test_pbf"))
    assert path.is_file()  # shipped inside pyrosm: no download
    return path


def _nx_graph(test_pbf: Path, mode: str, crs: object) -> tuple[nx.DiGraph, dict]:
    """An independent directed graph from pyrosm's own edge table and oneway tags."""
    kind = {"walk": "walking", "drive": "driving"}[mode]
    _, edges = pyrosm.OSM(str(test_pbf)).get_network(network_type=kind, nodes=True)
    edges = edges.to_crs(crs)
    graph = nx.DiGraph()
    xy: dict = {}
    for u, v, line, oneway in zip(
        edges["u"], edges["v"], edges.geometry, edges["oneway"], strict=True
    ):
        arcs = [(u, v), (v, u)]
        if mode == "drive" and oneway == "yes":
            arcs = [(u, v)]
        elif mode == "drive" and oneway == "-1":
            arcs = [(v, u)]
        for a, b in arcs:
            if not graph.has_edge(a, b) or graph[a][b]["length"] > line.length:
                graph.add_edge(a, b, length=line.length)
        xy.setdefault(u, line.coords[0])
        xy.setdefault(v, line.coords[-1])
    return graph, xy


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_times_equal_networkx_resident_to_facility(test_pbf: Path, mode: str) -> None:
    net = read_network(test_pbf, mode=mode)
    graph, xy = _nx_graph(test_pbf, mode, net.crs)
    nodes = list(graph.nodes)
    site_ids = nodes[::151][:4]
    demand_ids = nodes[::7]
    # demand 3 m east of its node: the access leg counts at the mode's speed
    demand_xy = np.array([[xy[n][0], xy[n][1]] for n in demand_ids])
    site_xy = np.array([xy[n] for n in site_ids])
    reach = reach_for(mode, minutes=3)
    times = NetworkTimes.build(net, demand_xy + np.array([3.0, 0.0]), site_xy, reach=reach)
    gap = times.demand.gap_m
    own = np.abs(gap - 3.0) < 0.01  # snapped to its own node (nodes are kept to 1 cm)
    assert own.mean() > 0.95
    ours = times.all_minutes()
    speed = reach.metres_per_minute
    back = graph.reverse(copy=True)
    for j, site in enumerate(site_ids):
        # resident -> facility: distances TO the site = search FROM it on the reversed graph
        ref = nx.single_source_dijkstra_path_length(back, site, weight="length")
        want = np.array(
            [
                (ref[n] + g) / speed if n in ref else np.inf
                for n, g in zip(demand_ids, gap, strict=True)
            ]
        )[own]
        got = ours[own, j]
        assert np.array_equal(np.isfinite(got), np.isfinite(want))
        ok = np.isfinite(want)
        assert got[ok] == pytest.approx(want[ok], rel=1e-6, abs=1e-3)
    # the sparse cover holds exactly the pairs within the minutes, with the same times
    cover = times.cover_minutes().toarray()
    inside = ours <= reach.minutes
    assert np.array_equal(cover > 0, inside)
    assert cover[inside] == pytest.approx(ours[inside])
    # nearest open site: the row minimum of the dense times
    open_sites = np.array([True, False, True, True])
    assert times.nearest_minutes(open_sites) == pytest.approx(ours[:, open_sites].min(axis=1))
    if mode == "drive":  # direction matters: facility -> resident differs for some pairs
        fwd = nx.single_source_dijkstra_path_length(graph, site_ids[0], weight="length")
        away = np.array(
            [(fwd.get(n, np.inf) + g) / speed for n, g in zip(demand_ids, gap, strict=True)]
        )
        assert (~np.isclose(away[own], ours[own, 0], rtol=0, atol=0.01)).sum() > 0


def test_parallel_roads_keep_the_shorter() -> None:
    # two roads between the same two junctions: 1000 m straight and a 1400 m detour
    a, b = (X0, Y0), (X0 + 1000, Y0)
    edges = gpd.GeoDataFrame(
        geometry=[
            LineString([a, b]),
            LineString([a, (X0 + 500, Y0 + 490), b]),
            LineString([b, (X0 + 2000, Y0)]),
        ],
        crs=GK,
    )
    net = network_from_edges(edges, metric_crs=GK)
    fac = gpd.GeoDataFrame(geometry=[Point(a)], crs=GK)
    dist = nearest_distances(net, fac)
    far = int(np.argmin(np.hypot(*(net.node_xy - [X0 + 2000, Y0]).T)))
    assert dist[far] == pytest.approx(2000.0, abs=0.01)  # 1000 + 1000, not the sum of both


# --- river with one bridge: network and straight-line answers differ ------------------------------


def _demand(points: list[Point], people: float) -> gpd.GeoDataFrame:
    n = len(points)
    return gpd.GeoDataFrame(
        {
            "population": [people] * n,
            "unit_id": ["u"] * n,
            "unit_name": ["River"] * n,
            "population_model": ["points"] * n,
        },
        geometry=points,
        crs=GK,
    )


def _river() -> tuple[object, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """South bank road y=0 (x 0..3000), north bank road y=200, one bridge at x=3000.

    Demand: 11 points on the south road at x = 0, 100, ..., 1000 (100 people each).
    Candidates: A on the north bank at x=500 (200 m across the river, 5.2 km by road),
    B on the south road at x=1500, C on the north bank at x=3000.
    """
    edges = gpd.GeoDataFrame(
        geometry=[
            LineString([(X0 + 1000, Y0), (X0 + 1500, Y0)]),
            LineString([(X0 + 1500, Y0), (X0 + 3000, Y0)]),
            LineString([(X0 + 3000, Y0), (X0 + 3000, Y0 + 200)]),
            LineString([(X0 + 3000, Y0 + 200), (X0 + 500, Y0 + 200)]),
            LineString([(X0 + 500, Y0 + 200), (X0, Y0 + 200)]),
        ]
        + [LineString([(X0 + x, Y0), (X0 + x + 100, Y0)]) for x in range(0, 1000, 100)],
        crs=GK,
    )
    net = network_from_edges(edges, metric_crs=GK)
    demand = _demand([Point(X0 + x, Y0) for x in range(0, 1001, 100)], 100.0)
    cands = gpd.GeoDataFrame(
        {"id": ["A", "B", "C"], "name": ["north bank", "south road", "bridge"]},
        geometry=[Point(X0 + 500, Y0 + 200), Point(X0 + 1500, Y0), Point(X0 + 3000, Y0 + 200)],
        crs=GK,
    )
    return net, demand, cands


def _pick(result: object) -> list[str]:
    sites = result.sites
    return sorted(sites.loc[sites["role"] == "new", "id"].astype(str))


@pytest.mark.parametrize(
    ("model", "kwargs"),
    [("mclp", {"k": 1}), ("lscp", {"target": 0.8}), ("pmedian", {"k": 1})],
)
def test_river_hand_case_network_differs_from_straight_line(model: str, kwargs: dict) -> None:
    net, demand, cands = _river()
    reach = reach_for("walk", minutes=15, speed_kmh=5.0)  # 1250 m
    straight = plan_sites(demand, cands, reach=reach, model=model, curve_k=0, **kwargs)
    road = plan_sites(demand, cands, reach=reach, model=model, curve_k=0, network=net, **kwargs)
    # straight line: A, 200 m across the river, reaches everyone
    assert _pick(straight) == ["A"]
    # by road A is 5.2 km away (the bridge); B at x=1500 reaches x >= 250 (8 of 11 points)
    assert _pick(road) == ["B"]
    assert road.params["reach_kind"] == "network"
    assert straight.params["reach_kind"] == "straight-line"
    if model == "mclp":
        assert straight.solution.objective == pytest.approx(1100.0)
        assert road.solution.objective == pytest.approx(800.0)
    if model == "pmedian":  # walking minutes: (1500 - x) m at 5 km/h
        want = sum(100 * (1500 - x) / (5000 / 60) for x in range(0, 1001, 100))
        assert road.solution.objective == pytest.approx(want, rel=1e-6)
    if model == "lscp":
        assert road.solution.objective == 1
        assert road.units["share_after_pct"].iloc[0] == pytest.approx(800 / 11)


def test_off_network_points_are_counted_and_candidates_excluded() -> None:
    net, demand, cands = _river()
    far = _demand([Point(X0 + 500, Y0 - 1500)], 50.0)
    demand = gpd.GeoDataFrame(gpd.pd.concat([demand, far], ignore_index=True), crs=GK)
    cands = gpd.GeoDataFrame(
        gpd.pd.concat(
            [cands, gpd.GeoDataFrame({"id": ["D"]}, geometry=[Point(X0, Y0 + 1800)], crs=GK)],
            ignore_index=True,
        ),
        crs=GK,
    )
    reach = reach_for("walk", minutes=15, speed_kmh=5.0)
    res = plan_sites(
        demand, cands, reach=reach, model="mclp", k=1, curve_k=0, network=net, max_snap_m=1000
    )
    assert res.params["snap_demand_off_network"].startswith("1 of 12")
    assert res.excluded["id"].tolist() == ["D"]
    assert "off the road network" in res.params["candidates_excluded"]
    assert res.params["unreachable_within_minutes"].startswith("4 demand point(s), population 350")
    assert res.solution.served[-1] == 0.0


def test_network_far_from_demand_names_the_file() -> None:
    net, demand, cands = _river()
    moved = demand.set_geometry(demand.translate(50_000, 0))
    with pytest.raises(InputError, match=r"^edges, field 'osm': .*none of the 11 demand points"):
        plan_sites(moved, cands, reach=reach_for("walk"), model="mclp", k=1, network=net)


def test_pmedian_costs_penalise_pairs_without_a_path() -> None:
    t = np.array([[1.0, np.inf], [np.inf, np.inf], [3.0, 4.0]])
    cost, none, penalty = pmedian_costs(t)
    assert penalty == pytest.approx(8.0)
    assert none.tolist() == [False, True, False]
    assert cost[0, 1] == pytest.approx(8.0)


# --- optimum equals spopt's on the same network cost matrix -------------------------------------


def _spopt_solve(cls: type, *args: object, **kwargs: object) -> float:
    pulp = pytest.importorskip("pulp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cls.from_cost_matrix(*args, **kwargs).solve(pulp.PULP_CBC_CMD(msg=False))
    return float(model.problem.objective.value())


def _grid_instance(seed: int) -> tuple[object, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A 9 x 9 street grid (200 m blocks), odd east-west streets one-way; random demand, sites."""
    rng = np.random.default_rng(seed)
    lines, oneway = [], []
    for i in range(9):
        for j in range(8):
            lines.append(
                LineString([(X0 + 200 * j, Y0 + 200 * i), (X0 + 200 * (j + 1), Y0 + 200 * i)])
            )
            lines.append(
                LineString([(X0 + 200 * i, Y0 + 200 * j), (X0 + 200 * i, Y0 + 200 * (j + 1))])
            )
            oneway += [i % 2 == 1, False]  # odd streets one-way east: still all connected
    edges = gpd.GeoDataFrame(geometry=lines, crs=GK)
    net = network_from_edges(edges, metric_crs=GK, oneway=np.array(oneway))
    demand = gpd.GeoDataFrame(
        {
            "population": rng.integers(1, 100, 60).astype(float),
            "unit_id": "g",
            "unit_name": "Grid",
            "population_model": "points",
        },
        geometry=gpd.points_from_xy(X0 + rng.uniform(0, 1600, 60), Y0 + rng.uniform(0, 1600, 60)),
        crs=GK,
    )
    cands = gpd.GeoDataFrame(
        {"id": [f"c{i}" for i in range(14)]},
        geometry=gpd.points_from_xy(X0 + rng.uniform(0, 1600, 14), Y0 + rng.uniform(0, 1600, 14)),
        crs=GK,
    )
    return net, demand, cands


def _cost(
    net: object, demand: gpd.GeoDataFrame, cands: gpd.GeoDataFrame, reach: object
) -> np.ndarray:
    xy = np.column_stack([demand.geometry.x, demand.geometry.y])
    sxy = np.column_stack([cands.geometry.x, cands.geometry.y])
    return NetworkTimes.build(net, xy, sxy, reach=reach).all_minutes()


@pytest.mark.parametrize("seed", [1, 2])
def test_network_models_match_spopt(seed: int) -> None:
    locate = pytest.importorskip("spopt.locate")
    net, demand, cands = _grid_instance(seed)
    reach = reach_for("drive", minutes=2, speed_kmh=30.0)  # 1000 m of road
    cost = _cost(net, demand, cands, reach)
    assert np.isfinite(cost).all()
    w = demand["population"].to_numpy()
    mclp = plan_sites(demand, cands, reach=reach, model="mclp", k=3, curve_k=0, network=net)
    ref = _spopt_solve(locate.MCLP, cost, w, reach.minutes, p_facilities=3)
    assert mclp.solution.objective == pytest.approx(ref)
    pmed = plan_sites(demand, cands, reach=reach, model="pmedian", k=3, curve_k=0, network=net)
    ref = _spopt_solve(locate.PMedian, cost, w, p_facilities=3)
    assert pmed.solution.objective == pytest.approx(ref, rel=1e-6)
    wide = reach_for("drive", minutes=4, speed_kmh=30.0)
    cost = _cost(net, demand, cands, wide)
    if not (cost <= wide.minutes).any(axis=1).all():
        pytest.skip("instance not fully coverable")
    lscp = plan_sites(demand, cands, reach=wide, model="lscp", target=1.0, curve_k=0, network=net)
    ref = _spopt_solve(locate.LSCP, cost, wide.minutes)
    assert lscp.solution.objective == pytest.approx(ref)


def test_site_units_rejects_a_network_read_for_another_mode(test_pbf: Path) -> None:
    from shapely.geometry import box

    from geo.analysis.siting_run import site_units

    walk = read_network(test_pbf, mode="walk")
    units = gpd.GeoDataFrame(
        {"adcode": ["h1"], "name": ["Helsinki test"], "population": [1000.0]},
        geometry=[box(26.932, 60.522, 26.968, 60.538)],
        crs="EPSG:4326",
    )
    with pytest.raises(InputError, match=r"test.osm.pbf, field 'mode': .*read for 'walk'"):
        site_units(units, mode="drive", network=walk)


def test_chunked_searches_and_shared_nodes_give_the_same_times(
    test_pbf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import geo.analysis.siting_network as sn

    net = read_network(test_pbf, mode="drive")
    rng = np.random.default_rng(5)
    lo, hi = net.node_xy.min(axis=0), net.node_xy.max(axis=0)
    demand_xy = rng.uniform(lo, hi, (400, 2))
    sites = net.node_xy[rng.choice(net.n_nodes, 9, replace=False)]
    # two more sites beside the first one's node (same node, other access legs)
    site_xy = np.vstack(
        [sites, sites[:1] + np.array([4.0, 0.0]), sites[:1] + np.array([0.0, -7.0])]
    )
    reach = reach_for("drive", minutes=2)
    whole = NetworkTimes.build(net, demand_xy, site_xy, reach=reach)
    assert whole.sites.node[9] == whole.sites.node[10] == whole.sites.node[0]
    ref_cover, ref_all = whole.cover_minutes().toarray(), whole.all_minutes()
    monkeypatch.setattr(sn, "CHUNK", 2)  # 10 distinct nodes in 5 searches
    got_cover, got_all = whole.cover_minutes().toarray(), whole.all_minutes()
    assert np.array_equal(got_all, ref_all)
    assert np.array_equal(got_cover, ref_cover)
    speed = reach.metres_per_minute
    # the same node, a longer access leg: exactly the extra metres at the mode's speed
    extra = (whole.sites.gap_m[10] - whole.sites.gap_m[0]) / speed
    ok = np.isfinite(ref_all[:, 0])
    assert ref_all[ok, 10] - ref_all[ok, 0] == pytest.approx(np.full(ok.sum(), extra))
    inside = ref_all <= reach.minutes
    assert inside.sum() > 50
    assert np.array_equal(got_cover > 0, inside)
