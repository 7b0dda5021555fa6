"""Browser map: a pure function from layers + options to a :class:`folium.Map`.

One folium map carries every layer as data for the project's map client (``geo/assets/hgmap``),
which does all display in the browser: a grouped layer control with a "hide schematic / goal"
filter, a collapsible legend of the visible layers, search with a marked hit, labels at city zoom,
identify of overlapping areas, tile-error notices, and the view kept through re-creation. Draw
order uses Leaflet panes (areas < coverage < selected unit < lines < points); coverage and the
selected unit's outline are non-interactive, so they never take a click. Leaflet 1.9.4 and the
plugins (fullscreen, mini-map, measure, mouse position) are vendored from npm in ``geo/assets`` and
referenced as ``data:`` URLs, so neither ``streamlit_folium``'s iframe nor a downloaded HTML file
makes a request. Every text that comes from data is ``html.escape``'d before it reaches HTML.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import CssLink, Element, Figure, JavascriptLink
from folium.elements import JSCSSMixin
from jinja2 import Template
from shapely.geometry.base import BaseGeometry

from geo.coords import geometry_to_wgs84
from geo.crs import require_crs, to_metric
from geo.errors import InputError
from geo.settings import SIMPLIFY_TOLERANCE_M, WGS84
from geo.web.overlays import overlay_groups
from geo.web.share import CLIENT_PARAMS
from geo.web.webassets import LEAFLET_CSS, LEAFLET_JS, PLUGIN_CSS, PLUGIN_JS, asset_data_url
from geo.web.webassets import inline_assets as _inline_assets
from geo.web.webstyle import (
    TEXT,
    esc,
    extra_legend_html,
    layer_label,
    layer_legend_html,
    popup_html,
    swatch,
    truthy,
)

__all__ = [
    "BASEMAPS",
    "GCJ02_BASEMAPS",
    "MAIN_PLACE_KINDS",
    "MAP_DECIMALS",
    "MapData",
    "build_map",
    "geojson_payload_bytes",
    "layer_label",
    "layers_to_geojson",
    "layers_to_gpkg",
    "map_to_offline_html",
    "prepare_layer",
    "prepare_map_data",
    "view_for_bounds",
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
#: Point kinds whose names are labelled at city zoom (with every county name).
MAIN_PLACE_KINDS: Final[frozenset[str]] = frozenset(
    {"national_medical_centre", "regional_medical_centre", "regional_centre", "city_hospital"}
)
#: Zoom from which county names show (main places one level later).
LABEL_ZOOM: Final[int] = 9
_TIANDITU_KEY_RE: Final = re.compile(r"^[0-9A-Za-z]{8,64}$")
_LAYER_ORDER: Final[dict[str, int]] = {"boundary": 0, "zones": 1, "lines": 2, "points": 3}


def _round_geom(geom: BaseGeometry, decimals: int) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: np.round(xy, decimals))


def _area_km2(geoms: gpd.GeoSeries) -> np.ndarray:
    if not len(geoms) or not geoms.geom_type.isin(["Polygon", "MultiPolygon"]).any():
        return np.zeros(len(geoms))
    return np.asarray(to_metric(geoms).area / 1e6)


def _feature_props(
    props: dict[str, Any], meta: dict[str, Any], name: str, lang: str, area: float
) -> dict[str, Any]:
    schematic = truthy(props.get("schematic")) or (
        truthy(meta.get("schematic")) and meta.get("kind") == "zones"
    )
    if schematic:
        props["schematic"] = True
    badge = TEXT[lang]["badge"]
    kind = props.get("kind")
    kind = str(kind) if kind is not None and not (isinstance(kind, float)) else ""
    raw_name = "" if props.get("name") is None else str(props.get("name"))
    out: dict[str, Any] = {
        "id": esc(props.get("id", props.get("adcode", ""))),
        "name": esc(raw_name),
        "kind": kind,
        "_q": raw_name.casefold(),
        "_tip": esc(raw_name) + (f"（{badge}）" if schematic else ""),
        "_popup": popup_html(props, name, lang),
        "_schematic": schematic,
    }
    if area > 0:
        out["_area"] = round(float(area), 3)
    if meta.get("id") == "counties" or (meta.get("kind") == "points" and kind in MAIN_PLACE_KINDS):
        out["_label"] = True
    return out


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
    tooltip HTML plus ``id``, ``name``, ``kind`` and drawing hints (``_area`` km² for draw order,
    ``_label`` for names shown at city zoom, ``_lp`` label point of polygons).

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
    areas = _area_km2(geoms)
    if simplify_m > 0 and meta.get("kind") in {"boundary", "lines"} and len(gdf):
        geoms = to_metric(geoms).simplify(simplify_m, preserve_topology=True).to_crs(WGS84)
    name = layer_label(meta, lang)
    features = []
    for (_, row), geom, area in zip(gdf.iterrows(), geoms, areas, strict=True):
        props = {k: v for k, v in row.items() if k != gdf.geometry.name}
        out = _feature_props(props, meta, name, lang, area)
        if datum.upper() != "WGS84":
            geom = geometry_to_wgs84(geom, datum, inverse=True)
        if out.get("_label") and geom.geom_type != "Point":
            lp = geom.representative_point()
            out["_lp"] = [round(lp.x, 4), round(lp.y, 4)]
        geom = _round_geom(geom, decimals)
        features.append(
            {"type": "Feature", "properties": out, "geometry": shapely.geometry.mapping(geom)}
        )
    return {"type": "FeatureCollection", "features": features}


@dataclass(frozen=True)
class MapData:
    """Prepared layers of a map: the expensive, cacheable part of :func:`build_map`.

    A pure function of (layers, manifest, datum, lang, decimals, simplify_m); the app caches one
    per (language, datum) for the whole process and every session builds its map from it.

    Attributes
    ----------
    entries : tuple of dict
        One client entry per layer (id, names, kind, style, legend HTML, GeoJSON), in the
        manifest's group order.
    datum : str
        ``"WGS84"`` or ``"GCJ02"``.
    lang : str
        ``"zh"`` or ``"en"``.
    bounds : dict of str to tuple
        WGS-84 bounds per layer id.
    entries_js : str
        ``entries`` as script-safe JSON, serialised once.
    """

    entries: tuple[dict[str, Any], ...]
    datum: str
    lang: str
    bounds: dict[str, tuple[float, float, float, float]]
    entries_js: str = ""


def _datum(basemap: str) -> str:
    return "GCJ02" if basemap in GCJ02_BASEMAPS else "WGS84"


def prepare_map_data(
    layers: dict[str, gpd.GeoDataFrame],
    manifest: dict[str, Any],
    *,
    basemap: str = "offline",
    lang: str = "zh",
    decimals: int = MAP_DECIMALS,
    simplify_m: float = SIMPLIFY_TOLERANCE_M,
) -> MapData:
    """Prepare every manifest layer present in ``layers`` for the browser (see :class:`MapData`).

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        Layer id -> features.
    manifest : dict
        ``layers/manifest.json`` content.
    basemap : str
        Decides the datum (GCJ-02 basemaps shift the overlays).
    lang : str
        ``"zh"`` or ``"en"``.
    decimals, simplify_m
        As in :func:`prepare_layer`.

    Returns
    -------
    MapData

    Raises
    ------
    InputError
        For an unknown language or basemap.
    CRSError
        When a layer has no CRS.
    """
    _check_options(lang, basemap)
    datum = _datum(basemap)
    groups = {g["id"]: g for g in manifest.get("groups", [])}
    order = {gid: i for i, gid in enumerate(groups)}
    metas = [meta for meta in manifest.get("layers", []) if meta["id"] in layers]
    metas.sort(key=lambda meta: order.get(meta.get("group"), len(order)))
    entries, bounds = [], {}
    for meta in metas:
        gdf = layers[meta["id"]]
        data = prepare_layer(
            gdf, meta, datum=datum, lang=lang, decimals=decimals, simplify_m=simplify_m
        )
        kinds = sorted({f["properties"]["kind"] for f in data["features"]} - {""})
        group = groups.get(meta.get("group"), {"zh": meta.get("group", "")})
        entries.append(
            {
                "id": meta["id"],
                "name": layer_label(meta, lang),
                "group_name": layer_label(group, lang),
                "kind": meta.get("kind"),
                "style": meta.get("style", {}),
                "clickable": meta["id"] == "counties",
                "swatch": swatch(meta),
                "legend": layer_legend_html(meta, kinds, lang),
                "data": data,
            }
        )
        if len(gdf):
            b = gdf.to_crs(WGS84).total_bounds
            if np.all(np.isfinite(b)):
                bounds[meta["id"]] = tuple(float(v) for v in b)
    return MapData(tuple(entries), datum, lang, bounds, _safe_json(entries))


def _check_options(lang: str, basemap: str) -> None:
    if lang not in TEXT:
        msg = f"unknown language {lang!r}: use 'zh' or 'en'"
        raise InputError(msg, field="lang")
    if basemap not in BASEMAPS:
        msg = f"unknown basemap {basemap!r}: use one of {sorted(BASEMAPS)}"
        raise InputError(msg, field="basemap")


def geojson_payload_bytes(m: folium.Map) -> int:
    """Bytes of GeoJSON map data embedded in a built map (the payload budget measure).

    Parameters
    ----------
    m : folium.Map
        A map from :func:`build_map`.

    Returns
    -------
    int
        Layer data of the map client plus any overlay GeoJSON (selected unit, coverage).
    """
    total = 0
    for child in _walk(m):
        if isinstance(child, _HgClient):
            total += sum(
                len(json.dumps(e["data"], ensure_ascii=False).encode("utf-8"))
                for e in child.config["layers"]
            )
        elif isinstance(child, folium.GeoJson):
            total += len(json.dumps(child.data, ensure_ascii=False).encode("utf-8"))
    return total


def _walk(elem: Any):
    yield elem
    for child in getattr(elem, "_children", {}).values():
        yield from _walk(child)


def _safe_json(value: Any) -> str:
    """Return JSON that can sit inside a ``<script>`` element (every ``<`` escaped)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c")


class _Raw(Element):
    """Pre-rendered text in a figure (branca would otherwise compile it as a Jinja template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text unchanged."""
        return self._text


class _HgClient(JSCSSMixin):
    """The map client: one element holding all layer data and options for ``HgMap``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = new HgMap({{ this._parent.get_name() }}, {{ this.config_js }});
        {% endmacro %}
        """
    )

    def __init__(self, config: dict[str, Any], lang: str, layers_js: str = "") -> None:
        super().__init__()
        self._name = "HgClient"
        self.config = config
        self.layers_js = layers_js or _safe_json(config["layers"])
        self.default_js = [
            (name, asset_data_url(path.format(lang="cn" if lang == "zh" else "en")))
            for name, path in PLUGIN_JS
        ]
        self.default_css = [(name, asset_data_url(path)) for name, path in PLUGIN_CSS]

    def render(self, **kwargs: Any) -> None:
        """Add links and the script to the figure without compiling the data as a template."""
        figure = self.get_root()
        for name, url in self.default_js:
            figure.header.add_child(JavascriptLink(url), name=name)
        for name, url in self.default_css:
            figure.header.add_child(CssLink(url), name=name)
        script = self._template.module.__dict__["script"](self, kwargs)
        figure.script.add_child(_Raw(script), name=self.get_name())

    @property
    def config_js(self) -> str:
        """The client configuration as script-safe JSON (layers serialised once)."""
        rest = _safe_json({k: v for k, v in self.config.items() if k != "layers"})
        return '{"layers":' + self.layers_js + "," + rest[1:]


def _local_assets(m: folium.Map) -> None:
    """Point the map instance at the vendored Leaflet only (no CDN links)."""
    m.default_js = [(LEAFLET_JS[0], asset_data_url(LEAFLET_JS[1]))]
    m.default_css = [(LEAFLET_CSS[0], asset_data_url(LEAFLET_CSS[1]))]


def _add_basemap(m: folium.Map, basemap: str, tianditu_key: str | None) -> list[str]:
    """Add the basemap's tile layers; return notices for the map (e.g. a missing key)."""
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
            return ["tianditu_key"]
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
        m._hg_secret = tianditu_key  # removed again by map_to_offline_html
    elif basemap == "amap":
        folium.TileLayer(
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}",
            attr="© 高德地图 (GCJ-02)",
            name="高德",
            subdomains="1234",
            max_zoom=18,
        ).add_to(m)
    return []


def _union(bounds: list[tuple[float, float, float, float]]) -> list[float] | None:
    if not bounds:
        return None
    arr = np.array(bounds)
    return [arr[:, 0].min(), arr[:, 1].min(), arr[:, 2].max(), arr[:, 3].max()]


def _default_bounds(data: MapData, shown: list[str]) -> list[float] | None:
    kinds = {e["id"]: e["kind"] for e in data.entries}
    main = [
        data.bounds[i]
        for i in shown
        if i in data.bounds and kinds.get(i) != "boundary" and i != "xiangjiang"
    ]
    return _union(main) or _union([data.bounds[i] for i in ("counties",) if i in data.bounds])


def _to_latlng_bounds(bounds: list[float], datum: str) -> list[list[float]]:
    lo, hi = shapely.Point(bounds[0], bounds[1]), shapely.Point(bounds[2], bounds[3])
    if datum != "WGS84":
        lo = geometry_to_wgs84(lo, datum, inverse=True)
        hi = geometry_to_wgs84(hi, datum, inverse=True)
    return [[round(lo.y, 5), round(lo.x, 5)], [round(hi.y, 5), round(hi.x, 5)]]


def _token(*parts: Any) -> str:
    return hashlib.sha1(json.dumps(parts, default=str).encode()).hexdigest()[:12]


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
    center: tuple[float, float] | None = None,
    zoom: int | None = None,
    search_hit: tuple[str, str] | None = None,
    data: MapData | None = None,
    overlays: bool = True,
    store_key: str = "map",
    share_url: bool = False,
) -> folium.Map:
    """Build the planners' map from layers and options (pure: no I/O, no network).

    Every layer in ``layers`` is shipped once; ``visible`` only decides which are switched on
    at first, the rest are toggled in the browser without a server round-trip.

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        Layer id -> features (any CRS; WGS-84 expected).
    manifest : dict
        ``layers/manifest.json`` content (groups, layers, styles).
    visible : list of str, optional
        Layer ids switched on at first; default: every layer in ``layers``.
    basemap : str
        A key of :data:`BASEMAPS`. ``"offline"`` adds no tiles. With a GCJ-02 basemap every
        overlay is shifted from WGS-84 to GCJ-02.
    tianditu_key : str, optional
        For ``basemap="tianditu"``; without a valid key the map has no tiles and says why (the
        layers, selected unit, coverage and view are kept).
    highlight_unit : str, optional
        Adcode or name of a unit in ``units`` (default: the ``counties`` layer) to outline
        (non-interactive) and zoom to.
    units : GeoDataFrame, optional
        Units for ``highlight_unit``.
    coverage : GeoDataFrame or GeoSeries, optional
        Reach polygons (e.g. 15-minute buffers) to draw (non-interactive, with a legend entry).
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
    center, zoom : optional
        Initial view (``(lat, lon)``, zoom), e.g. restored from a share link; overrides the
        fitted bounds.
    search_hit : tuple of str, optional
        ``(layer id, feature id)`` to mark, open and put into the map's search box.
    data : MapData, optional
        Prepared layers from :func:`prepare_map_data` (cached by the app); must match
        ``basemap``'s datum and ``lang``.
    overlays : bool
        Draw the selected unit and coverage in the map itself (``False`` when the app sends
        :func:`geo.web.overlays.overlay_groups` with each rerun instead).
    store_key : str
        Name under which the browser keeps the view and toggles (sessionStorage).
    share_url : bool
        The map sits in a page whose URL is its share link (the Streamlit page): the client
        writes the visible layers and the view into the host page's URL as they change, with no
        server round-trip (:data:`geo.web.share.CLIENT_PARAMS`). Off for a standalone file
        (:func:`map_to_offline_html` always turns it off).

    Returns
    -------
    folium.Map
        The map with one :class:`_HgClient` element (all layer data, controls, legend).

    Raises
    ------
    InputError
        For an unknown basemap or language, prepared data of another datum/language, or an
        unknown unit.
    CRSError
        When a layer has no CRS.
    """
    _check_options(lang, basemap)
    datum = _datum(basemap)
    if data is None:
        data = prepare_map_data(
            layers, manifest, basemap=basemap, lang=lang, decimals=decimals, simplify_m=simplify_m
        )
    _check_data(data, datum, lang)
    ids = [e["id"] for e in data.entries]
    shown = ids if visible is None else [v for v in ids if v in set(visible)]
    m = folium.Map(
        location=list(center) if center else [27.0, 112.5],
        zoom_start=zoom or 7,
        tiles=None,
        control_scale=False,  # the client adds a metric-only scale (hgmap.js)
        height=height,
        prefer_canvas=False,
    )
    _local_assets(m)
    notices = _add_basemap(m, basemap, tianditu_key)
    bounds = _default_bounds(data, shown)
    groups: list[folium.FeatureGroup] = []
    if overlays:
        groups, unit_bounds = _session_overlays(
            layers,
            units=units,
            highlight_unit=highlight_unit,
            coverage=coverage,
            datum=datum,
            lang=lang,
        )
        bounds = unit_bounds or bounds
    bounds = list(focus) if focus is not None else bounds
    config = _client_config(
        data,
        shown,
        bounds=bounds,
        lang=lang,
        notices=notices,
        view=(focus, center, zoom, search_hit, highlight_unit),
        store_key=store_key,
        share_url=share_url,
    )
    _HgClient(config, lang, data.entries_js).add_to(m)
    for group in groups:  # after the client, which creates the panes
        group.add_to(m)
    return m


def _check_data(data: MapData, datum: str, lang: str) -> None:
    """Refuse prepared data made for another datum or language."""
    if (data.datum, data.lang) != (datum, lang):
        msg = f"prepared map data is {data.datum}/{data.lang}, the map needs {datum}/{lang}"
        raise InputError(msg, field="data")


def _client_config(
    data: MapData,
    shown: list[str],
    *,
    bounds: list[float] | None,
    lang: str,
    notices: list[str],
    view: tuple,
    store_key: str,
    share_url: bool = False,
) -> dict[str, Any]:
    """Build the map client's configuration: layers, first view, texts.

    ``view`` is (focus, centre, zoom, search hit, unit): only such an explicit view request
    overrides the view the browser kept. ``share_url`` gives the client the names of the query
    parameters it keeps current in the host page's URL (``None``: it leaves the URL alone).
    """
    _focus, center, zoom, search_hit, _unit = view
    ids = [e["id"] for e in data.entries]
    tx = TEXT[lang]
    return {
        "layers": list(data.entries),
        "visible": shown,
        "visible_token": _token(shown),
        "bounds": _to_latlng_bounds(bounds, data.datum) if bounds is not None else None,
        "center": list(center) if center else None,
        "zoom": zoom,
        "view_token": _token(*view),
        "search_hit": list(search_hit) if search_hit else None,
        "store_key": store_key,
        "share_url": dict(CLIENT_PARAMS) if share_url else None,
        "datum": "GCJ-02" if data.datum == "GCJ02" else "WGS-84",
        "label_zoom": LABEL_ZOOM,
        "minimap_layer": next((i for i in ("cities", "counties") if i in ids), None),
        "layers_open": True,
        "notices": [tx[n] for n in notices],
        "legend_extra": extra_legend_html(lang),
        "tx": {k: tx[k] for k in _CLIENT_TEXT},
    }


_CLIENT_TEXT: Final = (
    "legend",
    "layers",
    "also",
    "filter",
    "search",
    "no_hit",
    "nothing",
    "tile_error",
    "fullscreen",
    "fullscreen_off",
    "minimap_hide",
    "minimap_show",
)


def view_for_bounds(
    bounds: tuple[float, float, float, float] | list[float],
    *,
    width_px: int = 900,
    height_px: int = 640,
    max_zoom: int = 13,
) -> tuple[tuple[float, float], int]:
    """Centre and zoom that fit WGS-84 bounds into a map of the given pixel size.

    For ``st_folium(center=..., zoom=...)``, which moves the map without re-creating it.

    Parameters
    ----------
    bounds : sequence of float
        ``(minx, miny, maxx, maxy)`` in degrees.
    width_px, height_px : int
        Map size in pixels.
    max_zoom : int
        Upper zoom limit.

    Returns
    -------
    tuple
        ``((lat, lon), zoom)``.
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)

    def _merc_y(lat: float) -> float:
        s = np.sin(np.radians(lat))
        return 0.5 - np.log((1 + s) / (1 - s)) / (4 * np.pi)

    dx = max((maxx - minx) / 360.0, 1e-9)
    dy = max(abs(_merc_y(miny) - _merc_y(maxy)), 1e-9)
    z = int(np.floor(min(np.log2(width_px / 256 / dx), np.log2(height_px / 256 / dy))))
    return ((miny + maxy) / 2, (minx + maxx) / 2), max(1, min(max_zoom, z))


def _session_overlays(
    layers: dict[str, gpd.GeoDataFrame],
    *,
    units: gpd.GeoDataFrame | None,
    highlight_unit: str | None,
    coverage: gpd.GeoDataFrame | gpd.GeoSeries | None,
    datum: str,
    lang: str,
) -> tuple[list[folium.FeatureGroup], list[float] | None]:
    """Return the unit outline and coverage (``overlay_groups``) and the unit's bounds."""
    unit = None
    if highlight_unit:
        units = layers.get("counties") if units is None else units
        if units is None:
            msg = f"unit {highlight_unit!r} given but no units/counties layer to find it in"
            raise InputError(msg, field="unit")
        require_crs(units, name="units")
        units = units.to_crs(WGS84)
        unit = units[
            (units["adcode"].astype(str) == str(highlight_unit)) | (units["name"] == highlight_unit)
        ]
        if unit.empty:
            msg = f"unknown unit {highlight_unit!r}: use an adcode or name of the counties layer"
            raise InputError(msg, field="unit")
    if coverage is not None:
        require_crs(coverage, name="coverage")
        coverage = coverage.geometry if isinstance(coverage, gpd.GeoDataFrame) else coverage
    groups = overlay_groups(unit=unit, coverage=coverage, datum=datum, lang=lang)
    return groups, (list(unit.total_bounds) if unit is not None else None)


def map_to_offline_html(m: folium.Map) -> str:
    """Render a map as one self-contained HTML file (every script and style inline, no CDN).

    Renders a fresh copy in a new figure, so a map that ``st_folium`` has already rendered is
    not written twice; a 天地图 key is removed (the file says its tiles will not load).

    Parameters
    ----------
    m : folium.Map
        A map from :func:`build_map`.

    Returns
    -------
    str
        HTML whose scripts and styles are all inline; only basemap tiles (if any) are remote.
    """
    m2 = copy.deepcopy(m)
    m2._parent = None  # detach from the figure st_folium rendered into
    Figure().add_child(m2)
    _local_assets(m2)
    secret = getattr(m2, "_hg_secret", None)
    for child in _walk(m2):
        if isinstance(child, _HgClient):
            child.config = dict(
                child.config, store_key=f"{child.config['store_key']}-file", share_url=None
            )
            if secret:
                lang_tx = TEXT["zh" if "图例" in child.config["tx"]["legend"] else "en"]
                child.config["notices"] = [*child.config["notices"], lang_tx["key_removed"]]
    page = m2.get_root().render()
    if secret:
        page = page.replace(secret, "")
    return _inline_assets(page)


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
