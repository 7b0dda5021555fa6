"""Loading the generated layers and their manifest (read-only; see :mod:`geo.data.build`).

Every layer is a GeoJSON FeatureCollection in WGS-84 under ``layers/``.  Point and zone features
share one property schema (see ``docs/DATA_CONTRACT.md`` and :data:`FEATURE_PROPERTIES`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd

from geo.errors import GeoDataError
from geo.settings import LAYERS_DIR, MANIFEST_PATH, WGS84

__all__ = [
    "FEATURE_PROPERTIES",
    "GOAL_KIND",
    "POINT_PROPERTIES",
    "ZONE_PROPERTIES",
    "drop_goals",
    "layer_ids",
    "load_layer",
    "load_layers",
    "load_manifest",
    "parse_targets",
    "plan_layers",
    "point_layers",
]

#: Properties every plan feature (point or zone) carries in the layers.
FEATURE_PROPERTIES: tuple[str, ...] = (
    "id",
    "layer",
    "name",
    "kind",
    "role",
    "county",
    "adcode",
    "precision",
    "schematic",
    "position_basis",
    "plan",
    "plan_title",
    "plan_file",
    "section",
    "quote",
    "targets",
    "attribution",
    "attribution_reason",
)
_CITATION = FEATURE_PROPERTIES[-8:-2]  # plan ... targets
_ATTRIBUTION = FEATURE_PROPERTIES[-2:]  # attribution, attribution_reason
#: Properties of point features, in file order (the source position and datum added).
POINT_PROPERTIES: tuple[str, ...] = (
    *FEATURE_PROPERTIES[:-8],
    "source_datum",
    "source_lon",
    "source_lat",
    *_CITATION,
    *_ATTRIBUTION,
    "dev_zone",
    "other_citations",
)
#: Properties of zone features, in file order (method, anchors and areas added).
ZONE_PROPERTIES: tuple[str, ...] = (
    *FEATURE_PROPERTIES[:-9],
    "method",
    "anchors",
    "industries",
    "area_km2",
    "area_km2_planned",
    "area_km2_schematic",
    "area_note",
    "position_basis",
    *_CITATION,
    *_ATTRIBUTION,
    "dev_zone",
    "other_citations",
)


#: ``kind`` of goal/placeholder points (创建目标, 筹备): not facilities.
GOAL_KIND = "goal"


def drop_goals(gdf: gpd.GeoDataFrame, *, include_goals: bool = False) -> gpd.GeoDataFrame:
    """Return the facilities of a point layer: goal/placeholder points removed unless asked.

    Parameters
    ----------
    gdf : GeoDataFrame
        Plan features (a ``kind`` column; missing means no goals).
    include_goals : bool
        Keep the goal points (the user asked for them).

    Returns
    -------
    GeoDataFrame
        Rows whose ``kind`` is not ``"goal"`` (all rows when ``include_goals``).
    """
    if include_goals or "kind" not in gdf:
        return gdf
    return gdf[gdf["kind"] != GOAL_KIND].reset_index(drop=True)


def load_manifest(path: Path = MANIFEST_PATH) -> dict[str, Any]:
    """Read the layer manifest (groups, layers, styles, counts).

    Parameters
    ----------
    path : Path
        Manifest file (default ``layers/manifest.json``).

    Returns
    -------
    dict
        ``{"groups": [...], "layers": [...]}``; each layer has ``id, file, group, zh, en, kind,
        geometry, count, schematic, style, description_zh, description_en``.

    Raises
    ------
    GeoDataError
        When the manifest is missing or not JSON.
    """
    if not path.exists():
        msg = "layer manifest missing: run `python -m geo build`"
        raise GeoDataError(msg, file=str(path))
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        msg = f"not valid JSON ({exc.msg} at line {exc.lineno})"
        raise GeoDataError(msg, file=str(path)) from exc


def layer_ids(manifest: dict[str, Any] | None = None) -> list[str]:
    """Return the ids of all layers in manifest order."""
    manifest = manifest or load_manifest()
    return [layer["id"] for layer in manifest["layers"]]


def plan_layers(manifest: dict[str, Any] | None = None) -> list[str]:
    """Return the ids of layers made from the plans (not boundaries or rivers)."""
    manifest = manifest or load_manifest()
    return [m["id"] for m in manifest["layers"] if m["kind"] in {"points", "zones"}]


def point_layers(manifest: dict[str, Any] | None = None) -> list[str]:
    """Return the ids of point layers (candidate facility sets for coverage)."""
    manifest = manifest or load_manifest()
    return [m["id"] for m in manifest["layers"] if m["kind"] == "points"]


def parse_targets(value: Any) -> list[dict[str, Any]]:
    """Return a feature's ``targets`` property as a list of dicts.

    GeoJSON readers hand nested properties back either as lists or as JSON strings; both are
    accepted, and a missing value gives an empty list.
    """
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, str):
        return list(json.loads(value))
    return list(value)


def load_layer(layer_id: str, *, layers_dir: Path = LAYERS_DIR) -> gpd.GeoDataFrame:
    """Load one layer as a WGS-84 GeoDataFrame.

    Parameters
    ----------
    layer_id : str
        Layer id as in the manifest (e.g. ``"cs_medical"``).
    layers_dir : Path
        Folder of the layers.

    Returns
    -------
    GeoDataFrame
        With ``targets`` parsed to lists where present.

    Raises
    ------
    GeoDataError
        When the layer file does not exist.
    """
    path = layers_dir / f"{layer_id}.geojson"
    if not path.exists():
        msg = f"no layer {layer_id!r}: run `python -m geo build` or check the id"
        raise GeoDataError(msg, file=str(path))
    gdf = gpd.read_file(path)
    if gdf.crs is None:
        gdf = gdf.set_crs(WGS84)
    if "targets" in gdf:
        gdf["targets"] = gdf["targets"].map(parse_targets)
    if "adcode" in gdf:
        gdf["adcode"] = gdf["adcode"].astype(str)
    return gdf


def load_layers(
    ids: list[str] | None = None, *, layers_dir: Path = LAYERS_DIR
) -> dict[str, gpd.GeoDataFrame]:
    """Load several layers (all in the manifest by default), keyed by id."""
    ids = ids if ids is not None else layer_ids(load_manifest(layers_dir / MANIFEST_PATH.name))
    return {i: load_layer(i, layers_dir=layers_dir) for i in ids}
