"""Streamlit page: widgets wired to geo.webmap / geo.search / geo.dashboard / geo.share."""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.dashboard import indicator_table, load_indicators, zone_scale_table
from geo.errors import GeoDataError
from geo.layers import layer_ids, load_layers, load_manifest, plan_layers, point_layers
from geo.search import facilities_in_unit, search_places, unit_coverage
from geo.settings import MODE_SPEEDS
from geo.share import MapState, decode_state, encode_state
from geo.webmap import (
    BASEMAPS,
    GCJ02_BASEMAPS,
    MapData,
    build_map,
    geojson_payload_bytes,
    layer_label,
    layers_to_geojson,
    layers_to_gpkg,
    map_to_offline_html,
    overlay_group,
    prepare_map_data,
    view_for_bounds,
)

T = {
    "zh": {
        "title": "湖南大健康产业空间布局",
        "layers": "图层",
        "basemap": "底图",
        "search": "搜索地名",
        "search_ph": "输入名称片段，如 湘雅",
        "no_hit": "未找到",
        "unit": "区县",
        "none": "（无）",
        "cov": "15分钟覆盖",
        "cov_layers": "设施图层",
        "mode": "出行方式",
        "minutes": "分钟",
        "speed": "速度 (km/h)",
        "map": "地图",
        "dash": "仪表盘",
        "dl": "下载",
        "pop": "人口",
        "fac": "区内设施",
        "area_share": "面积覆盖率",
        "pop_cov": "覆盖人口",
        "assume": "假设：人口按 2020 年第七次人口普查区县人口在区县面积内均匀分布；覆盖为直线缓冲"
        "（速度×时间，在高斯-克吕格投影坐标系中计算），未考虑路网。",
        "ind": "专栏1 主要指标（2022 → 2026）",
        "scale": "各区域规划规模",
        "key": "天地图密钥",
        "dl_geojson": "下载可见图层 GeoJSON",
        "dl_gpkg": "下载可见图层 GeoPackage",
        "dl_html": "下载当前地图（离线 HTML）",
        "print": "打印本区县",
        "size": "纸张",
        "orient": "方向",
        "make_pdf": "生成 PDF",
        "dl_pdf": "下载 PDF",
        "share": "分享链接参数",
        "payload": "地图数据量",
        "hits": "结果",
    },
    "en": {
        "title": "Hunan health-industry layout",
        "layers": "Layers",
        "basemap": "Basemap",
        "search": "Search places",
        "search_ph": "part of a name, e.g. 湘雅",
        "no_hit": "No match",
        "unit": "District/county",
        "none": "(none)",
        "cov": "15-minute coverage",
        "cov_layers": "Facility layers",
        "mode": "Mode",
        "minutes": "Minutes",
        "speed": "Speed (km/h)",
        "map": "Map",
        "dash": "Dashboard",
        "dl": "Downloads",
        "pop": "Population",
        "fac": "Facilities inside",
        "area_share": "Area covered",
        "pop_cov": "Population covered",
        "assume": "Assumption: census-2020 county population spread uniformly over the county; "
        "coverage is a straight-line buffer (speed x time, computed in the Gauss-Kruger CRS), "
        "no road network.",
        "ind": "Box 1 indicators (2022 → 2026)",
        "scale": "Planned scale of zones",
        "key": "Tianditu key",
        "dl_geojson": "Visible layers as GeoJSON",
        "dl_gpkg": "Visible layers as GeoPackage",
        "dl_html": "Current map (offline HTML)",
        "print": "Print this unit",
        "size": "Paper",
        "orient": "Orientation",
        "make_pdf": "Make PDF",
        "dl_pdf": "Download PDF",
        "share": "Share parameters",
        "payload": "Map data",
        "hits": "Results",
    },
}

st.set_page_config(page_title="湖南大健康产业空间布局", layout="wide")


@st.cache_resource
def _manifest() -> dict:
    return load_manifest()


@st.cache_resource
def _layers(ids: tuple[str, ...]) -> dict:
    return load_layers(list(ids))


@st.cache_data
def _exports(ids: tuple[str, ...]) -> tuple[bytes, bytes | None]:
    chosen = {k: _layers(tuple(layer_ids(_manifest())))[k] for k in ids}
    gpkg = layers_to_gpkg(chosen) if any(len(v) for v in chosen.values()) else None
    return layers_to_geojson(chosen), gpkg


@st.cache_resource
def _map_data(lang: str, gcj02: bool) -> MapData:
    """Prepared layers of the map: built once per process and shared by all sessions."""
    ids = tuple(layer_ids(_manifest()))
    basemap = "amap" if gcj02 else "offline"
    return prepare_map_data(_layers(ids), _manifest(), basemap=basemap, lang=lang)


@st.cache_data
def _indicators():
    return indicator_table(load_indicators())


try:
    manifest = _manifest()
    all_ids = tuple(layer_ids(manifest))
    layers = _layers(all_ids)
except (GeoDataError, FileNotFoundError) as exc:
    st.error(f"layers not available: {exc}. Run `python -m geo build`.")
    st.stop()

# Restore the shared state once per session from the URL query string.
if "restored" not in st.session_state:
    try:
        state0 = decode_state(st.query_params.to_dict(), known_layers=all_ids)
    except ValueError as exc:
        st.warning(str(exc))
        state0 = MapState()
    default_visible = set(all_ids) if state0.layers is None else set(state0.layers)
    for lid in all_ids:
        st.session_state[f"lyr_{lid}"] = lid in default_visible
    st.session_state.update(
        lang=state0.lang,
        basemap=state0.basemap,
        unit=state0.unit or "",
        cov_layers=list(state0.cov_layers),
        mode=state0.mode,
        minutes=float(state0.minutes),
        speed=float(state0.speed or MODE_SPEEDS[state0.mode].kmh),
        restored=True,
    )

lang = st.sidebar.radio(
    "语言 / Language",
    ["zh", "en"],
    key="lang",
    horizontal=True,
    format_func=lambda v: "中文" if v == "zh" else "English",
)
tx = T[lang]
st.title(tx["title"])

# Layer panel grouped as the manifest says.
st.sidebar.header(tx["layers"])
groups = {g["id"]: g for g in manifest["groups"]}
for gid, group in groups.items():
    metas = [m for m in manifest["layers"] if m["group"] == gid]
    with st.sidebar.expander(layer_label(group, lang), expanded=False):
        for meta in metas:
            st.checkbox(
                f"{layer_label(meta, lang)} ({meta.get('count', '')})", key=f"lyr_{meta['id']}"
            )
visible = [lid for lid in all_ids if st.session_state.get(f"lyr_{lid}")]

basemap = st.sidebar.selectbox(
    tx["basemap"],
    list(BASEMAPS),
    key="basemap",
    format_func=lambda b: BASEMAPS[b][0 if lang == "zh" else 1],
)
tianditu_key = None
if basemap == "tianditu":
    tianditu_key = os.environ.get("TIANDITU_KEY") or st.sidebar.text_input(
        tx["key"], type="password"
    )

# Search.
query = st.sidebar.text_input(tx["search"], placeholder=tx["search_ph"], key="q")
focus = None
if query:
    hits = search_places({k: layers[k] for k in all_ids}, query, manifest=manifest, lang=lang)
    if hits.empty:
        st.sidebar.info(tx["no_hit"])
    else:
        if st.session_state.get("hit_query") != query:  # a new query starts at its first hit
            st.session_state.pop("hit", None)
            st.session_state["hit_query"] = query
        pick = st.sidebar.selectbox(
            tx["hits"],
            hits.index,
            format_func=lambda i: hits.at[i, "label"],  # "name · readable layer name"
            key="hit",
        )
        h = hits.loc[pick]
        pad = 0.01
        focus = (h.minx - pad, h.miny - pad, h.maxx + pad, h.maxy + pad)
        if h.layer not in visible:
            visible.append(h.layer)

# Unit picker.
units = layers["counties"]
unit_options = ["", *units["adcode"].astype(str)]
names = dict(zip(units["adcode"].astype(str), units["name"], strict=True))
if st.session_state.get("unit") not in unit_options:
    st.session_state["unit"] = ""
unit = st.sidebar.selectbox(
    tx["unit"], unit_options, key="unit", format_func=lambda a: names.get(a, tx["none"])
)

# Coverage panel.
st.sidebar.header(tx["cov"])
pts = point_layers(manifest)
st.session_state["cov_layers"] = [c for c in st.session_state.get("cov_layers", []) if c in pts]
cov_layers = st.sidebar.multiselect(
    tx["cov_layers"],
    pts,
    key="cov_layers",
    format_func=lambda i: layer_label(next(m for m in manifest["layers"] if m["id"] == i), lang),
)
mode = st.sidebar.radio(
    tx["mode"],
    list(MODE_SPEEDS),
    key="mode",
    horizontal=True,
    format_func=lambda k: getattr(MODE_SPEEDS[k], f"label_{lang}"),
)
st.sidebar.caption(MODE_SPEEDS[mode].source)
minutes = st.sidebar.number_input(tx["minutes"], 1.0, 240.0, step=1.0, key="minutes")
speed = st.sidebar.number_input(tx["speed"], 0.5, 200.0, step=0.5, key="speed")
coverage = None
cov_result = None
if cov_layers:
    fac = pd.concat([layers[c][["geometry"]] for c in cov_layers], ignore_index=True)
    fac = gpd.GeoDataFrame(fac, geometry="geometry", crs=layers[cov_layers[0]].crs)
    if len(fac):
        cov_result = unit_coverage(
            fac, units, unit or None, mode=mode, minutes=minutes, speed_kmh=speed
        )
        coverage = cov_result.reach

state = MapState(
    layers=tuple(visible),
    unit=unit,
    basemap=basemap,
    cov_layers=tuple(cov_layers),
    mode=mode,
    minutes=float(minutes),
    speed=None if speed == MODE_SPEEDS[mode].kmh else float(speed),
    lang=lang,
)
st.query_params.from_dict(encode_state(state))

tab_map, tab_dash, tab_dl = st.tabs([tx["map"], tx["dash"], tx["dl"]])
with tab_map:
    data = _map_data(lang, basemap in GCJ02_BASEMAPS)
    # The map script only changes with language, basemap or the initial layers; the search mark,
    # unit outline and coverage go in as a dynamic feature group and the view as centre/zoom,
    # so streamlit-folium updates them without re-creating the map (its view is kept).
    fmap = build_map(
        layers,
        manifest,
        visible=visible,
        basemap=basemap,
        tianditu_key=tianditu_key,
        lang=lang,
        data=data,
        overlays=False,
    )
    mark = None
    if focus is not None:  # the found feature, marked without re-creating the map
        found = layers[h.layer]
        key = "id" if "id" in found.columns else "adcode"
        mark = found[found[key].astype(str) == h.id].to_crs("EPSG:4326").geometry.iloc[0]
    overlays, unit_bounds = overlay_group(
        layers,
        units=units,
        highlight_unit=unit or None,
        coverage=coverage,
        basemap=basemap,
        mark=mark,
    )
    view_bounds = focus or unit_bounds
    center, zoom = view_for_bounds(view_bounds) if view_bounds is not None else (None, None)
    st_folium(
        fmap,
        height=640,
        use_container_width=True,
        returned_objects=[],
        feature_group_to_add=overlays,
        center=center,
        zoom=zoom,
        key="map",
    )
    st.caption(f"{tx['payload']}: {geojson_payload_bytes(fmap) / 1e6:.2f} MB")
    if unit:
        row = units[units["adcode"].astype(str) == unit].iloc[0]
        c1, c2, c3 = st.columns(3)
        c1.metric(tx["unit"], row["name"])
        c2.metric(tx["pop"], f"{int(row['population']):,}")
        if cov_result is not None:
            c3.metric(tx["area_share"], f"{cov_result.area_share:.1%}")
            if cov_result.population_covered is not None:
                c3.metric(tx["pop_cov"], f"{cov_result.population_covered:,.0f}")
            st.caption(tx["assume"])
            cols = ["covered_km2", "gaps", "largest_gap_km2", "minutes_p50", "minutes_p90"]
            st.dataframe(cov_result.summary[cols], hide_index=True)
        st.subheader(tx["fac"])
        st.dataframe(facilities_in_unit(layers, units, unit), hide_index=True)

with tab_dash:
    st.subheader(tx["ind"])
    ind = _indicators()
    st.dataframe(ind, hide_index=True)
    if not ind.empty:
        st.bar_chart(ind.set_index("label")[["change_pct"]])
    st.subheader(tx["scale"])
    scale = zone_scale_table({k: layers[k] for k in plan_layers(manifest)})
    st.dataframe(scale, hide_index=True)
    area = scale[scale["unit"].isin(["平方公里", "km2"])]
    if not area.empty:
        st.bar_chart(area.set_index("name")[["value"]])

with tab_dl:
    geojson_bytes, gpkg_bytes = _exports(tuple(visible))
    st.download_button(tx["dl_geojson"], geojson_bytes, "layers.geojson", "application/geo+json")
    if gpkg_bytes is not None:
        st.download_button(
            tx["dl_gpkg"], gpkg_bytes, "layers.gpkg", "application/geopackage+sqlite3"
        )
    export_data = _map_data(lang, basemap in GCJ02_BASEMAPS)

    def _offline_html() -> bytes:  # built only when the user clicks the download button
        export = build_map(
            layers,
            manifest,
            visible=visible,
            basemap=basemap,
            tianditu_key=tianditu_key,
            highlight_unit=unit or None,
            units=units,
            coverage=coverage,
            focus=focus,
            lang=lang,
            data=export_data,
        )
        return map_to_offline_html(export).encode("utf-8")

    st.download_button(tx["dl_html"], _offline_html, "map.html", "text/html")
    st.code("?" + "&".join(f"{k}={v}" for k, v in encode_state(state).items()), language=None)
    if unit and importlib.util.find_spec("geo.printmap") is not None:
        from geo.printmap import print_map

        st.subheader(tx["print"])
        size = st.selectbox(tx["size"], ["A4", "A3"], key="size")
        orient = st.selectbox(tx["orient"], ["landscape", "portrait"], key="orient")
        if st.button(tx["make_pdf"], key="make_pdf"):
            with tempfile.TemporaryDirectory() as tmp:
                printed = print_map(
                    unit,
                    size=size,
                    orientation=orient,
                    out_dir=tmp,
                    formats=("pdf",),
                    coverage=None,
                )
                st.session_state["pdf"] = Path(printed.paths["pdf"]).read_bytes()
        if "pdf" in st.session_state:
            st.download_button(
                tx["dl_pdf"], st.session_state["pdf"], f"{unit}.pdf", "application/pdf"
            )
