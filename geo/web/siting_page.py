"""The browser's siting tab, without Streamlit: run parameters -> result -> map and tables.

The page (``app.py``) only draws widgets; this module runs
:func:`geo.analysis.siting_run.site_units` for one unit, turns the
:class:`~geo.analysis.siting_plan.SitingResult` into the new sites to draw, display tables with
Chinese or English headers, and the report files as bytes (written by
:func:`geo.analysis.siting_report.write_siting_reports` into a temporary folder).

Examples
--------
>>> default_existing_layers("430102", ["cs_medical", "yz_network"])
['cs_medical']
>>> default_existing_layers("431102", ["cs_medical", "yz_network"])
['yz_network']
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.analysis.coverage import reach_for
from geo.analysis.facilities import facilities_from_layers
from geo.analysis.network import RoadNetwork, read_network
from geo.analysis.population import PopulationGrid
from geo.analysis.siting_demand import CENSUS_MODEL, POINTS_MODEL, RASTER_MODEL
from geo.analysis.siting_plan import SitingResult
from geo.analysis.siting_report import write_siting_reports
from geo.analysis.siting_run import site_units
from geo.errors import InputError
from geo.web.i18n import lang_index
from geo.web.search import find_unit

__all__ = [
    "REPORT_FILES",
    "curve_chart",
    "curve_table",
    "default_existing_layers",
    "method_caption",
    "network_from_upload",
    "new_sites",
    "population_caption",
    "reach_radius_m",
    "report_bytes",
    "run_unit_siting",
    "sites_table",
    "units_table",
]

#: Plan facility layers held fixed by default, by the city (adcode prefix) of the unit.
_DEFAULT_LAYERS = {"4301": "cs_medical", "4311": "yz_network"}

#: Report format -> (file name offered, MIME type).
REPORT_FILES: dict[str, tuple[str, str]] = {
    "xlsx": (
        "siting.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "html": ("siting_report.html", "text/html"),
    "geojson": ("siting_sites.geojson", "application/geo+json"),
}

_SITE_LABELS = {
    "rank": ("序号", "Rank"),
    "name": ("名称", "Name"),
    "gain": ("按序加入时新增", "Gain when added in rank order"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
}
_UNIT_LABELS = {
    "name": ("名称", "Unit"),
    "population": ("人口", "Population"),
    "share_before_pct": ("选址前覆盖率 (%)", "Covered before (%)"),
    "share_after_pct": ("选址后覆盖率 (%)", "Covered after (%)"),
    "covered_before": ("选址前覆盖人口", "People covered before"),
    "covered_after": ("选址后覆盖人口", "People covered after"),
    "mean_minutes_before": ("选址前平均时间 (分钟)", "Mean minutes before"),
    "mean_minutes_after": ("选址后平均时间 (分钟)", "Mean minutes after"),
    "target_met": ("达到目标", "Target met"),
    "population_model": ("人口模型", "Population model"),
}
#: Curve labels when each k is solved exactly (not nested: k-site optimum vs (k-1)-site one).
_CURVE_LABELS = {
    "k": ("新增设施数", "New sites (k)"),
    "gain": ("第k个新址新增 (最优k − 最优k−1)", "Added by the k-th site (optimum k − k−1)"),
    "objective": ("k个新址的最优值", "Optimum with k new sites"),
}
#: Curve labels when the curve follows one sequence (greedy order, LSCP's chosen sites).
_CURVE_LABELS_NESTED = {
    "k": ("新增设施数", "New sites (k)"),
    "gain": ("第k个新址新增", "Added by the k-th site"),
    "objective": ("前k个新址的目标值", "Objective with the first k sites"),
}


#: p-median's gains and objective are population-weighted minutes, not people covered.
_PMEDIAN_LABELS = {
    "gain": ("按序加入时减少的人口加权分钟", "Person-minutes saved when added in rank order"),
    "curve_gain": ("第k个新址减少的人口加权分钟", "Person-minutes saved by the k-th site"),
    "objective": ("k个新址时的人口加权总分钟", "Person-minutes with k new sites"),
}


def default_existing_layers(unit: str, point_layers: list[str]) -> list[str]:
    """Plan facility layers held fixed by default for a unit (its city's network), if any.

    Parameters
    ----------
    unit : str
        Unit adcode (county or city).
    point_layers : list of str
        Point layer ids on offer.

    Returns
    -------
    list of str
        ``["cs_medical"]`` for Changsha units, ``["yz_network"]`` for Yongzhou units, else empty.
    """
    lid = _DEFAULT_LAYERS.get(str(unit)[:4])
    return [lid] if lid in point_layers else []


def run_unit_siting(
    units: gpd.GeoDataFrame,
    unit: str,
    *,
    model: str,
    k: int,
    target: float | None,
    mode: str,
    minutes: float,
    speed_kmh: float | None,
    existing_layers: tuple[str, ...] = (),
    grid_spacing_m: float = 1000.0,
    existing: gpd.GeoDataFrame | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    solver: str = "exact",
    time_limit: float = 30.0,
    osm: tuple[str, bytes] | None = None,
    population: PopulationGrid | gpd.GeoDataFrame | None = None,
    population_source: str | None = None,
) -> SitingResult:
    """Propose sites for one unit, on a candidate grid (or given sites), plan layers held fixed.

    Parameters
    ----------
    units : GeoDataFrame
        All units (``adcode``, ``name``, ``population``).
    unit : str
        Adcode or name of the unit (:func:`geo.web.search.find_unit`).
    model, k, target, mode, minutes, speed_kmh, grid_spacing_m
        As for :func:`geo.analysis.siting_run.site_units`.
    existing_layers : tuple of str
        Plan point layers whose facilities are held fixed (goal points are left out).
    existing : GeoDataFrame, optional
        Facilities to hold fixed instead of the layers (tests, uploads).
    candidates : GeoDataFrame, optional
        Candidate sites (``id``, ``name``) used instead of the grid.
    solver : str
        ``"exact"`` (HiGHS) or ``"greedy"`` (fast, for large units).
    time_limit : float
        Seconds per MILP; the page keeps it short (status says when it was hit).
    osm : (str, bytes), optional
        An uploaded OSM PBF or XML file (name, content): reach over its roads for ``mode``
        (:func:`network_from_upload`) instead of the straight line.
    population : PopulationGrid or GeoDataFrame, optional
        Demand from a population grid (an upload, :mod:`geo.web.popgrid`); default the census
        spread by area (coarse).
    population_source : str, optional
        Where the grid comes from, for the report's sources.

    Returns
    -------
    SitingResult

    Raises
    ------
    InputError
        For bad parameters or an unusable OSM file (the message names the file).
    """
    one = find_unit(units, unit)
    sources = {"units": f"{', '.join(one['name'].astype(str))} (data/boundaries/counties.geojson)"}
    if existing is None and existing_layers:
        existing = facilities_from_layers(list(existing_layers))
        sources["existing"] = f"plan layers {', '.join(existing_layers)} (layers/*.geojson)"
    network = None
    if osm is not None:
        network = network_from_upload(osm[0], osm[1], mode=mode)
        sources["roads"] = f"OpenStreetMap extract {network.source} (uploaded)"
    if population is not None and population_source:
        sources["population"] = population_source
    return site_units(
        one,
        model=model,
        k=k,
        mode=mode,
        minutes=minutes,
        speed_kmh=speed_kmh,
        target=target if model == "lscp" else None,  # the page asks a target for LSCP only
        existing=existing,
        candidates=candidates,
        candidate_source="grid" if candidates is None else "user",
        grid_spacing_m=grid_spacing_m,
        solver=solver,
        time_limit=time_limit,
        sources=sources,
        network=network,
        population=population,
    )


def network_from_upload(name: str, data: bytes, *, mode: str) -> RoadNetwork:
    """Read an uploaded OSM PBF or XML file for ``mode`` (written to a temporary folder).

    Parameters
    ----------
    name : str
        The uploaded file's name (its ending picks the reader; errors name it).
    data : bytes
        The file content.
    mode : str
        ``walk``, ``bike`` or ``drive`` (the road filter and graph type).

    Returns
    -------
    RoadNetwork

    Raises
    ------
    InputError
        For an empty, unreadable or road-less file.
    """
    safe = Path(str(name)).name or "upload.osm.pbf"
    if not data:
        msg = "the uploaded OSM file is empty"
        raise InputError(msg, file=safe, field="osm")
    with tempfile.TemporaryDirectory(prefix="siting-osm-") as tmp:
        path = Path(tmp) / safe
        path.write_bytes(data)
        return read_network(path, mode=mode)


def new_sites(result: SitingResult) -> gpd.GeoDataFrame:
    """Return the proposed (new) sites as WGS-84 points named ``#rank +gain``, for the map.

    Parameters
    ----------
    result : SitingResult

    Returns
    -------
    GeoDataFrame
        One row per new site in rank order; existing facilities are not included.
    """
    new = result.sites[result.sites["role"] == "new"].sort_values("rank")
    label = [f"#{int(r)} +{g:,.0f}" for r, g in zip(new["rank"], new["gain"], strict=True)]
    return gpd.GeoDataFrame(
        {"name": label, "rank": new["rank"].to_numpy(), "gain": new["gain"].to_numpy()},
        geometry=new.geometry.to_numpy(),
        crs=result.sites.crs,
    ).to_crs("EPSG:4326")


def _labelled(frame: pd.DataFrame, labels: dict[str, tuple[str, str]], lang: str) -> pd.DataFrame:
    i = lang_index(lang)
    cols = [c for c in labels if c in frame.columns]
    return frame[cols].rename(columns={c: labels[c][i] for c in cols}).reset_index(drop=True)


def sites_table(result: SitingResult, lang: str) -> pd.DataFrame:
    """Tabulate the new sites: rank, name, gain (rounded), lon/lat (WGS-84).

    The gain is what the site adds when the chosen sites are added one by one in rank order
    (people newly covered; p-median: population-weighted minutes saved); the gains sum to the
    final improvement.

    Parameters
    ----------
    result : SitingResult
    lang : str
        ``"zh"`` or ``"en"`` headers.

    Returns
    -------
    DataFrame
    """
    new = new_sites(result)
    frame = pd.DataFrame(
        {
            "rank": new["rank"].astype(int).to_numpy(),
            "name": result.sites.loc[result.sites["role"] == "new"]
            .sort_values("rank")["name"]
            .to_numpy(),
            "gain": new["gain"].round(0).to_numpy(),
            "lon": new.geometry.x.round(6).to_numpy(),
            "lat": new.geometry.y.round(6).to_numpy(),
        }
    )
    labels = dict(_SITE_LABELS)
    if result.model == "pmedian":
        labels["gain"] = _PMEDIAN_LABELS["gain"]
    return _labelled(frame, labels, lang)


def units_table(result: SitingResult, lang: str) -> pd.DataFrame:
    """Tabulate the before/after per unit with its population model.

    Parameters
    ----------
    result : SitingResult
    lang : str
        ``"zh"`` or ``"en"`` headers.

    Returns
    -------
    DataFrame
    """
    frame = result.units.copy()
    for col in ("share_before_pct", "share_after_pct", "mean_minutes_before", "mean_minutes_after"):
        if col in frame:
            frame[col] = frame[col].astype(float).round(1)
    for col in ("covered_before", "covered_after", "population"):
        if col in frame:
            frame[col] = frame[col].astype(float).round(0)
    return _labelled(frame, _UNIT_LABELS, lang)


def curve_table(result: SitingResult, lang: str) -> pd.DataFrame:
    """Tabulate the marginal-gain curve: k, what the k-th site adds, the objective at k.

    For an exact MCLP or p-median run the objective is the optimum with k sites, solved for each
    k (so what the k-th site adds can differ from the sites table's gains); otherwise the first
    k sites of one sequence.

    Parameters
    ----------
    result : SitingResult
    lang : str
        ``"zh"`` or ``"en"`` headers.

    Returns
    -------
    DataFrame
        Empty (with headers) when the result has no curve (``curve_k = 0``).
    """
    curve = result.curve
    if curve is None or curve.empty:
        curve = pd.DataFrame(columns=["k", "gain", "objective"])
    labels = dict(_CURVE_LABELS if result.curve_per_k else _CURVE_LABELS_NESTED)
    if result.model == "pmedian":
        labels.update(gain=_PMEDIAN_LABELS["curve_gain"], objective=_PMEDIAN_LABELS["objective"])
    return _labelled(curve.round(1), labels, lang)


def curve_chart(result: SitingResult, lang: str) -> pd.DataFrame:
    """Return what the k-th site adds, indexed by k = 1..K, for the page's bar chart.

    Parameters
    ----------
    result : SitingResult
    lang : str
        ``"zh"`` or ``"en"`` labels.

    Returns
    -------
    DataFrame
        One column (the curve table's "added by the k-th site"), index k; empty without a curve.
    """
    table = curve_table(result, lang)
    return table.set_index(table.columns[0])[[table.columns[1]]].iloc[1:]


def report_bytes(
    result: SitingResult, units: gpd.GeoDataFrame, *, radius_m: float | None
) -> dict[str, bytes]:
    """Return the XLSX and HTML reports and the sites GeoJSON as bytes, for downloads.

    Parameters
    ----------
    result : SitingResult
    units : GeoDataFrame
        Unit outline(s) for the HTML map.
    radius_m : float or None
        Straight-line reach radius drawn around new sites (None: none drawn; a road reach is
        no circle, so network results draw none whatever is given).

    Returns
    -------
    dict
        ``"xlsx"``, ``"html"``, ``"geojson"`` -> file content.
    """
    if result.params.get("reach_kind") == "network":
        radius_m = None
    with tempfile.TemporaryDirectory(prefix="siting-page-") as tmp:
        written = write_siting_reports(
            result, Path(tmp), formats=list(REPORT_FILES), units=units, radius_m=radius_m
        )
        return {fmt: written[fmt].read_bytes() for fmt in REPORT_FILES}


def reach_radius_m(mode: str, minutes: float, speed_kmh: float | None) -> float:
    """Return the straight-line reach in metres (speed x minutes) for the report map.

    Parameters
    ----------
    mode : str
    minutes : float
    speed_kmh : float, optional

    Returns
    -------
    float
    """
    return reach_for(mode, minutes=minutes, speed_kmh=speed_kmh).radius_m


#: Words of the method line under the siting results (the reports keep the full English text).
_METHOD_WORDS = {
    "mclp": ("最大覆盖（MCLP）", "Maximal covering (MCLP)"),
    "lscp": ("集合覆盖（LSCP）", "Set covering (LSCP)"),
    "pmedian": ("P-中位（p-median）", "p-median"),
    "exact": ("精确求解（HiGHS）", "exact (HiGHS)"),
    "greedy": ("贪心算法", "greedy"),
    "optimal": ("已证明最优", "proven optimal"),
    "heuristic": ("启发式解，未证明最优", "heuristic, not proven optimal"),
    "not_optimal": ("时限内未证明最优", "not proven optimal within the time limit"),
    "seconds": ("用时 {s:.1f} 秒", "{s:.1f} s"),
    "line": (
        "直线距离 {r:,.0f} 米（{kmh:g} 公里/小时 × {m:g} 分钟）",
        "straight line {r:,.0f} m ({kmh:g} km/h × {m:g} min)",
    ),
    "network": ("道路网络（OSM）{m:g} 分钟内可达", "by road (OSM) within {m:g} min"),
    "reach": ("可达", "reach"),
    "fixed": ("现有设施 {n} 处保留", "{n} existing facilities held fixed"),
}
_POPULATION_WORDS = {
    RASTER_MODEL: (
        "人口栅格（raster，每格中心为一个需求点）",
        "population raster (raster: a demand point per cell)",
    ),
    POINTS_MODEL: ("人口点（points，每点为一个需求点）", "population points (points: one each)"),
    CENSUS_MODEL: (
        "2020 年普查人口按面积均匀分布（census_uniform，粗略）",
        "census 2020 spread evenly over the area (census_uniform, coarse)",
    ),
    "label": ("人口模型", "Population model"),
    "coarse": (
        "粗略人口下，同一区县内各处新址覆盖的人口大致相同：结果说明需要几处、各增加多少，"
        "但具体位置在同等候选之间近乎任意；要确定建在哪里，请上传人口网格。",
        "With coarse demand every site inside one unit covers about the same population: the "
        "result tells how many sites and how much they add, but their positions are "
        "near-arbitrary among equals; upload a population grid to decide where to build.",
    ),
}


def method_caption(result: SitingResult, lang: str) -> str:
    """Say in one line, in the page's language: model, solver and status, reach, fixed sites.

    Parameters
    ----------
    result : SitingResult
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
    """
    i = lang_index(lang)
    w = {k: v[i] for k, v in _METHOD_WORDS.items()}
    sol, p = result.solution, result.params
    method = w["greedy"] if sol.method.startswith("greedy") else w["exact"]  # "greedy + swaps"
    status = w[sol.status] if sol.status in ("optimal", "heuristic") else w["not_optimal"]
    minutes = float(p["minutes"])
    if p.get("reach_kind") == "network":
        reach = w["network"].format(m=minutes)
    else:
        kmh = float(p["speed_kmh"].split()[0])
        reach = w["line"].format(r=kmh * minutes / 60 * 1000, kmh=kmh, m=minutes)
    comma, colon = ("，", "：") if i == 0 else (", ", ": ")
    n_fixed = int((result.sites["role"] == "existing").sum())
    return " · ".join([
        _METHOD_WORDS[result.model][i],
        comma.join([method, status, w["seconds"].format(s=sol.seconds)]),
        f"{w['reach']}{colon}{reach}",
        w["fixed"].format(n=n_fixed),
    ])  # fmt: skip


def population_caption(result: SitingResult, lang: str) -> str:
    """State the demand's population model in the page's language, with the coarse caveat.

    Parameters
    ----------
    result : SitingResult
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
    """
    i = lang_index(lang)
    semicolon, colon, stop = ("；", "：", "。") if i == 0 else ("; ", ": ", ". ")
    models = dict.fromkeys(result.units["population_model"].astype(str))
    named = semicolon.join(_POPULATION_WORDS.get(m, (m, m))[i] for m in models)
    line = f"{_POPULATION_WORDS['label'][i]}{colon}{named}"
    if result.units["population_coarse"].any():
        line += stop + _POPULATION_WORDS["coarse"][i]
    return line
