"""Map frames: the main map and the enlargement of the dense centre.

Each is drawn at a round true scale, with administrative units, water and the coverage overlay.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from pyproj import CRS
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from geo.crs import to_metric
from geo.printing.cartography import (
    LabelSpec,
    format_scale,
    nice_scale,
)
from geo.printing.page import (
    Frames,
    Rect,
    add_axes,
)
from geo.printing.units import (
    MapUnit,
    _all_counties,
    _cities,
    _plan_layers,
    _province,
    _river,
    _river_style,
)
from geo.printing.water import MAIN_STEM_METHOD
from geo.settings import WGS84

__all__: list[str] = ["DETAIL_AREAS"]


DETAIL_AREAS: Final[dict[str, tuple[str, ...]]] = {
    "长沙市": ("芙蓉区", "天心区", "岳麓区", "开福区", "雨花区"),
    "永州市": ("冷水滩区", "零陵区"),
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
