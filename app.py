"""Streamlit page: widgets wired to geo functions (no analysis or formatting logic here)."""

from __future__ import annotations

import copy
import hashlib
import tempfile
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st
import streamlit_folium as stf

from geo.analysis.population import add_management_zones
from geo.analysis.scenario import proposed_sites, report_files, run_scenario
from geo.analysis.siting import MODELS
from geo.analysis.siting_plan import SOLVERS
from geo.coords import geometry_to_wgs84
from geo.data.boundaries import load_units
from geo.data.layers import layer_ids, load_layers, load_manifest, plan_layers, point_layers
from geo.errors import CRSError, GeoDataError
from geo.settings import MAX_UPLOAD_BYTES, MODE_SPEEDS, PLANS_DIR
from geo.web.attributes import (
    attribute_display,
    attribute_table,
    facility_points,
    filter_attributes,
    uncertain_reach,
)
from geo.web.dashboard import (
    display_cells,
    indicator_display,
    indicator_table,
    load_indicators,
    zone_scale_table,
)
from geo.web.i18n import PRECISION_LABELS, error_text, lang_index, localise_columns, text
from geo.web.overlays import overlay_groups
from geo.web.popgrid import (
    POPGRID_TYPES,
    population_fallbacks,
    read_population_upload,
    with_population_model,
)
from geo.web.search import facilities_in_unit, find_unit, search_places, unit_coverage
from geo.web.share import (
    MapState,
    decode_state,
    encode_state,
    shown_layers,
    speed_for,
    view_from_map,
)
from geo.web.siting_page import (
    REPORT_FILES,
    curve_chart,
    curve_table,
    default_existing_layers,
    method_caption,
    new_sites,
    population_caption,
    reach_radius_m,
    report_bytes,
    run_unit_siting,
    sites_table,
    units_table,
)
from geo.web.uploads import DATUM_CHOICES, problems_for_display, read_upload
from geo.web.webmap import (
    BASEMAPS,
    GCJ02_BASEMAPS,
    MapData,
    build_map,
    geojson_payload_bytes,
    layer_label,
    layers_to_geojson,
    layers_to_gpkg,
    map_to_offline_html,
    prepare_map_data,
    view_for_bounds,
)

st.set_page_config(page_title="湖南大健康产业空间布局", layout="wide")


# ---- per-process caches: every session shares these -------------------------------------------
@st.cache_resource
def _manifest() -> dict:
    return load_manifest()


@st.cache_resource
def _layers(ids: tuple[str, ...]) -> dict:
    return load_layers(list(ids))


@st.cache_resource
def _units():
    """All 122 Hunan counties with census 2020 population (management zones in their host)."""
    return add_management_zones(load_units(cities=None))


@st.cache_resource(max_entries=32)
def _base_map_shared(visible: tuple[str, ...], basemap: str, key: str | None, lang: str):
    """The base map: every layer once (toggled in the browser), ``visible`` switched on first."""
    fmap = build_map(
        _layers(tuple(layer_ids(_manifest()))), _manifest(), visible=list(visible),
        basemap=basemap, tianditu_key=key, lang=lang,
        data=_map_data(lang, basemap in GCJ02_BASEMAPS), overlays=False, share_url=True,
    )  # fmt: skip
    return fmap, geojson_payload_bytes(fmap)


@st.cache_resource(max_entries=32)
def _base_map_rendered(map_key: tuple) -> dict:
    """What st_folium sends the browser for the base map, rendered once per process.

    ``st_folium`` renders the map it is given on every call and adds the session's feature groups
    to it, so a shared map would need a copy per rerun (deepcopy + render about 70-90 ms); rendering
    once and reusing the strings makes a session's rerun cheap. Mirrors streamlit_folium 0.27's
    ``st_folium`` for a plain ``folium.Map`` (pinned in pyproject.toml; see README).
    """
    fmap = copy.deepcopy(_base_map_shared(*map_key)[0])
    fmap.get_root().render()
    fmap.render()
    html, header = stf._get_html(fmap), stf._get_header(fmap)
    script = stf._get_map_string(fmap)
    css, js = [], []
    stack = [fmap]
    while stack:
        elem = stack.pop(0)
        css += [href for _, href in getattr(elem, "default_css", [])]
        js += [src for _, src in getattr(elem, "default_js", [])]
        stack += list(getattr(elem, "_children", {}).values())
    return {
        "script": script,
        "header": header,
        "html": html,
        "id": stf.get_full_id(fmap),
        "key": stf.generate_js_hash(script, "map", False),
        "css_links": list(dict.fromkeys(css)),
        "js_links": list(dict.fromkeys(js)),
        "zoom": fmap.options.get("zoom"),
    }


def _overlay_script(groups: list) -> str:
    """JavaScript adding this session's overlay groups to the map (as st_folium builds it)."""
    dummy = folium.Map(tiles=None)
    return "".join(
        stf._get_feature_group_string(fg, map=dummy, idx=i)
        for i, fg in enumerate(copy.deepcopy(groups))
    )


@st.cache_data(max_entries=256)
def _coverage(cov: tuple[str, ...], goals: bool, unit: str, mode: str, minutes: float, kmh: float,
              pop_tag: object = None, _pop: object = None):  # fmt: skip
    layers = _layers(tuple(layer_ids(_manifest())))
    fac = facility_points(layers, cov, include_goals=goals)
    result = unit_coverage(
        fac, _units(), unit or None, mode=mode, minutes=minutes, speed_kmh=kmh, population=_pop
    )
    return fac, result, uncertain_reach(fac, result.radius_m, within=result.reach)


@st.cache_data(max_entries=256)
def _inside(unit: str):
    layers = _layers(tuple(layer_ids(_manifest())))
    return facilities_in_unit(layers, _units(), unit)


@st.cache_data
def _exports(ids: tuple[str, ...]) -> tuple[bytes, bytes | None]:
    layers = _layers(tuple(layer_ids(_manifest())))
    chosen = {k: layers[k] for k in ids}
    gpkg = layers_to_gpkg(chosen) if any(len(v) for v in chosen.values()) else None
    return layers_to_geojson(chosen), gpkg


@st.cache_resource
def _map_data(lang: str, gcj02: bool) -> MapData:
    """Prepared layers of the map: built once per process and shared by all sessions."""
    ids = tuple(layer_ids(_manifest()))
    basemap = "amap" if gcj02 else "offline"
    return prepare_map_data(_layers(ids), _manifest(), basemap=basemap, lang=lang)


@st.cache_data
def _attributes():
    return attribute_table(_layers(tuple(layer_ids(_manifest()))))


@st.cache_data
def _plan_titles() -> dict[str, str]:
    index = pd.read_csv(PLANS_DIR / "index.csv", dtype=str)
    return dict(zip(index["key"], index["title"], strict=True))


@st.cache_data
def _zone_scale():
    layers = _layers(tuple(layer_ids(_manifest())))
    return zone_scale_table({k: layers[k] for k in plan_layers(_manifest())})


@st.cache_data
def _indicators():
    return indicator_table(load_indicators())


try:
    manifest = _manifest()
    all_ids = tuple(layer_ids(manifest))
    layers = _layers(all_ids)
except (GeoDataError, FileNotFoundError) as exc:
    st.error(f"layers not available / 图层不可用: {exc}. Run `python -m geo build`.")
    st.stop()
units = _units()
ss = st.session_state

# ---- restore the shared state once per session from the URL ---------------------------------
if "restored" not in ss:
    try:
        state0 = decode_state(st.query_params.to_dict(), known_layers=all_ids)
    except ValueError as exc:
        link_lang = st.query_params.get("lang", "zh")
        st.warning(error_text(exc, link_lang if link_lang in ("zh", "en") else "zh"))
        state0 = MapState()
    ss.update(
        layers0=all_ids if state0.layers is None else tuple(state0.layers),
        lang=state0.lang,
        basemap=state0.basemap,
        unit=state0.unit or "",
        cov_layers=list(state0.cov_layers),
        mode=state0.mode,
        minutes=float(state0.minutes),
        speed=state0.speed_kmh,
        view=(state0.center, state0.zoom) if state0.center else None,
        last_target=None,
        clicks=[],
        pdfs={},
        restored=True,
    )


if "view" in ss and ss["view"] is None and ss.get("unit") in set(units["adcode"].astype(str)):
    ss["view"] = view_for_bounds(tuple(find_unit(units, ss["unit"]).total_bounds))


def _mode_changed(key: str) -> None:
    ss["speed"] = speed_for(ss[key])


def _unit_changed(key: str) -> None:
    if ss[key]:
        ss["view"] = view_for_bounds(tuple(find_unit(units, ss[key]).total_bounds))


def _go(bounds: tuple[float, float, float, float], tag: object) -> None:
    """Move the map once per new target (search hit or table row), not on every rerun."""
    if ss.get("last_target") != tag:
        ss["last_target"] = tag
        ss["view"] = view_for_bounds(bounds)


lang = st.sidebar.radio(
    "语言 / Language", ["zh", "en"], key="lang", horizontal=True,
    format_func=lambda v: "中文" if v == "zh" else "English",
)  # fmt: skip


def tx(key: str, **kw: object) -> str:
    return text(key, lang, **kw)


def lkey(name: str, default: object = None) -> str:
    """Widget key of a choice whose labels follow the language; its value lives in ``ss[name]``.

    Streamlit keeps a radio/selectbox/multiselect choice by its label, so after a language switch
    the old label would come back as an unknown value ('步行' for walk). Each language therefore
    has a widget of its own, started from the value chosen in the other (see :func:`keep`).
    """
    key = f"{name}@{lang}"
    if key not in ss and (name in ss or default is not None):
        ss[key] = ss.get(name, default)
    return key


def keep(name: str, value: object) -> object:
    """Remember a language-dependent widget's value under its language-free name."""
    ss[name] = value
    return value


st.title(tx("title"))

# ---- sidebar: basemap, search, unit, coverage -----------------------------------------------
# Layers are switched on and off in the map's own control (in the browser, no rerun); the share
# link's ``layers`` is the set switched on when the map first loads.
visible = [lid for lid in all_ids if lid in set(ss["layers0"])]
basemap = keep("basemap", st.sidebar.selectbox(
    tx("basemap"), list(BASEMAPS), key=lkey("basemap"),
    format_func=lambda b: BASEMAPS[b][0 if lang == "zh" else 1],
))  # fmt: skip
datum = "GCJ02" if basemap in GCJ02_BASEMAPS else "WGS84"
tianditu_key = st.sidebar.text_input(tx("key"), type="password") if basemap == "tianditu" else None

mark = None
query = st.sidebar.text_input(tx("search"), placeholder=tx("search_ph"), key="q")
if query:
    hits = search_places({k: layers[k] for k in all_ids}, query, manifest=manifest, lang=lang)
    if hits.empty:
        st.sidebar.info(tx("no_hit"))
    else:
        if ss.get("hit_query") != query:  # a new query starts at its first hit
            for k in ("hit", "hit@zh", "hit@en"):
                ss.pop(k, None)
            ss["hit_query"] = query
        pick = keep("hit", st.sidebar.selectbox(
            tx("hits"), hits.index, key=lkey("hit"),
            format_func=lambda i: hits.at[i, "label"],  # "name · readable layer name"
        ))  # fmt: skip
        h = hits.loc[pick]
        _go((h.minx, h.miny, h.maxx, h.maxy), ("hit", query, pick))
        found = layers[h.layer]
        key = "id" if "id" in found.columns else "adcode"
        mark = found[found[key].astype(str) == str(h.id)].geometry.to_crs("EPSG:4326")

unit_options = ["", *units["adcode"].astype(str)]
names = {
    str(a): f"{c} · {n}"
    for a, c, n in zip(units["adcode"], units["city"], units["name"], strict=True)
}
if ss.get("unit") not in unit_options:
    ss["unit"] = ""
unit = keep("unit", st.sidebar.selectbox(
    tx("unit"), unit_options, key=(k_unit := lkey("unit")), on_change=_unit_changed,
    args=(k_unit,), format_func=lambda a: names.get(a, tx("none")),
))  # fmt: skip

st.sidebar.header(tx("cov"))
pts = point_layers(manifest)
ss["cov_layers"] = [c for c in ss.get("cov_layers", []) if c in pts]
cov_layers = keep("cov_layers", st.sidebar.multiselect(
    tx("cov_layers"), pts, key=lkey("cov_layers"), placeholder=tx("choose"),
    format_func=lambda i: layer_label(next(m for m in manifest["layers"] if m["id"] == i), lang),
))  # fmt: skip
goals = st.sidebar.checkbox(tx("goals_as_fac"), key="goals")
use_own = "own" in ss and st.sidebar.checkbox(tx("use_own"), key="use_own", value=True)
mode = keep("mode", st.sidebar.radio(
    tx("mode"), list(MODE_SPEEDS), key=(k_mode := lkey("mode")), horizontal=True,
    on_change=_mode_changed, args=(k_mode,),
    format_func=lambda k: getattr(MODE_SPEEDS[k], f"label_{lang}"),
))  # fmt: skip
st.sidebar.caption(MODE_SPEEDS[mode].source_in(lang))
minutes = st.sidebar.number_input(tx("minutes"), 1.0, 240.0, step=1.0, key="minutes")
speed = st.sidebar.number_input(tx("speed"), 0.5, 200.0, step=0.5, key="speed")

# ---- optional population grid (issues 9, 12): coverage, scenario and siting use it ------------
with st.sidebar.expander(tx("pop_grid"), expanded="pop_tag" in ss):
    pop_datum = keep("pop_datum", st.selectbox(
        tx("pop_datum"), list(DATUM_CHOICES), key=lkey("pop_datum"),
        format_func=lambda d: DATUM_CHOICES[d][0 if lang == "zh" else 1],
    ))  # fmt: skip
    pop_file = st.file_uploader(
        tx("pop_upload", mb=MAX_UPLOAD_BYTES >> 20), type=list(POPGRID_TYPES), key="pop_file"
    )
    if pop_file is not None and ss.get("pop_tag") != (pop_file.file_id, pop_datum):
        ss["pop_tag"] = (pop_file.file_id, pop_datum)
        ss.pop("popgrid", None)
        ss.pop("pop_error", None)
        try:
            with st.spinner(tx("pop_reading")):
                ss["popgrid"] = read_population_upload(
                    pop_file.getvalue(), pop_file.name, units=units, datum=pop_datum
                )
        except (GeoDataError, CRSError) as exc:
            ss["pop_error"] = exc
    elif pop_file is None:  # removed: census again
        for k in ("popgrid", "pop_tag", "pop_error"):
            ss.pop(k, None)
    if "pop_error" in ss:
        st.error(error_text(ss["pop_error"], lang))
    popgrid = ss.get("popgrid")
    if popgrid is not None:
        st.success(tx("pop_ok", model=popgrid.model, cells=f"{popgrid.cells:,}",
                      total=f"{popgrid.total:,.0f}"))  # fmt: skip
        st.caption(popgrid.source)
        if not popgrid.problems.empty:
            st.caption(tx("bad_rows"))
            shown = problems_for_display(popgrid.problems, lang=lang)
            st.dataframe(localise_columns(shown, lang), hide_index=True, key="pop_bad_rows")
    else:
        st.caption(tx("pop_none"))
pop_grid = popgrid.grid if popgrid is not None else None
pop_sources = {"population": popgrid.source} if popgrid is not None else None

fac, cov, uncertain = None, None, None
try:
    if use_own:
        fac = ss["own"].facilities
        cov = unit_coverage(fac, units, unit or None, mode=mode, minutes=minutes, speed_kmh=speed,
                            population=pop_grid)  # fmt: skip
        uncertain = uncertain_reach(fac, cov.radius_m, within=cov.reach)
    elif cov_layers:
        fac, cov, uncertain = _coverage(
            tuple(cov_layers), goals, unit, mode, minutes, speed, ss.get("pop_tag"), pop_grid
        )
except (GeoDataError, CRSError) as exc:
    st.error(error_text(exc, lang))

# ---- the share link -------------------------------------------------------------------------
# The address bar is the share link. The map client writes the layers switched in the map and
# its view into it (no rerun) and puts them back when Streamlit rewrites the URL; the page keeps
# the link's layers rather than the initial set (they never rebuild the map: ``visible`` does).
# The URL is written only when it differs, so a rerun adds no history entry of its own.
view = ss.get("view")
state = MapState(
    layers=shown_layers(st.query_params.to_dict(), known_layers=all_ids, default=tuple(visible)),
    unit=unit, basemap=basemap, cov_layers=tuple(cov_layers), mode=mode,
    minutes=float(minutes), speed=None if speed == speed_for(mode) else float(speed), lang=lang,
    center=view[0] if view else None, zoom=view[1] if view else None,
)  # fmt: skip
if encode_state(state) != st.query_params.to_dict():
    st.query_params.from_dict(encode_state(state))

# ---- attribute table (drives the map's selection) -------------------------------------------
table_all = _attributes()


@st.fragment
def _map(map_key: tuple, groups, center, zoom, add_mode: bool, datum: str) -> None:
    """The map; pan/zoom rerun only this fragment, a click in add mode reruns the page."""
    base = _base_map_rendered(map_key)
    returned = ["center", "zoom", "last_clicked", "last_object_clicked"]
    out = stf._component_func(
        script=base["script"], header=base["header"], html=base["html"], id=base["id"],
        key=base["key"], height=620, width=None, returned_objects=returned,
        default={"last_clicked": None, "last_object_clicked": None, "zoom": base["zoom"]},
        zoom=zoom, center=center, feature_group=_overlay_script(groups), return_on_hover=False,
        layer_control=None, pixelated=False, css_links=base["css_links"],
        js_links=base["js_links"], wrap_longitude=False,
    )  # fmt: skip
    seen = view_from_map(out)
    if seen is not None and seen != ss.get("view"):
        ss["view"] = seen
        st.query_params["c"] = f"{seen[0][0]:.5f},{seen[0][1]:.5f}"
        st.query_params["z"] = str(seen[1])
    # A click on empty map is last_clicked; on a feature (its popup stops the map click) it is
    # last_object_clicked. Both are tracked always, so turning add mode on replays no old click.
    new = None
    for kind in ("last_clicked", "last_object_clicked"):
        value = (out or {}).get(kind)
        if value and value != ss.get(f"seen_{kind}"):
            ss[f"seen_{kind}"] = value
            new = value
    if add_mode and new:
        p = shapely.Point(new["lng"], new["lat"])
        p = geometry_to_wgs84(p, datum) if datum != "WGS84" else p
        ss["clicks"] = [*ss["clicks"], (p.y, p.x)]
        st.rerun(scope="app")


map_box = st.container()
# The attribute table and the dashboard are sent only while their tab is open: their grids pull
# ~1.5 MB of Streamlit's table code into the first page, which held back the first map by ~0.2 s
# (benchmarks/bench_webmap.py). A tab switch is then a rerun; the map keeps its view through it.
TABS = ("unit", "table", "own", "scen", "site", "dash", "dl")
tab_labels = [tx(t) for t in TABS]
names_by_id = {m["id"]: layer_label(m, lang) for m in manifest["layers"]}


def _attribute_tab() -> None:
    """The attribute table and its filters; the row chosen is kept in ``ss["attr_pick"]``."""
    hide = keep("hide_sg", st.toggle(tx("hide_sg"), key=lkey("hide_sg")))
    cols = st.columns(5)
    filters = {}
    for col, field, label in zip(
        cols,
        ("layer", "kind", "precision", "plan", "county"),
        ("f_layer", "f_kind", "f_precision", "f_plan", "f_county"),
        strict=True,
    ):
        options = sorted(v for v in table_all[field].unique() if v)
        words = attribute_display(
            pd.DataFrame({c: options if c == field else "" for c in table_all.columns}),
            layer_names=names_by_id, plan_titles=_plan_titles(), lang=lang,
        )[field].tolist()  # fmt: skip
        filters[field] = keep(f"f_{field}", col.multiselect(
            tx(label), options, key=lkey(f"f_{field}"), placeholder=tx("choose"),
            format_func=dict(zip(options, words, strict=True)).get,
        ))  # fmt: skip
    table = filter_attributes(
        table_all,
        layers=filters["layer"], kinds=filters["kind"], precisions=filters["precision"],
        plans=filters["plan"], counties=filters["county"], hide_schematic_and_goals=hide,
    )  # fmt: skip
    st.caption(tx("select_row"))
    shown = attribute_display(table, layer_names=names_by_id, plan_titles=_plan_titles(), lang=lang)
    # The grid keeps its selection as a row number: one grid per filter set and language, so a
    # new filter never turns the chosen row into another place (the map jumped to it).
    grid = "attr@" + hashlib.sha1(repr((lang, hide, filters)).encode()).hexdigest()[:12]
    fresh = grid not in ss  # not shown on the last run: it starts unselected
    event = st.dataframe(
        localise_columns(shown, lang), hide_index=True, key=grid,
        on_select="rerun", selection_mode="single-row",
    )  # fmt: skip
    rows = event.selection.rows if event is not None else []
    if rows and rows[0] < len(table):
        ss["attr_pick"] = table.iloc[[rows[0]]]
        r = ss["attr_pick"].iloc[0]
        _go((r.lon - 0.02, r.lat - 0.02, r.lon + 0.02, r.lat + 0.02), ("row", r.layer, r.id))
    elif not fresh:
        ss.pop("attr_pick", None)  # the user cleared the selection
    elif "attr_pick" in ss:
        st.caption(tx("attr_kept", name=ss["attr_pick"].iloc[0]["name"]))


# One tab widget per language (labels differ), started on the tab open in the other. Not through
# ``default=``: a changing default makes a new widget, which then ignores the next click.
if (k_tab := f"tab@{lang}") not in ss:
    ss[k_tab] = tab_labels[TABS.index(ss.get("tab_open", "unit"))]
tab_unit, tab_table, tab_own, tab_scen, tab_site, tab_dash, tab_dl = st.tabs(
    tab_labels, key=k_tab, on_change="rerun"
)
ss["tab_open"] = TABS[tab_labels.index(ss[k_tab])]
with tab_table:
    if tab_table.open:
        _attribute_tab()
selected = ss.get("attr_pick")  # the row chosen in the table, kept while the tab is closed

with tab_own:
    up_datum = keep("up_datum", st.selectbox(
        tx("datum"), list(DATUM_CHOICES), key=lkey("up_datum"),
        format_func=lambda d: DATUM_CHOICES[d][0 if lang == "zh" else 1],
    ))  # fmt: skip
    upload = st.file_uploader(tx("upload"), type=["csv", "xlsx", "geojson", "json", "gpkg"])
    if upload is not None:
        tag = (upload.file_id, up_datum)
        if ss.get("own_tag") != tag:
            ss["own_tag"] = tag
            ss.pop("own", None)
            try:
                ss["own"] = read_upload(upload.getvalue(), upload.name, datum=up_datum)
            except (GeoDataError, CRSError) as exc:
                ss["own_error"] = error_text(exc, lang)
            else:
                ss.pop("own_error", None)
            st.rerun()
        if "own_error" in ss:
            st.error(ss["own_error"])
    elif "own" in ss:
        for k in ("own", "own_tag", "own_error"):
            ss.pop(k, None)
        st.rerun()
    if "own" in ss:
        st.success(tx("upload_ok", n=len(ss["own"].facilities)))
        if not ss["own"].problems.empty:
            st.subheader(tx("bad_rows"))
            shown = problems_for_display(ss["own"].problems, lang=lang)
            st.dataframe(localise_columns(shown, lang), hide_index=True, key="bad_rows")

scenario = None
with tab_scen:
    add_mode = st.toggle(tx("add_click"), key="add_click")
    if ss["clicks"]:
        sites = proposed_sites(ss["clicks"])
        sites = sites.assign(
            lon=sites.geometry.x.round(6), lat=sites.geometry.y.round(6),
            precision=sites["precision"].map(lambda v: PRECISION_LABELS[v][lang_index(lang)]),
        )  # fmt: skip
        st.dataframe(localise_columns(sites.drop(columns="geometry"), lang), hide_index=True)
        if st.button(tx("clear"), key="clear_clicks"):
            ss["clicks"] = []
            st.rerun()
    if fac is not None and unit:
        inside = fac[fac.within(find_unit(units, unit).to_crs(fac.crs).geometry.iloc[0])]
        close = st.multiselect(
            tx("close"), list(inside["id"]), key="close", placeholder=tx("choose"),
            format_func=lambda i: str(inside.set_index("id").at[i, "name"]),
        )  # fmt: skip
        if ss["clicks"] or close:
            try:
                with population_fallbacks() as scen_notes:
                    scenario = run_scenario(
                        fac, units, unit, add=proposed_sites(ss["clicks"]), remove=close,
                        mode=mode, minutes=minutes, speed_kmh=speed, population=pop_grid,
                        sources=pop_sources,
                    )  # fmt: skip
            except (GeoDataError, CRSError) as exc:
                st.error(error_text(exc, lang))
            for note in scen_notes:
                st.warning(f"{tx('pop_fallback')}: {note}")
        if scenario is not None:
            st.subheader(tx("before_after"))
            diff = with_population_model(scenario.diff, scenario.after.summary)
            diff = diff.drop(columns=["unit_id"]).round(2)
            st.dataframe(localise_columns(diff, lang), hide_index=True, key="scen_diff")
    else:
        st.info(tx("need_unit_fac"))


# ---- siting tab (issue 12): runs only on click, cached per parameters ---------------------
@st.cache_data(show_spinner=False, max_entries=16)
def _siting(unit: str, model: str, k: int, target: float, mode: str, minutes: float,
            existing: tuple[str, ...], spacing: float, solver: str,
            osm: tuple[str, bytes] | None = None, pop_tag: object = None,
            _pop: object = None, _pop_source: str | None = None):  # fmt: skip
    kmh = speed_for(mode)
    with population_fallbacks() as notes:
        res = run_unit_siting(
            units, unit, model=model, k=k, target=target, mode=mode, minutes=minutes,
            speed_kmh=kmh, existing_layers=existing, grid_spacing_m=spacing, solver=solver,
            time_limit=30.0, osm=osm, population=_pop, population_source=_pop_source,
        )  # fmt: skip
    radius = reach_radius_m(mode, minutes, kmh)  # report_bytes draws none for a road reach
    return res, report_bytes(res, find_unit(units, unit), radius_m=radius), notes


site_new = None
with tab_site:
    if not unit:
        st.info(tx("site_need_unit"))
    else:
        models = dict(zip(MODELS, tx("site_models").split("|"), strict=True))
        c1, c2, c3 = st.columns(3)
        s_model = keep("site_model", c1.selectbox(
            tx("site_model"), list(MODELS), key=lkey("site_model"), format_func=models.get
        ))  # fmt: skip
        if s_model == "lscp":
            s_target = c2.slider(tx("site_target"), 10, 100, 90, 5, key="site_target") / 100
            s_k = 5
        else:
            s_k = int(c2.number_input(tx("site_k"), 1, 50, 5, key="site_k"))
            s_target = 0.9
        s_mode = keep("site_mode", c3.selectbox(
            tx("mode"), list(MODE_SPEEDS), key=lkey("site_mode"),
            format_func=lambda m: getattr(MODE_SPEEDS[m], f"label_{lang}"),
        ))  # fmt: skip
        c4, c5, c6 = st.columns(3)
        s_min = float(c4.number_input(tx("minutes"), 1.0, 120.0, 15.0, 1.0, key="site_minutes"))
        s_grid = float(c5.number_input(tx("site_grid"), 200, 5000, 1000, 100, key="site_grid"))
        solvers = dict(zip(SOLVERS, tx("site_solvers").split("|"), strict=True))
        s_solver = keep("site_solver", c6.selectbox(
            tx("site_solver"), list(SOLVERS), key=lkey("site_solver"), format_func=solvers.get
        ))  # fmt: skip
        s_exist = keep(f"site_existing_{unit}", st.multiselect(
            tx("site_existing"), pts, placeholder=tx("choose"),
            key=lkey(f"site_existing_{unit}", default_existing_layers(unit, pts)),
            format_func=lambda i: names_by_id[i],
        ))  # fmt: skip
        st.caption(MODE_SPEEDS[s_mode].source_in(lang))
        s_osm = st.file_uploader(tx("site_osm"), type=["pbf", "osm", "xml"], key="site_osm")
        chosen = (
            unit, s_model, s_k, s_target, s_mode, s_min, tuple(s_exist), s_grid, s_solver,
            (s_osm.name, s_osm.getvalue()) if s_osm is not None else None,
        )  # fmt: skip
        if st.button(tx("site_run"), key="site_run", type="primary"):
            ss["site_params"] = chosen
        params = ss.get("site_params")
        if params and params[0] == unit and params != chosen:  # results of other settings
            st.warning(tx("site_stale"))
        if params and params[0] == unit:
            try:
                with st.spinner(tx("site_running")):
                    site_res, site_files, site_notes = _siting(
                        *params, ss.get("pop_tag"), pop_grid, (pop_sources or {}).get("population")
                    )
            except (GeoDataError, CRSError) as exc:
                st.error(error_text(exc, lang))
            else:
                site_new = new_sites(site_res)
                for note in site_notes:
                    st.warning(f"{tx('pop_fallback')}: {note}")
                if site_res.solution.status not in {"optimal", "heuristic"}:
                    st.warning(tx("site_not_optimal"))
                st.caption(method_caption(site_res, lang))
                st.subheader(tx("site_sites"))
                st.dataframe(sites_table(site_res, lang), hide_index=True, key="site_table")
                st.subheader(tx("site_units"))
                st.dataframe(units_table(site_res, lang), hide_index=True, key="site_units")
                st.subheader(tx("site_curve"))
                curve = curve_table(site_res, lang)
                if len(curve) > 1:
                    st.bar_chart(curve_chart(site_res, lang))
                st.dataframe(curve, hide_index=True, key="site_curve")
                st.caption(population_caption(site_res, lang))
                d1, d2, d3 = st.columns(3)
                for col, fmt in zip((d1, d2, d3), ("xlsx", "html", "geojson"), strict=True):
                    col.download_button(
                        tx(f"site_dl_{fmt}"), site_files[fmt], REPORT_FILES[fmt][0],
                        mime=REPORT_FILES[fmt][1], key=f"site_dl_{fmt}",
                    )  # fmt: skip

# ---- the map: shared base + this session's overlays -----------------------------------------
map_key = (tuple(visible), basemap, tianditu_key, lang)
try:
    payload = _base_map_shared(*map_key)[1]
except ValueError as exc:
    st.error(error_text(exc, lang))
    map_key = (tuple(visible), "offline", None, lang)
    payload = _base_map_shared(*map_key)[1]
    datum = "WGS84"
closed = fac[fac["id"].isin(ss.get("close", []))] if fac is not None and scenario else None
# siting (issue 12): the siting tab's new sites join the scenario's clicked sites as "proposed"
proposed = proposed_sites(ss["clicks"]) if ss["clicks"] else None
if site_new is not None and len(site_new):
    proposed = site_new if proposed is None else pd.concat([proposed, site_new], ignore_index=True)
groups = overlay_groups(
    unit=find_unit(units, unit) if unit else None,
    coverage=None if cov is None else (scenario.after.reach.geometry if scenario else cov.reach),
    uncertain=uncertain, own=ss["own"].facilities if "own" in ss else None,
    proposed=proposed, closed=closed,
    selected=(
        gpd.GeoDataFrame(selected, geometry=gpd.points_from_xy(selected.lon, selected.lat),
                         crs="EPSG:4326") if selected is not None else None
    ),
    mark=mark, datum=datum, lang=lang,
)  # fmt: skip
view = ss.get("view")
with map_box:
    _map(map_key, groups, view[0] if view else None, view[1] if view else None, add_mode, datum)
    st.caption(f"{tx('payload')}: {payload / 1e6:.2f} MB")
    if uncertain is not None and len(uncertain):
        st.caption(tx("uncertain"))

with tab_unit:
    if unit:
        row = units[units["adcode"].astype(str) == unit].iloc[0]
        c1, c2, c3 = st.columns(3)
        c1.metric(tx("unit"), row["name"])
        c2.metric(tx("pop_census") if popgrid else tx("pop"), f"{int(row['population']):,}")
        if cov is not None:
            c3.metric(tx("area_share"), f"{cov.area_share:.1%}")
            if cov.population_covered is not None:
                c3.metric(tx("pop_cov"), f"{cov.population_covered:,.0f}")
            if popgrid is None or cov.population_model == "census_uniform":
                st.caption(tx("assume"))
            else:
                st.caption(tx("assume_grid", model=cov.population_model, source=popgrid.source))
            for note in cov.notes:
                st.warning(f"{tx('pop_fallback')}: {note}")
            summary_cols = ["covered_km2", "gaps", "largest_gap_km2", "minutes_p50", "minutes_p90",
                            "population", "population_covered_pct", "population_model"]  # fmt: skip
            st.dataframe(localise_columns(cov.summary[summary_cols], lang), hide_index=True)
        st.subheader(tx("fac"))
        places = attribute_display(_inside(unit), layer_names=names_by_id, lang=lang)
        st.dataframe(localise_columns(places, lang), hide_index=True)
    elif cov is None:
        st.info(tx("no_cov"))

with tab_dash:
    if tab_dash.open:
        st.subheader(tx("ind"))
        indicators = indicator_display(_indicators(), lang)
        st.dataframe(localise_columns(indicators, lang), hide_index=True)
        st.subheader(tx("scale"))
        st.dataframe(localise_columns(display_cells(_zone_scale()), lang), hide_index=True)

# The coverage on the map: the scenario's "after" when there is a scenario.
shown_cov = None if cov is None else (scenario.after.reach.geometry if scenario else cov.reach)
with tab_dl:
    # The layers the page opened with (the link's). Toggles in the map stay in the browser and
    # reach the server only when the link is opened again; the caption says so and lists them.
    # Files are made when clicked (callables): a rerun stores no megabytes.
    dl_ids = list(state.layers)
    st.caption(tx("dl_layers", n=len(dl_ids), names="、".join(names_by_id[k] for k in dl_ids)))
    st.download_button(
        tx("dl_geojson"), lambda: _exports(tuple(dl_ids))[0], "layers.geojson",
        "application/geo+json", key="dl_geojson", on_click="ignore",
    )  # fmt: skip
    if any(len(layers[k]) for k in dl_ids):
        st.download_button(
            tx("dl_gpkg"), lambda: _exports(tuple(dl_ids))[1], "layers.gpkg",
            "application/geopackage+sqlite3", key="dl_gpkg", on_click="ignore",
        )  # fmt: skip

    def _offline_html() -> bytes:
        full = build_map(
            layers, manifest, visible=dl_ids, basemap=basemap,
            tianditu_key=tianditu_key, highlight_unit=unit or None, units=units,
            coverage=shown_cov, lang=lang, data=_map_data(lang, basemap in GCJ02_BASEMAPS),
        )  # fmt: skip
        return map_to_offline_html(full).encode("utf-8")

    st.download_button(
        tx("dl_html"), _offline_html, "map.html", "text/html", key="dl_html", on_click="ignore"
    )
    if cov is not None and unit:
        own_problems = ss["own"].problems if use_own else None
        result = scenario.after if scenario is not None else None

        def _report(fmt: str) -> bytes:
            with population_fallbacks():  # shown with the coverage above
                res = result or run_scenario(
                    fac, units, unit, mode=mode, minutes=minutes, speed_kmh=speed,
                    population=pop_grid, sources=pop_sources,
                ).before  # fmt: skip
            files = report_files(
                res, units=find_unit(units, unit), scenario=scenario, problems=own_problems
            )
            return files[fmt]

        xlsx_mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        for fmt, label, name, mime in (
            ("xlsx", "dl_xlsx", "coverage.xlsx", xlsx_mime),
            ("html", "dl_report_html", "coverage_report.html", "text/html"),
            ("geojson", "dl_cov_geojson", "coverage_reach.geojson", "application/geo+json"),
        ):
            st.download_button(
                tx(label), lambda fmt=fmt: _report(fmt), name, mime, key=f"dl_report_{fmt}",
                on_click="ignore",
            )  # fmt: skip
    # The address bar is the share link: the map client keeps its layers and view current there,
    # which the server only learns on reload (a link text built here would list stale layers).
    # Plain text, not st.code: st.code loads Streamlit's syntax highlighter on every page, which
    # held back the first map by 0.2-1 s (benchmarks/bench_webmap.py, README).
    st.caption(tx("share"))
    if unit:
        from geo.printing.printmap import print_map

        st.subheader(tx("print"))
        size = st.selectbox(tx("size"), ["A4", "A3"], key="size")
        orients = dict(zip(("landscape", "portrait"), tx("orients").split("|"), strict=True))
        orient = keep("orient", st.selectbox(
            tx("orient"), list(orients), key=lkey("orient"), format_func=orients.get
        ))  # fmt: skip
        cov_tag = (
            mode, float(minutes), float(speed), tuple(cov_layers), goals,
            ss.get("own_tag") if use_own else None, tuple(ss["clicks"]), tuple(ss.get("close", [])),
        )  # fmt: skip
        pdf_key = (unit, size, orient, cov_tag if cov is not None else None)
        if st.button(tx("make_pdf"), key="make_pdf"):
            with tempfile.TemporaryDirectory() as tmp:
                printed = print_map(
                    unit, size=size, orientation=orient, out_dir=tmp, formats=("pdf",),
                    coverage=gpd.GeoDataFrame(geometry=shown_cov) if cov is not None else None,
                )  # fmt: skip
                ss["pdfs"] = {pdf_key: Path(printed.paths["pdf"]).read_bytes()}
        if pdf_key in ss["pdfs"]:
            st.caption(tx("pdf_for") + f"{names[unit]} · {size} · {orients[orient]}")
            st.download_button(
                tx("dl_pdf"), ss["pdfs"][pdf_key], f"{unit}_{size}_{orient}.pdf",
                "application/pdf", key="dl_pdf",
            )  # fmt: skip
