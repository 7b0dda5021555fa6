"""Siting reach over a road network: travel times between demand points and sites.

The road graph comes from :func:`geo.analysis.network.read_network` (the coverage engine's
reader: the mode's ``highway`` filter, a directed graph honouring ``oneway`` for driving, an
undirected one for walking and cycling).

**Direction.** Times run from the resident to the facility (the trip a resident makes), as in
the coverage engine.  Each site's search runs on the *reversed* graph
(:func:`scipy.sparse.csgraph.dijkstra`), so the distance it finds at a node is the road
distance from that node to the site.

**Snapping.** Every demand point, candidate and existing facility joins its nearest road node
(straight line, KD-tree); the access legs at both ends are added at the mode's speed:
``minutes = (snap_demand + road path + snap_site) / speed``.  A point farther than
``max_snap_m`` from every node is *off the network*: off-network demand is never covered (and
left out of the p-median), off-network candidates are excluded, off-network existing facilities
stay open but reach no one.  The counts are reported.

**Memory.** Covering models need only the pairs within ``T`` minutes: the searches run for
``CHUNK`` distinct site nodes at a time with ``limit = speed x T`` and keep a sparse matrix.
The p-median needs every pair: a dense matrix, bounded by the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geo.analysis.coverage import Reach
from geo.analysis.network import RoadNetwork, resident_graph
from geo.errors import InputError
from geo.settings import WGS84

__all__ = [
    "CHUNK",
    "MAX_SNAP_M",
    "NetworkTimes",
    "Snap",
    "check_near_roads",
    "pmedian_costs",
    "snap_points",
]

#: Default largest straight-line distance (m) from a point to its nearest road node.
MAX_SNAP_M = 1000.0
#: Distinct site nodes per Dijkstra call (a CHUNK x n_nodes float array at a time).
CHUNK = 64
#: A demand-site pair without a road path costs this many times the longest path (p-median).
UNREACHABLE_FACTOR = 2.0
_EPS = 1e-9


@dataclass
class Snap:
    """Nearest road node of each point.

    Attributes
    ----------
    node : ndarray of int
        Nearest node index.
    gap_m : ndarray of float
        Straight-line distance to it (the access leg, metres).
    max_snap_m : float
        Points farther than this are off the network.
    """

    node: NDArray[np.int64]
    gap_m: NDArray[np.float64]
    max_snap_m: float

    @property
    def on(self) -> NDArray[np.bool_]:
        """True for points within ``max_snap_m`` of a node."""
        return self.gap_m <= self.max_snap_m


def snap_points(network: RoadNetwork, xy: NDArray, *, max_snap_m: float = MAX_SNAP_M) -> Snap:
    """Snap points (in ``network.crs``) to their nearest road node.

    Parameters
    ----------
    network : RoadNetwork
        The road graph.
    xy : ndarray (n, 2)
        Point coordinates in ``network.crs``.
    max_snap_m : float
        Largest access leg; points farther away are off the network.

    Returns
    -------
    Snap

    Raises
    ------
    InputError
        When ``max_snap_m`` is not a positive number.
    """
    if not max_snap_m > 0:
        msg = f"the snap distance must be > 0 metres, got {max_snap_m!r}"
        raise InputError(msg, field="max_snap_m")
    if len(xy) == 0:
        return Snap(np.zeros(0, np.int64), np.zeros(0), float(max_snap_m))
    gap, node = cKDTree(network.node_xy).query(np.asarray(xy, dtype=float), k=1, workers=-1)
    return Snap(np.asarray(node, np.int64), np.asarray(gap, float), float(max_snap_m))


def pmedian_costs(minutes: NDArray) -> tuple[NDArray, NDArray[np.bool_], float]:
    """Costs for the p-median from network minutes with ``inf`` where no road path exists.

    A pair without a path (one-way streets, separate road pieces, an off-network point) costs
    ``UNREACHABLE_FACTOR`` x the longest finite time, so the model prefers a site that can be
    reached; a demand point no site reaches at all is left out (its weight should be 0).

    Parameters
    ----------
    minutes : ndarray (n_demand, n_sites)
        Network minutes, ``inf`` without a path; overwritten in place (it may be large).

    Returns
    -------
    (ndarray, ndarray of bool, float)
        Finite costs (``minutes`` itself), the demand points no site reaches, and the penalty
        in minutes.
    """
    missing = ~np.isfinite(minutes)
    none = missing.all(axis=1)
    longest = float(np.max(minutes, where=~missing, initial=0.0))
    penalty = max(UNREACHABLE_FACTOR * longest, 1.0)
    minutes[missing] = penalty
    return minutes, none, penalty


@dataclass
class NetworkTimes:
    """Travel times (resident -> facility) between demand points and sites on a road network.

    Attributes
    ----------
    network : RoadNetwork
    reach : Reach
        Mode, minutes and speed.
    demand, sites : Snap
        Snapping of the demand points and of the sites (existing first, then candidates).
    graph : scipy.sparse.csr_matrix
        The reversed road graph (:func:`resident_graph`).
    """

    network: RoadNetwork
    reach: Reach
    demand: Snap
    sites: Snap
    graph: sparse.csr_matrix

    @classmethod
    def build(
        cls,
        network: RoadNetwork,
        demand_xy: NDArray,
        site_xy: NDArray,
        *,
        reach: Reach,
        max_snap_m: float = MAX_SNAP_M,
    ) -> NetworkTimes:
        """Snap demand and sites (coordinates in ``network.crs``) and build the graph.

        Parameters
        ----------
        network : RoadNetwork
        demand_xy, site_xy : ndarray (n, 2), (m, 2)
            Coordinates in ``network.crs``.
        reach : Reach
        max_snap_m : float
            Largest access leg (m).

        Returns
        -------
        NetworkTimes

        Raises
        ------
        InputError
            When no demand point lies within ``max_snap_m`` of the roads (an extract of another
            area); the message names the OSM file.
        """
        demand = check_near_roads(network, demand_xy, max_snap_m=max_snap_m)
        sites = snap_points(network, site_xy, max_snap_m=max_snap_m)
        return cls(network, reach, demand, sites, resident_graph(network))

    @property
    def n_demand(self) -> int:
        """Number of demand points."""
        return len(self.demand.node)

    @property
    def n_sites(self) -> int:
        """Number of sites."""
        return len(self.sites.node)

    def _demand_by_node(self) -> tuple[NDArray, NDArray, NDArray]:
        """On-network demand sorted by node, each node's first position and count."""
        on = np.flatnonzero(self.demand.on)
        order = np.argsort(self.demand.node[on], kind="stable")
        nodes = self.demand.node[on][order]
        ids = np.arange(self.network.n_nodes)
        start = np.searchsorted(nodes, ids, side="left")
        count = np.searchsorted(nodes, ids, side="right") - start
        return on[order], start, count

    def cover_minutes(
        self, *, progress: Callable[[int, int], None] | None = None
    ) -> sparse.csr_matrix:
        """Sparse minutes (n_demand, n_sites) of every pair within ``reach.minutes``.

        Parameters
        ----------
        progress : callable, optional
            Called with (site nodes done, total) after each chunk.

        Returns
        -------
        scipy.sparse.csr_matrix
            Stored entries are the pairs in reach (a zero time is stored as a tiny positive).
        """
        budget = self.reach.radius_m
        on_sites = np.flatnonzero(self.sites.on)
        uniq, inv = np.unique(self.sites.node[on_sites], return_inverse=True)
        dem_sorted, start, count = self._demand_by_node()
        rows, cols, metres = [], [], []
        for c0 in range(0, len(uniq), CHUNK):
            dist = dijkstra(self.graph, directed=True, indices=uniq[c0 : c0 + CHUNK], limit=budget)
            r, nd = np.nonzero(dist <= budget)
            reps = count[nd]
            r, nd, reps = r[reps > 0], nd[reps > 0], reps[reps > 0]
            offs = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
            dem = dem_sorted[np.repeat(start[nd], reps) + offs]
            m = np.repeat(dist[r, nd], reps) + self.demand.gap_m[dem]
            keep = m <= budget
            rows.append(dem[keep])
            cols.append(c0 + np.repeat(r, reps)[keep])
            metres.append(m[keep])
            if progress is not None:
                progress(min(c0 + CHUNK, len(uniq)), len(uniq))
        by_node = sparse.csc_matrix(
            (_cat(metres, float), (_cat(rows, np.int64), _cat(cols, np.int64))),
            shape=(self.n_demand, len(uniq)),
        )
        per_site = by_node[:, inv].tocoo()  # one column per on-network site
        total = per_site.data + self.sites.gap_m[on_sites][per_site.col]
        keep = total <= budget
        minutes = np.maximum(total[keep] / self.reach.metres_per_minute, _EPS)
        return sparse.csr_matrix(
            (minutes, (per_site.row[keep], on_sites[per_site.col[keep]])),
            shape=(self.n_demand, self.n_sites),
        )

    def all_minutes(self) -> NDArray:
        """Dense minutes (n_demand, n_sites) of every pair, ``inf`` without a road path.

        Returns
        -------
        ndarray
            Off-network demand rows and off-network site columns are ``inf``.
        """
        out = np.full((self.n_demand, self.n_sites), np.inf)
        on_sites = np.flatnonzero(self.sites.on)
        uniq, inv = np.unique(self.sites.node[on_sites], return_inverse=True)
        on_dem = np.flatnonzero(self.demand.on)
        dnode, dgap = self.demand.node[on_dem], self.demand.gap_m[on_dem]
        for c0 in range(0, len(uniq), CHUNK):
            dist = dijkstra(self.graph, directed=True, indices=uniq[c0 : c0 + CHUNK])
            block = dist[:, dnode] + dgap[None, :]  # (chunk, on-network demand)
            here = np.flatnonzero((inv >= c0) & (inv < c0 + CHUNK))
            for j in here:
                site = on_sites[j]
                out[on_dem, site] = block[inv[j] - c0] + self.sites.gap_m[site]
        return out / self.reach.metres_per_minute

    def nearest_minutes(self, open_sites: NDArray[np.bool_]) -> NDArray:
        """Minutes from every demand point to its nearest open site (one multi-source search).

        Parameters
        ----------
        open_sites : ndarray of bool (n_sites,)

        Returns
        -------
        ndarray (n_demand,)
            ``inf`` where no open site can be reached.
        """
        sites = np.flatnonzero(np.asarray(open_sites, bool) & self.sites.on)
        out = np.full(self.n_demand, np.inf)
        if len(sites) == 0:
            return out
        n = self.network.n_nodes
        best = np.full(n, np.inf)
        np.minimum.at(best, self.sites.node[sites], self.sites.gap_m[sites])
        nodes = np.flatnonzero(np.isfinite(best))
        # a virtual source joined to each open site's node by that site's access leg
        virtual = sparse.csr_matrix(
            (best[nodes] + _EPS, (np.full(len(nodes), n), nodes)), shape=(n + 1, n + 1)
        )
        graph = sparse.block_diag([self.graph, sparse.csr_matrix((1, 1))], format="csr")
        dist = dijkstra(graph + virtual, directed=True, indices=n)[:n] - _EPS
        on = np.flatnonzero(self.demand.on)
        out[on] = (np.maximum(dist[self.demand.node[on]], 0.0) + self.demand.gap_m[on]) / (
            self.reach.metres_per_minute
        )
        return out

    def params(self) -> dict[str, str]:
        """State the network, profile, direction and snapping for reports.

        Returns
        -------
        dict of str
        """
        net = self.network
        oneway = int(np.sum(net.oneway)) if net.oneway is not None else 0
        r = self.reach
        return {
            "reach": f"road network: shortest road path within {r.minutes:g} min "
            f"({r.radius_m:,.0f} m at {r.speed_kmh:g} km/h), scipy.sparse.csgraph.dijkstra; "
            f"lengths in {net.crs.name}",
            "reach_kind": "network",
            "network_file": net.source,
            "network_profile": f"{net.profile}; {net.n_nodes:,} nodes, {len(net.u):,} edges"
            + (f", {oneway:,} one-way" if oneway else ""),
            "network_direction": "from the resident to the facility (the trip a resident "
            "makes; searches run on the reversed graph"
            + (
                ", so one-way streets count in the direction a resident drives them)"
                if net.directed
                else "; this graph is undirected, so both directions take the same time)"
            ),
            "network_mean_minutes": "per-unit mean minutes are population-weighted over the "
            "people with a road path to an open site",
            "snapping": "each demand point, candidate and existing facility joins its nearest "
            f"road node in a straight line; both access legs are added at {r.speed_kmh:g} km/h; "
            f"points farther than {self.demand.max_snap_m:g} m from every node are off the "
            "network",
            "snap_demand_off_network": _count_text(~self.demand.on, "demand point(s)"),
            "snap_sites_off_network": _count_text(~self.sites.on, "site(s)"),
        }


def _count_text(mask: NDArray[np.bool_], what: str) -> str:
    return f"{int(mask.sum()):,} of {len(mask):,} {what}"


def _cat(parts: list[NDArray], dtype: type) -> NDArray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def check_near_roads(
    network: RoadNetwork, demand_xy: NDArray, *, max_snap_m: float = MAX_SNAP_M
) -> Snap:
    """Snap the demand; stop when none of it lies near the roads (an extract of another area).

    Parameters
    ----------
    network : RoadNetwork
    demand_xy : ndarray (n, 2)
        Demand coordinates in ``network.crs``.
    max_snap_m : float
        Largest access leg (m).

    Returns
    -------
    Snap
        The demand's snapping.

    Raises
    ------
    InputError
        Naming the OSM file, its extent and the demand's, when no point is within reach.
    """
    snap = snap_points(network, demand_xy, max_snap_m=max_snap_m)
    if len(snap.gap_m) == 0 or snap.on.any():
        return snap
    nodes = gpd.GeoSeries(gpd.points_from_xy(*network.node_xy.T), crs=network.crs).to_crs(WGS84)
    x0, y0, x1, y1 = nodes.total_bounds
    dem = gpd.GeoSeries(gpd.points_from_xy(*np.asarray(demand_xy).T), crs=network.crs)
    dx0, dy0, dx1, dy1 = dem.to_crs(WGS84).total_bounds
    msg = (
        f"the OSM file covers {x0:.3f}-{x1:.3f} E, {y0:.3f}-{y1:.3f} N but none of the "
        f"{len(demand_xy):,} demand points (around {dx0:.3f}-{dx1:.3f} E, {dy0:.3f}-{dy1:.3f} N) "
        f"lies within {max_snap_m:g} m of its roads: use an extract of the units' area"
    )
    raise InputError(msg, file=network.source, field="osm")
