"""Texts, popups, marker shapes and legend rows of the browser map (all HTML escaped here).

Marker shapes follow the manifest (``style.marker``, per-kind overrides in ``style.kinds``); goal
and placeholder points (``kind == "goal"``) are drawn hollow (``*_open``), as in print.
"""

from __future__ import annotations

import html
import math
from typing import Any, Final

import numpy as np

from geo.data.layers import parse_targets
from geo.printing.symbols import KIND_LABELS

__all__ = [
    "TEXT",
    "esc",
    "layer_label",
    "layer_legend_html",
    "point_symbol",
    "popup_html",
    "shape_svg",
    "truthy",
]

PRECISION_ZH: Final[dict[str, str]] = {
    "surveyed": "实测",
    "geocoded": "地理编码",
    "approximate": "近似位置",
    "schematic": "示意",
}
TEXT: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "role": "定位",
        "targets": "规划目标",
        "precision": "位置精度",
        "schematic": "示意范围：几何形状为示意，不代表规划红线",
        "source": "规划原文",
        "legend": "图例",
        "layers": "图层",
        "area": "面积",
        "badge": "示意",
        "highlight": "选中单元",
        "coverage": "覆盖范围",
        "inferred": "归属为推断",
        "goal": "目标/筹备（空心，非现有设施）",
        "also": "此处还有：",
        "filter": "隐藏示意点与目标点",
        "search": "搜索地名…",
        "no_hit": "未找到",
        "nothing": "无可见图层",
        "tile_error": "底图瓦片无法加载（网络不可用或服务拒绝）。图层仍可使用；可改用“离线”底图。",
        "tianditu_key": "天地图需要密钥（设置或环境变量 TIANDITU_KEY）：未加载底图瓦片。",
        "key_removed": "导出文件不含天地图密钥：底图瓦片不会加载。",
        "fullscreen": "全屏",
        "fullscreen_off": "退出全屏",
        "minimap_hide": "隐藏鹰眼图",
        "minimap_show": "显示鹰眼图",
        "population": "人口（2020 年普查）",
    },
    "en": {
        "role": "Role",
        "targets": "Planned targets",
        "precision": "Precision",
        "schematic": "Schematic: the shape is indicative, not a planning boundary",
        "source": "Plan text",
        "legend": "Legend",
        "layers": "Layers",
        "area": "Area",
        "badge": "schematic",
        "highlight": "Selected unit",
        "coverage": "Coverage",
        "inferred": "Attribution inferred",
        "goal": "Goal / in preparation (hollow, not a facility)",
        "also": "Also here:",
        "filter": "Hide schematic and goal points",
        "search": "Search places…",
        "no_hit": "No match",
        "nothing": "No visible layer",
        "tile_error": "Basemap tiles cannot be loaded (no network or refused). The layers still "
        "work; choose the offline basemap.",
        "tianditu_key": "Tianditu needs a key (settings or TIANDITU_KEY): no basemap tiles.",
        "key_removed": "The exported file carries no Tianditu key: basemap tiles will not load.",
        "fullscreen": "Full screen",
        "fullscreen_off": "Exit full screen",
        "minimap_hide": "Hide overview",
        "minimap_show": "Show overview",
        "population": "Population (2020 census)",
    },
}


def layer_label(meta: dict[str, Any], lang: str = "zh") -> str:
    """Display name of a manifest layer or group in ``lang`` (``zh`` or ``en``).

    Parameters
    ----------
    meta : dict
        Manifest entry with ``zh`` and ``en`` keys.
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
    """
    return str(meta.get(lang) or meta.get("zh") or meta.get("id", ""))


def esc(value: Any) -> str:
    """HTML-escape a value (``None``/NaN -> empty string)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def truthy(value: Any) -> bool:
    """Interpret a property as a boolean (``"true"``, ``1``, ``True``; NaN/None are false)."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return False
    return bool(value)


def _targets_html(value: Any) -> str:
    items = []
    for t in parse_targets(value):
        label = t.get("label") or t.get("metric") or ""
        amount = f"{t.get('value', '')}{t.get('unit', '') or ''}"
        year = f" ({t['year']})" if t.get("year") else ""
        base = ""
        if t.get("baseline") is not None:
            base = f"; {t.get('baseline_year', '')}: {t['baseline']}{t.get('unit', '') or ''}"
        items.append(f"<li>{esc(label)}: {esc(amount)}{esc(year)}{esc(base)}</li>")
    return f"<ul style='margin:2px 0 2px 16px;padding:0'>{''.join(items)}</ul>" if items else ""


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and value != ""


def popup_html(props: dict[str, Any], layer_name: str, lang: str) -> str:
    """Popup of one feature: name, layer, role, area, targets, precision, attribution, quote.

    Parameters
    ----------
    props : dict
        Feature properties (missing ``attribution`` counts as ``"stated"``).
    layer_name : str
        Display name of its layer.
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        HTML in which every data value is escaped.
    """
    tx = TEXT[lang]
    rows = [f"<b style='font-size:14px'>{esc(props.get('name'))}</b>"]
    rows.append(f"<div style='color:#666'>{esc(layer_name)}</div>")
    if _present(props.get("role")):
        rows.append(f"<div><b>{tx['role']}</b>: {esc(props['role'])}</div>")
    if _present(props.get("area_km2")):
        area = f"{float(props['area_km2']):.1f}"
        rows.append(f"<div><b>{tx['area']}</b>: {esc(area)} km²</div>")
    targets = _targets_html(props.get("targets"))
    if targets:
        rows.append(f"<div><b>{tx['targets']}</b>:{targets}</div>")
    if _present(props.get("precision")):
        prec = str(props["precision"])
        shown = f"{PRECISION_ZH.get(prec, prec)} ({prec})" if lang == "zh" else prec
        rows.append(f"<div class='hg-precision'><b>{tx['precision']}</b>: {esc(shown)}</div>")
    if truthy(props.get("schematic")):
        rows.append(f"<div style='color:#c0392b'>⚠ {tx['schematic']}</div>")
    if str(props.get("attribution") or "stated") == "inferred":
        reason = esc(props.get("attribution_reason"))
        rows.append(
            f"<div class='hg-inferred' style='color:#7d3c98'>⚑ {tx['inferred']} "
            f"(attribution: inferred){': ' + reason if reason else ''}</div>"
        )
    if _present(props.get("population")) and not _present(props.get("quote")):
        pop = f"{int(props['population']):,}"
        rows.append(f"<div>{tx['population']}: {esc(pop)}</div>")
    if _present(props.get("quote")):
        doc = props.get("plan_title") or props.get("plan") or ""
        sec = props.get("section") or ""
        rows.append(
            f"<blockquote class='hg-quote' style='margin:4px 0;padding-left:6px;"
            f"border-left:3px solid #999'>“{esc(props['quote'])}”</blockquote>"
            f"<div class='hg-source' style='color:#666'>{tx['source']}: 《{esc(doc)}》 "
            f"{esc(sec)}</div>"
        )
    return "<div class='hg-popup' style='max-width:320px'>" + "".join(rows) + "</div>"


def point_symbol(style: dict[str, Any], kind: str | None) -> dict[str, Any]:
    """Marker, colours and radius of a point of ``kind`` (``style.kinds`` over the layer style).

    Parameters
    ----------
    style : dict
        The layer's manifest style.
    kind : str or None
        The feature's ``kind``; ``"goal"`` forces a hollow (``*_open``) marker.

    Returns
    -------
    dict
        Keys ``marker``, ``color``, ``fillColor``, ``radius``.
    """
    sym = {
        "marker": style.get("marker", "circle"),
        "color": style.get("color", "#333"),
        "fillColor": style.get("fillColor", style.get("color", "#333")),
        "radius": style.get("radius", 5),
    }
    over = (style.get("kinds") or {}).get(kind or "") or {}
    sym.update({k: v for k, v in over.items() if k in sym and v is not None})
    if kind == "goal" and not str(sym["marker"]).endswith("_open"):
        sym["marker"] = f"{sym['marker']}_open"
    return sym


def _poly(pts: list[tuple[float, float]]) -> str:
    return "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + "z"


def _shape_d(shape: str, x: float, y: float, r: float) -> str | None:
    """SVG path of a marker shape (mirrors ``shapePath`` in ``hgmap.js``)."""
    if shape == "square":
        return _poly([(x - r, y - r), (x + r, y - r), (x + r, y + r), (x - r, y + r)])
    if shape == "diamond":
        a = r * 1.35
        return _poly([(x, y - a), (x + a, y), (x, y + a), (x - a, y)])
    if shape == "triangle":
        return _poly([(x, y - r * 1.4), (x + r * 1.3, y + r * 0.9), (x - r * 1.3, y + r * 0.9)])
    if shape == "star":
        pts = []
        for i in range(10):
            a = -math.pi / 2 + i * math.pi / 5
            rr = r * 0.7 if i % 2 else r * 1.6
            pts.append((x + rr * math.cos(a), y + rr * math.sin(a)))
        return _poly(pts)
    if shape == "cross":
        w, ln = r * 0.5, r * 1.4
        top = [(x - w, y - ln), (x + w, y - ln), (x + w, y - w), (x + ln, y - w), (x + ln, y + w)]
        low = [(x + w, y + w), (x + w, y + ln), (x - w, y + ln), (x - w, y + w), (x - ln, y + w)]
        return _poly([*top, *low, (x - ln, y - w), (x - w, y - w)])
    if shape == "hexagon":
        angles = [math.pi / 6 + i * math.pi / 3 for i in range(6)]
        return _poly([(x + r * 1.2 * math.cos(a), y + r * 1.2 * math.sin(a)) for a in angles])
    return None


def shape_svg(marker: str, color: str, fill: str, *, size: int = 16) -> str:
    """Small inline SVG of a marker for the legend (``*_open`` drawn hollow).

    Parameters
    ----------
    marker : str
        circle, square, diamond, triangle, star, cross, hexagon, optionally ``_open``.
    color, fill : str
        Stroke and fill colours.
    size : int
        Pixel size of the square symbol.

    Returns
    -------
    str
    """
    hollow = marker.endswith("_open")
    shape = marker.removesuffix("_open")
    c = size / 2
    r = size * 0.27
    fill_attr = "#ffffff" if hollow else esc(fill)
    d = _shape_d(shape, c, c, r)
    body = f"<path d='{d}'" if d is not None else f"<circle cx='{c}' cy='{c}' r='{size * 0.33:.1f}'"
    return (
        f"<svg class='hg-sw hg-shape-{esc(shape)}' width='{size}' height='{size}' "
        f"data-marker='{esc(marker)}'>{body} fill='{fill_attr}' stroke='{esc(color)}' "
        f"stroke-width='{2 if hollow else 1.3}'/></svg>"
    )


def _line_svg(style: dict[str, Any]) -> str:
    dash = f" stroke-dasharray='{esc(style['dashArray'])}'" if style.get("dashArray") else ""
    return (
        f"<svg class='hg-sw' width='20' height='10'><line x1='0' y1='5' x2='20' y2='5' "
        f"stroke='{esc(style.get('color', '#333'))}' stroke-width='3'{dash}/></svg>"
    )


def _area_svg(style: dict[str, Any], schematic: bool) -> str:
    dash = style.get("dashArray") or ("4 3" if schematic else "")
    dash_attr = f" stroke-dasharray='{esc(dash)}'" if dash else ""
    return (
        f"<svg class='hg-sw' width='20' height='14'><rect x='1.5' y='1.5' width='17' height='11' "
        f"fill='{esc(style.get('fillColor', style.get('color', '#333')))}' fill-opacity='.3' "
        f"stroke='{esc(style.get('color', '#333'))}' stroke-width='2'{dash_attr}/></svg>"
    )


def swatch(meta: dict[str, Any]) -> str:
    """Legend symbol of a whole layer (its default marker, line or area style)."""
    st = meta.get("style", {})
    if meta.get("kind") == "points":
        sym = point_symbol(st, None)
        return shape_svg(str(sym["marker"]), sym["color"], sym["fillColor"])
    if meta.get("kind") == "lines":
        return _line_svg(st)
    return _area_svg(st, truthy(meta.get("schematic")))


def layer_legend_html(meta: dict[str, Any], kinds: list[str], lang: str) -> str:
    """Legend rows of one layer: its symbol and name (示意 when schematic), then its kinds.

    Parameters
    ----------
    meta : dict
        Manifest entry.
    kinds : list of str
        Kinds present in the layer's features (rows are added for ``style.kinds`` overrides and
        for goal points).
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
    """
    tx = TEXT[lang]
    note = (
        f" <span class='hg-badge'>({tx['badge']})</span>" if truthy(meta.get("schematic")) else ""
    )
    rows = [
        f"<div class='hg-lg' data-layer='{esc(meta['id'])}'>{swatch(meta)}"
        f"<span>{esc(layer_label(meta, lang))}{note}</span></div>"
    ]
    st = meta.get("style", {})
    overrides = st.get("kinds") or {}
    for kind in kinds:
        if kind not in overrides and kind != "goal":
            continue
        sym = point_symbol(st, kind)
        # the print legend's words in Chinese (one vocabulary for screen and paper)
        label = (
            tx["goal"]
            if kind == "goal"
            else KIND_LABELS.get(kind, kind)
            if lang == "zh"
            else kind.replace("_", " ")
        )
        icon = shape_svg(str(sym["marker"]), sym["color"], sym["fillColor"])
        rows.append(f"<div class='hg-lg hg-lg-kind'>{icon}<span>{esc(label)}</span></div>")
    return "".join(rows)


def extra_legend_html(lang: str) -> dict[str, str]:
    """Legend rows for the coverage and the selected unit (shown when drawn)."""
    tx = TEXT[lang]
    cov = _area_svg({"color": "#1f77b4", "fillColor": "#1f77b4"}, False)
    unit = _line_svg({"color": "#e6007e"})
    return {
        key: f"<div class='hg-lg' data-extra='{key}'>{icon}<span>{tx[key]}</span></div>"
        for key, icon in (("coverage", cov), ("highlight", unit))
    }
