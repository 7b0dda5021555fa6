"""Reading and validating facility files (CSV, XLSX, GeoJSON, GeoPackage) and plan layers.

A user states the coordinate system of the file: ``WGS84``, ``GCJ02``, ``BD09``, ``CGCS2000`` or an
EPSG code (e.g. ``EPSG:4547`` for CGCS2000 Gauss-Kruger metres).  Every row is checked; good rows
are kept and every bad row is reported with file, row, field, problem and the value received
(:class:`FacilityLoad`), never dropped silently.  File-level problems (unreadable, empty, too
large, missing column, unknown CRS, wrong sheet) raise :class:`~geo.errors.InputError`.

Rows are numbered as the user sees them in Excel or a text editor: the header is row 1 (or the
``header_row`` given), blank rows count.  CSV files may be UTF-8 (with or without BOM) or
GBK/GB18030 (Chinese Excel's "CSV" export), separated by comma, semicolon or tab, with decimal
points or (with a semicolon/tab separator) decimal commas; the separator and decimal mark are
detected.  Text cells are kept as text (``=1+2`` stays a name, never a formula).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer

from geo.coords import to_wgs84
from geo.crs import parse_crs
from geo.errors import CRSError, InputError
from geo.settings import (
    DATUMS,
    HUNAN_BBOX,
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_ROWS,
    UTM49N,
    WGS84,
)

__all__ = [
    "PROBLEM_COLUMNS",
    "FacilityLoad",
    "facilities_from_layers",
    "normalise_crs",
    "read_facilities",
    "validate_points",
]

#: Columns of :attr:`FacilityLoad.problems`.
PROBLEM_COLUMNS: tuple[str, ...] = ("file", "row", "field", "problem", "value")

_LON_NAMES = ("lon", "lng", "longitude", "long", "x", "经度", "gcj_lon", "wgs_lon")
_LAT_NAMES = ("lat", "latitude", "y", "纬度", "gcj_lat", "wgs_lat")
_ID_NAMES = ("id", "fid", "code", "编号", "编码")
_NAME_NAMES = ("name", "名称", "机构名称")
_TABLE_SUFFIXES = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}
_GEO_SUFFIXES = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg"}
#: Tolerance (m) of the province outline test, for positions of geocoded precision on the border.
_OUTLINE_TOLERANCE_M = 1000.0


@dataclass
class FacilityLoad:
    """Facilities read from a file, with the rows that could not be used.

    Attributes
    ----------
    facilities : GeoDataFrame
        Good rows in WGS-84 with ``id``, ``name``, ``source_row`` (the row as Excel shows it,
        header = row 1; the feature number for GeoJSON/GPKG), the other
        columns of the file, and ``capacity`` when a capacity column was named.
    problems : DataFrame
        One row per problem with :data:`PROBLEM_COLUMNS`.
    source : str
        File name and stated CRS, for reports.
    """

    facilities: gpd.GeoDataFrame
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))
    source: str = ""

    def problem_text(self, *, limit: int = 10) -> str:
        """Return the problems as lines ``file, row N, field 'f': problem (received: v)``."""
        lines = [
            f"{p.file}, row {p.row}, field '{p.field}': {p.problem} (received: {p.value!r})"
            for p in self.problems.head(limit).itertuples()
        ]
        if len(self.problems) > limit:
            lines.append(f"... and {len(self.problems) - limit} more problems")
        return "\n".join(lines)


def normalise_crs(value: str | int) -> tuple[str, CRS | None]:
    """Interpret a stated coordinate system.

    Parameters
    ----------
    value : str or int
        ``WGS84``, ``GCJ02``, ``BD09``, ``CGCS2000`` (any case, dashes allowed) or an EPSG code
        (``4547``, ``"EPSG:4547"``).

    Returns
    -------
    (str, pyproj.CRS or None)
        The datum name for longitude/latitude input (``"WGS84"``, ``"GCJ02"``, ``"BD09"``) and
        None, or ``"EPSG"`` and the projected/geographic CRS of the coordinates.

    Raises
    ------
    CRSError
        For anything else.

    Examples
    --------
    >>> normalise_crs("gcj-02")
    ('GCJ02', None)
    >>> normalise_crs("EPSG:4547")[1].to_epsg()
    4547
    """
    text = str(value).strip()
    key = text.upper().replace("-", "").replace("_", "").replace(" ", "")
    if key in {"WGS84", "CGCS2000", "EPSG4326", "EPSG4490", "4326", "4490"}:
        return "WGS84", None
    if key in {"GCJ02", "GCJ", "AMAP"}:
        return "GCJ02", None
    if key in {"BD09", "BD09LL", "BAIDU"}:
        return "BD09", None
    if key.removeprefix("EPSG").replace(":", "").isdigit():
        crs = parse_crs(text if ":" in text else f"EPSG:{key.removeprefix('EPSG')}")
        if crs.is_geographic:
            return "WGS84", None
        return "EPSG", crs
    msg = (
        f"unknown coordinate system {text!r}: state one of {', '.join(DATUMS)} or an EPSG code "
        "such as EPSG:4547 (CGCS2000 Gauss-Kruger 114E, metres)"
    )
    raise CRSError(msg)


def _pick(columns: list[str], wanted: str | None, names: tuple[str, ...]) -> str | None:
    if wanted is not None:
        return wanted if wanted in columns else None
    lower = {str(c).strip().lower(): c for c in columns}
    return next((lower[n] for n in names if n in lower), None)


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    msg = "cannot decode the text as UTF-8 or GBK/GB18030: save it as CSV UTF-8"
    raise InputError(msg, file=path.name)


def _separator(text: str) -> str:
    """Return the separator (comma, semicolon or tab) the header line uses most."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: first.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda k: (counts[k], k == ","))


def _read_csv(path: Path, header_row: int | None = None) -> pd.DataFrame:
    text = _decode(path)
    if not text.strip():
        msg = "the file is empty: expected a header row such as id,name,lon,lat"
        raise InputError(msg, file=path.name)
    sep = _separator(text)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True))
    except csv.Error as exc:
        msg = f"not a well-formed CSV table ({exc}); check quotes and separators"
        raise InputError(msg, file=path.name) from exc
    table = _table(rows, path.name, header_row=header_row, where="the file")
    table.attrs["separator"] = {",": "comma", ";": "semicolon", "\t": "tab"}[sep]
    table.attrs["decimal_comma"] = sep != ","
    return table


def _table(rows: list, file: str, *, header_row: int | None, where: str) -> pd.DataFrame:
    """Make a text table of raw rows, keeping each row's number as the user sees it.

    ``rows[i]`` is row ``i + 1``; the header is ``header_row`` or the first non-empty row.
    """
    cells = [["" if v is None else str(v) for v in r] for r in rows]
    filled = [i for i, r in enumerate(cells) if any(v.strip() for v in r)]
    if not filled:
        msg = f"{where} is empty: expected a header row such as id,name,lon,lat"
        raise InputError(msg, file=file)
    if header_row is not None:
        if not 1 <= header_row <= len(cells) or not any(v.strip() for v in cells[header_row - 1]):
            msg = f"--header-row {header_row} is empty or beyond the last row ({len(cells)})"
            raise InputError(msg, file=file, field="header_row")
        head = header_row - 1
    else:
        head = filled[0]
    header = [v.strip() for v in cells[head]]
    width = len(header)
    body, numbers = [], []
    for i in range(head + 1, len(cells)):
        r = cells[i]
        if not any(v.strip() for v in r):
            continue  # blank rows are skipped but still counted
        body.append((r + [""] * width)[:width])
        numbers.append(i + 1)
    table = pd.DataFrame(body, columns=header, dtype=str)
    table.attrs["rows"] = np.array(numbers, dtype=int)
    table.attrs["header_row"] = head + 1
    table.attrs["raw"] = cells
    return table


def _read_xlsx(path: Path, sheet: str | None, header_row: int | None = None) -> pd.DataFrame:
    import openpyxl  # local: only needed for spreadsheets

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        msg = f"not a readable XLSX workbook ({exc})"
        raise InputError(msg, file=path.name) from exc
    try:
        names = book.sheetnames
        if sheet is not None and sheet not in names:
            msg = f"no sheet {sheet!r}; the workbook has {names}"
            raise InputError(msg, file=path.name, field="sheet")
        chosen = sheet or names[0]
        rows = list(book[chosen].iter_rows(values_only=True))
        others = {} if sheet is not None else _sheet_heads(book, names[1:])
    finally:
        book.close()
    rows = _formula_text(path, chosen, rows)
    table = _table(rows, path.name, header_row=header_row, where=f"sheet {chosen!r}")
    table.attrs["sheet"] = chosen
    table.attrs["sheets"] = names
    table.attrs["coordinate_sheets"] = [n for n, ok in others.items() if ok]
    table.attrs["decimal_comma"] = False
    return table


def _formula_text(path: Path, sheet: str, rows: list) -> list:
    """Keep the text of formula cells without a cached value (``=1+2`` typed as a name).

    A workbook saved by Excel stores each formula's value, which is what is read; one written by
    a script often has none, and the cell would read as empty.
    """
    import openpyxl

    if not any(v is None for r in rows for v in r):
        return rows
    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        raw = list(book[sheet].iter_rows(values_only=True))
    finally:
        book.close()
    return [
        tuple(
            f if v is None and isinstance(f, str) and f.startswith("=") else v
            for v, f in zip(r, rr, strict=False)
        )
        for r, rr in zip(rows, raw, strict=False)
    ]


def _sheet_heads(book: object, names: list[str]) -> dict[str, bool]:
    """Tell for each sheet whether its first 20 rows name a longitude and a latitude column."""
    found = {}
    for name in names:
        rows = list(book[name].iter_rows(max_row=20, values_only=True))
        found[name] = any(_has_coordinates([str(v) for v in r if v is not None]) for r in rows)
    return found


def _has_coordinates(cells: list[str]) -> bool:
    lower = {c.strip().lower() for c in cells}
    return bool(lower & set(_LON_NAMES)) and bool(lower & set(_LAT_NAMES))


def _missing_column_hint(table: pd.DataFrame) -> str:
    """Say what to do when the header has no coordinate columns (title row, other sheet)."""
    hints = []
    raw = table.attrs.get("raw") or []
    head = table.attrs.get("header_row", 1)
    named = [v for v in raw[head - 1] if v.strip()] if raw else []
    later = next(
        (i + 1 for i in range(head, min(len(raw), head + 30)) if _has_coordinates(raw[i])), None
    )
    if later is not None:
        title = " ".join(named)[:40]
        looks = f"row {head} ({title!r}) looks like a title; " if len(named) <= 2 else ""
        hints.append(f"{looks}the column names are on row {later}: pass --header-row {later}")
    sheets = table.attrs.get("coordinate_sheets") or []
    if "sheets" in table.attrs:
        listed = f"the workbook has sheets {table.attrs['sheets']}"
        if sheets:
            listed += f"; sheet {sheets[0]!r} has coordinate columns: pass --sheet {sheets[0]!r}"
        hints.append(listed)
    return ("; " + "; ".join(hints)) if hints else ""


def _read_geo(path: Path, kind: str) -> tuple[pd.DataFrame, CRS | None]:
    if kind == "geojson":
        try:
            json.loads(path.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            msg = f"not valid JSON ({exc}); a GeoJSON FeatureCollection is expected"
            raise InputError(msg, file=path.name) from exc
    try:
        gdf = gpd.read_file(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        msg = f"cannot read the {kind.upper()} file ({exc})"
        raise InputError(msg, file=path.name) from exc
    if gdf.empty:
        msg = f"the {kind.upper()} file has no features"
        raise InputError(msg, file=path.name)
    geom = gdf.geometry
    types = geom.geom_type.fillna("missing").to_numpy()
    xs = np.where(types == "Point", shapely.get_x(geom.to_numpy()), np.nan)
    ys = np.where(types == "Point", shapely.get_y(geom.to_numpy()), np.nan)
    table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    table["__x"] = xs
    table["__y"] = ys
    table["__geom_type"] = types
    return table, (CRS.from_user_input(gdf.crs) if gdf.crs is not None else None)


@lru_cache(maxsize=1)
def _province_outline_metric() -> shapely.Geometry | None:
    from geo.data.boundaries import load_province  # local: avoids reading files at import

    try:
        prov = load_province()
    except (OSError, ValueError):
        return None
    if prov.empty:
        return None
    geom = prov.to_crs(UTM49N).geometry.union_all().buffer(_OUTLINE_TOLERANCE_M)
    shapely.prepare(geom)
    return geom


def validate_points(
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    file: str,
    rows: np.ndarray,
    bbox: tuple[float, float, float, float] = HUNAN_BBOX,
    use_outline: bool = True,
) -> list[dict]:
    """Check WGS-84 positions lie in Hunan; report swapped and outside positions.

    Parameters
    ----------
    lon, lat : ndarray
        WGS-84 degrees (NaN where the row already failed).
    file : str
        File name for messages.
    rows : ndarray
        1-based data row numbers.
    bbox : tuple
        (lon_min, lat_min, lon_max, lat_max) accepted.
    use_outline : bool
        Also test against the province outline (buffered by 1 km) when it is available.

    Returns
    -------
    list of dict
        Problems with :data:`PROBLEM_COLUMNS`.
    """
    x0, y0, x1, y1 = bbox
    problems: list[dict] = []
    finite = np.isfinite(lon) & np.isfinite(lat)
    inside = finite & (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
    swapped = finite & ~inside & (lat >= x0) & (lat <= x1) & (lon >= y0) & (lon <= y1)
    for i in np.flatnonzero(swapped):
        problems.append(
            {
                "file": file,
                "row": int(rows[i]),
                "field": "lon/lat",
                "problem": "longitude and latitude look swapped (Hunan is about 109-114 E, "
                "25-30 N): exchange the two columns",
                "value": f"lon={lon[i]}, lat={lat[i]}",
            }
        )
    degrees = finite & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    for i in np.flatnonzero(finite & ~degrees & ~swapped):
        problems.append(
            {
                "file": file,
                "row": int(rows[i]),
                "field": "lon/lat",
                "problem": "not longitude/latitude degrees (projected metres?): state the "
                "file's EPSG code, e.g. --crs EPSG:4547",
                "value": f"x={lon[i]}, y={lat[i]}",
            }
        )
    outside = finite & degrees & ~inside & ~swapped
    if use_outline and inside.any():
        outline = _province_outline_metric()
        if outline is not None:
            idx = np.flatnonzero(inside)
            tr = Transformer.from_crs(WGS84, UTM49N, always_xy=True)
            mx, my = tr.transform(lon[idx], lat[idx])
            off = ~shapely.contains_xy(outline, mx, my)
            outside[idx[off]] = True
    for i in np.flatnonzero(outside):
        problems.append(
            {
                "file": file,
                "row": int(rows[i]),
                "field": "lon/lat",
                "problem": "outside Hunan province: check the coordinates and the stated CRS",
                "value": f"lon={lon[i]:.6f}, lat={lat[i]:.6f}",
            }
        )
    return problems


def _numeric(values: pd.Series, *, decimal_comma: bool = False) -> np.ndarray:
    text = values.astype(str).str.strip()
    if decimal_comma:
        text = text.str.replace(r"^(-?\d+),(\d+)$", r"\1.\2", regex=True)
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)


def _check_file(path: Path, max_bytes: int) -> str:
    """Check that ``path`` is a non-empty file within the size limit; return its name."""
    name = path.name
    if not path.exists():
        msg = "file not found"
        raise InputError(msg, file=str(path))
    if path.is_dir():
        msg = "a file is expected, got a folder"
        raise InputError(msg, file=str(path))
    size = path.stat().st_size
    if size > max_bytes:
        msg = f"file is {size:,} bytes, over the {max_bytes:,}-byte limit: split it"
        raise InputError(msg, file=name)
    if size == 0:
        msg = "the file is empty"
        raise InputError(msg, file=name)
    return name


def _check_geo_crs(crs: str | int, proj: CRS | None, file_crs: CRS | None) -> None:
    """Reject a stated CRS that conflicts with a projected CRS label of a GeoJSON/GPKG file."""
    if proj is not None and file_crs is not None and file_crs.is_projected and file_crs != proj:
        msg = (
            f"stated CRS {proj.to_string()} differs from the file's CRS "
            f"{file_crs.to_string()}: state the file's CRS or reproject it"
        )
        raise CRSError(msg)
    if proj is None and file_crs is not None and file_crs.is_projected:
        msg = (
            f"the file's CRS is projected ({file_crs.to_string()}) but {crs!r} (degrees) "
            "was stated: state its EPSG code"
        )
        raise CRSError(msg)


def _load_table(
    path: Path,
    name: str,
    *,
    crs: str | int,
    proj: CRS | None,
    sheet: str | None,
    header_row: int | None,
    max_rows: int,
) -> tuple[pd.DataFrame, str]:
    """Read the file by its type into a table with string column names; return it and the kind."""
    suffix = path.suffix.lower()
    kind = _TABLE_SUFFIXES.get(suffix) or _GEO_SUFFIXES.get(suffix)
    if kind is None:
        msg = f"unsupported file type {suffix!r}: use .csv, .xlsx, .geojson or .gpkg"
        raise InputError(msg, file=name)
    if kind == "csv":
        table = _read_csv(path, header_row)
    elif kind == "xlsx":
        table = _read_xlsx(path, sheet, header_row)
    else:
        table, file_crs = _read_geo(path, kind)
        _check_geo_crs(crs, proj, file_crs)
    if len(table) > max_rows:
        msg = f"{len(table):,} rows, over the {max_rows:,}-row limit: split the file"
        raise InputError(msg, file=name)
    if table.empty:
        hint = _missing_column_hint(table) if kind in ("csv", "xlsx") else ""
        msg = f"no data rows below the header{hint}"
        raise InputError(msg, file=name)
    table.columns = [str(c) for c in table.columns]
    return table, kind


def _table_coordinates(
    table: pd.DataFrame,
    name: str,
    rows: np.ndarray,
    problems: list[dict],
    *,
    columns: list[str],
    lon_column: str | None,
    lat_column: str | None,
) -> tuple[str, str, np.ndarray, np.ndarray]:
    """Find and parse the coordinate columns of a CSV/XLSX table, reporting bad cells."""
    lon_col = _pick(columns, lon_column, _LON_NAMES)
    lat_col = _pick(columns, lat_column, _LAT_NAMES)
    for label, col, wanted in (
        ("longitude", lon_col, lon_column),
        ("latitude", lat_col, lat_column),
    ):
        if col is None:
            hint = wanted or ("lon" if label == "longitude" else "lat")
            msg = (
                f"no {label} column {hint!r}; the columns (row "
                f"{table.attrs.get('header_row', 1)}) are {columns}"
                f"{_missing_column_hint(table) if wanted is None else ''}"
            )
            raise InputError(msg, file=name, field=hint)
    raw_x, raw_y = table[lon_col], table[lat_col]
    comma = bool(table.attrs.get("decimal_comma"))
    x, y = _numeric(raw_x, decimal_comma=comma), _numeric(raw_y, decimal_comma=comma)
    for fld, raw, num in ((lon_col, raw_x, x), (lat_col, raw_y, y)):
        for i in np.flatnonzero(~np.isfinite(num)):
            text = str(raw.iloc[i]).strip()
            problem = "missing coordinate" if text == "" else "not a number"
            if re.fullmatch(r"-?\d+,\d+", text):
                problem += (
                    " (decimal comma in a comma-separated file: write a decimal point, "
                    "or save the CSV with ';' as separator)"
                )
            problems.append(
                {
                    "file": name,
                    "row": int(rows[i]),
                    "field": fld,
                    "problem": problem,
                    "value": text,
                }
            )
    return lon_col, lat_col, x, y


def _geo_coordinates(
    table: pd.DataFrame, name: str, rows: np.ndarray, problems: list[dict]
) -> tuple[np.ndarray, np.ndarray]:
    """Take the point coordinates out of a GeoJSON/GPKG table, reporting non-Point geometries."""
    x = table.pop("__x").to_numpy(dtype=float)
    y = table.pop("__y").to_numpy(dtype=float)
    types = table.pop("__geom_type").to_numpy()
    for i in np.flatnonzero(types != "Point"):
        problems.append(
            {
                "file": name,
                "row": int(rows[i]),
                "field": "geometry",
                "problem": "a Point geometry is expected",
                "value": str(types[i]),
            }
        )
    return x, y


def _positions_wgs84(
    x: np.ndarray, y: np.ndarray, *, datum: str, proj: CRS | None
) -> tuple[np.ndarray, np.ndarray]:
    """Convert positions in the stated datum or projection to WGS-84 lon/lat (NaN when unusable)."""
    if proj is not None:
        tr = Transformer.from_crs(proj, WGS84, always_xy=True)
        lon, lat = tr.transform(x, y)
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        bad = np.isfinite(x) & np.isfinite(y) & ~(np.isfinite(lon) & np.isfinite(lat))
        lon[bad] = np.nan
        lat[bad] = np.nan
    else:
        ok = np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90)
        lon, lat = x.copy(), y.copy()
        if datum != "WGS84" and ok.any():
            conv_lon, conv_lat = to_wgs84(x[ok], y[ok], datum)
            lon[ok], lat[ok] = conv_lon, conv_lat
    return lon, lat


def _facility_ids(
    table: pd.DataFrame,
    name: str,
    rows: np.ndarray,
    problems: list[dict],
    *,
    columns: list[str],
    id_column: str | None,
) -> tuple[str | None, pd.Series]:
    """Pick the id column (or number rows ``rowN``), reporting missing and duplicate ids."""
    id_col = _pick(columns, id_column, _ID_NAMES)
    if id_column is not None and id_col is None:
        msg = f"no id column {id_column!r}; the columns are {columns}"
        raise InputError(msg, file=name, field=id_column)
    ids = (
        table[id_col].astype(str).str.strip()
        if id_col is not None
        else pd.Series([f"row{r}" for r in rows], index=table.index)
    )
    if id_col is not None:
        for i in np.flatnonzero((ids == "").to_numpy()):
            problems.append(
                {
                    "file": name,
                    "row": int(rows[i]),
                    "field": id_col,
                    "problem": "missing id",
                    "value": "",
                }
            )
        dup = ids.duplicated(keep="first") & (ids != "")
        for i in np.flatnonzero(dup.to_numpy()):
            first = int(rows[np.flatnonzero((ids == ids.iloc[i]).to_numpy())[0]])
            problems.append(
                {
                    "file": name,
                    "row": int(rows[i]),
                    "field": id_col,
                    "problem": f"duplicate id (first used on row {first})",
                    "value": ids.iloc[i],
                }
            )
    return id_col, ids


def _capacities(
    table: pd.DataFrame,
    name: str,
    rows: np.ndarray,
    problems: list[dict],
    *,
    columns: list[str],
    capacity_column: str | None,
) -> np.ndarray | None:
    """Parse the named capacity column (None when not named), reporting values not >= 0."""
    if capacity_column is None:
        return None
    if capacity_column not in columns:
        msg = f"no capacity column {capacity_column!r}; the columns are {columns}"
        raise InputError(msg, file=name, field=capacity_column)
    capacity = _numeric(
        table[capacity_column], decimal_comma=bool(table.attrs.get("decimal_comma"))
    )
    for i in np.flatnonzero(~np.isfinite(capacity) | (capacity < 0)):
        problems.append(
            {
                "file": name,
                "row": int(rows[i]),
                "field": capacity_column,
                "problem": "capacity must be a number >= 0",
                "value": str(table[capacity_column].iloc[i]),
            }
        )
    return capacity


def _problem_frame(problems: list[dict]) -> pd.DataFrame:
    """Return the problems as a frame with :data:`PROBLEM_COLUMNS`, sorted by row and field."""
    problem_frame = pd.DataFrame(problems, columns=list(PROBLEM_COLUMNS))
    return problem_frame.sort_values(["row", "field"], kind="stable").reset_index(drop=True)


def _usable_rows(rows: np.ndarray, problem_frame: pd.DataFrame, name: str) -> np.ndarray:
    """Return the mask of rows without problems; raise when no row is usable."""
    bad_rows = set(problem_frame["row"].astype(int))
    keep = np.array([r not in bad_rows for r in rows])
    if not keep.any():
        lines = FacilityLoad(gpd.GeoDataFrame(), problem_frame).problem_text(limit=5)
        msg = f"no usable facility rows ({len(problem_frame)} problems):\n{lines}"
        raise InputError(msg, file=name)
    return keep


def _facility_frame(
    table: pd.DataFrame,
    keep: np.ndarray,
    *,
    columns: list[str],
    rows: np.ndarray,
    ids: pd.Series,
    id_col: str | None,
    name_column: str | None,
    coord_cols: tuple[str, str],
    capacity: np.ndarray | None,
    lon: np.ndarray,
    lat: np.ndarray,
) -> gpd.GeoDataFrame:
    """Build the WGS-84 point frame of the kept rows with ``id``, ``name`` and ``source_row``."""
    nm_col = _pick(columns, name_column, _NAME_NAMES)
    table.attrs = {}  # reader details (row numbers, raw cells) stay out of the result
    out = table.loc[keep].copy()
    names = out[nm_col].astype(str).to_numpy() if nm_col else ids[keep].to_numpy()
    drop = {c for c in (id_col, nm_col, "id", "name") if c is not None and c in out.columns}
    out = out.drop(columns=sorted(drop))
    out.insert(0, "id", ids[keep].to_numpy())
    out.insert(1, "name", names)
    out["source_row"] = rows[keep]
    if capacity is not None:
        out["capacity"] = capacity[keep]
    out = out.drop(columns=[c for c in coord_cols if c in out.columns and c not in drop])
    return gpd.GeoDataFrame(
        out.reset_index(drop=True),
        geometry=gpd.points_from_xy(lon[keep], lat[keep]),
        crs=WGS84,
    )


def read_facilities(
    path: str | Path,
    *,
    crs: str | int = "WGS84",
    lon_column: str | None = None,
    lat_column: str | None = None,
    id_column: str | None = None,
    name_column: str | None = None,
    capacity_column: str | None = None,
    sheet: str | None = None,
    header_row: int | None = None,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_rows: int = MAX_UPLOAD_ROWS,
    bbox: tuple[float, float, float, float] = HUNAN_BBOX,
    use_outline: bool = True,
) -> FacilityLoad:
    """Read a facility file, convert it to WGS-84 and validate every row.

    Parameters
    ----------
    path : str or Path
        ``.csv``, ``.xlsx``, ``.geojson``/``.json`` or ``.gpkg``.
    crs : str or int
        Coordinate system of the positions (see :func:`normalise_crs`).  For GeoJSON/GeoPackage
        the stated CRS wins over the file's label (GCJ-02 data is usually mislabelled WGS-84),
        except that a projected file CRS must match a stated EPSG code.
    lon_column, lat_column, id_column, name_column : str, optional
        Column names; guessed from common names (``lon``/``lng``/``经度`` ...) when omitted.
    capacity_column : str, optional
        Column with a capacity (beds, doctors) for accessibility; must exist and be >= 0.
    sheet : str, optional
        XLSX sheet (default the first).
    header_row : int, optional
        Row of the column names as Excel shows it (1 = first row); default the first non-empty
        row.  For workbooks with a title above the header.
    max_bytes, max_rows : int
        Size limits (defaults from settings).
    bbox : tuple
        Accepted WGS-84 extent (default Hunan).
    use_outline : bool
        Also test positions against the province outline.

    Returns
    -------
    FacilityLoad
        Good rows as WGS-84 points, plus every problem found.

    Raises
    ------
    InputError
        For a missing, empty, oversized, unreadable file, a missing column, a wrong sheet or
        when no row at all is usable.
    CRSError
        For an unknown or conflicting coordinate system.
    """
    path = Path(path)
    name = _check_file(path, max_bytes)
    datum, proj = normalise_crs(crs)
    table, kind = _load_table(
        path, name, crs=crs, proj=proj, sheet=sheet, header_row=header_row, max_rows=max_rows
    )
    columns = list(table.columns)
    # rows as the user sees them (header = row 1, blank rows counted); features count from 1
    rows = table.attrs.get("rows", np.arange(1, len(table) + 1))
    problems: list[dict] = []
    if kind in ("csv", "xlsx"):
        lon_col, lat_col, x, y = _table_coordinates(
            table,
            name,
            rows,
            problems,
            columns=columns,
            lon_column=lon_column,
            lat_column=lat_column,
        )
    else:
        lon_col, lat_col = "geometry", "geometry"
        x, y = _geo_coordinates(table, name, rows, problems)
    lon, lat = _positions_wgs84(x, y, datum=datum, proj=proj)
    problems += validate_points(lon, lat, file=name, rows=rows, bbox=bbox, use_outline=use_outline)
    id_col, ids = _facility_ids(table, name, rows, problems, columns=columns, id_column=id_column)
    capacity = _capacities(
        table, name, rows, problems, columns=columns, capacity_column=capacity_column
    )
    problem_frame = _problem_frame(problems)
    keep = _usable_rows(rows, problem_frame, name)
    gdf = _facility_frame(
        table,
        keep,
        columns=columns,
        rows=rows,
        ids=ids,
        id_col=id_col,
        name_column=name_column,
        coord_cols=(lon_col, lat_col),
        capacity=capacity,
        lon=lon,
        lat=lat,
    )
    return FacilityLoad(gdf, problem_frame, source=f"{name} (stated CRS {crs})")


def facilities_from_layers(
    ids: list[str],
    *,
    layers_dir: Path | None = None,
    capacity_column: str | None = None,
    include_goals: bool = False,
) -> gpd.GeoDataFrame:
    """Combine point layers (e.g. ``cs_medical``) into one WGS-84 facility table.

    Goal and placeholder points (``kind == "goal"``: 创建目标, 筹备) are not facilities and are
    left out unless ``include_goals``.

    Parameters
    ----------
    ids : list of str
        Layer ids from the manifest.
    layers_dir : Path, optional
        Layers folder (default ``settings.LAYERS_DIR``).
    capacity_column : str, optional
        Property to use as ``capacity``; every layer must carry it.
    include_goals : bool
        Count goal/placeholder points as if they existed (default False).

    Returns
    -------
    GeoDataFrame
        Columns ``id, name, layer, ... , geometry`` (and ``capacity``).

    Raises
    ------
    InputError
        For an unknown layer, a layer that is not points, an empty selection or a missing
        capacity property.
    """
    from geo.data.layers import drop_goals, load_layer, load_manifest
    from geo.settings import LAYERS_DIR, MANIFEST_PATH

    folder = layers_dir or LAYERS_DIR
    manifest = load_manifest(folder / MANIFEST_PATH.name)
    kinds = {layer["id"]: layer.get("kind") for layer in manifest["layers"]}
    frames = []
    for layer_id in ids:
        if layer_id not in kinds:
            points = sorted(k for k, v in kinds.items() if v == "points")
            msg = f"unknown layer {layer_id!r}; point layers are {points}"
            raise InputError(msg, field="layers")
        if kinds[layer_id] != "points":
            msg = f"layer {layer_id!r} holds {kinds[layer_id]}, not points: choose a point layer"
            raise InputError(msg, field="layers")
        gdf = drop_goals(load_layer(layer_id, layers_dir=folder), include_goals=include_goals)
        if capacity_column is not None:
            if capacity_column not in gdf.columns:
                msg = f"layer {layer_id!r} has no capacity property {capacity_column!r}"
                raise InputError(msg, field=capacity_column)
            gdf["capacity"] = pd.to_numeric(gdf[capacity_column], errors="coerce")
        gdf["layer"] = layer_id
        frames.append(gdf)
    if not frames or all(f.empty for f in frames):
        msg = f"layers {ids} hold no facilities"
        raise InputError(msg, field="layers")
    out = pd.concat([f for f in frames if not f.empty], ignore_index=True)
    if out["id"].duplicated().any():
        out["id"] = out["layer"] + ":" + out["id"].astype(str)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)
