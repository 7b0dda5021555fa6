"""Interface text of the web page in Chinese and English: labels, table headers, error messages.

Every string the page shows comes from here, so the Chinese page shows no English column ids
(``covered_km2``) and the English page no Chinese labels.

Examples
--------
>>> import pandas as pd
>>> list(localise_columns(pd.DataFrame(columns=["covered_km2", "minutes_p50"]), "zh").columns)
['覆盖面积 (km²)', '到最近设施时间中位数 (分钟)']
>>> text("area_share", "en")
'Area covered'
"""

from __future__ import annotations

import re

import pandas as pd

from geo.errors import CRSError, GeoDataError

__all__ = [
    "COLUMN_LABELS",
    "LANGS",
    "PRECISION_LABELS",
    "TEXT",
    "column_label",
    "error_text",
    "lang_index",
    "localise_columns",
    "problem_text",
    "text",
]

#: Languages of the page.
LANGS: tuple[str, ...] = ("zh", "en")

#: Interface strings: key -> (Chinese, English).
TEXT: dict[str, tuple[str, str]] = {
    "title": ("湖南大健康产业空间布局", "Hunan health-industry layout"),
    "layers": ("图层", "Layers"),
    "basemap": ("底图", "Basemap"),
    "search": ("搜索地名", "Search places"),
    "search_ph": ("输入名称片段，如 湘雅", "part of a name, e.g. 湘雅"),
    "no_hit": ("未找到", "No match"),
    "unit": ("区县", "District/county"),
    "none": ("（无）", "(none)"),
    "cov": ("15分钟覆盖", "15-minute coverage"),
    "cov_layers": ("设施图层", "Facility layers"),
    "goals_as_fac": (
        "把目标/筹备点（创建目标、筹备）当作设施",
        "Count goal/placeholder points (创建目标, 筹备) as facilities",
    ),
    "mode": ("出行方式", "Mode"),
    "minutes": ("分钟", "Minutes"),
    "speed": ("速度 (km/h)", "Speed (km/h)"),
    "map": ("地图", "Map"),
    "table": ("属性表", "Attribute table"),
    "own": ("我的设施", "My facilities"),
    "scen": ("情景", "Scenario"),
    "dash": ("仪表盘", "Dashboard"),
    "dl": ("下载", "Downloads"),
    "pop": ("人口", "Population"),
    "fac": ("区内规划地点", "Plan places inside"),
    "area_share": ("面积覆盖率", "Area covered"),
    "pop_cov": ("覆盖人口", "Population covered"),
    "assume": (
        "假设：人口按 2020 年第七次人口普查区县人口在区县面积内均匀分布；覆盖为直线缓冲"
        "（速度×时间，在高斯-克吕格投影坐标系中计算），未考虑路网。",
        "Assumption: census-2020 county population spread uniformly over the county; coverage "
        "is a straight-line buffer (speed x time, computed in the Gauss-Kruger CRS), no road "
        "network.",
    ),
    "uncertain": (
        "虚线范围围绕位置为“近似”或“示意”的设施：其覆盖仅供参考。",
        "Dashed areas surround facilities whose position is approximate or schematic: their "
        "coverage is indicative only.",
    ),
    "ind": ("专栏1 主要指标（2022 → 2026）", "Box 1 indicators (2022 → 2026)"),
    "scale": ("各区域规划规模", "Planned scale of zones"),
    "key": ("天地图密钥", "Tianditu key"),
    "dl_layers": (
        "下载包含页面打开时的 {n} 个图层：{names}。在地图中开关图层不会改变下载内容"
        "（开关只在浏览器中进行）；要只下载地图中打开的图层，"
        "请在新标签页中打开地址栏的链接，再从那里下载。",
        "Downloads hold the {n} layers the page opened with: {names}. Switching layers in the map "
        "does not change them (the switch stays in the browser); to download only the layers on "
        "in the map, open the address bar's link in a new tab and download from there.",
    ),
    "dl_geojson": ("下载图层 GeoJSON", "Layers as GeoJSON"),
    "dl_gpkg": ("下载图层 GeoPackage", "Layers as GeoPackage"),
    "dl_html": ("下载当前地图（离线 HTML）", "Current map (offline HTML)"),
    "print": ("打印本区县", "Print this unit"),
    "size": ("纸张", "Paper"),
    "orient": ("方向", "Orientation"),
    "orients": ("横向|纵向", "Landscape|Portrait"),
    "make_pdf": ("生成 PDF", "Make PDF"),
    "dl_pdf": ("下载 PDF", "Download PDF"),
    "pdf_for": ("PDF 对应：", "PDF of: "),
    "share": (
        "分享：复制浏览器地址栏中的链接，它随地图的图层开关、视图与分析设置实时更新。",
        "Share: copy the link in the address bar; it follows the map's layers, view and settings.",
    ),
    "payload": ("地图数据量", "Map data"),
    "hits": ("结果", "Results"),
    "hide_sg": ("隐藏示意点和目标点", "Hide schematic and goal points"),
    "f_layer": ("图层", "Layer"),
    "f_kind": ("类别", "Kind"),
    "f_precision": ("位置精度", "Precision"),
    "f_plan": ("规划", "Plan"),
    "f_county": ("区县", "County"),
    "select_row": ("选中一行，地图即定位到该处。", "Select a row and the map goes there."),
    "attr_kept": (
        "地图上标记的是「{name}」；在表中另选一行可更换。",
        "Marked on the map: {name}; select another row to change it.",
    ),
    "upload": (
        "上传设施文件 (CSV / XLSX / GeoJSON / GPKG)",
        "Facility file (CSV/XLSX/GeoJSON/GPKG)",
    ),
    "datum": ("坐标系（文件中坐标的基准）", "Datum of the coordinates in the file"),
    "upload_ok": (
        "已读入 {n} 个设施；覆盖已绘制在地图上。",
        "{n} facilities read; coverage drawn.",
    ),
    "bad_rows": (
        "未采用的行（行号与 Excel 中一致，表头为第 1 行）",
        "Rows not used (row as in Excel, header = row 1)",
    ),
    "use_own": ("用我的设施计算覆盖", "Use my facilities for coverage"),
    "add_click": ("点击地图添加拟建设施", "Click the map to add a proposed site"),
    "proposed": ("拟建设施", "Proposed sites"),
    "close": ("拟关闭的现有设施", "Existing facilities to close"),
    "clear": ("清除拟建设施", "Clear proposed sites"),
    "before_after": ("各区县覆盖：调整前 / 调整后", "Coverage per unit: before / after"),
    "need_unit_fac": (
        "请先选择区县和设施图层（或上传设施）。",
        "Choose a unit and facility layers (or upload facilities) first.",
    ),
    "dl_xlsx": ("下载报告 XLSX", "Report XLSX"),
    "dl_report_html": ("下载报告 HTML", "Report HTML"),
    "dl_cov_geojson": ("下载覆盖范围 GeoJSON", "Coverage as GeoJSON"),
    "error": ("出错", "Error"),
    "choose": ("请选择", "Choose"),
    "no_cov": ("未计算覆盖：请先选择设施图层。", "No coverage: choose facility layers first."),
    # ---- siting tab (issue 12) ----
    "site": ("选址", "Siting"),
    "site_model": ("模型", "Model"),
    "site_models": (
        "最大覆盖 MCLP|集合覆盖 LSCP|P-中位 p-median",
        "Maximal covering (MCLP)|Set covering (LSCP)|p-median",
    ),
    "site_k": ("新增设施数 k", "New sites k"),
    "site_target": ("目标覆盖率 (%)", "Target share (%)"),
    "site_existing": (
        "保留的现有设施图层（目标点除外）",
        "Existing facility layers held fixed (goal points left out)",
    ),
    "site_grid": ("候选网格间距 (米)", "Candidate grid spacing (m)"),
    "site_solver": ("求解方法", "Solver"),
    "site_solvers": (
        "精确 (HiGHS)|贪心（大区县更快）",
        "Exact (HiGHS)|Greedy (faster for large units)",
    ),
    "site_not_optimal": (
        "求解在时限内未证明最优：结果为当前最好解，可改用贪心或加大网格间距。",
        "The solver hit its time limit before proving the optimum: the best found is shown; "
        "try greedy or a coarser grid.",
    ),
    "site_osm": (
        "道路网络 (可选, OSM PBF/XML): 按道路计算可达, 否则按直线距离",
        "Road network (optional, OSM PBF/XML): reach by road instead of the straight line",
    ),
    "site_run": ("计算选址", "Run siting"),
    "site_stale": (
        "设置已更改：下面仍是上次计算的结果，请点击“计算选址”更新。",
        "Settings changed: the results below are from the last run; click Run siting to update.",
    ),
    "site_running": ("正在求解选址模型…", "Solving the siting model…"),
    "site_need_unit": ("请先在侧栏选择区县。", "Pick a unit in the sidebar first."),
    "site_sites": (
        "拟建新址（地图上以拟建设施显示）",
        "Proposed sites (drawn on the map as proposed)",
    ),
    "site_units": ("选址前 / 选址后", "Before / after"),
    "site_curve": (
        "边际收益曲线：每增加一处新址带来的改善",
        "Marginal-gain curve: what each added site improves",
    ),
    "site_dl_xlsx": ("下载选址报告 XLSX", "Siting report XLSX"),
    "site_dl_html": ("下载选址报告 HTML", "Siting report HTML"),
    "site_dl_geojson": ("下载新址 GeoJSON", "Sites as GeoJSON"),
    "site_clear": ("清除选址结果", "Clear the siting result"),
    # ---- optional population grid (issues 9, 12) ----
    "pop_grid": ("人口网格（可选）", "Population grid (optional)"),
    "pop_upload": (
        "上传人口网格：GeoTIFF（任意坐标系）或 CSV / XLSX 点表（经度、纬度、population），"
        "不超过 {mb} MB",
        "Population grid: GeoTIFF (any CRS) or CSV/XLSX points (lon, lat, population), "
        "up to {mb} MB",
    ),
    "pop_datum": (
        "点表坐标的基准（GeoTIFF、GeoJSON、GPKG 用文件自带坐标系）",
        "Datum of a points table (GeoTIFF, GeoJSON, GPKG use their own CRS)",
    ),
    "pop_ok": (
        "已读入人口网格（{model}）：{cells} 个有人口的格网/点，共 {total} 人。"
        "覆盖、情景和选址均按它计算。",
        "Population grid read ({model}): {cells} cells/points with people, {total} people. "
        "Coverage, scenario and siting use it.",
    ),
    "pop_none": (
        "未上传人口网格：人口按 2020 年普查区县人口在面积内均匀分布（census_uniform，粗略）。",
        "No population grid: census-2020 county population spread evenly over the area "
        "(census_uniform, coarse).",
    ),
    "pop_fallback": (
        "人口网格在该区县内没有格网，已改用普查人口按面积均匀分布（census_uniform，粗略）",
        "The population grid has no cells in this unit: census spread by area used instead "
        "(census_uniform, coarse)",
    ),
    "pop_census": ("普查人口（2020）", "Census population (2020)"),
    "pop_reading": ("正在读取人口网格…", "Reading the population grid…"),
    "assume_grid": (
        "假设：人口来自上传的人口网格（人口模型 {model}：{source}），"
        "格网中心在覆盖范围内即计为覆盖；"
        "覆盖为直线缓冲（速度×时间，在高斯-克吕格投影坐标系中计算），未考虑路网。",
        "Assumption: population from the uploaded grid (population model {model}: {source}); a "
        "cell counts as covered when its centre is within reach; coverage is a straight-line "
        "buffer (speed x time, computed in the Gauss-Kruger CRS), no road network.",
    ),
}

#: Table headers: column id -> (Chinese, English).
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "unit_id": ("区县代码", "Unit code"),
    "id": ("编号", "Id"),
    "schematic": ("示意位置", "Schematic"),
    "name": ("名称", "Name"),
    "area_km2": ("面积 (km²)", "Area (km²)"),
    "covered_km2": ("覆盖面积 (km²)", "Covered area (km²)"),
    "covered_pct": ("面积覆盖率 (%)", "Area covered (%)"),
    "population": ("人口", "Population"),
    "population_covered": ("覆盖人口", "Population covered"),
    "population_covered_pct": ("人口覆盖率 (%)", "Population covered (%)"),
    "facilities": ("设施数", "Facilities"),
    "facilities_per_10k": ("每万人设施数", "Facilities per 10,000 people"),
    "facilities_approximate": ("其中位置近似", "of which approximate positions"),
    "facilities_schematic": ("其中示意位置", "of which schematic positions"),
    "gaps": ("未覆盖片区数", "Uncovered patches"),
    "largest_gap_km2": ("最大未覆盖片区 (km²)", "Largest uncovered patch (km²)"),
    "minutes_mean": ("到最近设施平均时间 (分钟)", "Mean minutes to nearest facility"),
    "minutes_p50": ("到最近设施时间中位数 (分钟)", "Median minutes to nearest facility"),
    "minutes_p90": ("到最近设施时间 90 分位 (分钟)", "90th percentile minutes to nearest"),
    "layer": ("图层", "Layer"),
    "role": ("角色", "Role"),
    "kind": ("类别", "Kind"),
    "precision": ("位置精度", "Precision"),
    "plan": ("规划", "Plan"),
    "county": ("区县", "County"),
    "section": ("章节", "Section"),
    "quote": ("原文", "Quote"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
    "label": ("指标", "Indicator"),
    "unit": ("单位", "Unit"),
    "baseline_year": ("基期年份", "Baseline year"),
    "baseline": ("基期值", "Baseline"),
    "year": ("目标年份", "Target year"),
    "target": ("目标值", "Target"),
    "value": ("数值", "Value"),
    "change": ("变化", "Change"),
    "plan_title": ("规划名称", "Plan"),
    "row": ("行号 (Excel)", "Row (Excel)"),
    "field": ("字段", "Field"),
    "problem": ("问题", "Problem"),
    "file": ("文件", "File"),
    "covered_pct_before": ("调整前面积覆盖率 (%)", "Area covered before (%)"),
    "covered_pct_after": ("调整后面积覆盖率 (%)", "Area covered after (%)"),
    "covered_pct_change": ("面积覆盖率变化 (百分点)", "Change of area covered (points)"),
    "population_covered_before": ("调整前覆盖人口", "Population covered before"),
    "population_covered_after": ("调整后覆盖人口", "Population covered after"),
    "population_covered_change": ("覆盖人口变化", "Change of population covered"),
    "population_covered_pct_before": ("调整前人口覆盖率 (%)", "Population covered before (%)"),
    "population_covered_pct_after": ("调整后人口覆盖率 (%)", "Population covered after (%)"),
    "population_covered_pct_change": (
        "人口覆盖率变化 (百分点)",
        "Change of population covered (points)",
    ),
    "facilities_before": ("调整前设施数", "Facilities before"),
    "facilities_after": ("调整后设施数", "Facilities after"),
    "facilities_change": ("设施数变化", "Change of facilities"),
    "population_model": ("人口模型", "Population model"),
}

#: Position precision classes (:data:`geo.settings.PRECISION_CLASSES`) -> (Chinese, English).
PRECISION_LABELS: dict[str, tuple[str, str]] = {
    "surveyed": ("实测", "surveyed"),
    "geocoded": ("地理编码", "geocoded"),
    "approximate": ("近似位置", "approximate"),
    "schematic": ("示意", "schematic"),
    "user": ("用户提供", "user-supplied"),
}

_ERROR_HEAD = {
    "InputError": ("输入有误", "Input cannot be used"),
    "GeoDataError": ("数据文件有误", "Data file problem"),
    "CRSError": ("坐标系有误", "Coordinate system problem"),
    "ValueError": ("数值有误", "Invalid value"),
}


def lang_index(lang: str) -> int:
    """Position of ``lang`` in the (Chinese, English) label pairs; other values raise."""
    if lang not in LANGS:
        msg = f"unknown language {lang!r}: use 'zh' or 'en'"
        raise ValueError(msg)
    return LANGS.index(lang)


def text(key: str, lang: str, **values: object) -> str:
    """Return an interface string in ``lang``, formatted with ``values``.

    Parameters
    ----------
    key : str
        A key of :data:`TEXT`.
    lang : str
        ``"zh"`` or ``"en"``.
    **values
        Placeholders of the string.

    Returns
    -------
    str

    Raises
    ------
    KeyError
        For an unknown key.
    ValueError
        For an unknown language.
    """
    s = TEXT[key][lang_index(lang)]
    return s.format(**values) if values else s


def column_label(column: str, lang: str) -> str:
    """Header of a column id in ``lang`` (the id itself when it has no label).

    Parameters
    ----------
    column : str
        Column id such as ``covered_km2``.
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
    """
    pair = COLUMN_LABELS.get(column)
    return pair[lang_index(lang)] if pair else column


def localise_columns(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Copy of ``frame`` with headers in ``lang`` (ids without a label are kept).

    Parameters
    ----------
    frame : DataFrame
        Table with column ids.
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    DataFrame
    """
    return frame.rename(columns={c: column_label(str(c), lang) for c in frame.columns})


def error_text(exc: Exception, lang: str) -> str:
    """Describe an error for the page: heading in ``lang``, location, and the detail.

    The detail is the library's own message (English, naming the value received), so nothing
    is lost; the heading and location are in the page language.

    Parameters
    ----------
    exc : Exception
        Usually a :class:`~geo.errors.GeoDataError` or :class:`~geo.errors.CRSError`.
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str

    Examples
    --------
    >>> from geo.errors import InputError
    >>> error_text(InputError("must be a number", file="a.csv", row=3, field="lon"), "zh")
    '输入有误（文件 a.csv，第 3 行，字段 lon）：must be a number'
    """
    i = lang_index(lang)
    name = next(
        (c.__name__ for c in type(exc).__mro__ if c.__name__ in _ERROR_HEAD),
        "ValueError",
    )
    head = _ERROR_HEAD[name][i]
    where: list[str] = []
    detail = str(exc)
    if isinstance(exc, GeoDataError):
        detail = exc.detail
        if exc.file:
            where.append(f"文件 {exc.file}" if i == 0 else f"file {exc.file}")
        if exc.row is not None:
            where.append(f"第 {exc.row} 行" if i == 0 else f"row {exc.row}")
        if exc.field:
            where.append(f"字段 {exc.field}" if i == 0 else f"field {exc.field}")
    elif not isinstance(exc, CRSError | ValueError):
        detail = f"{type(exc).__name__}: {exc}"
    if where:
        sep = "，" if i == 0 else ", "
        head += f"（{sep.join(where)}）" if i == 0 else f" ({sep.join(where)})"
    return f"{head}：{detail}" if i == 0 else f"{head}: {detail}"


#: Chinese wording of the row problems :mod:`geo.analysis.facilities` reports (regex on the
#: English text -> replacement); the English text stays the library's own.
_PROBLEMS_ZH: tuple[tuple[str, str], ...] = (
    (r"^missing coordinate$", "缺少坐标"),
    (
        r"^not a number \(decimal comma.*",
        "不是数字（逗号分隔的文件中用了小数逗号：请改用小数点，或把 CSV 另存为分号分隔）",
    ),
    (r"^not a number$", "不是数字"),
    (
        r"^longitude and latitude look swapped.*",
        "经纬度疑似颠倒（湖南约为东经 109–114°、北纬 25–30°）：请交换两列",
    ),
    (
        r"^not longitude/latitude degrees.*",
        "不是经纬度（可能是投影坐标，单位米）：请注明文件的 EPSG 代码，如 EPSG:4547",
    ),
    (r"^outside Hunan province.*", "不在湖南省内：请检查坐标和所选坐标系"),
    (r"^a Point geometry is expected$", "应为点要素"),
    (r"^missing id$", "缺少编号"),
    (r"^duplicate id \(first used on row (\d+)\)$", r"编号重复（第 \1 行已用过）"),
    (r"^capacity must be a number >= 0$", "容量须为不小于 0 的数字"),
)


def problem_text(problem: str, lang: str) -> str:
    """Word a facility-row problem in the page language (unknown texts stay unchanged).

    Examples
    --------
    >>> problem_text("not a number", "zh")
    '不是数字'
    >>> problem_text("duplicate id (first used on row 4)", "zh")
    '编号重复（第 4 行已用过）'
    >>> problem_text("not a number", "en")
    'not a number'
    """
    if lang_index(lang) == 1:
        return problem
    for pattern, zh in _PROBLEMS_ZH:
        if re.match(pattern, problem):
            return re.sub(pattern, zh, problem)
    return problem
