"""Reach over a road network read offline from a user's OSM file (PBF via pyrosm, XML via osmnx).

One multi-source Dijkstra pass (a virtual source joined to every facility's nearest node by its
snap distance, :func:`scipy.sparse.csgraph.dijkstra`) gives every node its network distance to
the nearest facility.  The reach polygon is the union of the reachable parts of edges (partly
reachable edges are cut where the budget runs out), buffered by ``edge_buffer_m``: not a convex
hull.

Profiles: both readers keep only the ``highway`` types of the mode (:data:`HIGHWAYS`; building,
land-use and other outlines are never roads).  Walking and cycling use an undirected graph;
driving uses a directed graph that honours ``oneway`` (distances are from every node *to* the
nearest facility, i.e. the trip a resident makes).

Small reaches are unioned exactly (vector).  Large ones (``>= RASTER_MIN_PIECES`` road pieces)
are rasterised: the reached road parts are sampled every cell onto a grid of
``edge_buffer_m / 2.5`` m, dilated by a disc of radius ``edge_buffer_m`` and
polygonised once.  The reached edges are the same; the outline is exact to about one cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from xml.etree import ElementTree

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from scipy import ndimage, sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from geo.analysis.coverage import Reach
from geo.crs import metric_crs_for, parse_crs, require_crs
from geo.errors import InputError
from geo.settings import HUNAN_BBOX, MAX_UPLOAD_BYTES, WGS84

__all__ = [
    "HIGHWAYS",
    "NetworkReach",
    "RoadNetwork",
    "nearest_distances",
    "network_from_edges",
    "network_reach",
    "profile_text",
    "rasterised_bands",
    "reached_parts",
    "read_network",
    "resident_graph",
]

#: pyrosm network types per mode.
_PYROSM_TYPES = {"walk": "walking", "bike": "cycling", "drive": "driving"}
_COMMON = (
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "road",
)
#: OSM ``highway`` values each mode may use (applied to PBF and XML alike).
HIGHWAYS: dict[str, frozenset[str]] = {
    "walk": frozenset(_COMMON)
    | {"trunk", "trunk_link", "service", "footway", "pedestrian", "path", "steps", "track"}
    | {"corridor", "bridleway"},
    "bike": frozenset(
        (*_COMMON, "trunk", "trunk_link", "service", "cycleway", "path", "track", "pedestrian")
    ),
    "drive": frozenset((*_COMMON, "motorway", "motorway_link", "trunk", "trunk_link")),
}
#: Modes routed on a directed graph that honours ``oneway``.
DIRECTED_MODES = frozenset({"drive"})
#: Road pieces from which the reach polygon is rasterised instead of unioned exactly.
RASTER_MIN_PIECES = 5000
_EPS = 1e-9
#: Default half-width (m) of the band around reachable road centre lines.
EDGE_BUFFER_M = 50.0
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
    oneway : ndarray of bool, optional
        True where an edge may only be travelled from ``u`` to ``v`` (None: all two-way).
    profile : str
        The mode's filter and graph type, for reports.
    """

    node_xy: NDArray
    u: NDArray
    v: NDArray
    length: NDArray
    lines: NDArray
    crs: CRS
    source: str = ""
    oneway: NDArray | None = None
    profile: str = "all line edges, undirected"

    @property
    def directed(self) -> bool:
        """True when some edge is one-way."""
        return self.oneway is not None and bool(np.any(self.oneway))

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
        net = self.network
        oneway = int(np.sum(net.oneway)) if net.oneway is not None else 0
        return (
            f"Road network ({net.source}, {net.n_nodes:,} nodes, {len(net.u):,} edges"
            f"{f', {oneway:,} one-way' if oneway else ''}; profile: {net.profile}): "
            "one multi-source Dijkstra "
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
    oneway: NDArray | None = None,
    profile: str = "all line edges, undirected",
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
    oneway : ndarray of bool, optional
        One flag per row of ``edges``: True where the edge may only be travelled in the
        direction of its geometry.
    profile : str
        Label of the mode filter and graph type, for reports.

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
    is_line = (edges.geom_type == "LineString").to_numpy()
    if oneway is not None:
        oneway = np.asarray(oneway, dtype=bool)[is_line]
    edges = edges[is_line]
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
        oneway=oneway,
        profile=profile,
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
        edges = _read_pbf(path, mode)
    elif name.endswith((".osm", ".xml")):
        edges = _read_xml(path, mode)
    else:
        msg = "unsupported OSM file: use .osm.pbf (pyrosm) or .osm/.xml (osmnx)"
        raise InputError(msg, file=path.name, field="osm")
    edges = _mode_edges(edges, mode)
    if edges.empty:
        msg = (
            f"no {mode} roads in the OSM file (highway types {sorted(HIGHWAYS[mode])}): "
            "check that it covers the area and holds roads"
        )
        raise InputError(msg, file=path.name, field="osm")
    edges = edges.explode(index_parts=False)
    edges = edges.set_crs(WGS84) if edges.crs is None else edges
    directed = mode in DIRECTED_MODES
    return network_from_edges(
        edges,
        metric_crs=metric_crs,
        source=path.name,
        oneway=edges["_oneway"].to_numpy(dtype=bool) if directed else None,
        profile=profile_text(mode),
    )


def profile_text(mode: str) -> str:
    """Describe the road filter and graph type of ``mode`` for reports.

    Parameters
    ----------
    mode : str
        ``walk``, ``bike`` or ``drive``.

    Returns
    -------
    str
    """
    graph = (
        "directed graph honouring oneway=yes/-1 and roundabouts"
        if mode in DIRECTED_MODES
        else "undirected graph (one-way streets may be walked/cycled both ways)"
    )
    return f"{mode}: OSM highway in {{{', '.join(sorted(HIGHWAYS[mode]))}}}, {graph}"


def _read_pbf(path: Path, mode: str) -> gpd.GeoDataFrame:
    import pyrosm  # local: heavy import
    from pyrosm.exceptions import PBFException

    try:
        osm = pyrosm.OSM(str(path))
        net = osm.get_network(network_type=_PYROSM_TYPES[mode], nodes=True)
    except (OSError, ValueError, RuntimeError, KeyError, PBFException) as exc:
        msg = f"cannot read the OSM PBF file ({exc})"
        raise InputError(msg, file=path.name, field="osm") from exc
    edges = net[1] if isinstance(net, tuple) else net
    if edges is None or len(edges) == 0:
        return gpd.GeoDataFrame({"highway": [], "_oneway": []}, geometry=[], crs=WGS84)
    edges = edges.copy()
    flag = _column(edges, "oneway")
    reverse = flag.isin(["-1", "reverse"])
    edges["_oneway"] = flag.isin(["yes", "true", "1", "-1", "reverse"]) | _column(
        edges, "junction"
    ).isin(["roundabout", "circular"])
    if reverse.any():
        edges.loc[reverse, "geometry"] = shapely.reverse(edges.geometry[reverse].to_numpy())
    return edges


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series("", index=frame.index)
    return frame[name].astype(str).str.strip().str.lower()


def _read_xml(path: Path, mode: str) -> gpd.GeoDataFrame:
    import osmnx  # local: heavy import

    try:
        graph = osmnx.graph_from_xml(path, simplify=False, retain_all=True)
    except (OSError, ValueError, KeyError, ElementTree.ParseError) as exc:
        msg = f"cannot read the OSM XML file ({exc})"
        raise InputError(msg, file=path.name, field="osm") from exc
    if graph.number_of_edges() == 0:
        return gpd.GeoDataFrame({"highway": [], "_oneway": []}, geometry=[], crs=WGS84)
    edges = osmnx.graph_to_gdfs(graph, nodes=False).reset_index()
    # osmnx adds both arcs of a two-way way (one flagged 'reversed') and one arc, in the legal
    # direction, of a one-way way: keep one arc per way segment and its one-way flag
    rev = edges["reversed"] if "reversed" in edges.columns else pd.Series(False, edges.index)
    edges = edges[~rev.fillna(False).astype(bool)].copy()
    one = edges["oneway"] if "oneway" in edges.columns else pd.Series(False, edges.index)
    edges["_oneway"] = one.fillna(False).astype(bool)
    return edges


def _mode_edges(edges: gpd.GeoDataFrame, mode: str) -> gpd.GeoDataFrame:
    """Keep the edges whose OSM ``highway`` tag the mode may use (no outlines, no areas)."""
    if "highway" not in edges.columns:
        return edges.iloc[0:0]
    highway = edges["highway"].map(lambda v: v[0] if isinstance(v, list) and v else v)
    keep = highway.astype(str).str.strip().str.lower().isin(HIGHWAYS[mode])
    keep &= ~_column(edges, "area").isin(["yes", "true", "1"])
    if mode == "walk":
        keep &= ~_column(edges, "foot").isin(["no", "private"])
    elif mode == "bike":
        keep &= ~_column(edges, "bicycle").isin(["no", "private"])
    keep &= ~_column(edges, "access").isin(["no", "private"])
    return edges[keep.to_numpy()]


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
    best = np.full(n, np.inf)  # shortest snap per node (several facilities may share one)
    np.minimum.at(best, nearest, snap)
    nodes = np.flatnonzero(np.isfinite(best))
    # a virtual source n joined to every facility's nearest node by its snap distance; the
    # search runs on the reversed graph, so distances are node -> facility
    virtual = sparse.csr_matrix(
        (best[nodes] + _EPS, (np.full(len(nodes), n), nodes)), shape=(n + 1, n + 1)
    )
    graph = sparse.block_diag([resident_graph(network), sparse.csr_matrix((1, 1))], format="csr")
    # take off the tiny weight of the virtual arc so that ties at the budget stay inside
    return np.maximum(dijkstra(graph + virtual, directed=True, indices=n)[:n] - _EPS, 0.0)


def resident_graph(network: RoadNetwork) -> sparse.csr_matrix:
    """CSR matrix of the *reversed* road graph: entry ``[b, a]`` = length of arc ``a -> b``.

    A search from a site on this matrix finds the road distance from every node *to* the site.
    Parallel arcs keep the shortest (a sparse constructor would add them up); self-loops are
    dropped; zero lengths become a tiny positive weight (an explicit zero reads as no arc).

    Parameters
    ----------
    network : RoadNetwork
        The road graph (one-way edges only ``u -> v``).

    Returns
    -------
    scipy.sparse.csr_matrix (n_nodes, n_nodes)
    """
    two = np.ones(len(network.u), dtype=bool) if network.oneway is None else ~network.oneway
    a = np.concatenate([network.u, network.v[two]])
    b = np.concatenate([network.v, network.u[two]])
    w = np.maximum(np.concatenate([network.length, network.length[two]]), _EPS)
    keep = a != b
    rows, cols, w = b[keep], a[keep], w[keep]
    order = np.lexsort((w, cols, rows))
    rows, cols, w = rows[order], cols[order], w[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    n = network.n_nodes
    return sparse.csr_matrix((w[first], (rows[first], cols[first])), shape=(n, n))


def reached_parts(network: RoadNetwork, dist: NDArray, budget: float) -> NDArray:
    """Return the parts of roads within ``budget`` m of a facility, and the reached nodes.

    A point on edge ``u -> v`` at ``s`` metres from ``u`` reaches a facility via ``v`` at
    ``length - s + dist[v]`` and, unless the edge is one-way, via ``u`` at ``s + dist[u]``.

    Parameters
    ----------
    network : RoadNetwork
        The road graph.
    dist : ndarray
        Node distances from :func:`nearest_distances`.
    budget : float
        Metres of road.

    Returns
    -------
    ndarray of shapely geometry
        Whole edges, cut edges and reached nodes (points).
    """
    du, dv, length = dist[network.u], dist[network.v], network.length
    a = np.clip(budget - du, 0.0, None)  # reach along the edge from u
    if network.oneway is not None:
        a[network.oneway] = 0.0  # one-way u -> v: nobody on it travels back to u
    b = np.clip(budget - dv, 0.0, None)  # from v
    full = (a + b) >= length
    pieces = list(network.lines[full & (length > 0)])
    a[a < 1e-6] = 0.0  # slivers below a micrometre are no road
    b[b < 1e-6] = 0.0
    for i in np.flatnonzero(~full & ((a > 0) | (b > 0))):
        line, total = network.lines[i], length[i]
        if a[i] > 0:
            pieces.append(substring(line, 0.0, a[i] / total, normalized=True))
        if b[i] > 0:
            pieces.append(substring(line, 1.0 - b[i] / total, 1.0, normalized=True))
    reached_nodes = network.node_xy[np.isfinite(dist) & (dist <= budget)]
    pieces.extend(shapely.points(reached_nodes))
    return np.array(pieces, dtype=object)


def _reach_geometry(
    network: RoadNetwork, dist: NDArray, budget: float, buffer_m: float
) -> BaseGeometry:
    pieces = reached_parts(network, dist, budget)
    if len(pieces) == 0:
        return shapely.Polygon()
    if len(pieces) >= RASTER_MIN_PIECES:
        return rasterised_bands(pieces, buffer_m)
    return shapely.union_all(shapely.buffer(pieces, buffer_m, quad_segs=4))


def rasterised_bands(
    pieces: NDArray, buffer_m: float, *, cell_m: float | None = None
) -> BaseGeometry:
    """Polygon of everything within ``buffer_m`` of ``pieces``, built on a raster.

    The lines are sampled every cell and burnt into a grid; a dilation with a disc of
    radius ``buffer_m`` (:func:`scipy.ndimage.binary_dilation`) marks the cells whose centre lies
    within ``buffer_m`` of a burnt cell; :func:`rasterio.features.shapes` polygonises them once.
    This replaces the union of many overlapping buffers (the slow part of the exact method);
    the outline is exact to about one cell.

    Parameters
    ----------
    pieces : ndarray of shapely geometry
        Lines and points in a metric CRS.
    buffer_m : float
        Half-width of the band.
    cell_m : float, optional
        Raster cell (default ``buffer_m / 2.5``).

    Returns
    -------
    shapely geometry
        (Multi)polygon in the CRS of ``pieces``.
    """
    from rasterio.features import shapes  # local: heavy import

    cell = float(cell_m or max(buffer_m / 2.5, 0.5))
    xy = _samples(pieces, cell)
    pad = buffer_m + 2 * cell
    minx, miny = xy.min(axis=0) - pad
    maxx, maxy = xy.max(axis=0) + pad
    width, height = int(np.ceil((maxx - minx) / cell)), int(np.ceil((maxy - miny) / cell))
    col = ((xy[:, 0] - minx) / cell).astype(np.int64)
    row = ((maxy - xy[:, 1]) / cell).astype(np.int64)
    road = np.zeros((height, width), dtype=bool)
    road[row, col] = True
    r = buffer_m / cell
    k = int(np.floor(r))
    yy, xx = np.mgrid[-k : k + 1, -k : k + 1]
    near = ndimage.binary_dilation(road, structure=(xx**2 + yy**2) <= r * r)
    # polygonise in pixel units (rasterio's affine '*' warns) and place the rings ourselves
    polys = [
        _polygon(g["coordinates"], origin=(minx, maxy), cell=cell)
        for g, _ in shapes(near.view(np.uint8), mask=near)
    ]
    if not polys:
        return shapely.Polygon()
    # the polygonised components are disjoint: no union needed
    return shapely.MultiPolygon(polys) if len(polys) > 1 else polys[0]


def _samples(pieces: NDArray, step: float) -> NDArray:
    """Return the vertices of ``pieces`` plus points every ``step`` m along each segment."""
    coords, which = shapely.get_coordinates(pieces, return_index=True)
    same = np.flatnonzero(which[1:] == which[:-1])  # segment starts
    x0, y0 = coords[same, 0], coords[same, 1]
    dx, dy = coords[same + 1, 0] - x0, coords[same + 1, 1] - y0
    n = np.ceil(np.hypot(dx, dy) / step).astype(np.int64) + 1
    seg = np.repeat(np.arange(len(n)), n)  # 1-D gathers: a few times faster than 2-D repeats
    frac = (np.arange(len(seg)) - np.repeat(np.cumsum(n) - n, n)) / np.maximum(n - 1, 1)[seg]
    return np.vstack(
        [coords, np.column_stack([x0[seg] + dx[seg] * frac, y0[seg] + dy[seg] * frac])]
    )


def _polygon(rings: list, *, origin: tuple[float, float], cell: float) -> shapely.Polygon:
    """Build a polygon from GeoJSON pixel rings in one vectorised call (fast with many holes)."""
    lengths = np.fromiter((len(r) for r in rings), dtype=np.int64, count=len(rings))
    flat = np.array(list(chain.from_iterable(rings)), dtype=float)
    flat[:, 0] = origin[0] + flat[:, 0] * cell
    flat[:, 1] = origin[1] - flat[:, 1] * cell
    made = shapely.linearrings(flat, indices=np.repeat(np.arange(len(rings)), lengths))
    return shapely.polygons(made[0], holes=made[1:] if len(made) > 1 else None)
