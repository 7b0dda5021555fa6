"""Coordinate reference systems: requiring, checking and choosing metric CRSs.

Layers are stored in WGS-84; every measurement (area, buffer, distance) goes through
:func:`to_metric`, which projects to the CGCS2000 3-degree Gauss-Kruger zone of the data.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from pyproj import CRS, Geod
from pyproj.exceptions import CRSError as _PyprojCRSError
from shapely.geometry.base import BaseGeometry

from geo.errors import CRSError
from geo.settings import GK_ZONES, WGS84

__all__ = [
    "geodesic_area_km2",
    "metric_crs_for",
    "parse_crs",
    "require_crs",
    "require_same_crs",
    "to_metric",
]

_GEOD = Geod(ellps="WGS84")


def require_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries, *, name: str = "gdf") -> CRS:
    """Return the CRS of ``gdf`` or raise when it has none.

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
        Data to check.
    name : str
        Argument name used in the message.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        When ``gdf.crs`` is None.
    """
    if gdf.crs is None:
        msg = (
            f"{name} has no CRS: set one first, e.g. {name}.set_crs('EPSG:4326') for WGS-84 "
            "longitude/latitude"
        )
        raise CRSError(msg)
    return CRS.from_user_input(gdf.crs)


def require_same_crs(
    left: gpd.GeoDataFrame | gpd.GeoSeries,
    right: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    names: tuple[str, str] = ("left", "right"),
) -> CRS:
    """Require both inputs to carry the same CRS.

    Parameters
    ----------
    left, right : GeoDataFrame or GeoSeries
        Inputs to compare.
    names : tuple of str
        Argument names used in the message.

    Returns
    -------
    pyproj.CRS
        The shared CRS.

    Raises
    ------
    CRSError
        When either has no CRS or they differ.
    """
    a = require_crs(left, name=names[0])
    b = require_crs(right, name=names[1])
    if a != b:
        msg = (
            f"CRS mismatch between {names[0]} ({a.to_string()}) and {names[1]} ({b.to_string()}): "
            f"reproject one with .to_crs() first"
        )
        raise CRSError(msg)
    return a


def parse_crs(value: str | int | CRS) -> CRS:
    """Parse a CRS given by name, EPSG code or pyproj object.

    Parameters
    ----------
    value : str, int or pyproj.CRS
        ``"EPSG:4547"``, ``4547``, ``"4547"`` or anything ``pyproj.CRS`` accepts.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        When the value is not a CRS pyproj knows.

    Examples
    --------
    >>> parse_crs(4326).to_epsg()
    4326
    """
    if isinstance(value, CRS):
        return value
    text = str(value).strip()
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        return CRS.from_user_input(text)
    except _PyprojCRSError as exc:
        msg = f"unknown CRS {value!r}: give an EPSG code such as 4326 (WGS-84) or 4490 (CGCS2000)"
        raise CRSError(msg) from exc


def metric_crs_for(gdf: gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry) -> CRS:
    """Choose the CGCS2000 3-degree Gauss-Kruger zone nearest the data's centre.

    Parameters
    ----------
    gdf : GeoDataFrame, GeoSeries or shapely geometry
        Data in any CRS (a bare geometry is taken as WGS-84).

    Returns
    -------
    pyproj.CRS
        EPSG:4545 (108 E), 4546 (111 E) or 4547 (114 E); scale error inside Hunan < 0.03 %.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> metric_crs_for(Point(112.98, 28.2)).to_epsg()  # Changsha
    4547
    """
    if isinstance(gdf, BaseGeometry):
        lon = gdf.centroid.x
    else:
        require_crs(gdf, name="gdf")
        minx, _, maxx, _ = gdf.to_crs(WGS84).total_bounds
        lon = (minx + maxx) / 2.0
    if not np.isfinite(lon):
        msg = "cannot choose a metric CRS for empty data"
        raise CRSError(msg)
    meridian = min(GK_ZONES, key=lambda m: abs(m - lon))
    return CRS.from_user_input(GK_ZONES[meridian])


def to_metric(
    gdf: gpd.GeoDataFrame | gpd.GeoSeries, *, crs: CRS | str | None = None
) -> gpd.GeoDataFrame | gpd.GeoSeries:
    """Project to a metric CRS (the given one, or the Gauss-Kruger zone of the data).

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
        Data with a CRS.
    crs : pyproj.CRS or str, optional
        Target metric CRS; chosen with :func:`metric_crs_for` when omitted.

    Returns
    -------
    GeoDataFrame or GeoSeries
        The projected copy.

    Raises
    ------
    CRSError
        When ``gdf`` has no CRS or the target is geographic.
    """
    require_crs(gdf, name="gdf")
    target = parse_crs(crs) if crs is not None else metric_crs_for(gdf)
    if target.is_geographic:
        msg = f"metric CRS expected, got geographic {target.to_string()}"
        raise CRSError(msg)
    return gdf.to_crs(target)


def geodesic_area_km2(geom: BaseGeometry) -> float:
    """Area of a WGS-84 geometry on the WGS-84 ellipsoid, in km².

    Parameters
    ----------
    geom : shapely geometry
        Polygon or MultiPolygon in longitude/latitude degrees.

    Returns
    -------
    float

    Examples
    --------
    >>> from shapely.geometry import box
    >>> round(geodesic_area_km2(box(112.0, 28.0, 112.01, 28.01)), 2)
    1.09
    """
    area, _ = _GEOD.geometry_area_perimeter(geom)
    return abs(area) / 1e6


def geodesic_length_km(geom: BaseGeometry) -> float:
    """Length of a WGS-84 line on the WGS-84 ellipsoid, in km.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> round(geodesic_length_km(LineString([(112.0, 28.0), (112.0, 29.0)])), 1)
    110.8
    """
    return _GEOD.geometry_length(geom) / 1000.0
