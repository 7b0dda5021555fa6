"""Schematic layout geometry: zones, corridors and the 一核三圈 rings, drawn in metric CRSs.

A plan states intent, not surveyed boundaries.  The geometry here is therefore *schematic* and
deterministic: it is drawn around named anchor points, clipped to the counties the plan puts the
zone in, and where the plan gives an area the size is solved so that the polygon's own geodesic
area matches it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import LineString, MultiPoint, Point
from shapely.geometry.base import BaseGeometry

from geo.crs import geodesic_area_km2
from geo.errors import LayoutError
from geo.settings import WGS84

__all__ = [
    "corridor",
    "hull_buffer",
    "rings",
    "solve_area",
    "to_wgs84_geometry",
    "zone_shape",
]

#: Relative tolerance of solved areas (the plans' areas must be met within 0.5 %).
AREA_RTOL = 1e-5


def to_wgs84_geometry(geom: BaseGeometry, crs: CRS) -> BaseGeometry:
    """Transform a geometry from the metric ``crs`` to WGS-84 longitude/latitude."""
    transformer = Transformer.from_crs(crs, WGS84, always_xy=True)
    return shapely.transform(
        geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )


def hull_buffer(anchors: Sequence[Point], radius_m: float) -> BaseGeometry:
    """Buffer the convex hull of ``anchors`` by ``radius_m`` (a disk for one anchor).

    Parameters
    ----------
    anchors : sequence of Point
        Anchor points in a metric CRS.
    radius_m : float
        Buffer distance in metres (≥ 0).

    Returns
    -------
    Polygon

    Examples
    --------
    >>> round(hull_buffer([Point(0, 0)], 1000).area / 1e6, 2)  # ≈ π km²
    3.14
    """
    if not anchors:
        msg = "a zone needs at least one anchor"
        raise LayoutError(msg)
    return MultiPoint(list(anchors)).convex_hull.buffer(radius_m, quad_segs=32)


def corridor(anchors: Sequence[Point], radius_m: float) -> BaseGeometry:
    """Buffer the line through ``anchors`` (in order) by ``radius_m``: a belt's corridor.

    Examples
    --------
    >>> round(corridor([Point(0, 0), Point(10_000, 0)], 1000).area / 1e6, 2)  # 20 + π km²
    23.14
    """
    if len(anchors) < 2:
        return hull_buffer(anchors, radius_m)
    return LineString([(p.x, p.y) for p in anchors]).buffer(radius_m, quad_segs=32)


def solve_area(
    make: Callable[[float], BaseGeometry],
    target_km2: float,
    *,
    crs: CRS,
    name: str = "zone",
    start_m: float = 1000.0,
) -> tuple[BaseGeometry, float]:
    """Find the radius at which ``make(radius)`` has a geodesic area of ``target_km2``.

    ``make`` must give a geometry whose area grows with the radius.  Bisection runs on the
    geodesic (WGS-84 ellipsoid) area of the result, so the met area does not depend on the
    projection.

    Parameters
    ----------
    make : callable
        ``radius_m -> geometry`` in ``crs``.
    target_km2 : float
        Area to meet.
    crs : pyproj.CRS
        Metric CRS of the geometry.
    name : str
        Zone name for messages.
    start_m : float
        First upper bracket of the radius.

    Returns
    -------
    (geometry, float)
        The geometry and its radius in metres.

    Raises
    ------
    LayoutError
        When the area cannot be met (the clip area is smaller than the target, or even radius
        0 exceeds it).
    """

    def area(radius: float) -> float:
        return geodesic_area_km2(to_wgs84_geometry(make(radius), crs))

    if area(0.0) > target_km2 * (1 + AREA_RTOL):
        msg = f"{name}: the anchors' hull alone exceeds the planned {target_km2} km²"
        raise LayoutError(msg)
    low, high = 0.0, start_m
    while area(high) < target_km2:
        low, high = high, high * 2
        if high > 200_000:
            msg = f"{name}: cannot reach {target_km2} km² inside the clip area; widen clip_counties"
            raise LayoutError(msg)
    for _ in range(80):
        mid = (low + high) / 2
        value = area(mid)
        if abs(value - target_km2) <= target_km2 * AREA_RTOL:
            return make(mid), mid
        low, high = (mid, high) if value < target_km2 else (low, mid)
    return make(high), high


def zone_shape(
    method: str,
    anchors: Sequence[Point],
    *,
    clip: BaseGeometry,
    crs: CRS,
    radius_m: float | None = None,
    area_km2: float | None = None,
    exclude: BaseGeometry | None = None,
    name: str = "zone",
) -> BaseGeometry:
    """Draw a schematic zone around its anchors, clipped to ``clip`` minus ``exclude``.

    Parameters
    ----------
    method : {"buffer", "corridor", "ring"}
        ``buffer``/``ring``: buffered convex hull; ``corridor``: buffered line in anchor order.
    anchors : sequence of Point
        Anchor points in ``crs``.
    clip : geometry
        The counties the zone must stay in (metric).
    crs : pyproj.CRS
        The metric CRS.
    radius_m : float, optional
        Buffer distance; required unless ``area_km2`` is given.
    area_km2 : float, optional
        Planned area: the radius is solved so the zone's own geodesic area matches it.
    exclude : geometry, optional
        Area to cut out (inner rings).
    name : str
        Zone name for messages.

    Returns
    -------
    Polygon or MultiPolygon in ``crs``.

    Raises
    ------
    LayoutError
        Unknown method, no radius and no area, or an area that cannot be met.
    """
    if method in {"buffer", "ring"}:
        base = hull_buffer
    elif method == "corridor":
        base = corridor
    else:
        msg = f"{name}: unknown method {method!r}; use buffer, corridor or ring"
        raise LayoutError(msg)
    region = clip.difference(exclude) if exclude is not None else clip

    def make(radius: float) -> BaseGeometry:
        return shapely.make_valid(base(anchors, radius).intersection(region))

    if area_km2 is not None:
        geom, _ = solve_area(make, area_km2, crs=crs, name=name)
        return geom
    if radius_m is None:
        msg = f"{name}: give radius_km or area_km2"
        raise LayoutError(msg)
    return make(radius_m)


def rings(
    core: Point,
    outer_anchors: Sequence[Point],
    *,
    areas_km2: tuple[float, float, float],
    clip: BaseGeometry,
    crs: CRS,
) -> tuple[BaseGeometry, BaseGeometry, BaseGeometry]:
    """Draw 一核三圈: two nested rings around the core and an outer ring around named sub-areas.

    The first ring is a disk around the core, the second the annulus around it, the third the
    hull of its sub-areas buffered, each minus the rings inside it and clipped to ``clip``; each
    ring's own geodesic area is solved to ``areas_km2``.

    Returns
    -------
    tuple of three geometries in ``crs`` (inner to outer).
    """
    first = zone_shape("ring", [core], clip=clip, crs=crs, area_km2=areas_km2[0], name="ring 1")
    second = zone_shape(
        "ring", [core], clip=clip, crs=crs, area_km2=areas_km2[1], exclude=first, name="ring 2"
    )
    third = zone_shape(
        "ring",
        list(outer_anchors),
        clip=clip,
        crs=crs,
        area_km2=areas_km2[2],
        exclude=first.union(second),
        name="ring 3",
    )
    return first, second, third
