"""Browser map: a pure function from layers + options to a :class:`folium.Map`.

The map needs no CDN: Leaflet 1.9.4 is vendored in ``geo/assets/leaflet`` and referenced from
every map instance as ``data:`` URLs (so ``streamlit_folium``'s iframe and a downloaded HTML file
load it without any request leaving the machine).  Points are drawn as ``L.CircleMarker`` so no
marker plugin (jQuery, Bootstrap, Font Awesome) is needed.  Every text that comes from data is
``html.escape``'d before it reaches HTML.
"""

from __future__ import annotations

import base64
import html
import json
import re
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from jinja2 import Template
from shapely.geometry.base import BaseGeometry

from geo.coords import geometry_to_wgs84
from geo.crs import require_crs, to_metric
from geo.data.layers import parse_targets
from geo.errors import InputError
from geo.settings import ASSETS_DIR, SIMPLIFY_TOLERANCE_M, WGS84

__all__ = [
    "BASEMAPS",
    "GCJ02_BASEMAPS",
    "MAP_DECIMALS",
    "build_map",
    "geojson_payload_bytes",
    "layer_label",
    "layers_to_geojson",
    "layers_to_gpkg",
    "map_to_offline_html",
    "prepare_layer",
]

#: Basemap choices: id -> (zh, en) label.
BASEMAPS: Final[dict[str, tuple[str, str]]] = {
    "offline": ("离线（无底图）", "Offline (no tiles)"),
    "osm": ("OpenStreetMap", "OpenStreetMap"),
    "light": ("浅色底图", "Light"),
    "tianditu": ("天地图", "Tianditu"),
    "amap": ("高德地图", "AMap (GCJ-02)"),
}
#: Basemaps whose tiles are in GCJ-02: WGS-84 overlays are shifted onto them.
GCJ02_BASEMAPS: Final[frozenset[str]] = frozenset({"amap"})
#: Decimal places of coordinates shipped to the browser (1e-5 deg is about 1 m).
MAP_DECIMALS: Final[int] = 5
_DRAW_ORDER: Final[dict[str, int]] = {"boundary": 0, "zones": 1, "lines": 2, "points": 3}
_TIANDITU_KEY_RE: Final = re.compile(r"^[0-9A-Za-z]{8,64}$")
_PRECISION_ZH: Final[dict[str, str]] = {
    "surveyed": "实测",
    "geocoded": "地理编码",
    "approximate": "近似位置",
    "schematic": "示意",
}
_TEXT: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "role": "定位",
        "targets": "规划目标",
        "precision": "位置精度",
        "schematic": "示意范围：几何形状为示意，不代表规划红线",
        "source": "规划原文",
        "legend": "图例",
        "area": "面积",
        "badge": "示意",
        "highlight": "选中单元",
        "coverage": "覆盖范围",
    },
    "en": {
        "role": "Role",
        "targets": "Planned targets",
        "precision": "Precision",
        "schematic": "Schematic: the shape is indicative, not a planning boundary",
        "source": "Plan text",
        "legend": "Legend",
        "area": "Area",
        "badge": "schematic",
        "highlight": "Selected unit",
        "coverage": "Coverage",
    },
}


@lru_cache(maxsize=8)
def _asset_data_url(relpath: str, mime: str) -> str:
    data = (ASSETS_DIR / relpath).read_bytes()
    if relpath.endswith(".css"):
        css = data.decode("utf-8")

        def _inline(match: re.Match[str]) -> str:
            img = (ASSETS_DIR / "leaflet" / match.group(1)).read_bytes()
            return f"url(data:image/png;base64,{base64.b64encode(img).decode()})"

        data = re.sub(r"url\((images/[\w\-]+\.png)\)", _inline, css).encode("utf-8")
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _local_assets(m: folium.Map) -> None:
    """Point the map instance at the vendored Leaflet only (no CDN links)."""
    m.default_js = [("leaflet", _asset_data_url("leaflet/leaflet.js", "text/javascript"))]
    m.default_css = [("leaflet_css", _asset_data_url("leaflet/leaflet.css", "text/css"))]


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


def _esc(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def _targets_html(value: Any, lang: str) -> str:
    items = []
    for t in parse_targets(value):
        label = t.get("label") or t.get("metric") or ""
        amount = f"{t.get('value', '')}{t.get('unit', '') or ''}"
        year = f" ({t['year']})" if t.get("year") else ""
        base = ""
        if t.get("baseline") is not None:
            base = f"; {t.get('baseline_year', '')}: {t['baseline']}{t.get('unit', '') or ''}"
        items.append(f"<li>{_esc(label)}: {_esc(amount)}{_esc(year)}{_esc(base)}</li>")
    return f"<ul style='margin:2px 0 2px 16px;padding:0'>{''.join(items)}</ul>" if items else ""


def _popup_html(props: dict[str, Any], layer_name: str, lang: str) -> str:
    tx = _TEXT[lang]
    rows = [f"<b style='font-size:14px'>{_esc(props.get('name'))}</b>"]
    rows.append(f"<div style='color:#666'>{_esc(layer_name)}</div>")
    if props.get("role"):
        rows.append(f"<div><b>{tx['role']}</b>: {_esc(props['role'])}</div>")
    area = props.get("area_km2")
    if area is not None and not (isinstance(area, float) and np.isnan(area)):
        rows.append(f"<div><b>{tx['area']}</b>: {_esc(f'{float(area):.1f}')} km²</div>")
    targets = _targets_html(props.get("targets"), lang)
    if targets:
        rows.append(f"<div><b>{tx['targets']}</b>:{targets}</div>")
    if props.get("precision"):
        prec = str(props["precision"])
        shown = f"{_PRECISION_ZH.get(prec, prec)} ({prec})" if lang == "zh" else prec
        rows.append(f"<div><b>{tx['precision']}</b>: {_esc(shown)}</div>")
    if _truthy(props.get("schematic")):
        rows.append(f"<div style='color:#c0392b'>⚠ {tx['schematic']}</div>")
    if props.get("population") is not None and props.get("quote") is None:
        pop = props["population"]
        if not (isinstance(pop, float) and np.isnan(pop)):
            rows.append(f"<div>人口 (2020 census): {_esc(f'{int(pop):,}')}</div>")
    if props.get("quote"):
        doc = props.get("plan_title") or props.get("plan") or ""
        sec = props.get("section") or ""
        rows.append(
            f"<blockquote class='hg-quote' style='margin:4px 0;padding-left:6px;"
            f"border-left:3px solid #999'>“{_esc(props['quote'])}”</blockquote>"
            f"<div style='color:#666'>{tx['source']}: 《{_esc(doc)}》 {_esc(sec)}</div>"
        )
    return "<div class='hg-popup' style='max-width:320px'>" + "".join(rows) + "</div>"


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return False
    return bool(value)


def _round_geom(geom: BaseGeometry, decimals: int) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: np.round(xy, decimals))


def prepare_layer(
    gdf: gpd.GeoDataFrame,
    meta: dict[str, Any],
    *,
    datum: str = "WGS84",
    lang: str = "zh",
    decimals: int = MAP_DECIMALS,
    simplify_m: float = SIMPLIFY_TOLERANCE_M,
) -> dict[str, Any]:
    """Turn one layer into the slim GeoJSON dict the browser receives.

    Boundary and line layers are simplified in a metric CRS (``preserve_topology``); all
    coordinates are rounded to ``decimals``; properties are reduced to the escaped popup and
    tooltip HTML plus ``id`` and ``name``.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer, any CRS (reprojected to WGS-84).
    meta : dict
        Its manifest entry.
    datum : str
        ``"WGS84"`` or ``"GCJ02"`` (shift for a GCJ-02 basemap).
    lang : str
        ``"zh"`` or ``"en"``.
    decimals : int
        Coordinate decimals.
    simplify_m : float
        Simplification tolerance in metres for boundary/line layers (0 disables).

    Returns
    -------
    dict
        A GeoJSON FeatureCollection.

    Raises
    ------
    CRSError
        When ``gdf`` has no CRS.
    """
    require_crs(gdf, name=f"layer {meta.get('id')!r}")
    gdf = gdf.to_crs(WGS84) if not gdf.crs.equals(WGS84) else gdf
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    geoms = gdf.geometry
    if simplify_m > 0 and meta.get("kind") in {"boundary", "lines"} and len(gdf):
        metric = to_metric(geoms)
        geoms = metric.simplify(simplify_m, preserve_topology=True).to_crs(WGS84)
    name = layer_label(meta, lang)
    schematic_layer = _truthy(meta.get("schematic"))
    badge = _TEXT[lang]["badge"]
    features = []
    for (_, row), geom in zip(gdf.iterrows(), geoms, strict=True):
        props = {k: v for k, v in row.items() if k != gdf.geometry.name}
        if datum.upper() != "WGS84":
            geom = geometry_to_wgs84(geom, datum, inverse=True)
        geom = _round_geom(geom, decimals)
        schematic = _truthy(props.get("schematic")) or (
            schematic_layer and meta.get("kind") == "zones"
        )
        if schematic:
            props["schematic"] = True
        tip = _esc(props.get("name")) + (f"（{badge}）" if schematic else "")
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "id": _esc(props.get("id", props.get("adcode", ""))),
                    "name": _esc(props.get("name")),
                    "_tip": tip,
                    "_popup": _popup_html(props, name, lang),
                },
                "geometry": shapely.geometry.mapping(geom),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def geojson_payload_bytes(m: folium.Map) -> int:
    """Bytes of GeoJSON map data embedded in a built map (the payload budget measure).

    Parameters
    ----------
    m : folium.Map
        A map from :func:`build_map`.

    Returns
    -------
    int
    """
    total = 0
    for child in _walk(m):
        if isinstance(child, folium.GeoJson):
            total += len(json.dumps(child.data, ensure_ascii=False).encode("utf-8"))
    return total


def _walk(elem: Any):
    yield elem
    for child in getattr(elem, "_children", {}).values():
        yield from _walk(child)


class _Legend(MacroElement):
    """Legend drawn as a Leaflet control (works in st_folium and standalone HTML)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: 'bottomright'});
            legend.onAdd = function () {
                var div = L.DomUtil.create('div', 'hg-legend');
                div.innerHTML = {{ this.legend_html|tojson }};
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, legend_html: str) -> None:
        super().__init__()
        self._name = "Legend"
        self.legend_html = legend_html


def _swatch(meta: dict[str, Any]) -> str:
    st = meta.get("style", {})
    color = _esc(st.get("color", "#333"))
    fill = _esc(st.get("fillColor", st.get("color", "#333")))
    dash = "dashed" if st.get("dashArray") else "solid"
    kind = meta.get("kind")
    if kind == "points":
        return (
            f"<span style='display:inline-block;width:10px;height:10px;border-radius:50%;"
            f"background:{fill};border:2px solid {color};margin:0 6px 0 3px'></span>"
        )
    if kind == "lines":
        return (
            f"<span style='display:inline-block;width:18px;height:0;border-top:3px {dash} "
            f"{color};margin:0 4px 3px 0'></span>"
        )
    return (
        f"<span style='display:inline-block;width:16px;height:11px;background:{fill}33;"
        f"border:2px {dash} {color};margin:0 4px 0 0'></span>"
    )


def _legend_html(metas: list[dict[str, Any]], lang: str) -> str:
    tx = _TEXT[lang]
    rows = []
    for meta in metas:
        note = f" <i>({tx['badge']})</i>" if _truthy(meta.get("schematic")) else ""
        rows.append(
            f"<div style='white-space:nowrap'>{_swatch(meta)}"
            f"{_esc(layer_label(meta, lang))}{note}</div>"
        )
    return (
        "<div style='background:rgba(255,255,255,.92);padding:6px 8px;border-radius:4px;"
        "font:12px sans-serif;box-shadow:0 0 4px rgba(0,0,0,.3);max-height:300px;"
        f"overflow:auto'><b>{tx['legend']}</b>{''.join(rows)}</div>"
    )


def _add_basemap(m: folium.Map, basemap: str, tianditu_key: str | None) -> None:
    if basemap == "offline":
        return
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap").add_to(m)
    elif basemap == "light":
        folium.TileLayer(
            "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
            attr="© OpenStreetMap contributors © CARTO",
            name="Light",
            subdomains="abcd",
            max_zoom=19,
        ).add_to(m)
    elif basemap == "tianditu":
        if not tianditu_key or not _TIANDITU_KEY_RE.match(tianditu_key):
            msg = "天地图 needs a key (letters/digits) in settings or env TIANDITU_KEY"
            raise InputError(msg, field="tianditu_key")
        for layer in ("vec", "cva"):
            url = (
                f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                f"&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={tianditu_key}"
            )
            folium.TileLayer(
                url,
                attr="© 天地图 GS(2024)0650号",
                name=f"天地图 {layer}",
                subdomains="01234567",
                max_zoom=18,
            ).add_to(m)
    elif basemap == "amap":
        folium.TileLayer(
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}",
            attr="© 高德地图 (GCJ-02)",
            name="高德",
            subdomains="1234",
            max_zoom=18,
        ).add_to(m)
    else:
        msg = f"unknown basemap {basemap!r}: use one of {sorted(BASEMAPS)}"
        raise InputError(msg, field="basemap")


def _style_fn(style: dict[str, Any], kind: str | None, schematic: bool):
    s = {
        "color": style.get("color", "#333"),
        "weight": style.get("weight", 1.5 if kind == "points" else 2),
        "opacity": style.get("opacity", 0.9),
        "fillColor": style.get("fillColor", style.get("color", "#333")),
        "fillOpacity": style.get("fillOpacity", 0.8 if kind == "points" else 0.15),
        "fill": kind != "lines",
    }
    if style.get("dashArray"):
        s["dashArray"] = style["dashArray"]
    elif schematic and kind == "zones":
        s["dashArray"] = "6 4"
    if kind == "points":
        s["radius"] = style.get("radius", 5)
    return lambda _feature: s


def build_map(
    layers: dict[str, gpd.GeoDataFrame],
    manifest: dict[str, Any],
    *,
    visible: list[str] | tuple[str, ...] | None = None,
    basemap: str = "offline",
    tianditu_key: str | None = None,
    highlight_unit: str | None = None,
    units: gpd.GeoDataFrame | None = None,
    coverage: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    focus: tuple[float, float, float, float] | None = None,
    lang: str = "zh",
    decimals: int = MAP_DECIMALS,
    simplify_m: float = SIMPLIFY_TOLERANCE_M,
    height: str = "100%",
) -> folium.Map:
    """Build the planners' map from layers and options (pure: no I/O, no network).

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        Layer id -> features (any CRS; WGS-84 expected).
    manifest : dict
        ``layers/manifest.json`` content (groups, layers, styles).
    visible : list of str, optional
        Layer ids to draw; default: every layer in ``layers``. Hidden layers are not shipped.
    basemap : str
        A key of :data:`BASEMAPS`. ``"offline"`` adds no tiles. With a GCJ-02 basemap every
        overlay is shifted from WGS-84 to GCJ-02.
    tianditu_key : str, optional
        Required for ``basemap="tianditu"``.
    highlight_unit : str, optional
        Adcode or name of a unit in ``units`` (default: the ``counties`` layer) to outline and
        zoom to.
    units : GeoDataFrame, optional
        Units for ``highlight_unit``.
    coverage : GeoDataFrame or GeoSeries, optional
        Reach polygons (e.g. 15-minute buffers) to draw.
    focus : tuple, optional
        ``(minx, miny, maxx, maxy)`` WGS-84 bounds to fit (e.g. a search hit).
    lang : str
        ``"zh"`` or ``"en"``.
    decimals : int
        Coordinate decimals shipped.
    simplify_m : float
        Boundary simplification tolerance in metres.
    height : str
        CSS height of the map.

    Returns
    -------
    folium.Map
        One FeatureGroup per visible manifest layer (named ``group · layer``), a legend of the
        visible layers, popups and tooltips; Leaflet referenced from local ``data:`` URLs.

    Raises
    ------
    InputError
        For an unknown basemap or language, a missing 天地图 key, or an unknown unit.
    CRSError
        When a layer has no CRS.
    """
    if lang not in _TEXT:
        msg = f"unknown language {lang!r}: use 'zh' or 'en'"
        raise InputError(msg, field="lang")
    if basemap not in BASEMAPS:
        msg = f"unknown basemap {basemap!r}: use one of {sorted(BASEMAPS)}"
        raise InputError(msg, field="basemap")
    datum = "GCJ02" if basemap in GCJ02_BASEMAPS else "WGS84"
    shown = list(layers) if visible is None else [v for v in visible if v in layers]
    m = folium.Map(
        location=[27.0, 112.5],
        zoom_start=7,
        tiles=None,
        control_scale=True,
        height=height,
        prefer_canvas=False,
    )
    _local_assets(m)
    _add_basemap(m, basemap, tianditu_key)
    groups = {g["id"]: g for g in manifest.get("groups", [])}
    metas = [meta for meta in manifest.get("layers", []) if meta["id"] in shown]
    order = {gid: i for i, gid in enumerate(groups)}
    metas.sort(key=lambda meta: order.get(meta.get("group"), len(order)))
    # Draw order (SVG: later on top): boundaries, zones, lines, points, so small features stay
    # clickable above the areas that contain them; the legend keeps the manifest order.
    draw = sorted(metas, key=lambda meta: _DRAW_ORDER.get(meta.get("kind"), 2))
    bounds: list[float] | None = None
    for meta in draw:
        gdf = layers[meta["id"]]
        group_name = layer_label(groups.get(meta.get("group"), {"zh": meta.get("group", "")}), lang)
        fg = folium.FeatureGroup(name=f"{group_name} · {layer_label(meta, lang)}", show=True)
        data = prepare_layer(
            gdf, meta, datum=datum, lang=lang, decimals=decimals, simplify_m=simplify_m
        )
        if not data["features"]:
            fg.add_to(m)
            continue
        kind = meta.get("kind")
        style = meta.get("style", {})
        gj = folium.GeoJson(
            data,
            name=layer_label(meta, lang),
            style_function=_style_fn(style, kind, _truthy(meta.get("schematic"))),
            marker=folium.CircleMarker(radius=style.get("radius", 5)) if kind == "points" else None,
            tooltip=folium.GeoJsonTooltip(fields=["_tip"], labels=False),
            popup=folium.GeoJsonPopup(fields=["_popup"], labels=False, max_width=340)
            if kind != "boundary" or meta["id"] == "counties"
            else None,
            smooth_factor=1.0,
        )
        gj.add_to(fg)
        fg.add_to(m)
        if (kind != "boundary" and meta["id"] != "xiangjiang") or bounds is None:
            b = gdf.to_crs(WGS84).total_bounds if len(gdf) else None
            if b is not None and np.all(np.isfinite(b)):
                bounds = (
                    list(b)
                    if bounds is None
                    else [
                        min(bounds[0], b[0]),
                        min(bounds[1], b[1]),
                        max(bounds[2], b[2]),
                        max(bounds[3], b[3]),
                    ]
                )
    if coverage is not None and len(coverage):
        _add_coverage(m, coverage, datum=datum, decimals=decimals, lang=lang)
    if highlight_unit:
        bounds = _add_highlight(
            m, layers, units, highlight_unit, datum=datum, decimals=decimals, lang=lang
        )
    if focus is not None:
        bounds = list(focus)
    if metas:
        _Legend(_legend_html(metas, lang)).add_to(m)
    if bounds is None and "counties" in layers and len(layers["counties"]):
        bounds = list(layers["counties"].to_crs(WGS84).total_bounds)
    if bounds is not None:
        lo = (
            geometry_to_wgs84(shapely.Point(bounds[0], bounds[1]), datum, inverse=True)
            if datum != "WGS84"
            else shapely.Point(bounds[0], bounds[1])
        )
        hi = (
            geometry_to_wgs84(shapely.Point(bounds[2], bounds[3]), datum, inverse=True)
            if datum != "WGS84"
            else shapely.Point(bounds[2], bounds[3])
        )
        m.fit_bounds([[lo.y, lo.x], [hi.y, hi.x]], max_zoom=13)
    return m


def _add_coverage(
    m: folium.Map,
    coverage: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    datum: str,
    decimals: int,
    lang: str,
) -> None:
    require_crs(coverage, name="coverage")
    geoms = (
        coverage.to_crs(WGS84).geometry
        if isinstance(coverage, gpd.GeoDataFrame)
        else coverage.to_crs(WGS84)
    )
    feats = []
    for geom in geoms:
        if geom is None or geom.is_empty:
            continue
        if datum != "WGS84":
            geom = geometry_to_wgs84(geom, datum, inverse=True)
        feats.append(
            {
                "type": "Feature",
                "properties": {},
                "geometry": shapely.geometry.mapping(_round_geom(geom, decimals)),
            }
        )
    fg = folium.FeatureGroup(name=_TEXT[lang]["coverage"])
    folium.GeoJson(
        {"type": "FeatureCollection", "features": feats},
        style_function=lambda _f: {
            "color": "#1f77b4",
            "weight": 1,
            "fillColor": "#1f77b4",
            "fillOpacity": 0.18,
        },
        interactive=False,
    ).add_to(fg)
    fg.add_to(m)


def _add_highlight(
    m: folium.Map,
    layers: dict[str, gpd.GeoDataFrame],
    units: gpd.GeoDataFrame | None,
    unit: str,
    *,
    datum: str,
    decimals: int,
    lang: str,
) -> list[float]:
    if units is None:
        units = layers.get("counties")
    if units is None:
        msg = f"unit {unit!r} given but no units/counties layer to find it in"
        raise InputError(msg, field="unit")
    require_crs(units, name="units")
    units = units.to_crs(WGS84)
    hit = units[(units["adcode"].astype(str) == str(unit)) | (units["name"] == unit)]
    if hit.empty:
        msg = f"unknown unit {unit!r}: use an adcode or name of the counties layer"
        raise InputError(msg, field="unit")
    geom = hit.geometry.iloc[0]
    if datum != "WGS84":
        geom = geometry_to_wgs84(geom, datum, inverse=True)
    row = hit.iloc[0]
    pop = row.get("population")
    tip = _esc(row["name"])
    if pop is not None and not (isinstance(pop, float) and np.isnan(pop)):
        tip += f" · 人口 {int(pop):,}"
    fg = folium.FeatureGroup(name=_TEXT[lang]["highlight"])
    folium.GeoJson(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"_tip": tip},
                    "geometry": shapely.geometry.mapping(_round_geom(geom, decimals)),
                }
            ],
        },
        style_function=lambda _f: {
            "color": "#e6007e",
            "weight": 4,
            "fillOpacity": 0.04,
            "fillColor": "#e6007e",
        },
        tooltip=folium.GeoJsonTooltip(fields=["_tip"], labels=False),
    ).add_to(fg)
    fg.add_to(m)
    return list(hit.total_bounds)


def map_to_offline_html(m: folium.Map) -> str:
    """Render a map as one self-contained HTML file (Leaflet JS/CSS inlined, no CDN).

    Parameters
    ----------
    m : folium.Map
        A map from :func:`build_map`.

    Returns
    -------
    str
        HTML whose scripts and styles are all inline; only basemap tiles (if any) are remote.
    """
    _local_assets(m)
    page = m.get_root().render()

    def _script(match: re.Match[str]) -> str:
        code = base64.b64decode(match.group(1)).decode("utf-8")
        return "<script>" + code.replace("</script", "<\\/script") + "</script>"

    def _style(match: re.Match[str]) -> str:
        return "<style>" + base64.b64decode(match.group(1)).decode("utf-8") + "</style>"

    page = re.sub(
        r'<script src="data:text/javascript;base64,([A-Za-z0-9+/=]+)"></script>', _script, page
    )
    page = re.sub(
        r'<link rel="stylesheet" href="data:text/css;base64,([A-Za-z0-9+/=]+)"/>', _style, page
    )
    return page


_NESTED: Final = (list, dict, np.ndarray)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    msg = f"cannot export value of type {type(value).__name__} to JSON"
    raise TypeError(msg)


def _flatten(gdf: gpd.GeoDataFrame, layer_id: str) -> gpd.GeoDataFrame:
    require_crs(gdf, name=f"layer {layer_id!r}")
    out = gdf.to_crs(WGS84).copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        if out[col].map(lambda v: isinstance(v, _NESTED)).any():
            out[col] = out[col].map(
                lambda v: (
                    json.dumps(v, ensure_ascii=False, default=_json_default)
                    if isinstance(v, _NESTED)
                    else v
                )
            )
    if "layer" not in out.columns:
        out.insert(0, "layer", layer_id)
    return out


def layers_to_geojson(layers: dict[str, gpd.GeoDataFrame]) -> bytes:
    """Export layers as one GeoJSON FeatureCollection (WGS-84, ``layer`` property per feature).

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        Layers to export.

    Returns
    -------
    bytes
        UTF-8 GeoJSON.

    Raises
    ------
    CRSError
        When a layer has no CRS.
    """
    features: list[dict[str, Any]] = []
    for lid, gdf in layers.items():
        require_crs(gdf, name=f"layer {lid!r}")
        fc = json.loads(gdf.to_crs(WGS84).to_json(drop_id=True, na="null", default=_json_default))
        for feat in fc["features"]:
            feat["properties"].setdefault("layer", lid)
            features.append(feat)
    return json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False
    ).encode("utf-8")


def layers_to_gpkg(layers: dict[str, gpd.GeoDataFrame]) -> bytes:
    """Export layers as a GeoPackage with one table per layer (list properties as JSON text).

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        Layers to export (empty layers are skipped).

    Returns
    -------
    bytes
        The ``.gpkg`` file content.

    Raises
    ------
    InputError
        When every layer is empty.
    CRSError
        When a layer has no CRS.
    """
    non_empty = {k: v for k, v in layers.items() if len(v)}
    if not non_empty:
        msg = "no features to export: every selected layer is empty"
        raise InputError(msg, field="layers")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "layers.gpkg"
        for lid, gdf in non_empty.items():
            _flatten(gdf, lid).to_file(path, layer=lid, driver="GPKG")
        return path.read_bytes()
