"""Printable units (any Hunan county or city, or 一核三圈) and cached page data.

Boundaries, plan layers from the manifest, the river and the plan index.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from geo.data.boundaries import load_cities, load_province, load_units
from geo.data.layers import load_layer, load_manifest
from geo.errors import InputError
from geo.printing.water import main_stem
from geo.settings import DATA_DIR, LAYERS_DIR, MANIFEST_PATH, PLANS_DIR, WGS84

__all__: list[str] = ["YHSQ_AREA", "MapUnit", "resolve_unit", "unit_names"]


YHSQ_AREA: Final[str] = "一核三圈"


@dataclass(frozen=True)
class MapUnit:
    """A printable unit: a county, a whole city or the 一核三圈 area.

    Attributes
    ----------
    name : str
        Display name (``"天心区"``, ``"长沙市"``, ``"一核三圈"``).
    kind : {"county", "city", "area"}
        What it is.
    adcode : str
        Administrative code (empty for the area).
    city : str
        City it belongs to (itself for a city).
    geometry : shapely geometry
        Outline in WGS-84.
    members : GeoDataFrame
        County-level units it consists of or touches (WGS-84).
    """

    name: str
    kind: str
    adcode: str
    city: str
    geometry: BaseGeometry
    members: gpd.GeoDataFrame = field(repr=False)


# --------------------------------------------------------------------------------------------
# data


@functools.cache
def _all_counties() -> gpd.GeoDataFrame:
    return load_units(cities=None)


@functools.cache
def _cities() -> gpd.GeoDataFrame:
    return load_cities()


@functools.cache
def _province() -> gpd.GeoDataFrame:
    return load_province()


def _manifest_key(layers_dir: Path) -> tuple[str, float]:
    path = layers_dir / MANIFEST_PATH.name
    return str(layers_dir), path.stat().st_mtime if path.exists() else 0.0


@functools.cache
def _plan_layers_cached(key: tuple[str, float]) -> tuple[tuple[dict, gpd.GeoDataFrame], ...]:
    layers_dir = Path(key[0])
    if key[1] == 0.0:
        return ()
    manifest = load_manifest(layers_dir / MANIFEST_PATH.name)
    out = []
    for meta in manifest["layers"]:
        if meta.get("group") == "boundaries" or meta.get("kind") not in {
            "points",
            "zones",
            "lines",
        }:
            continue
        if not (layers_dir / f"{meta['id']}.geojson").exists():
            continue
        gdf = load_layer(meta["id"], layers_dir=layers_dir)
        if len(gdf):
            out.append((meta, gdf))
    return tuple(out)


def _plan_layers(layers_dir: Path) -> tuple[tuple[dict, gpd.GeoDataFrame], ...]:
    return _plan_layers_cached(_manifest_key(layers_dir))


def _layer_ids(layers_dir: Path) -> list[str]:
    return [meta["id"] for meta, _ in _plan_layers(layers_dir)]


def _check_layers(layers: Sequence[str] | None, layers_dir: Path) -> frozenset[str] | None:
    if layers is None:
        return None
    known = _layer_ids(layers_dir)
    chosen = [str(v).strip() for v in layers if str(v).strip()]
    bad = [v for v in chosen if v not in known]
    if bad or not chosen:
        msg = f"unknown layer(s) {bad or list(layers)}: choose from {', '.join(known)}"
        raise InputError(msg, field="layers")
    return frozenset(chosen)


@functools.cache
def _river(layers_dir: str) -> gpd.GeoDataFrame:
    path = Path(layers_dir) / "xiangjiang.geojson"
    if not path.exists():
        path = DATA_DIR / "xiangjiang_river_1to4m.geojson"
    gdf = gpd.read_file(path)
    gdf = gdf if gdf.crs is not None else gdf.set_crs(WGS84)
    return gdf.assign(main_stem=main_stem(gdf))


def _river_style(layers_dir: Path) -> dict[str, Any]:
    if (layers_dir / MANIFEST_PATH.name).exists():
        for meta in load_manifest(layers_dir / MANIFEST_PATH.name)["layers"]:
            if meta["id"] == "xiangjiang":
                return {"zh": meta["zh"], **meta["style"]}
    return {"zh": "湘江", "color": "#2e86c1", "weight": 2.5, "opacity": 0.8}


@functools.cache
def _plan_index() -> dict[str, dict[str, str]]:
    path = PLANS_DIR / "index.csv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["key"]: row for row in csv.DictReader(fh)}


def unit_names() -> list[str]:
    """Names :func:`print_map` accepts: every Hunan county and city, and 一核三圈.

    Returns
    -------
    list of str
        The 122 county-level units, the 14 cities and ``"一核三圈"``.
    """
    return [*_all_counties()["name"], *_cities()["name"], YHSQ_AREA]


def _resolve_city(code: str, name: str) -> MapUnit:
    counties = _all_counties()
    members = counties[counties["city_adcode"] == code].reset_index(drop=True)
    row = _cities()[_cities()["adcode"] == code]
    geom = row.geometry.iloc[0] if len(row) else members.union_all()
    return MapUnit(name, "city", code, name, geom, members)


def _resolve_area(layers_dir: Path) -> MapUnit:
    path = layers_dir / "yhsq.geojson"
    if not path.exists():
        msg = f"{YHSQ_AREA} needs the yhsq layer: run `python -m geo build` to create {path}"
        raise InputError(msg, field="unit")
    rings = load_layer("yhsq", layers_dir=layers_dir)
    if rings.empty:
        msg = f"{YHSQ_AREA}: layer yhsq has no features"
        raise InputError(msg, file=str(path), field="unit")
    geom = rings.union_all()
    counties = _all_counties()
    members = counties[counties.intersects(geom)].reset_index(drop=True)
    return MapUnit(YHSQ_AREA, "area", "", "长沙市", geom, members)


def resolve_unit(unit: str, *, layers_dir: Path = LAYERS_DIR) -> MapUnit:
    """Look a unit up by name or adcode.

    Parameters
    ----------
    unit : str
        Any Hunan county-level unit or city, by name or adcode (``"天心区"``, ``"430103"``,
        ``"岳阳楼区"``, ``"长沙市"``, ``"430100"``), or ``"一核三圈"``.
    layers_dir : Path
        Layers folder (the 一核三圈 outline is the union of ``yhsq.geojson``).

    Returns
    -------
    MapUnit

    Raises
    ------
    InputError
        When the unit is unknown (the message lists the valid names), or 一核三圈 is asked for
        before the layers are built.
    """
    text = str(unit).strip()
    cities = _cities()
    city = cities[(cities["name"] == text) | (cities["adcode"] == text)]
    if len(city):
        return _resolve_city(city["adcode"].iloc[0], city["name"].iloc[0])
    if text == YHSQ_AREA:
        return _resolve_area(layers_dir)
    counties = _all_counties()
    match = counties[(counties["name"] == text) | (counties["adcode"] == text)]
    if match.empty:
        valid = "、".join(unit_names())
        msg = (
            f"unknown unit {unit!r}: give a Hunan county or city (name or adcode) or "
            f"{YHSQ_AREA}; valid names: {valid}"
        )
        raise InputError(msg, field="unit")
    row = match.iloc[0]
    return MapUnit(
        row["name"],
        "county",
        row["adcode"],
        row["city"],
        row.geometry,
        match.reset_index(drop=True),
    )
