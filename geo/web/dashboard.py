"""Dashboard tables: the plan's indicator table (专栏1, 2022 -> 2026) and zones' planned scale.

City-wide indicators live in ``layers/indicators.json`` (a list of target dicts with
``baseline``/``baseline_year``); a missing file gives an empty table rather than an error, so the
page still renders while layers are being rebuilt.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.data.layers import parse_targets
from geo.errors import GeoDataError
from geo.settings import LAYERS_DIR

__all__ = [
    "INDICATOR_COLUMNS",
    "PERCENT_UNITS",
    "SCALE_COLUMNS",
    "change_text",
    "display_cells",
    "indicator_display",
    "indicator_table",
    "load_indicators",
    "zone_scale_table",
]

INDICATOR_COLUMNS = [
    "label",
    "unit",
    "baseline_year",
    "baseline",
    "year",
    "target",
    "change_pct",
    "change_pp",
    "section",
    "plan_title",
]
#: Units of indicators that are themselves shares: their change is in percentage points.
PERCENT_UNITS: frozenset[str] = frozenset({"%", "％", "百分比", "percent"})
SCALE_COLUMNS = ["layer", "name", "label", "value", "unit", "year", "area_km2", "section"]


def load_indicators(path: Path = LAYERS_DIR / "indicators.json") -> list[dict[str, Any]]:
    """Read city-wide indicator targets.

    Parameters
    ----------
    path : Path
        JSON list of targets (default ``layers/indicators.json``).

    Returns
    -------
    list of dict
        Empty when the file does not exist.

    Raises
    ------
    GeoDataError
        When the file is not a JSON list.
    """
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        msg = f"not valid JSON ({exc.msg} at line {exc.lineno})"
        raise GeoDataError(msg, file=str(path)) from exc
    if isinstance(data, dict):
        data = data.get("indicators", [])
    if not isinstance(data, list):
        msg = f"expected a list of indicators, got {type(data).__name__}"
        raise GeoDataError(msg, file=str(path))
    return data


def indicator_table(indicators: list[dict[str, Any]]) -> pd.DataFrame:
    """Tabulate indicators with baseline, target and relative change.

    Parameters
    ----------
    indicators : list of dict
        Targets (``label, unit, value, year, baseline, baseline_year, section``).

    Returns
    -------
    DataFrame
        Columns :data:`INDICATOR_COLUMNS`. ``change_pct`` is ``(target/baseline - 1) * 100``
        for counts and amounts; for an indicator that is itself a percentage (unit in
        :data:`PERCENT_UNITS`) it is empty and ``change_pp`` holds ``target - baseline`` in
        percentage points (a relative change of a share is misleading).

    Examples
    --------
    >>> t = indicator_table([{"label": "营收", "unit": "亿元", "value": 5000, "year": 2026,
    ...                       "baseline": 4000, "baseline_year": 2022}])
    >>> float(t.loc[0, "change_pct"])
    25.0
    >>> t = indicator_table([{"label": "占比", "unit": "%", "value": 5.5, "year": 2026,
    ...                       "baseline": 4.85, "baseline_year": 2022}])
    >>> float(t.loc[0, "change_pp"]), t.loc[0, "change_pct"] is None
    (0.65, True)
    """
    rows = []
    for ind in indicators:
        base = ind.get("baseline")
        target = ind.get("value")
        change, points = None, None
        numeric = isinstance(base, (int, float)) and isinstance(target, (int, float))
        if numeric and str(ind.get("unit", "")).strip() in PERCENT_UNITS:
            points = round(target - base, 2)
        elif numeric and base:
            change = round((target / base - 1) * 100, 2)
        rows.append(
            {
                "label": ind.get("label", ind.get("metric", "")),
                "unit": ind.get("unit", ""),
                "baseline_year": ind.get("baseline_year"),
                "baseline": base,
                "year": ind.get("year"),
                "target": target,
                "change_pct": change,
                "change_pp": points,
                "section": ind.get("section", ""),
                "plan_title": ind.get("plan_title", ""),
            }
        )
    return pd.DataFrame(rows, columns=INDICATOR_COLUMNS)


def change_text(change_pct: float | None, change_pp: float | None, lang: str = "zh") -> str:
    """Change as the page shows it: ``+25.4%`` or ``+0.65 个百分点`` / ``+0.65 pp``; ``—`` if none.

    Parameters
    ----------
    change_pct : float or None
        Relative change in percent.
    change_pp : float or None
        Change in percentage points (for indicators that are shares).
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str

    Examples
    --------
    >>> change_text(None, 0.65), change_text(25.44, None, "en"), change_text(None, None)
    ('+0.65 个百分点', '+25.44%', '—')
    """
    if change_pp is not None and not pd.isna(change_pp):
        return f"{change_pp:+g} {'个百分点' if lang == 'zh' else 'pp'}"
    if change_pct is not None and not pd.isna(change_pct):
        return f"{change_pct:+g}%"
    return "—"


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)) or (isinstance(v, str) and not v):
        return "—"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, float):
        return f"{v:,.2f}".rstrip("0").rstrip(".")
    return str(v)


def display_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells as text for display: ``—`` for a missing value (never "None"), ``13`` not ``13.0``.

    Parameters
    ----------
    frame : DataFrame
        Any table.

    Returns
    -------
    DataFrame
        Same shape, every cell a string.

    Examples
    --------
    >>> display_cells(pd.DataFrame({"a": [13.0, None, 2.5]}))["a"].tolist()
    ['13', '—', '2.5']
    """
    return frame.astype(object).apply(lambda col: col.map(_cell))


def indicator_display(table: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Format the indicator table for the dashboard: no empty cell printed as "None".

    Years and values are text (``—`` where the plan states none), and one ``change`` column
    holds :func:`change_text`.

    Parameters
    ----------
    table : DataFrame
        From :func:`indicator_table`.
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    DataFrame
        Columns ``label, unit, baseline_year, baseline, year, target, change, section``.
    """
    cell = _cell
    out = pd.DataFrame(
        {
            "label": table["label"].map(cell),
            "unit": table["unit"].map(cell),
            "baseline_year": table["baseline_year"].map(cell),
            "baseline": table["baseline"].map(cell),
            "year": table["year"].map(cell),
            "target": table["target"].map(cell),
            "change": [
                change_text(a, b, lang)
                for a, b in zip(table["change_pct"], table["change_pp"], strict=True)
            ],
            "section": table["section"].map(cell),
        }
    )
    return out


def zone_scale_table(layers: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Planned-scale figures (targets) of every feature, with zone areas.

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        Plan layers whose features carry ``targets``.

    Returns
    -------
    DataFrame
        Columns :data:`SCALE_COLUMNS`, one row per target.
    """
    rows = []
    for lid, gdf in layers.items():
        if "targets" not in gdf.columns:
            continue
        for _, feat in gdf.iterrows():
            area = feat.get("area_km2")
            for t in parse_targets(feat["targets"]):
                rows.append(
                    {
                        "layer": lid,
                        "name": feat.get("name", ""),
                        "label": t.get("label", t.get("metric", "")),
                        "value": t.get("value"),
                        "unit": t.get("unit", ""),
                        "year": t.get("year"),
                        "area_km2": area,
                        "section": t.get("section", feat.get("section", "")),
                    }
                )
    return pd.DataFrame(rows, columns=SCALE_COLUMNS)
