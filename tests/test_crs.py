"""CRS helpers: required CRSs, mismatches named, metric zones chosen for the place."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from geo.crs import (
    geodesic_area_km2,
    metric_crs_for,
    parse_crs,
    require_crs,
    require_same_crs,
    to_metric,
)
from geo.errors import CRSError


def test_require_crs_names_the_argument() -> None:
    naive = gpd.GeoDataFrame(geometry=[Point(112.9, 28.2)])
    with pytest.raises(CRSError, match="facilities has no CRS"):
        require_crs(naive, name="facilities")


def test_mismatch_names_both(changsha_points: gpd.GeoDataFrame) -> None:
    other = changsha_points.to_crs("EPSG:4547")
    with pytest.raises(CRSError, match=r"facilities \(EPSG:4326\).*units \(EPSG:4547\)"):
        require_same_crs(changsha_points, other, names=("facilities", "units"))


@pytest.mark.parametrize(("lon", "epsg"), [(112.98, 4547), (111.6, 4546), (109.5, 4545)])
def test_metric_zone_for_place(lon: float, epsg: int) -> None:
    gdf = gpd.GeoDataFrame(geometry=[Point(lon, 27.0)], crs="EPSG:4326")
    assert metric_crs_for(gdf).to_epsg() == epsg


@pytest.mark.parametrize("bad", ["EPSG:999999", "mars", "12345678"])
def test_unknown_crs(bad: str) -> None:
    with pytest.raises(CRSError, match="unknown CRS"):
        parse_crs(bad)


def test_to_metric_refuses_geographic(changsha_points: gpd.GeoDataFrame) -> None:
    with pytest.raises(CRSError, match="metric CRS expected"):
        to_metric(changsha_points, crs="EPSG:4490")


def test_metric_distance_matches_geodesic(changsha_points: gpd.GeoDataFrame) -> None:
    metric = to_metric(changsha_points)
    d = metric.geometry.iloc[0].distance(metric.geometry.iloc[1])
    from pyproj import Geod

    a, b = changsha_points.geometry.iloc[0], changsha_points.geometry.iloc[1]
    geodesic = Geod(ellps="WGS84").inv(a.x, a.y, b.x, b.y)[2]
    assert d == pytest.approx(geodesic, rel=5e-4)


def test_geodesic_area_of_a_known_cell() -> None:
    # 0.1 x 0.1 degree cell at 28 N: 11.13 km x 9.83 km ≈ 109.3 km² (spherical estimate)
    assert geodesic_area_km2(box(112.0, 28.0, 112.1, 28.1)) == pytest.approx(109.0, rel=0.01)
