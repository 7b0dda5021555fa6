"""The river's main stem: named 湘江; every other arc is unnamed water.

The 1:4M hydrography (``xiangjiang.geojson``) names all 113 arcs 湘江, Dongting channels and
tributaries included.  The main stem is inferred as the shortest connected path, along the arcs,
from the southernmost arc end (the source reach entering from Guangxi) to the northernmost one
(the outlet to the Yangtze at 城陵矶); arc ends closer than :data:`SNAP_M` are joined.
"""

from __future__ import annotations

import itertools
from typing import Final

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo.crs import require_crs

__all__ = ["MAIN_STEM_METHOD", "SNAP_M", "main_stem"]

#: Arc ends closer than this (metres) are treated as one node.
SNAP_M: Final[float] = 500.0
#: How the main stem is chosen (printed in the notes).
MAIN_STEM_METHOD: Final[str] = (
    "湘江干流由 1:400 万水系弧段推定（inferred：最南端弧段端点至最北端出口的连通最短路径），"
    "其余弧段为未命名水系"
)


def main_stem(river: gpd.GeoDataFrame, *, metric_crs: str = "EPSG:4547") -> pd.Series:
    """Flag the arcs of the main stem.

    Parameters
    ----------
    river : GeoDataFrame
        Line arcs with a CRS.
    metric_crs : str
        CRS to measure in.

    Returns
    -------
    Series of bool
        True for arcs on the main stem, indexed like ``river``.

    Raises
    ------
    CRSError
        When ``river`` has no CRS.
    """
    require_crs(river, name="river")
    flags = pd.Series(False, index=river.index)
    lines = river[river.geometry.geom_type == "LineString"]
    if lines.empty:
        return flags
    metric = lines.to_crs(metric_crs)
    ends = np.array([c for g in metric.geometry for c in (g.coords[0], g.coords[-1])])
    node = np.arange(len(ends))
    for i, j in sorted(cKDTree(ends).query_pairs(SNAP_M)):
        a, b = node[i], node[j]
        node[node == max(a, b)] = min(a, b)
    graph = nx.Graph()
    for pos, (idx, geom) in enumerate(zip(metric.index, metric.geometry, strict=True)):
        u, v = int(node[2 * pos]), int(node[2 * pos + 1])
        if graph.has_edge(u, v) and graph[u][v]["length"] <= geom.length:
            continue
        graph.add_edge(u, v, length=geom.length, idx=idx)
    lat = ends[:, 1]
    source, mouth = int(node[int(np.argmin(lat))]), int(node[int(np.argmax(lat))])
    try:
        path = nx.shortest_path(graph, source, mouth, weight="length")
    except nx.NetworkXNoPath:
        return flags
    for u, v in itertools.pairwise(path):
        flags[graph[u][v]["idx"]] = True
    return flags
