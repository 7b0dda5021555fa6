"""Facility files uploaded in the browser, read through the command line's validation.

The page hands over the uploaded bytes and the datum the user states; this module writes them to
a temporary file with the original suffix and calls
:func:`geo.analysis.facilities.read_facilities`, so a file accepted or rejected on the command line
is accepted or rejected on the page in the same way (GBK/GB18030 CSV from Chinese Excel included).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from geo.analysis.facilities import FacilityLoad, read_facilities
from geo.errors import InputError
from geo.settings import MAX_UPLOAD_BYTES

__all__ = ["DATUM_CHOICES", "problems_for_display", "read_upload"]

#: Datums offered on the page: id passed to :func:`read_facilities` -> (Chinese, English).
DATUM_CHOICES: dict[str, tuple[str, str]] = {
    "WGS84": ("WGS-84（GPS、天地图）", "WGS-84 (GPS, Tianditu)"),
    "GCJ02": ("GCJ-02（高德、腾讯）", "GCJ-02 (Amap, Tencent)"),
    "BD09": ("BD-09（百度）", "BD-09 (Baidu)"),
    "CGCS2000": ("CGCS2000 经纬度", "CGCS2000 longitude/latitude"),
}
_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".geojson", ".json", ".gpkg")


def read_upload(data: bytes, filename: str, *, datum: str = "WGS84") -> FacilityLoad:
    """Read an uploaded facility file as the command line would.

    Parameters
    ----------
    data : bytes
        File content.
    filename : str
        Original name (its suffix picks the reader; only the name part is used).
    datum : str
        A key of :data:`DATUM_CHOICES` (or anything :func:`geo.analysis.facilities.normalise_crs`
        takes).

    Returns
    -------
    FacilityLoad
        Good rows (WGS-84) and every bad row.

    Raises
    ------
    InputError
        For an unsupported type, an oversized or empty file, or a file without usable rows.
    CRSError
        For an unknown datum.
    """
    name = Path(filename).name or "upload"
    suffix = Path(name).suffix.lower()
    if suffix not in _SUFFIXES:
        msg = f"unsupported file type {suffix!r}: use .csv, .xlsx, .geojson or .gpkg"
        raise InputError(msg, file=name)
    if len(data) > MAX_UPLOAD_BYTES:
        msg = f"file is {len(data):,} bytes, over the {MAX_UPLOAD_BYTES:,}-byte limit: split it"
        raise InputError(msg, file=name)
    with tempfile.TemporaryDirectory(prefix="geo-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        load = read_facilities(path, crs=datum)
    if "precision" not in load.facilities.columns:
        # The user vouches for their own positions; the page does not second-guess them.
        load.facilities["precision"] = "user"
    return load


def problems_for_display(problems: pd.DataFrame, *, lang: str = "en") -> pd.DataFrame:
    """Bad rows with the row number a user sees in Excel (header = row 1).

    Parameters
    ----------
    problems : DataFrame
        :attr:`FacilityLoad.problems`.
    lang : str
        ``"zh"`` words the problems in Chinese (:func:`geo.web.i18n.problem_text`).

    Returns
    -------
    DataFrame
        Columns ``row, field, problem, value`` (``file`` dropped: the page shows one file).

    Examples
    --------
    >>> from geo.analysis.facilities import PROBLEM_COLUMNS
    >>> p = pd.DataFrame([["a.csv", 3, "lon", "not a number", "x"]], columns=PROBLEM_COLUMNS)
    >>> int(problems_for_display(p).loc[0, "row"])
    3
    """
    from geo.web.i18n import problem_text

    out = problems[["row", "field", "problem", "value"]].copy()
    out["row"] = out["row"].astype(int)
    out["problem"] = out["problem"].astype(str).map(lambda p: problem_text(p, lang))
    return out.reset_index(drop=True)
