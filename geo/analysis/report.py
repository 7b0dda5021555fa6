"""Coverage report outputs: XLSX (several sheets), CSV, GeoJSON/GeoPackage, offline HTML.

Every output states the method, parameters, data sources and date (the ``params`` of a
:class:`~geo.analysis.coverage.CoverageResult`).  The HTML report is one self-contained file: the
map and charts are matplotlib PNGs embedded as base64, no script or network resource, and all
user/data text is HTML-escaped.

Spreadsheet safety: no text cell becomes a formula.  In the XLSX every text cell is stored as a
string (openpyxl would otherwise store ``=...`` as a live formula); in CSV files any text that
starts with ``= + - @``, a tab or a carriage return is prefixed with an apostrophe (the OWASP
rule), column names included.

All files of a run are written into a temporary folder inside the output folder and moved into
place only when every one succeeded; a failed run leaves the previous outputs untouched.  Output
files of an earlier run that this run does not produce (another ``--format``) are removed, so
the folder never mixes two runs.
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Final

import geopandas as gpd
import matplotlib
import pandas as pd

from geo.analysis.coverage import CoverageResult, ScenarioResult
from geo.errors import InputError

__all__ = [
    "FORMATS",
    "OUTPUT_FILES",
    "check_formats",
    "check_out_dir",
    "safe_cell",
    "text_cells_as_strings",
    "write_reports",
]

#: Output formats :func:`write_reports` knows.
FORMATS: tuple[str, ...] = ("xlsx", "csv", "geojson", "gpkg", "html")
#: Every file a run may write, by format.
OUTPUT_FILES: dict[str, tuple[str, ...]] = {
    "xlsx": ("coverage.xlsx",),
    "csv": ("coverage_summary.csv", "coverage_gaps.csv", "coverage_method.csv"),
    "geojson": ("coverage_reach.geojson", "coverage_gaps.geojson"),
    "gpkg": ("coverage.gpkg",),
    "html": ("coverage_report.html",),
}
#: First characters that make a spreadsheet read a cell as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_SUMMARY_LABELS = {
    "unit_id": "区划代码 unit id",
    "name": "名称 name",
    "area_km2": "面积 area (km²)",
    "covered_km2": "覆盖面积 covered (km²)",
    "covered_pct": "面积覆盖率 covered (%)",
    "population": "人口 population",
    "population_covered": "覆盖人口 population covered",
    "population_covered_pct": "人口覆盖率 population covered (%)",
    "facilities": "设施数 facilities",
    "facilities_per_10k": "每万人设施数 per 10,000",
    "facilities_approximate": "其中位置近似 approximate positions",
    "facilities_schematic": "其中示意位置 schematic positions",
    "gaps": "盲区数 gaps",
    "largest_gap_km2": "最大盲区 largest gap (km²)",
    "minutes_mean": "平均时间 mean (min)",
    "minutes_p50": "中位时间 median (min)",
    "minutes_p90": "90%分位 p90 (min)",
}


def check_formats(text: str) -> list[str]:
    """Parse a comma-separated format list.

    Parameters
    ----------
    text : str
        E.g. ``"xlsx,html"``.

    Returns
    -------
    list of str

    Raises
    ------
    InputError
        For an empty list or an unknown format.

    Examples
    --------
    >>> check_formats("xlsx, HTML")
    ['xlsx', 'html']
    """
    wanted = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if not wanted or unknown:
        msg = f"unknown output format(s) {unknown or text!r}: use some of {list(FORMATS)}"
        raise InputError(msg, field="format")
    return wanted


def check_out_dir(path: str | Path) -> Path:
    """Create ``path`` if needed and check it is a writable folder.

    Parameters
    ----------
    path : str or Path
        Output folder.

    Returns
    -------
    Path

    Raises
    ------
    InputError
        When it is a file, cannot be created or is not writable.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        msg = "output path exists and is not a folder"
        raise InputError(msg, file=str(out), field="out")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write_test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        msg = f"output folder is not writable ({exc.strerror or exc})"
        raise InputError(msg, file=str(out), field="out") from exc
    return out


def safe_cell(value: object) -> object:
    """Neutralise text a spreadsheet would run as a formula (OWASP CSV injection rule).

    Parameters
    ----------
    value : object
        A cell value.

    Returns
    -------
    object
        ``value`` unchanged, or text starting with ``= + - @``/tab/CR prefixed with ``'``.

    Examples
    --------
    >>> safe_cell("=1+2"), safe_cell("芙蓉区"), safe_cell(-3.5)
    ("'=1+2", '芙蓉区', -3.5)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Apply :func:`safe_cell` to every text cell and column name (for CSV files)."""
    out = frame.copy()
    out.columns = [safe_cell(str(c)) for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(safe_cell)
    return out


def _to_csv(frame: pd.DataFrame, path: Path) -> None:
    _safe_frame(frame).to_csv(path, index=False, encoding="utf-8-sig")


def text_cells_as_strings(book: object) -> None:
    """Store every cell openpyxl took for a formula as plain text instead.

    Parameters
    ----------
    book : openpyxl.Workbook
        The workbook of a ``pandas.ExcelWriter`` (``writer.book``), before it is saved.
    """
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"


def _params_frame(result: CoverageResult) -> pd.DataFrame:
    return pd.DataFrame(
        {"parameter": list(result.params), "value": [str(v) for v in result.params.values()]}
    )


def _flat(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """Geometry as lon/lat (points) or centroid lon/lat (polygons) columns, for sheets."""
    out = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    if gdf.empty:
        return out
    metric = gdf.estimate_utm_crs()
    pts = gdf.geometry if gdf.geom_type.eq("Point").all() else gdf.to_crs(metric).centroid
    pts = gpd.GeoSeries(pts, crs=pts.crs).to_crs(gdf.crs)
    out["lon"] = pts.x.round(6).to_numpy()
    out["lat"] = pts.y.round(6).to_numpy()
    for col in out.columns:
        if out[col].map(lambda v: isinstance(v, (list, dict))).any():
            out[col] = out[col].astype(str)
        elif _numeric_text(out[col]) and col not in _CODE_COLUMNS:
            out[col] = pd.to_numeric(out[col])
    return out


#: Columns that hold codes (kept as text even when they look like numbers).
_CODE_COLUMNS: Final = frozenset({"id", "unit_id", "adcode", "county", "dev_zone_code"})
_NUMBER: Final = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")


def _numeric_text(column: pd.Series) -> bool:
    """Tell whether every value of a text column is a plain number (as read from a CSV: '1500').

    Values with a leading zero (``"007"``) or other text keep the column as text.
    """
    if not (column.dtype == object or pd.api.types.is_string_dtype(column)):
        return False
    values = column.dropna()
    values = values[values.astype(str).str.strip() != ""]
    return bool(len(values)) and all(
        isinstance(v, str) and _NUMBER.fullmatch(v.strip()) for v in values
    )


def _write_xlsx(
    path: Path,
    result: CoverageResult,
    scenario: ScenarioResult | None,
    problems: pd.DataFrame | None,
    access: pd.DataFrame | None,
) -> None:
    summary = result.summary
    if access is not None:
        summary = summary.merge(access, on="unit_id", how="left")
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        summary.rename(columns=_SUMMARY_LABELS).to_excel(writer, sheet_name="summary", index=False)
        _flat(result.facilities).to_excel(writer, sheet_name="facilities", index=False)
        _flat(result.gaps).to_excel(writer, sheet_name="gaps", index=False)
        result.distribution.to_excel(writer, sheet_name="time_distribution", index=False)
        if scenario is not None:
            scenario.diff.to_excel(writer, sheet_name="scenario", index=False)
        if problems is not None and not problems.empty:
            problems.to_excel(writer, sheet_name="input_problems", index=False)
        _params_frame(result).to_excel(writer, sheet_name="method", index=False)
        text_cells_as_strings(writer.book)


def _png(fig: matplotlib.figure.Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _map_crs(result: CoverageResult, units: gpd.GeoDataFrame | None) -> object:
    """UTM CRS of the first non-empty layer (units, reach, facilities), or None."""
    for frame in (units, result.reach, result.facilities):
        if frame is None or frame.empty:
            continue
        frame = frame[~frame.geometry.is_empty & frame.geometry.notna()]
        if not frame.empty:
            return frame.estimate_utm_crs()
    return None


def _figures(result: CoverageResult, units: gpd.GeoDataFrame | None) -> dict[str, str]:
    matplotlib.use("Agg", force=False)
    from matplotlib import pyplot as plt
    from matplotlib.figure import Figure

    family = None
    try:
        from geo.printing.fonts import register_cjk_font

        family = register_cjk_font()
    except (ImportError, OSError, ModuleNotFoundError):
        family = None
    rc = {"font.family": [family, "DejaVu Sans"]} if family else {}
    images: dict[str, str] = {}
    with plt.rc_context(rc):
        metric = _map_crs(result, units)
        fig = Figure(figsize=(7.5, 6.5))
        ax = fig.subplots()
        if metric is not None:
            if units is not None:
                units.to_crs(metric).boundary.plot(ax=ax, color="#555555", linewidth=0.6)
            reach = result.reach[~result.reach.geometry.is_empty]
            if not reach.empty:
                reach.to_crs(metric).plot(ax=ax, color="#4daf4a", alpha=0.55, linewidth=0)
            if not result.gaps.empty:
                result.gaps.to_crs(metric).plot(ax=ax, color="#e41a1c", alpha=0.35, linewidth=0)
            fac = result.facilities.to_crs(metric)
            fac.plot(ax=ax, color="#08306b", markersize=4 if len(fac) > 200 else 12)
        ax.set_axis_off()
        ax.set_title("覆盖 reach (green) · 盲区 gaps (red) · 设施 facilities (blue)")
        images["map"] = _png(fig)

        fig = Figure(figsize=(7.5, 3.6))
        ax = fig.subplots()
        s = result.summary
        x = range(len(s))
        ax.bar([i - 0.2 for i in x], s["covered_pct"], width=0.4, label="area %")
        ax.bar([i + 0.2 for i in x], s["population_covered_pct"], width=0.4, label="population %")
        ax.set_xticks(list(x), s["name"], rotation=45, ha="right")
        ax.set_ylim(0, 100)
        ax.set_ylabel("covered (%)")
        ax.legend()
        images["bars"] = _png(fig)

        fig = Figure(figsize=(7.5, 3.6))
        ax = fig.subplots()
        dist = result.distribution.copy()
        dist["bin"] = dist.apply(
            lambda r: (
                f"{r.minutes_from:g}-{r.minutes_to:g}"
                if r.minutes_to != float("inf")
                else f">{r.minutes_from:g}"
            ),
            axis=1,
        )
        table = dist.pivot_table(index="name", columns="bin", values="share_pct", sort=False)
        table = table[dist["bin"].drop_duplicates().tolist()]
        table.plot.barh(stacked=True, ax=ax, colormap="RdYlGn_r", width=0.8)
        ax.set_xlabel("share (%) by minutes to the nearest facility")
        ax.set_ylabel("")
        ax.legend(fontsize=7, ncols=4, loc="lower right")
        images["dist"] = _png(fig)
    return images


def _table_html(frame: pd.DataFrame, *, digits: int = 2) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, float) and v.is_integer() and abs(v) >= 1000:
                text = f"{v:,.0f}"  # head counts and other whole numbers
            elif isinstance(v, float):
                text = f"{v:,.{digits}f}"
            else:
                text = str(v)
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _write_html(
    path: Path,
    result: CoverageResult,
    units: gpd.GeoDataFrame | None,
    scenario: ScenarioResult | None,
    problems: pd.DataFrame | None,
    title: str,
) -> None:
    images = _figures(result, units)
    e = html.escape
    params = "".join(
        f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in result.params.items()
    )
    gaps = result.gaps.drop(columns="geometry").head(20)
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>{e(title)}</title><style>body{{font-family:sans-serif;margin:2em;max-width:"
        "1100px}table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{border:1px "
        "solid #bbb;padding:3px 6px;text-align:right}th{background:#eee}img{max-width:100%}"
        "</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>{e(result.params.get('method', ''))}</p>",
        f"<p><b>Population:</b> {e(result.params.get('population_assumption', ''))}</p>",
        f"<p><b>Positions 位置精度:</b> {e(result.params.get('facility_positions', ''))}</p>",
        f"<img alt='coverage map' src='data:image/png;base64,{images['map']}'>",
        "<h2>Per unit 分区统计</h2>",
        _table_html(result.summary.rename(columns=_SUMMARY_LABELS)),
        f"<img alt='coverage by unit' src='data:image/png;base64,{images['bars']}'>",
        f"<img alt='time distribution' src='data:image/png;base64,{images['dist']}'>",
        "<h2>Largest gaps 最大盲区 (top 20)</h2>",
        _table_html(gaps),
    ]
    if scenario is not None:
        parts += ["<h2>Scenario 情景对比</h2>", _table_html(scenario.diff)]
    if problems is not None and not problems.empty:
        parts += ["<h2>Input rows not used 未采用的输入行</h2>", _table_html(problems)]
    parts += [
        "<h2>Method, parameters, sources 方法与参数</h2>",
        f"<table>{params}</table>",
        "</body></html>",
    ]
    path.write_text("\n".join(parts), encoding="utf-8")


def write_reports(
    result: CoverageResult,
    out_dir: str | Path,
    *,
    formats: list[str],
    units: gpd.GeoDataFrame | None = None,
    scenario: ScenarioResult | None = None,
    problems: pd.DataFrame | None = None,
    access: pd.DataFrame | None = None,
    title: str = "15分钟覆盖分析 15-minute coverage",
) -> dict[str, Path]:
    """Write the requested outputs into ``out_dir``.

    Parameters
    ----------
    result : CoverageResult
        Coverage to report (the scenario's ``after`` when a scenario is given).
    out_dir : str or Path
        Writable folder.
    formats : list of str
        Some of :data:`FORMATS`.
    units : GeoDataFrame, optional
        Unit outlines for the map.
    scenario : ScenarioResult, optional
        Adds a before/after sheet and section.
    problems : DataFrame, optional
        Input rows that were not used (file, row, field, problem, value).
    access : DataFrame, optional
        Per-unit accessibility (``unit_id`` + score columns) merged into the summary sheet.
    title : str
        Report title.

    Returns
    -------
    dict
        Format -> path written.

    Raises
    ------
    InputError
        For unknown formats or an unwritable folder.
    """
    formats = check_formats(",".join(formats))
    out = check_out_dir(out_dir)
    staging = Path(tempfile.mkdtemp(prefix=".coverage_run_", dir=out))
    try:
        made = _write_all(staging, result, formats, units, scenario, problems, access, title)
        for fmt in FORMATS:  # files of an earlier run that this run does not produce
            if fmt not in formats:
                for name in OUTPUT_FILES[fmt]:
                    (out / name).unlink(missing_ok=True)
        for path in sorted(staging.iterdir()):
            os.replace(path, out / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {fmt: out / path.name for fmt, path in made.items()}


def _write_all(
    out: Path,
    result: CoverageResult,
    formats: list[str],
    units: gpd.GeoDataFrame | None,
    scenario: ScenarioResult | None,
    problems: pd.DataFrame | None,
    access: pd.DataFrame | None,
    title: str,
) -> dict[str, Path]:
    """Write every requested file into ``out`` (the staging folder)."""
    written: dict[str, Path] = {}
    if "xlsx" in formats:
        written["xlsx"] = out / "coverage.xlsx"
        _write_xlsx(written["xlsx"], result, scenario, problems, access)
    if "csv" in formats:
        written["csv"] = out / "coverage_summary.csv"
        summary = result.summary
        if access is not None:
            summary = summary.merge(access, on="unit_id", how="left")
        _to_csv(summary, written["csv"])
        _to_csv(_flat(result.gaps), out / "coverage_gaps.csv")
        _to_csv(_params_frame(result), out / "coverage_method.csv")
    if "geojson" in formats:
        written["geojson"] = out / "coverage_reach.geojson"
        result.reach.to_file(written["geojson"], driver="GeoJSON")
        result.gaps.to_file(out / "coverage_gaps.geojson", driver="GeoJSON")
    if "gpkg" in formats:
        written["gpkg"] = out / "coverage.gpkg"
        result.reach.to_file(written["gpkg"], layer="reach", driver="GPKG")
        result.gaps.to_file(written["gpkg"], layer="gaps", driver="GPKG")
        fac = result.facilities
        keep = [
            c
            for c in fac.columns
            if c == fac.geometry.name
            or fac[c].dtype != object
            or fac[c].map(lambda v: isinstance(v, str) or v is None).all()
        ]
        fac[keep].to_file(written["gpkg"], layer="facilities", driver="GPKG")
    if "html" in formats:
        written["html"] = out / "coverage_report.html"
        _write_html(written["html"], result, units, scenario, problems, title)
    return written
