"""Attribute table of the map's layers: one row per feature, filters, and facility selection.

The table is what a planner scans in QGIS's attribute table: layer, name, kind, precision, plan
and county of every feature, with a representative point so a selected row can centre the map.
Goal and placeholder points (``kind == "goal"``: 创建目标, 筹备) are flagged; they are not
facilities unless the user says so (:func:`facility_points`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import metric_crs_for, require_crs
from geo.errors import InputError
from geo.settings import WGS84

__all__ = [
    "ATTRIBUTE_COLUMNS",
    "UNCERTAIN_PRECISIONS",
    "attribute_display",
    "attribute_table",
    "facility_points",
    "filter_attributes",
    "is_goal",
    "uncertain_reach",
]

#: Columns of :func:`attribute_table`.
ATTRIBUTE_COLUMNS: tuple[str, ...] = (
    "layer",
    "id",
    "name",
    "kind",
    "precision",
    "schematic",
    "plan",
    "county",
    "section",
    "lon",
    "lat",
)
#: Position precisions whose coverage is drawn as indicative only.
UNCERTAIN_PRECISIONS: frozenset[str] = frozenset({"approximate", "schematic"})


def _text(gdf: gpd.GeoDataFrame, column: str) -> pd.Series:
    if column not in gdf.columns:
        return pd.Series([""] * len(gdf), index=gdf.index, dtype=object)
    return gdf[column].map(
        lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
    )


def _flag(gdf: gpd.GeoDataFrame, column: str) -> pd.Series:
    if column not in gdf.columns:
        return pd.Series(False, index=gdf.index)
    return gdf[column].map(lambda v: str(v).strip().lower() in {"true", "1", "yes"})


def is_goal(gdf: gpd.GeoDataFrame) -> pd.Series:
    """Boolean mask of goal/placeholder features (``kind == "goal"``).

    Parameters
    ----------
    gdf : GeoDataFrame
        Features, with or without a ``kind`` column.

    Returns
    -------
    Series of bool
    """
    return _text(gdf, "kind").str.strip() == "goal"


def _points(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    if gdf.empty:
        return np.array([]), np.array([])
    geo = gdf.to_crs(WGS84).geometry
    pts = geo.where(geo.geom_type == "Point", None)
    other = pts.isna() & geo.notna()
    if other.any():
        metric = metric_crs_for(geo[other])
        pts[other] = geo[other].to_crs(metric).representative_point().to_crs(WGS84)
    return pts.x.to_numpy(), pts.y.to_numpy()


def attribute_table(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    plan_titles: Mapping[str, str] | None = None,
    skip: Iterable[str] = ("counties", "cities", "xiangjiang"),
) -> pd.DataFrame:
    """One row per feature of the given layers.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layer id -> features (any CRS).
    plan_titles : mapping, optional
        Plan key -> title, shown in the ``plan`` column instead of the key.
    skip : iterable of str
        Reference layers left out (boundaries and the river).

    Returns
    -------
    DataFrame
        Columns :data:`ATTRIBUTE_COLUMNS`; ``lon``/``lat`` (WGS-84) of the point or of a
        representative point of a line/area, so the map can centre on the row.

    Raises
    ------
    CRSError
        When a layer has no CRS.
    """
    skipped = set(skip)
    frames = []
    for lid, gdf in layers.items():
        if lid in skipped or gdf.empty:
            continue
        require_crs(gdf, name=lid)
        lon, lat = _points(gdf)
        plan = _text(gdf, "plan")
        if plan_titles:
            plan = plan.map(lambda k: plan_titles.get(k, k))
        frames.append(
            pd.DataFrame(
                {
                    "layer": lid,
                    "id": _text(gdf, "id").to_numpy(),
                    "name": _text(gdf, "name").to_numpy(),
                    "kind": _text(gdf, "kind").to_numpy(),
                    "precision": _text(gdf, "precision").to_numpy(),
                    "schematic": _flag(gdf, "schematic").to_numpy(),
                    "plan": plan.to_numpy(),
                    "county": _text(gdf, "county").to_numpy(),
                    "section": _text(gdf, "section").to_numpy(),
                    "lon": np.round(lon, 6),
                    "lat": np.round(lat, 6),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=list(ATTRIBUTE_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(ATTRIBUTE_COLUMNS)]


def attribute_display(
    table: pd.DataFrame,
    *,
    layer_names: Mapping[str, str] | None = None,
    plan_titles: Mapping[str, str] | None = None,
    lang: str = "zh",
) -> pd.DataFrame:
    """Label the attribute table for display: layer names, plan titles, kind and precision words.

    Parameters
    ----------
    table : DataFrame
        From :func:`attribute_table` (possibly filtered).
    layer_names : mapping, optional
        Layer id -> display name.
    plan_titles : mapping, optional
        Plan key -> title.
    lang : str
        ``"zh"`` or ``"en"`` (precision words).

    Returns
    -------
    DataFrame
        Same rows and columns; ``lon``/``lat`` kept for locating rows.
    """
    from geo.settings import KIND_NAMES
    from geo.web.i18n import PRECISION_LABELS  # local: i18n is display-only

    i = 0 if lang == "zh" else 1
    out = table.copy()
    if layer_names:
        out["layer"] = out["layer"].map(lambda v: layer_names.get(v, v))
    if plan_titles:
        out["plan"] = out["plan"].map(lambda v: plan_titles.get(v, v))
    out["precision"] = out["precision"].map(
        lambda v: PRECISION_LABELS[v][i] if v in PRECISION_LABELS else v
    )
    out["kind"] = out["kind"].map(lambda v: KIND_NAMES[v][i] if v in KIND_NAMES else v)
    return out


def filter_attributes(
    table: pd.DataFrame,
    *,
    layers: Iterable[str] | None = None,
    kinds: Iterable[str] | None = None,
    precisions: Iterable[str] | None = None,
    plans: Iterable[str] | None = None,
    counties: Iterable[str] | None = None,
    hide_schematic_and_goals: bool = False,
) -> pd.DataFrame:
    """Rows of :func:`attribute_table` matching every filter given (empty/None: no filter).

    Parameters
    ----------
    table : DataFrame
        From :func:`attribute_table`.
    layers, kinds, precisions, plans, counties : iterable of str, optional
        Accepted values of each column.
    hide_schematic_and_goals : bool
        Drop schematic features (``schematic`` true or precision ``schematic``) and goal points.

    Returns
    -------
    DataFrame
        Same columns and index labels as ``table``.

    Raises
    ------
    InputError
        When ``table`` lacks a column of :data:`ATTRIBUTE_COLUMNS`.
    """
    missing = [c for c in ATTRIBUTE_COLUMNS if c not in table.columns]
    if missing:
        msg = f"attribute table lacks columns {missing}: build it with attribute_table()"
        raise InputError(msg, field="table")
    keep = pd.Series(True, index=table.index)
    for column, wanted in (
        ("layer", layers),
        ("kind", kinds),
        ("precision", precisions),
        ("plan", plans),
        ("county", counties),
    ):
        values = list(wanted or [])
        if values:
            keep &= table[column].isin(values)
    if hide_schematic_and_goals:
        keep &= ~table["schematic"].astype(bool)
        keep &= table["precision"] != "schematic"
        keep &= table["kind"] != "goal"
    return table[keep]


def facility_points(
    layers: Mapping[str, gpd.GeoDataFrame],
    ids: Iterable[str],
    *,
    include_goals: bool = False,
) -> gpd.GeoDataFrame:
    """Facilities of point layers for coverage, goal points left out unless asked for.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layer id -> features.
    ids : iterable of str
        Point layers to use.
    include_goals : bool
        Keep ``kind == "goal"`` points (创建目标, 筹备) as if they existed.

    Returns
    -------
    GeoDataFrame
        WGS-84 ``id`` (``layer:id``), ``name``, ``layer``, ``kind``, ``precision``, geometry.

    Raises
    ------
    InputError
        For an unknown layer id.
    """
    frames = []
    for lid in ids:
        if lid not in layers:
            msg = f"unknown layer {lid!r}; layers are {sorted(layers)}"
            raise InputError(msg, field="layers")
        gdf = layers[lid]
        if gdf.empty:
            continue
        require_crs(gdf, name=lid)
        g = gdf.to_crs(WGS84)
        if not include_goals:
            g = g[~is_goal(g).to_numpy()]
        ident = _text(g, "id")
        ident = ident.where(ident != "", pd.Series(g.index.astype(str), index=g.index))
        frames.append(
            gpd.GeoDataFrame(
                {
                    "id": (lid + ":" + ident).to_numpy(),
                    "name": _text(g, "name").to_numpy(),
                    "layer": lid,
                    "kind": _text(g, "kind").to_numpy(),
                    "precision": _text(g, "precision").to_numpy(),
                },
                geometry=g.geometry.to_numpy(),
                crs=WGS84,
            )
        )
    if not frames:
        return gpd.GeoDataFrame(
            {c: [] for c in ("id", "name", "layer", "kind", "precision")},
            geometry=[],
            crs=WGS84,
        )
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=WGS84)


def uncertain_reach(
    facilities: gpd.GeoDataFrame,
    radius_m: float,
    *,
    within: gpd.GeoSeries | None = None,
) -> gpd.GeoSeries:
    """Reach around facilities whose position is approximate or schematic (to mark as such).

    Parameters
    ----------
    facilities : GeoDataFrame
        With a ``precision`` column (missing: treated as precise).
    radius_m : float
        Reach distance in metres.
    within : GeoSeries, optional
        Clip to this area (e.g. the covered part of the unit).

    Returns
    -------
    GeoSeries
        One WGS-84 geometry (possibly empty): discs in the Gauss-Kruger zone of the points.

    Raises
    ------
    CRSError
        When ``facilities`` has no CRS.
    """
    require_crs(facilities, name="facilities")
    if "precision" not in facilities.columns or facilities.empty:
        return gpd.GeoSeries([], crs=WGS84)
    pts = facilities[facilities["precision"].isin(UNCERTAIN_PRECISIONS)]
    if pts.empty:
        return gpd.GeoSeries([], crs=WGS84)
    metric = metric_crs_for(pts.to_crs(WGS84))
    discs = pts.to_crs(metric).buffer(radius_m, quad_segs=16).union_all()
    out = gpd.GeoSeries([discs], crs=metric).to_crs(WGS84)
    if within is not None and len(within):
        out = out.intersection(within.to_crs(WGS84).union_all())
    return out[~out.is_empty]
