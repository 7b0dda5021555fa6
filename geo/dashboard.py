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

from geo.errors import GeoDataError
from geo.layers import parse_targets
from geo.settings import LAYERS_DIR

__all__ = [
    "INDICATOR_COLUMNS",
    "SCALE_COLUMNS",
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
    "section",
    "plan_title",
]
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
        Columns :data:`INDICATOR_COLUMNS`; ``change_pct`` is ``(target/baseline - 1) * 100``.

    Examples
    --------
    >>> t = indicator_table([{"label": "营收", "unit": "亿元", "value": 5000, "year": 2026,
    ...                       "baseline": 4000, "baseline_year": 2022}])
    >>> float(t.loc[0, "change_pct"])
    25.0
    """
    rows = []
    for ind in indicators:
        base = ind.get("baseline")
        target = ind.get("value")
        change = None
        if isinstance(base, (int, float)) and isinstance(target, (int, float)) and base:
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
                "section": ind.get("section", ""),
                "plan_title": ind.get("plan_title", ""),
            }
        )
    return pd.DataFrame(rows, columns=INDICATOR_COLUMNS)


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
