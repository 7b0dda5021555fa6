"""Checking sources and layers: every problem is collected and reported, none is fatal.

``python -m geo validate`` prints the problems (file, row or feature, field, what is wrong) and
exits non-zero when there is any.  Checks: citations present and verbatim in their plan, points
inside the county they declare, valid geometry, WGS-84 coordinates inside Hunan, manifest counts,
and (optionally) that the committed layers are what the sources build.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape

from geo.data.boundaries import load_units
from geo.data.sources import (
    CATALOGUE_REASONS,
    COMPARATORS,
    load_catalogue,
    load_extra_citations,
    load_places,
    load_plans,
    load_targets,
    load_zones,
)
from geo.errors import GeoDataError
from geo.settings import DATA_DIR, HUNAN_BBOX, LAYERS_DIR, PRECISION_CLASSES

__all__ = [
    "Problem",
    "check_current",
    "check_target",
    "validate_all",
    "validate_layers",
    "validate_sources",
]

_REQUIRED = ("id", "name", "plan", "section", "quote", "precision")
_CRS84 = {"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:EPSG::4326", "EPSG:4326"}


@dataclass(frozen=True)
class Problem:
    """One problem found by validation.

    Parameters
    ----------
    file : str
        File the problem is in.
    where : str
        Row (``row 12``) or feature (``feature cs_xiangya``), or ``""`` for the whole file.
    field : str
        Column or property, or ``""``.
    message : str
        What is wrong.
    """

    file: str
    where: str
    field: str
    message: str

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.where, f"field '{self.field}'" if self.field else "")]
        return f"{', '.join(p for p in parts if p)}: {self.message}"


def _from_error(exc: GeoDataError) -> Problem:
    return Problem(
        exc.file or "",
        f"row {exc.row}" if exc.row is not None else "",
        exc.field or "",
        exc.detail,
    )


def _plan_texts(data_dir: Path) -> dict[str, str]:
    plans = load_plans(data_dir / "plans" / "index.csv")
    return {
        key: (data_dir / "plans" / plans.loc[key, "file"]).read_text(encoding="utf-8")
        for key in plans.index
    }


def _check_quote(quote: Any, plan: Any, texts: dict[str, str]) -> str | None:
    if not isinstance(quote, str) or not quote.strip():
        return "missing quote: copy the plan's sentence that names this place"
    if plan not in texts:
        return f"unknown plan {plan!r}; known: {', '.join(texts)}"
    if quote not in texts[plan]:
        return f"quote is not verbatim in plan {plan!r}: {quote[:40]!r}…"
    return None


def validate_sources(data_dir: Path = DATA_DIR) -> list[Problem]:
    """Check the source tables: readable, quotes verbatim, points inside their county.

    Parameters
    ----------
    data_dir : Path
        Source folder.

    Returns
    -------
    list of Problem
        Empty when everything is right.
    """
    problems: list[Problem] = []
    try:
        texts = _plan_texts(data_dir)
    except GeoDataError as exc:
        return [_from_error(exc)]
    units = load_units(cities=None, path=data_dir / "boundaries" / "counties.geojson")
    by_name = dict(zip(units["name"], units.geometry, strict=True))
    for name, loader in (
        ("places.csv", load_places),
        ("zones.csv", load_zones),
        ("targets.csv", load_targets),
        ("extra_citations.csv", load_extra_citations),
    ):
        path = data_dir / name
        try:
            table = loader(path)
        except GeoDataError as exc:
            problems.append(_from_error(exc))
            continue
        for row, (_, rec) in enumerate(table.iterrows(), start=1):
            message = _check_quote(rec["quote"], rec["plan"], texts)
            if message:
                problems.append(Problem(str(path), f"row {row}", "quote", message))
            for field, msg in _record_checks(name, rec, texts):
                problems.append(Problem(str(path), f"row {row}", field, msg))
            if name == "places.csv" and rec["county"] == "":
                continue
            if name == "places.csv":
                county = by_name.get(rec["county"])
                if county is None:
                    msg = f"unknown county {rec['county']!r}"
                    problems.append(Problem(str(path), f"row {row}", "county", msg))
                elif not county.covers(rec.geometry):
                    msg = (
                        f"point ({rec.geometry.x:.5f}, {rec.geometry.y:.5f}) WGS-84 lies outside "
                        f"{rec['county']}"
                    )
                    problems.append(Problem(str(path), f"row {row}", "lon/lat", msg))
    return problems


def _inside(xy: Any) -> bool:
    lon_min, lat_min, lon_max, lat_max = HUNAN_BBOX
    return bool(
        (xy[:, 0] >= lon_min).all()
        and (xy[:, 0] <= lon_max).all()
        and (xy[:, 1] >= lat_min).all()
        and (xy[:, 1] <= lat_max).all()
    )


def validate_catalogue(data_dir: Path = DATA_DIR) -> list[Problem]:
    """Check the place catalogue against the plans and the mapped features.

    Every entry's sentence must be verbatim in its plan; a ``mapped`` entry must name an existing
    place or zone id; a ``not_mapped`` entry must give a reason starting with one of
    :data:`~geo.data.sources.CATALOGUE_REASONS`; every mapped feature must have an entry.

    Returns
    -------
    list of Problem
    """
    path = data_dir / "place_catalogue.csv"
    try:
        texts = _plan_texts(data_dir)
        table = load_catalogue(path)
        ids = set(load_places(data_dir / "places.csv")["id"])
        ids |= set(load_zones(data_dir / "zones.csv")["id"])
    except GeoDataError as exc:
        return [_from_error(exc)]
    problems = []
    for row, (_, rec) in enumerate(table.iterrows(), start=1):
        where = f"row {row}"
        message = _check_quote(rec["sentence"], rec["plan"], texts)
        if message:
            problems.append(Problem(str(path), where, "sentence", message))
        if rec["status"] == "mapped" and rec["feature_id"] not in ids:
            msg = f"mapped, but {rec['feature_id']!r} is not in places.csv or zones.csv"
            problems.append(Problem(str(path), where, "feature_id", msg))
        if rec["status"] == "not_mapped" and not rec["reason"].startswith(CATALOGUE_REASONS):
            msg = f"not mapped: give a reason starting with one of {'; '.join(CATALOGUE_REASONS)}"
            problems.append(Problem(str(path), where, "reason", msg))
    for missing in sorted(ids - set(table["feature_id"])):
        msg = f"feature {missing!r} has no catalogue entry"
        problems.append(Problem(str(path), "", "feature_id", msg))
    return problems


def _check_attribution(rec: Any) -> list[tuple[str, str]]:
    """Require a reason for inferred features; allow an empty county only when inferred."""
    out = []
    attribution = rec.get("attribution", "") or "stated"
    if attribution == "inferred" and not str(rec.get("attribution_reason", "") or "").strip():
        out.append(("attribution_reason", "inferred feature without a reason: say what was chosen"))
    if "county" in rec and rec.get("county", "x") == "" and attribution != "inferred":
        msg = "empty county: allowed only for inferred features (the plan names no county)"
        out.append(("county", msg))
    return out


def check_target(rec: Any, texts: dict[str, str]) -> list[tuple[str, str]]:
    """Check a target's comparator word and year against its quote.

    The comparator's word (约, 超, 突破, 以上 …) must be in the quote (``eq`` needs none); the
    year must be in the quote or in ``year_quote``, itself verbatim in the plan.
    """
    out = []
    quote = str(rec.get("quote", ""))
    comparator = rec.get("comparator", "")
    words = COMPARATORS.get(comparator, ())
    if comparator != "eq" and not any(w in quote for w in words):
        msg = f"comparator {comparator!r} needs one of {', '.join(words)} in the quote"
        out.append(("comparator", msg))
    year = rec.get("year")
    year_quote = str(rec.get("year_quote", "") or "")
    if year_quote and year_quote not in texts.get(rec.get("plan", ""), ""):
        out.append(("year_quote", f"year_quote is not verbatim in plan {rec.get('plan')!r}"))
    if year is not None and year == year:
        token = str(int(year))
        if token not in quote.replace(" ", "") and token not in year_quote.replace(" ", ""):
            out.append(("year", f"year {token} is in neither the quote nor year_quote"))
    return out


def _record_checks(name: str, rec: Any, texts: dict[str, str]) -> list[tuple[str, str]]:
    if name == "targets.csv":
        return check_target(rec, texts)
    return _check_attribution(rec)


def _check_feature(
    feature: dict[str, Any],
    *,
    file: str,
    index: int,
    plan_feature: bool,
    texts: dict[str, str],
    counties: dict[str, Any],
) -> list[Problem]:
    props = feature.get("properties") or {}
    where = f"feature {props.get('id', f'#{index}')}"
    problems: list[Problem] = []
    geometry = feature.get("geometry")
    if not geometry:
        return [Problem(file, where, "geometry", "missing geometry")]
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        return [Problem(file, where, "geometry", f"unreadable geometry: {exc}")]
    xy = shapely.get_coordinates(geom)
    swapped = xy[:, ::-1]
    if len(xy) and _inside(swapped) and not _inside(xy):
        msg = "longitude and latitude look swapped: GeoJSON order is [lon, lat]"
        return [Problem(file, where, "geometry", msg)]
    if len(xy) and (abs(xy[:, 0]).max() > 180 or abs(xy[:, 1]).max() > 90):
        msg = "coordinates are not longitude/latitude degrees: layers must be WGS-84 (EPSG:4326)"
        return [Problem(file, where, "geometry", msg)]
    if len(xy) and not _inside(xy):
        msg = "coordinates fall outside Hunan: wrong CRS, or lat/lon swapped?"
        problems.append(Problem(file, where, "geometry", msg))
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        problems.append(Problem(file, where, "geometry", f"invalid geometry: {reason}"))
    if not plan_feature:
        return problems
    for key in _REQUIRED:
        if props.get(key) in (None, ""):
            problems.append(Problem(file, where, key, f"missing {key}"))
    if props.get("precision") not in PRECISION_CLASSES:
        msg = f"precision {props.get('precision')!r} is not one of {', '.join(PRECISION_CLASSES)}"
        problems.append(Problem(file, where, "precision", msg))
    if props.get("quote"):
        message = _check_quote(props.get("quote"), props.get("plan"), texts)
        if message:
            problems.append(Problem(file, where, "quote", message))
    problems.extend(Problem(file, where, f, m) for f, m in _check_attribution(props))
    if geom.geom_type == "Point" and props.get("county", "x") == "":
        return problems
    if geom.geom_type == "Point":
        county = counties.get(str(props.get("adcode")))
        if county is None:
            msg = f"unknown adcode {props.get('adcode')!r}"
            problems.append(Problem(file, where, "adcode", msg))
        elif geom.is_valid and not county.covers(geom):
            msg = (
                f"point lies outside its declared county {props.get('county')} ({props['adcode']})"
            )
            problems.append(Problem(file, where, "adcode", msg))
    return problems


def validate_layers(layers_dir: Path = LAYERS_DIR, *, data_dir: Path = DATA_DIR) -> list[Problem]:
    """Check the layer files against the manifest, the plans and the county boundaries.

    Parameters
    ----------
    layers_dir : Path
        Folder holding ``manifest.json`` and the layer GeoJSON files.
    data_dir : Path
        Source folder (plans and boundaries).

    Returns
    -------
    list of Problem
    """
    manifest_path = layers_dir / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [Problem(str(manifest_path), "", "", "missing: run `python -m geo build`")]
    except json.JSONDecodeError as exc:
        return [Problem(str(manifest_path), f"line {exc.lineno}", "", f"not JSON: {exc.msg}")]
    texts = _plan_texts(data_dir)
    units = load_units(cities=None, path=data_dir / "boundaries" / "counties.geojson")
    counties = dict(zip(units["adcode"], units.geometry, strict=True))
    problems: list[Problem] = []
    for layer in manifest.get("layers", []):
        path = layers_dir / layer["file"]
        file = str(path)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            problems.append(Problem(file, "", "", "layer file missing"))
            continue
        except json.JSONDecodeError as exc:
            problems.append(Problem(file, f"line {exc.lineno}", "", f"not JSON: {exc.msg}"))
            continue
        if doc.get("type") != "FeatureCollection":
            problems.append(Problem(file, "", "type", "not a GeoJSON FeatureCollection"))
            continue
        crs_name = (doc.get("crs") or {}).get("properties", {}).get("name")
        if crs_name and crs_name not in _CRS84:
            msg = f"declares CRS {crs_name}; RFC 7946 layers must be WGS-84 with no crs member"
            problems.append(Problem(file, "", "crs", msg))
        features = doc.get("features", [])
        if len(features) != layer.get("count"):
            msg = f"{len(features)} features, manifest says {layer.get('count')}"
            problems.append(Problem(file, "", "", msg))
        plan_feature = layer.get("kind") in {"points", "zones"}
        for index, feature in enumerate(features):
            problems.extend(
                _check_feature(
                    feature,
                    file=file,
                    index=index,
                    plan_feature=plan_feature,
                    texts=texts,
                    counties=counties,
                )
            )
    return problems


def check_current(layers_dir: Path = LAYERS_DIR, *, data_dir: Path = DATA_DIR) -> list[Problem]:
    """Rebuild in memory and report committed layer files that differ from the build."""
    from geo.data.build import build_layers, stale_files

    stale = stale_files(build_layers(data_dir), layers_dir)
    return [
        Problem(str(layers_dir / name), "", "", "stale: run `python -m geo build` and commit")
        for name in stale
    ]


def validate_all(
    layers_dir: Path = LAYERS_DIR, *, data_dir: Path = DATA_DIR, current: bool = True
) -> list[Problem]:
    """Run every check: sources, layers and (when ``current``) freshness of the layers."""
    problems = validate_sources(data_dir) + validate_catalogue(data_dir)
    problems += validate_layers(layers_dir, data_dir=data_dir)
    if current and not any(p.file.endswith(".csv") for p in problems):
        problems += check_current(layers_dir, data_dir=data_dir)
    return problems
