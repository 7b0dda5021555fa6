"""Schematic geometry: buffers, corridors, solved areas and the 一核三圈 rings."""

from __future__ import annotations

import math

import pytest
from pyproj import CRS
from shapely.geometry import Point, box

from geo.crs import geodesic_area_km2
from geo.data.layout import corridor, hull_buffer, rings, solve_area, to_wgs84_geometry, zone_shape
from geo.errors import LayoutError

GK114 = CRS.from_epsg(4547)
X0, Y0 = 500_000.0, 3_110_000.0  # near 114 E, 28.1 N: GK scale factor ≈ 1
CLIP = box(X0 - 20_000, Y0 - 20_000, X0 + 20_000, Y0 + 20_000)


def test_hull_buffer_single_point_is_a_disk() -> None:
    assert hull_buffer([Point(0, 0)], 2_000).area == pytest.approx(math.pi * 4e6, rel=1e-3)


def test_corridor_area() -> None:
    assert corridor([Point(0, 0), Point(0, 10_000)], 500).area == pytest.approx(
        10_000 * 1_000 + math.pi * 500**2, rel=1e-3
    )


def test_solve_area_meets_target_geodesically() -> None:
    geom, radius = solve_area(lambda r: Point(X0, Y0).buffer(r, 64), 10.0, crs=GK114)
    assert geodesic_area_km2(to_wgs84_geometry(geom, GK114)) == pytest.approx(10.0, rel=1e-4)
    assert radius == pytest.approx(math.sqrt(10e6 / math.pi), rel=2e-3)


def test_zone_is_clipped() -> None:
    clip = box(X0 - 1_000, Y0 - 1_000, X0 + 1_000, Y0 + 1_000)
    geom = zone_shape("buffer", [Point(X0, Y0)], clip=clip, crs=GK114, radius_m=5_000)
    assert geom.area == pytest.approx(4e6, rel=1e-6)


def test_area_larger_than_clip_is_an_error() -> None:
    clip = box(X0 - 1_000, Y0 - 1_000, X0 + 1_000, Y0 + 1_000)
    with pytest.raises(LayoutError, match="cannot reach 10 km²"):
        zone_shape("buffer", [Point(X0, Y0)], clip=clip, crs=GK114, area_km2=10, name="t")


def test_unknown_method() -> None:
    with pytest.raises(LayoutError, match="unknown method 'blob'"):
        zone_shape("blob", [Point(X0, Y0)], clip=CLIP, crs=GK114, radius_m=1)


def test_rings_areas_nesting_and_containment() -> None:
    core = Point(X0, Y0)
    subareas = [Point(X0 + 6_000, Y0 - 3_000), Point(X0 + 4_000, Y0 - 6_000)]
    first, second, third = rings(core, subareas, areas_km2=(5.6, 13, 24.9), clip=CLIP, crs=GK114)
    for geom, target in ((first, 5.6), (second, 13), (third, 24.9)):
        assert geodesic_area_km2(to_wgs84_geometry(geom, GK114)) == pytest.approx(target, rel=0.005)
    assert first.contains(core)
    assert first.intersection(second).area < 1.0 and first.intersection(third).area < 1.0
    assert second.intersection(third).area < 1.0
    assert all(third.contains(p) for p in subareas)
