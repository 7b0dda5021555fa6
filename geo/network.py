"""Reach over a road network read offline from a user's OSM file (PBF via pyrosm, XML via osmnx).

One multi-source Dijkstra pass (a virtual source joined to every facility's nearest node by its
snap distance, :func:`scipy.sparse.csgraph.dijkstra`) gives every node its network distance to
the nearest facility.  The reach polygon is the union of the reachable parts of edges (partly
reachable edges are cut where the budget runs out), buffered by ``edge_buffer_m``: not a convex
hull.  Roads are treated as undirected (walking; for driving one-way streets are ignored).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from geo.coverage import Reach
from geo.crs import metric_crs_for, parse_crs, require_crs
from geo.errors import InputError
from geo.settings import HUNAN_BBOX, MAX_UPLOAD_BYTES, WGS84

__all__ = [
    "NetworkReach",
    "RoadNetwork",
    "nearest_distances",
    "network_from_edges",
    "network_reach",
    "read_network",
]

#: pyrosm network types per mode.
_PYROSM_TYPES = {"walk": "walking", "bike": "cycling", "drive": "driving"}
#: Default half-width (m) of the band around reachable road centre lines.
EDGE_BUFFER_M = 50.0
#: Tile size (m) and piece count above which reach bands are unioned tile by tile.
_TILE_M = 2000.0
_TILE_MIN_PIECES = 5000
#: Largest OSM file accepted (bytes): a city extract; provinces go through Dask per county.
MAX_OSM_BYTES = 20 * MAX_UPLOAD_BYTES


@dataclass
class RoadNetwork:
    """An undirected road graph in a metric CRS, as arrays.

    Attributes
    ----------
    node_xy : ndarray, shape (n, 2)
        Node coordinates (metres).
    u, v : ndarray of int
        Edge end node indices.
    length : ndarray of float
        Edge lengths (metres, from the geometry).
    lines : ndarray of shapely LineString
        Edge geometries oriented from ``u`` to ``v``.
    crs : pyproj.CRS
        The metric CRS.
    source : str
        Where the network came from.
    """

    node_xy: NDArray
    u: NDArray
    v: NDArray
    length: NDArray
    lines: NDArray
    crs: CRS
    source: str = ""

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_xy)


@dataclass
class NetworkReach:
    """Result of the multi-source pass.

    Attributes
    ----------
    node_m : ndarray
        Network distance (m) from every node to the nearest facility (inf when unreachable).
    geometry : shapely geometry
        Reach polygon (buffered reachable edge parts) in ``network.crs``.
    network : RoadNetwork
    reach : Reach
    edge_buffer_m : float
    """

    node_m: NDArray
    geometry: BaseGeometry
    network: RoadNetwork
    reach: Reach
    edge_buffer_m: float

    @property
    def node_minutes(self) -> NDArray:
        """Minutes from every node to the nearest facility."""
        return self.node_m / self.reach.metres_per_minute

    def time_to_nearest(self, x: NDArray, y: NDArray) -> NDArray:
        """Minutes from points (metric CRS) to the nearest facility: walk to the nearest node.

        Parameters
        ----------
        x, y : ndarray
            Coordinates in ``network.crs``.

        Returns
        -------
        ndarray
            Straight-line distance to the nearest node plus that node's network distance, over
            speed.
        """
        tree = cKDTree(self.network.node_xy)
        snap, idx = tree.query(np.column_stack([x, y]), k=1, workers=-1)
        return (np.asarray(snap) + self.node_m[idx]) / self.reach.metres_per_minute

    def method_note(self) -> str:
        """Describe the method for reports."""
        return (
            f"Road network ({self.network.source}, {self.network.n_nodes:,} nodes, "
            f"{len(self.network.u):,} edges, treated as undirected): one multi-source Dijkstra "
            f"pass gives every node its distance to the nearest facility; the reach is the union "
            f"of road parts within {self.reach.radius_m:,.0f} m ({self.reach.speed_kmh:g} km/h x "
            f"{self.reach.minutes:g} min), buffered by {self.edge_buffer_m:g} m on each side. "
            "Points off the network walk straight to the nearest node."
        )


def _default_metric(gdf: gpd.GeoDataFrame) -> CRS:
    minx, miny, maxx, maxy = gdf.to_crs(WGS84).total_bounds
    x0, y0, x1, y1 = HUNAN_BBOX
    if minx >= x0 - 1 and maxx <= x1 + 1 and miny >= y0 - 1 and maxy <= y1 + 1:
        return metric_crs_for(gdf)
    return CRS.from_user_input(gdf.estimate_utm_crs())


def network_from_edges(
    edges: gpd.GeoDataFrame,
    *,
    metric_crs: CRS | str | None = None,
    source: str = "edges",
) -> RoadNetwork:
    """Build a :class:`RoadNetwork` from LineString edges.

    Nodes are the edges' end points (joined where they coincide to 1 cm), so any line layer
    whose lines meet at their ends works.

    Parameters
    ----------
    edges : GeoDataFrame
        LineStrings with a CRS.
    metric_crs : pyproj.CRS or str, optional
        Default: the Gauss-Kruger zone in Hunan, else the UTM zone of the data.
    source : str
        Label for reports.

    Returns
    -------
    RoadNetwork

    Raises
    ------
    CRSError
        When ``edges`` has no CRS.
    InputError
        When there are no line edges.
    """
    require_crs(edges, name="edges")
    edges = edges[edges.geom_type == "LineString"]
    if edges.empty:
        msg = f"no LineString road edges in {source}"
        raise InputError(msg, file=source)
    metric = parse_crs(metric_crs) if metric_crs is not None else _default_metric(edges)
    lines = edges.to_crs(metric).geometry.to_numpy()
    start = shapely.get_coordinates(shapely.get_point(lines, 0))
    end = shapely.get_coordinates(shapely.get_point(lines, -1))
    both = np.round(np.vstack([start, end]), 2)
    node_xy, inverse = np.unique(both, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    n = len(lines)
    return RoadNetwork(
        node_xy=node_xy,
        u=inverse[:n],
        v=inverse[n:],
        length=shapely.length(lines),
        lines=lines,
        crs=metric,
        source=source,
    )


def read_network(
    path: str | Path, *, mode: str = "walk", metric_crs: CRS | str | None = None
) -> RoadNetwork:
    """Read a road network for ``mode`` from an OSM PBF (pyrosm) or OSM XML (osmnx) file.

    Both readers work offline on the local file.

    Parameters
    ----------
    path : str or Path
        ``.osm.pbf``/``.pbf`` or ``.osm``/``.xml``.
    mode : str
        ``walk``, ``bike`` or ``drive`` (selects the road types).
    metric_crs : pyproj.CRS or str, optional
        Metric CRS (default: Gauss-Kruger zone in Hunan, else UTM).

    Returns
    -------
    RoadNetwork

    Raises
    ------
    InputError
        For a missing, oversized, unreadable file or one without roads.
    """
    path = Path(path)
    if not path.is_file():
        msg = "OSM file not found"
        raise InputError(msg, file=str(path), field="osm")
    if path.stat().st_size > MAX_OSM_BYTES:
        msg = f"OSM file over {MAX_OSM_BYTES:,} bytes: clip it to the area of interest"
        raise InputError(msg, file=path.name, field="osm")
    if mode not in _PYROSM_TYPES:
        msg = f"unknown mode {mode!r}: use one of {sorted(_PYROSM_TYPES)}"
        raise InputError(msg, field="mode")
    name = path.name.lower()
    if name.endswith(".pbf"):
        import pyrosm  # local: heavy import

        try:
            osm = pyrosm.OSM(str(path))
            net = osm.get_network(network_type=_PYROSM_TYPES[mode], nodes=True)
            edges = net[1] if isinstance(net, tuple) else net
        except (OSError, ValueError, RuntimeError) as exc:
            msg = f"cannot read the OSM PBF file ({exc})"
            raise InputError(msg, file=path.name, field="osm") from exc
    elif name.endswith((".osm", ".xml")):
        import osmnx  # local: heavy import

        try:
            graph = osmnx.graph_from_xml(path, simplify=False, retain_all=True)
        except (OSError, ValueError, KeyError, ElementTree.ParseError) as exc:
            msg = f"cannot read the OSM XML file ({exc})"
            raise InputError(msg, file=path.name, field="osm") from exc
        graph = osmnx.convert.to_undirected(graph)
        edges = osmnx.graph_to_gdfs(graph, nodes=False).reset_index()
    else:
        msg = "unsupported OSM file: use .osm.pbf (pyrosm) or .osm/.xml (osmnx)"
        raise InputError(msg, file=path.name, field="osm")
    if edges is None or len(edges) == 0:
        msg = f"no {mode} roads in the OSM file"
        raise InputError(msg, file=path.name, field="osm")
    edges = edges.explode(index_parts=False)
    return network_from_edges(
        edges.set_crs(WGS84) if edges.crs is None else edges,
        metric_crs=metric_crs,
        source=path.name,
    )


def network_reach(
    network: RoadNetwork,
    facilities: gpd.GeoDataFrame,
    *,
    reach: Reach,
    edge_buffer_m: float = EDGE_BUFFER_M,
) -> NetworkReach:
    """Run the multi-source pass and build the reach polygon from reachable edges.

    Parameters
    ----------
    network : RoadNetwork
        The road graph.
    facilities : GeoDataFrame
        Points with a CRS.
    reach : Reach
        Mode, minutes and speed (budget = ``reach.radius_m`` metres of road).
    edge_buffer_m : float
        Half-width of the band around reachable roads.

    Returns
    -------
    NetworkReach

    Raises
    ------
    CRSError
        When ``facilities`` has no CRS.
    InputError
        When there are no facilities.
    """
    dist = nearest_distances(network, facilities)
    geometry = _reach_geometry(network, dist, reach.radius_m, edge_buffer_m)
    return NetworkReach(dist, geometry, network, reach, edge_buffer_m)


def nearest_distances(network: RoadNetwork, facilities: gpd.GeoDataFrame) -> NDArray:
    """Network distance (m) from every node to the nearest facility, in one Dijkstra pass.

    A virtual source joins each facility's nearest node by the straight-line snap distance.

    Parameters
    ----------
    network : RoadNetwork
        The road graph.
    facilities : GeoDataFrame
        Points with a CRS.

    Returns
    -------
    ndarray
        One distance per node (inf where no facility connects).

    Raises
    ------
    CRSError
        When ``facilities`` has no CRS.
    InputError
        When there are no facilities.
    """
    require_crs(facilities, name="facilities")
    if facilities.empty:
        msg = "no facilities given"
        raise InputError(msg, field="facilities")
    fac = facilities.to_crs(network.crs)
    fxy = shapely.get_coordinates(fac.geometry.to_numpy())
    snap, nearest = cKDTree(network.node_xy).query(fxy, k=1)
    n = network.n_nodes
    src = n  # virtual source joined to every facility's nearest node by its snap distance
    rows = np.concatenate([network.u, network.v, np.full(len(nearest), src)])
    cols = np.concatenate([network.v, network.u, nearest])
    w = np.concatenate([network.length, network.length, np.asarray(snap) + 1e-9])
    w = np.maximum(w, 1e-9)  # zero weights would read as missing edges
    graph = coo_matrix((w, (rows, cols)), shape=(n + 1, n + 1)).tocsr()
    return dijkstra(graph, directed=True, indices=src)[:n]


def _reach_geometry(
    network: RoadNetwork, dist: NDArray, budget: float, buffer_m: float
) -> BaseGeometry:
    du, dv, length = dist[network.u], dist[network.v], network.length
    a = np.clip(budget - du, 0.0, None)  # reach along the edge from u
    b = np.clip(budget - dv, 0.0, None)  # from v
    full = (a + b) >= length
    pieces = list(network.lines[full & (length > 0)])
    for i in np.flatnonzero(~full & ((a > 0) | (b > 0))):
        line, total = network.lines[i], length[i]
        if a[i] > 0:
            pieces.append(substring(line, 0.0, a[i] / total, normalized=True))
        if b[i] > 0:
            pieces.append(substring(line, 1.0 - b[i] / total, 1.0, normalized=True))
    reached_nodes = network.node_xy[np.isfinite(dist) & (dist <= budget)]
    pieces.extend(shapely.points(reached_nodes))
    if not pieces:
        return shapely.Polygon()
    bands = shapely.buffer(np.array(pieces, dtype=object), buffer_m, quad_segs=4)
    if len(bands) < _TILE_MIN_PIECES:
        return shapely.union_all(bands)
    return _tiled_union(bands, _TILE_M)


def _tiled_union(polygons: NDArray, tile: float) -> BaseGeometry:
    """Union many small polygons tile by tile, then join the tiles with a coverage union.

    Unioning tile by tile keeps each overlay small; the clipped tile results do not overlap, so
    :func:`shapely.coverage_union_all` joins them in about linear time.
    """
    tree = shapely.STRtree(polygons)
    minx, miny, maxx, maxy = shapely.total_bounds(polygons)
    cells = [
        shapely.box(x, y, min(x + tile, maxx), min(y + tile, maxy))
        for x in np.arange(minx, maxx, tile)
        for y in np.arange(miny, maxy, tile)
    ]

    def _one(cell: BaseGeometry) -> list[BaseGeometry]:
        idx = tree.query(cell)
        if len(idx) == 0:
            return []
        clipped = shapely.intersection(shapely.union_all(polygons[idx]), cell)
        return [p for p in shapely.get_parts(clipped) if p.geom_type == "Polygon"]

    # GEOS releases the GIL: tiles run in parallel threads
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        parts = [p for chunk in pool.map(_one, cells) for p in chunk]
    if not parts:
        return shapely.Polygon()
    return shapely.coverage_union_all(np.array(parts, dtype=object))
