"""GCJ-02 / BD-09 conversion: known pairs, an independent library, round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest
from coordTransform import coordTransform as ct  # independent implementation (MIT)
from pyproj import Geod
from shapely.geometry import Polygon

from geo.coords import from_wgs84, geometry_to_wgs84, to_wgs84

GEOD = Geod(ellps="WGS84")


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


# Published example of the coordTransform README (Tiananmen, GCJ-02 116.404, 39.915).
@pytest.mark.parametrize(
    ("datum", "src", "expected"),
    [
        ("GCJ02", (116.404, 39.915), (116.39775550083061, 39.91359571849836)),
    ],
)
def test_known_pair(datum: str, src: tuple[float, float], expected: tuple[float, float]) -> None:
    lon, lat = to_wgs84([src[0]], [src[1]], datum)
    # the README value comes from a one-step inverse (a few metres); ours is exact
    assert _metres(lon[0], lat[0], *expected) < 3.0


def test_forward_matches_published_wgs_to_gcj() -> None:
    lon, lat = from_wgs84([116.404], [39.915], "GCJ02")
    assert _metres(lon[0], lat[0], 116.41024449916938, 39.91640428150164) < 0.01


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(112.984940, 28.212003), (112.546885, 28.266113), (111.61, 26.43), (113.63, 28.14)],
)
def test_agrees_with_independent_library_in_hunan(lon: float, lat: float) -> None:
    ours = to_wgs84([lon], [lat], "GCJ02")
    theirs = ct.gcj02_to_wgs84(lon, lat)
    assert _metres(ours[0][0], ours[1][0], *theirs) < 5.0  # theirs is a one-step inverse
    fwd = from_wgs84(ours[0], ours[1], "GCJ02")
    assert _metres(fwd[0][0], fwd[1][0], lon, lat) < 0.01  # exact inverse: round trip < 1 cm


def test_bd09_round_trip_and_independent_library() -> None:
    lon, lat = 112.9915, 28.2183  # a BD-09 position near 湘雅医院
    w = to_wgs84([lon], [lat], "BD09")
    gcj = ct.bd09_to_gcj02(lon, lat)
    w2 = ct.gcj02_to_wgs84(*gcj)
    assert _metres(w[0][0], w[1][0], *w2) < 5.0
    back = from_wgs84(w[0], w[1], "BD09")
    assert _metres(back[0][0], back[1][0], lon, lat) < 0.01


def test_offset_in_changsha_is_the_gcj_offset() -> None:
    # 湘雅医院, GCJ-02 from changsha_hospitals_gcj02.csv: the shift is several hundred metres
    lon, lat = to_wgs84([112.984940], [28.212003], "GCJ02")
    shift = _metres(lon[0], lat[0], 112.984940, 28.212003)
    assert 300 < shift < 700
    assert lon[0] < 112.984940 and lat[0] > 28.212003 - 0.01


def test_wgs84_and_cgcs2000_pass_through_and_nan_stays_nan() -> None:
    lon, lat = to_wgs84([112.9, np.nan], [28.2, np.nan], "CGCS2000")
    assert lon[0] == 112.9 and math.isnan(lon[1])
    lon, lat = to_wgs84([np.nan], [28.2], "GCJ02")
    assert math.isnan(lon[0]) and math.isnan(lat[0])


def test_geometry_conversion_moves_every_vertex() -> None:
    poly = Polygon([(112.9, 28.1), (113.0, 28.1), (113.0, 28.2), (112.9, 28.1)])
    out = geometry_to_wgs84(poly, "GCJ02")
    back = geometry_to_wgs84(out, "GCJ02", inverse=True)
    assert np.allclose(
        np.asarray(back.exterior.coords), np.asarray(poly.exterior.coords), atol=1e-7
    )
    assert not np.allclose(
        np.asarray(out.exterior.coords), np.asarray(poly.exterior.coords), atol=1e-4
    )


@pytest.mark.parametrize("datum", ["mars", "EPSG:3857", ""])
def test_unknown_datum(datum: str) -> None:
    with pytest.raises(ValueError, match="unknown datum"):
        to_wgs84([112.9], [28.2], datum)


def test_shape_mismatch() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        to_wgs84([112.9, 113.0], [28.2], "GCJ02")
