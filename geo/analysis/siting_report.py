"""Siting report outputs: XLSX, CSV, GeoJSON and a self-contained HTML page.

Every output carries the chosen sites with their rank and gain, the marginal-gain curve, the
before/after per unit with its population model, and the model, parameters and assumptions.
Files are written into a temporary folder inside the output folder and moved into place only
when all of them succeeded, so a failed run leaves earlier outputs untouched.  Text that a
spreadsheet would read as a formula is stored as a text cell in the XLSX (no apostrophe, as in
the coverage XLSX) and prefixed with an apostrophe in CSV; all text in the HTML is
escaped; the HTML's images are embedded PNGs (no script, no network).
"""

from __future__ import annotations

import base64
import html
import io
import os
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd

from geo.analysis.report import check_out_dir, text_cells_as_strings
from geo.analysis.siting_plan import SitingResult
from geo.errors import InputError

__all__ = ["SITING_FORMATS", "neutralise", "write_siting_reports"]

#: Output formats of :func:`write_siting_reports`.
SITING_FORMATS: tuple[str, ...] = ("xlsx", "csv", "geojson", "html")
_OUTPUT_NAMES = (
    "siting.xlsx",
    "siting_sites.csv",
    "siting_units.csv",
    "siting_curve.csv",
    "siting_method.csv",
    "siting_input_problems.csv",
    "siting_sites.geojson",
    "siting_report.html",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")

_UNIT_LABELS = {
    "unit_id": "区划代码 unit id",
    "name": "名称 name",
    "population": "人口 population",
    "covered_before": "覆盖人口(前) covered before",
    "covered_after": "覆盖人口(后) covered after",
    "share_before_pct": "覆盖率(前) before (%)",
    "share_after_pct": "覆盖率(后) after (%)",
    "target_pct": "目标 target (%)",
    "target_met": "达标 target met",
    "target_reached_at_k": "达标所需新增 reached at k",
    "mean_minutes_before": "平均时间(前) mean min before",
    "mean_minutes_after": "平均时间(后) mean min after",
    "population_model": "人口模型 population model",
    "population_coarse": "粗略人口 coarse (census spread by area)",
    "population_note": "人口说明 population note",
}

#: The sites' gain: what each adds when the chosen sites are added one by one in rank order.
_SITE_LABELS = {"gain": "按序加入时新增 gain when added in rank order to the chosen set"}
#: Gain-curve columns when the curve is solved exactly for each k (not nested).
_CURVE_LABELS_PER_K = {
    "objective": "k个新址的最优值 optimum with k new sites",
    "gain": "第k个新址新增 added by the k-th site (optimum k - optimum k-1)",
}
#: Gain-curve columns when the curve follows one sequence (greedy order, LSCP's chosen sites).
_CURVE_LABELS_NESTED = {
    "objective": "前k个新址的目标值 objective with the first k sites",
    "gain": "第k个新址新增 added by the k-th site",
}


def _curve_frame(result: SitingResult) -> pd.DataFrame:
    """Return the gain curve with columns named for what they are (per-k optimum or nested)."""
    labels = _CURVE_LABELS_PER_K if result.curve_per_k else _CURVE_LABELS_NESTED
    return result.curve.rename(columns=labels)


def neutralise(value: object) -> object:
    """Make text that a spreadsheet would evaluate as a formula inert (leading apostrophe).

    Parameters
    ----------
    value : object
        Any cell value; only strings are changed.

    Returns
    -------
    object

    Examples
    --------
    >>> neutralise("=HYPERLINK(1)"), neutralise("-5 beds"), neutralise("clinic"), neutralise(3)
    ("'=HYPERLINK(1)", "'-5 beds", 'clinic', 3)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _safe(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.columns = [str(neutralise(str(c))) for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    return out


def _flat_sites(sites: gpd.GeoDataFrame) -> pd.DataFrame:
    out = pd.DataFrame(sites.drop(columns=sites.geometry.name))
    out["lon"] = sites.geometry.x.round(6).to_numpy()
    out["lat"] = sites.geometry.y.round(6).to_numpy()
    return out.rename(columns=_SITE_LABELS)


def _geojson_sites(result: SitingResult) -> gpd.GeoDataFrame:
    """Sites with the reach each one was judged by (straight-line or network, and the file)."""
    extra = {"reach": result.params.get("reach_kind", "straight-line")}
    if "network_file" in result.params:
        extra["network_file"] = result.params["network_file"]
        extra["network_direction"] = "resident to facility"
    return result.sites.assign(**extra)


def _params_frame(result: SitingResult) -> pd.DataFrame:
    return pd.DataFrame(
        {"parameter": list(result.params), "value": [str(v) for v in result.params.values()]}
    )


def _write_xlsx(path: Path, result: SitingResult, problems: pd.DataFrame | None) -> None:
    # text cells are stored as text (no formula, no apostrophe), as in the coverage XLSX
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        _flat_sites(result.sites).to_excel(writer, sheet_name="sites", index=False)
        result.units.rename(columns=_UNIT_LABELS).to_excel(writer, sheet_name="units", index=False)
        if not result.curve.empty:
            _curve_frame(result).to_excel(writer, sheet_name="gain_curve", index=False)
        if not result.excluded.empty:
            result.excluded.to_excel(writer, sheet_name="excluded", index=False)
        if problems is not None and not problems.empty:
            problems.to_excel(writer, sheet_name="input_problems", index=False)
        _params_frame(result).to_excel(writer, sheet_name="method", index=False)
        text_cells_as_strings(writer.book)


def _write_csv(folder: Path, result: SitingResult, problems: pd.DataFrame | None) -> Path:
    main = folder / "siting_sites.csv"
    _safe(_flat_sites(result.sites)).to_csv(main, index=False, encoding="utf-8-sig")
    _safe(result.units).to_csv(folder / "siting_units.csv", index=False, encoding="utf-8-sig")
    if not result.curve.empty:
        _safe(_curve_frame(result)).to_csv(
            folder / "siting_curve.csv", index=False, encoding="utf-8-sig"
        )
    if problems is not None and not problems.empty:
        _safe(problems).to_csv(
            folder / "siting_input_problems.csv", index=False, encoding="utf-8-sig"
        )
    _safe(_params_frame(result)).to_csv(
        folder / "siting_method.csv", index=False, encoding="utf-8-sig"
    )
    return main


def _png(fig: matplotlib.figure.Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figures(
    result: SitingResult, units: gpd.GeoDataFrame | None, radius_m: float | None
) -> dict[str, str]:
    matplotlib.use("Agg", force=False)
    from matplotlib import pyplot as plt
    from matplotlib.figure import Figure

    from geo.crs import metric_crs_for

    family = None
    try:
        from geo.printing.fonts import register_cjk_font

        family = register_cjk_font()
    except (ImportError, OSError):
        family = None
    rc = {"font.family": [family, "DejaVu Sans"]} if family else {}
    images: dict[str, str] = {}
    with plt.rc_context(rc):
        sites = result.sites
        crs = metric_crs_for(sites if units is None else units)
        fig = Figure(figsize=(7.5, 6.5))
        ax = fig.subplots()
        if units is not None:
            units.to_crs(crs).boundary.plot(ax=ax, color="#555555", linewidth=0.6)
        old = sites[sites["role"] == "existing"].to_crs(crs)
        new = sites[sites["role"] == "new"].to_crs(crs)
        if radius_m and len(new):
            new.buffer(radius_m).plot(ax=ax, color="#e6550d", alpha=0.25, linewidth=0)
        if len(old):
            old.plot(ax=ax, color="#08306b", markersize=6)
        if len(new):
            new.plot(ax=ax, color="#e6550d", markersize=28, marker="*")
            for rank, geom in zip(new["rank"], new.geometry, strict=True):
                ax.annotate(
                    str(rank),
                    (geom.x, geom.y),
                    fontsize=7,
                    xytext=(3, 3),
                    textcoords="offset points",
                )
        ax.set_axis_off()
        ax.set_title("新增选址 new sites (orange, by rank) · 现有设施 existing (blue)")
        images["map"] = _png(fig)
        if not result.curve.empty:
            fig = Figure(figsize=(7.5, 3.4))
            ax = fig.subplots()
            curve = result.curve
            ax.bar(curve["k"].iloc[1:], curve["gain"].iloc[1:], color="#e6550d")
            ax.set_xlabel("k (new sites)")
            ax.set_ylabel("added by the k-th site")
            per_k = " (optimum k - optimum k-1)" if result.curve_per_k else ""
            ax.set_title(f"边际收益 added by the k-th site{per_k}")
            images["curve"] = _png(fig)
    return images


def _cell(v: object) -> str:
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            return "–"
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.2f}"
    if v is None or v is pd.NA:
        return "–"
    return str(v)


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _write_html(
    path: Path,
    result: SitingResult,
    units: gpd.GeoDataFrame | None,
    radius_m: float | None,
    title: str,
    problems: pd.DataFrame | None = None,
) -> None:
    e = html.escape
    images = _figures(result, units, radius_m)
    new = _flat_sites(result.sites[result.sites["role"] == "new"])
    curve = _curve_frame(result)
    if not curve.empty:
        curve = curve[[c for c in curve.columns if ":" not in c]]
    params = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in result.params.items())
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>{e(title)}</title><style>body{{font-family:sans-serif;margin:2em;max-width:"
        "1100px}table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{border:1px "
        "solid #bbb;padding:3px 6px;text-align:right}th{background:#eee}img{max-width:100%}"
        "</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p><b>Model:</b> {e(result.params.get('model', ''))}</p>",
        f"<p><b>Population model:</b> {e(result.params.get('population_model', ''))}</p>",
        f"<p><b>Reach:</b> {e(result.params.get('reach', ''))}</p>",
        *(
            [f"<p style='color:#a50f15'><b>Caveat:</b> {e(result.params['caveat'])}</p>"]
            if "caveat" in result.params
            else []
        ),
        f"<img alt='map of proposed sites' src='data:image/png;base64,{images['map']}'>",
        "<h2>Proposed sites 建议新增选址</h2>",
        f"<p>{e(result.params.get('gains_by_rank', ''))}</p>",
        _table(new),
        "<h2>Before / after per unit 分区前后对比</h2>",
        _table(result.units.rename(columns=_UNIT_LABELS)),
    ]
    if "curve" in images:
        parts += [
            "<h2>Marginal gain 边际收益曲线</h2>",
            f"<p>{e(result.params.get('gain_curve', ''))}</p>",
            f"<img alt='marginal gain curve' src='data:image/png;base64,{images['curve']}'>",
            _table(curve),
        ]
    if not result.excluded.empty:
        parts += [
            f"<h2>Excluded candidates 排除的候选点 ({len(result.excluded)})</h2>",
            _table(result.excluded.head(50)),
        ]
    if problems is not None and not problems.empty:
        parts += ["<h2>Input rows not used 未采用的输入行</h2>", _table(problems)]
    parts += ["<h2>Method, parameters, sources 方法与参数</h2>", f"<table>{params}</table>"]
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")


def write_siting_reports(
    result: SitingResult,
    out_dir: str | Path,
    *,
    formats: list[str],
    units: gpd.GeoDataFrame | None = None,
    radius_m: float | None = None,
    title: str = "新增设施选址 facility siting",
    problems: pd.DataFrame | None = None,
) -> dict[str, Path]:
    """Write the siting outputs into ``out_dir``, all or nothing.

    Parameters
    ----------
    result : SitingResult
        From :func:`geo.analysis.siting_plan.plan_sites`.
    out_dir : str or Path
        Output folder (created when missing).
    formats : list of str
        Some of :data:`SITING_FORMATS`.
    units : GeoDataFrame, optional
        Unit outlines for the HTML map.
    radius_m : float, optional
        Reach radius drawn around new sites on the map.
    title : str
        Report title.
    problems : DataFrame, optional
        Input rows that were not used (``--skip-bad-rows``: file, row, field, problem, value),
        listed in an ``input_problems`` sheet, ``siting_input_problems.csv`` and the HTML.

    Returns
    -------
    dict
        Format -> main file written.

    Raises
    ------
    InputError
        For an unknown format or an unwritable folder.
    """
    wanted = [f.strip().lower() for f in formats if f.strip()]
    unknown = [f for f in wanted if f not in SITING_FORMATS]
    if not wanted or unknown:
        msg = f"unknown output format(s) {unknown or formats!r}: use some of {list(SITING_FORMATS)}"
        raise InputError(msg, field="format")
    out = check_out_dir(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=".siting-", dir=out))
    try:
        written: dict[str, Path] = {}
        if "xlsx" in wanted:
            written["xlsx"] = tmp / "siting.xlsx"
            _write_xlsx(written["xlsx"], result, problems)
        if "csv" in wanted:
            written["csv"] = _write_csv(tmp, result, problems)
        if "geojson" in wanted:
            written["geojson"] = tmp / "siting_sites.geojson"
            _geojson_sites(result).to_file(written["geojson"], driver="GeoJSON")
        if "html" in wanted:
            written["html"] = tmp / "siting_report.html"
            _write_html(written["html"], result, units, radius_m, title, problems)
        fresh = sorted(tmp.iterdir())
        for item in fresh:
            os.replace(item, out / item.name)
        names = {item.name for item in fresh}
        for stale in _OUTPUT_NAMES:  # a complete set: no file of an earlier run beside it
            if stale not in names and (out / stale).is_file():
                (out / stale).unlink()
        return {fmt: out / p.name for fmt, p in written.items()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
