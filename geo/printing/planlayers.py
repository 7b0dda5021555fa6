"""Plan layers on a map frame.

Zones (one hatch per layer, faded outside the unit), links (pairs sharing both ends drawn
once) and points (per-kind symbols, goals hollow).
"""

from __future__ import annotations

import re
from typing import Any

import geopandas as gpd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from shapely.geometry.base import BaseGeometry

from geo.crs import to_metric
from geo.printing.cartography import (
    LabelSpec,
)
from geo.printing.mapframe import _FADE, _Page, _View
from geo.printing.symbols import KIND_LABELS, is_goal, kind_style, point_symbol, zone_hatch
from geo.printing.units import _plan_layers

__all__: list[str] = []


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
