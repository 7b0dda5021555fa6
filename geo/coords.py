"""Chinese coordinate systems: GCJ-02 and BD-09 to and from WGS-84.

GCJ-02 (AMap, Tencent) and BD-09 (Baidu) are obfuscated datums; positions in them sit 300-700 m
off in Hunan.  Conversions use :mod:`prcoords` (CC0), whose inverse is iterative and exact to
about 1e-8 degrees, vectorised here over NumPy arrays and shapely geometries.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import prcoords
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

__all__ = ["Datum", "from_wgs84", "geometry_to_wgs84", "to_wgs84"]

Datum = Literal["WGS84", "CGCS2000", "GCJ02", "BD09"]

_TO_WGS = {
    "GCJ02": lambda c: prcoords.gcj_wgs_bored(c, False),
    "BD09": lambda c: prcoords.bd_wgs_bored(c, False),
}
_FROM_WGS = {
    "GCJ02": lambda c: prcoords.wgs_gcj(c, False),
    "BD09": lambda c: prcoords.wgs_bd(c, False),
}


def _normalise(datum: str) -> str:
    key = datum.upper().replace("-", "").replace("_", "")
    if key in {"WGS84", "CGCS2000", "EPSG4326", "EPSG4490"}:
        return "WGS84"
    if key in {"GCJ02", "GCJ", "AMAP", "TENCENT"}:
        return "GCJ02"
    if key in {"BD09", "BD09LL", "BAIDU"}:
        return "BD09"
    msg = f"unknown datum {datum!r}: use WGS84, CGCS2000, GCJ02 or BD09"
    raise ValueError(msg)


def _apply(table: dict, datum: str, lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    if lon_a.shape != lat_a.shape:
        msg = f"lon and lat differ in shape: {lon_a.shape} vs {lat_a.shape}"
        raise ValueError(msg)
    key = _normalise(datum)
    if key == "WGS84":
        return lon_a.copy(), lat_a.copy()
    func = table[key]
    out_lon = np.empty_like(lon_a)
    out_lat = np.empty_like(lat_a)
    for idx in np.ndindex(lon_a.shape):
        if np.isfinite(lon_a[idx]) and np.isfinite(lat_a[idx]):
            res = func(prcoords.Coords(float(lat_a[idx]), float(lon_a[idx])))
            out_lat[idx], out_lon[idx] = res.lat, res.lon
        else:
            out_lat[idx], out_lon[idx] = np.nan, np.nan
    return out_lon, out_lat


def to_wgs84(lon: ArrayLike, lat: ArrayLike, datum: str) -> tuple[NDArray, NDArray]:
    """Convert longitudes/latitudes from ``datum`` to WGS-84.

    Parameters
    ----------
    lon, lat : array-like of float
        Coordinates in degrees (same shape).
    datum : str
        ``"WGS84"``/``"CGCS2000"`` (returned unchanged: they agree to < 1 m), ``"GCJ02"`` or
        ``"BD09"``.

    Returns
    -------
    (ndarray, ndarray)
        WGS-84 longitudes and latitudes; NaN stays NaN.

    Raises
    ------
    ValueError
        For an unknown datum or mismatched shapes.

    Examples
    --------
    >>> lon, lat = to_wgs84([116.404], [39.915], "GCJ02")
    >>> round(float(lon[0]), 4), round(float(lat[0]), 4)
    (116.3978, 39.9136)
    """
    return _apply(_TO_WGS, datum, lon, lat)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, datum: str) -> tuple[NDArray, NDArray]:
    """Convert WGS-84 longitudes/latitudes to ``datum`` (e.g. to sit on a GCJ-02 basemap).

    Parameters
    ----------
    lon, lat : array-like of float
        WGS-84 coordinates in degrees.
    datum : str
        Target datum, as in :func:`to_wgs84`.

    Returns
    -------
    (ndarray, ndarray)
    """
    return _apply(_FROM_WGS, datum, lon, lat)


def geometry_to_wgs84(geom: BaseGeometry, datum: str, *, inverse: bool = False) -> BaseGeometry:
    """Convert every vertex of a shapely geometry between ``datum`` and WGS-84.

    Parameters
    ----------
    geom : shapely geometry
        Geometry in ``datum`` (or in WGS-84 when ``inverse``).
    datum : str
        ``"GCJ02"``, ``"BD09"`` or a WGS-84 alias.
    inverse : bool
        Convert from WGS-84 to ``datum`` instead.

    Returns
    -------
    shapely geometry
    """
    func = from_wgs84 if inverse else to_wgs84

    def _convert(xy: NDArray) -> NDArray:
        lon, lat = func(xy[:, 0], xy[:, 1], datum)
        return np.column_stack([lon, lat])

    return shapely.transform(geom, _convert)
