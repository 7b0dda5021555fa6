"""Reading the reviewable source tables in ``data/`` (places, zones, targets, anchors, plans).

Each reader checks structure (columns, types, allowed values) and raises one
:class:`~geo.errors.GeoDataError` naming file, row and field at the first problem.  Content checks
that need several tables (quotes verbatim in their plan, points inside their county) live in
:mod:`geo.data.validate`, which collects every problem instead of stopping at the first.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.coords import to_wgs84
from geo.errors import GeoDataError
from geo.settings import DATA_DIR, DATUMS, PLANS_DIR, PRECISION_CLASSES, WGS84

__all__ = [
    "ANCHORS_COLUMNS",
    "ATTRIBUTIONS",
    "CATALOGUE_COLUMNS",
    "CATALOGUE_REASONS",
    "COMPARATORS",
    "DEV_ZONES_COLUMNS",
    "EXTRA_CITATIONS_COLUMNS",
    "PLACES_COLUMNS",
    "PLANS_COLUMNS",
    "TARGETS_COLUMNS",
    "ZONES_COLUMNS",
    "ZONE_METHODS",
    "Column",
    "load_anchors",
    "load_catalogue",
    "load_dev_zones",
    "load_extra_citations",
    "load_places",
    "load_plans",
    "load_targets",
    "load_zones",
    "plan_text",
    "read_table",
    "split_list",
]

_SLUG = re.compile(r"^[a-z0-9_]+$")


@dataclass(frozen=True)
class Column:
    """One column of a source table.

    Parameters
    ----------
    name : str
        Header name.
    kind : str
        ``"text"``, ``"slug"``, ``"float"`` or ``"choice"``.
    required : bool
        Whether every row needs a value.
    choices : tuple of str
        Allowed values for ``"choice"``.
    """

    name: str
    kind: str = "text"
    required: bool = True
    choices: tuple[str, ...] = ()


ZONE_METHODS: tuple[str, ...] = ("buffer", "corridor", "ring")

_CITATION = (Column("plan", "slug"), Column("section"), Column("quote"))
#: Whether the plan text states a feature's place/role or the project inferred it.
ATTRIBUTIONS: tuple[str, ...] = ("stated", "inferred")
#: Typed comparators of planned targets, with the words of the plans that express them.
COMPARATORS: dict[str, tuple[str, ...]] = {
    "eq": ("达", "达到", "为", "建成", "规划面积", "实现"),
    "approx": ("约",),
    "gt": ("超", "超过", "突破"),
    "gte": ("以上", "不低于", "不少于"),
    "lte": ("以内", "以下", "不超过"),
}
_ATTRIBUTION = (
    Column("attribution", "choice", required=False, choices=ATTRIBUTIONS),
    Column("attribution_reason", required=False),
    Column("dev_zone_code", required=False),
)
DEV_ZONES_COLUMNS: tuple[Column, ...] = (
    Column("code"),
    Column("name"),
    Column("place", required=False),
    Column("approved_by", required=False),
    Column("zone_type"),
    Column("approved"),
    Column("approved_area_ha", "float"),
    Column("leading_industries", required=False),
)
PLACES_COLUMNS: tuple[Column, ...] = (
    Column("id", "slug"),
    Column("layer", "slug"),
    Column("name"),
    Column("kind", "slug"),
    Column("role", required=False),
    Column("county", required=False),
    Column("lon", "float"),
    Column("lat", "float"),
    Column("datum", "choice", choices=DATUMS),
    Column("precision", "choice", choices=PRECISION_CLASSES),
    Column("position_basis"),
    *_CITATION,
    *_ATTRIBUTION,
)
ANCHORS_COLUMNS: tuple[Column, ...] = (
    Column("id", "slug"),
    Column("name"),
    Column("county"),
    Column("lon", "float"),
    Column("lat", "float"),
    Column("datum", "choice", choices=DATUMS),
    Column("precision", "choice", choices=PRECISION_CLASSES),
    Column("position_basis"),
)
ZONES_COLUMNS: tuple[Column, ...] = (
    Column("id", "slug"),
    Column("layer", "slug"),
    Column("name"),
    Column("kind", "slug"),
    Column("role", required=False),
    Column("method", "choice", choices=ZONE_METHODS),
    Column("anchors"),
    Column("radius_km", "float", required=False),
    Column("area_km2", "float", required=False),
    Column("clip_counties"),
    Column("industries", required=False),
    *_CITATION,
    *_ATTRIBUTION,
    Column("contains", required=False),
    Column("same_place", required=False),
)
TARGETS_COLUMNS: tuple[Column, ...] = (
    Column("feature_id", "slug"),
    Column("metric", "slug"),
    Column("label"),
    Column("value", "float"),
    Column("unit"),
    Column("comparator", "choice", choices=tuple(COMPARATORS)),
    Column("year", "float", required=False),
    Column("baseline", "float", required=False),
    Column("baseline_year", "float", required=False),
    *_CITATION,
)
#: Why a named place is not on the map (the reason must start with one of these).
CATALOGUE_REASONS: tuple[str, ...] = (
    "no site named",
    "site not known offline",
    "citywide or wider",
    "outside health scope",
    "mapped elsewhere",
    "no spatial role",
)
CATALOGUE_COLUMNS: tuple[Column, ...] = (
    Column("name"),
    Column("plan", "slug"),
    Column("section"),
    Column("sentence"),
    Column("status", "choice", choices=("mapped", "not_mapped")),
    Column("layer", required=False),
    Column("feature_id", required=False),
    Column("reason", required=False),
)
#: Further sentences that give a mapped feature another role (one feature, several quotes).
EXTRA_CITATIONS_COLUMNS: tuple[Column, ...] = (
    Column("feature_id", "slug"),
    Column("role"),
    *_CITATION,
)
PLANS_COLUMNS: tuple[Column, ...] = (
    Column("key", "slug"),
    Column("file"),
    Column("title"),
    Column("issuer", required=False),
    Column("date", required=False),
)


def read_table(path: Path, columns: tuple[Column, ...]) -> pd.DataFrame:
    """Read a UTF-8 CSV and check it against ``columns``.

    Parameters
    ----------
    path : Path
        CSV file with a header row.
    columns : tuple of Column
        Expected columns; extra columns are kept; optional columns missing from the file are
        added empty.

    Returns
    -------
    DataFrame
        Text columns as ``str`` (missing optional values as ``""``), float columns as
        ``float64`` (missing optional values as NaN).

    Raises
    ------
    GeoDataError
        Naming file, row (1-based, header excluded) and field for: unreadable file, missing
        columns, empty required values, non-numeric numbers, values outside their choices,
        malformed slugs and duplicate ids.
    """
    name = str(path)
    if not path.exists():
        msg = "file not found"
        raise GeoDataError(msg, file=name)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the file as UTF-8"
        raise GeoDataError(msg, file=name) from exc
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        msg = f"malformed CSV: {exc}"
        raise GeoDataError(msg, file=name) from exc
    except pd.errors.EmptyDataError as exc:
        msg = "empty file: a header row is required"
        raise GeoDataError(msg, file=name) from exc
    for col in columns:
        if not col.required and col.name not in df.columns:
            df[col.name] = ""  # optional columns may be left out of the file
    missing = [c.name for c in columns if c.name not in df.columns]
    if missing:
        msg = f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, df.columns))}"
        raise GeoDataError(msg, file=name)
    for col in columns:
        values = df[col.name].str.strip()
        df[col.name] = values
        for row, value in enumerate(values, start=1):
            if value == "":
                if col.required:
                    raise GeoDataError("empty value", file=name, row=row, field=col.name)
                continue
            if col.kind == "slug" and not _SLUG.match(value):
                msg = f"{value!r} is not a slug (lowercase letters, digits, _)"
                raise GeoDataError(msg, file=name, row=row, field=col.name)
            if col.kind == "choice" and value not in col.choices:
                msg = f"{value!r} is not one of {', '.join(col.choices)}"
                raise GeoDataError(msg, file=name, row=row, field=col.name)
            if col.kind == "float":
                try:
                    number = float(value)
                except ValueError:
                    msg = f"{value!r} is not a number"
                    raise GeoDataError(msg, file=name, row=row, field=col.name) from None
                if not np.isfinite(number):
                    msg = f"{value!r} is not a finite number"
                    raise GeoDataError(msg, file=name, row=row, field=col.name)
        if col.kind == "float":
            df[col.name] = pd.to_numeric(values.replace("", np.nan))
    if "id" in df.columns:
        dup = df["id"].duplicated(keep="first")
        if dup.any():
            row = int(np.flatnonzero(dup.to_numpy())[0]) + 1
            msg = f"duplicate id {df['id'].iloc[row - 1]!r}"
            raise GeoDataError(msg, file=name, row=row, field="id")
    return df


def split_list(value: str) -> list[str]:
    """Split a ``;``-separated cell into stripped, non-empty items.

    Examples
    --------
    >>> split_list("岳麓区; 望城区;")
    ['岳麓区', '望城区']
    """
    return [item.strip() for item in str(value).split(";") if item.strip()]


def load_plans(path: Path = PLANS_DIR / "index.csv") -> pd.DataFrame:
    """Read the plan index (key, file, title, issuer, date), checking each file exists."""
    df = read_table(path, PLANS_COLUMNS)
    for row, file in enumerate(df["file"], start=1):
        if not (path.parent / file).exists():
            msg = f"plan file {file!r} not found in {path.parent}"
            raise GeoDataError(msg, file=str(path), row=row, field="file")
    return df.set_index("key", drop=False)


def plan_text(key: str, *, plans: pd.DataFrame | None = None, plans_dir: Path = PLANS_DIR) -> str:
    """Return the full text of the plan with index key ``key``.

    Raises
    ------
    KeyError
        When ``key`` is not in the plan index.
    """
    plans = plans if plans is not None else load_plans(plans_dir / "index.csv")
    if key not in plans.index:
        msg = f"unknown plan key {key!r}; known: {', '.join(plans.index)}"
        raise KeyError(msg)
    return (plans_dir / plans.loc[key, "file"]).read_text(encoding="utf-8")


def _points(df: pd.DataFrame, path: Path) -> gpd.GeoDataFrame:
    lon = df["lon"].to_numpy(dtype=float)
    lat = df["lat"].to_numpy(dtype=float)
    wlon = lon.copy()
    wlat = lat.copy()
    for datum in df["datum"].unique():
        mask = (df["datum"] == datum).to_numpy()
        wlon[mask], wlat[mask] = to_wgs84(lon[mask], lat[mask], datum)
    out = df.rename(columns={"datum": "source_datum", "lon": "source_lon", "lat": "source_lat"})
    gdf = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(wlon, wlat), crs=WGS84)
    gdf.attrs["source_file"] = str(path)
    return gdf


def load_places(path: Path = DATA_DIR / "places.csv") -> gpd.GeoDataFrame:
    """Read ``places.csv`` as WGS-84 points (GCJ-02/BD-09 converted with :mod:`geo.coords`).

    Returns
    -------
    GeoDataFrame
        The table's columns (``lon``/``lat``/``datum`` renamed ``source_lon``/``source_lat``/
        ``source_datum``) with WGS-84 point geometry.
    """
    return _points(read_table(path, PLACES_COLUMNS), path)


def load_anchors(path: Path = DATA_DIR / "anchors.csv") -> gpd.GeoDataFrame:
    """Read ``anchors.csv`` (shaping points, not features) as WGS-84 points; empty if absent."""
    if not path.exists():
        empty = pd.DataFrame({c.name: pd.Series(dtype=str) for c in ANCHORS_COLUMNS})
        return _points(empty.assign(lon=0.0, lat=0.0).iloc[0:0], path)
    return _points(read_table(path, ANCHORS_COLUMNS), path)


def load_zones(path: Path = DATA_DIR / "zones.csv") -> pd.DataFrame:
    """Read ``zones.csv``: schematic areas and how to draw them."""
    return read_table(path, ZONES_COLUMNS)


def load_targets(path: Path = DATA_DIR / "targets.csv") -> pd.DataFrame:
    """Read ``targets.csv``: planned scale as typed values."""
    return read_table(path, TARGETS_COLUMNS)


def load_catalogue(path: Path = DATA_DIR / "place_catalogue.csv") -> pd.DataFrame:
    """Read ``place_catalogue.csv``: every place the plans name, mapped or with a reason."""
    return read_table(path, CATALOGUE_COLUMNS)


def load_dev_zones(
    path: Path = DATA_DIR / "hunan_development_zones_2018_catalogue.csv",
) -> pd.DataFrame:
    """Read the 2018 development-zone catalogue (approved area in ha and date; no boundary)."""
    return read_table(path, DEV_ZONES_COLUMNS).set_index("code", drop=False)


def load_extra_citations(path: Path = DATA_DIR / "extra_citations.csv") -> pd.DataFrame:
    """Read ``extra_citations.csv`` (further roles of a feature, each with its quote)."""
    return read_table(path, EXTRA_CITATIONS_COLUMNS)
