r"""CLI sub-command ``site``: where should the next k facilities go (MCLP, LSCP, p-median).

Examples::

    python -m geo site --units 浏阳市 --model mclp --k 10 --mode walk --minutes 15 \\
        --existing-layers cs_medical --grid-spacing 1000 --out site_out/
    python -m geo site --units 长沙市 --model lscp --target 0.9 --mode drive --minutes 15 \\
        --candidates sites.xlsx --candidate-source both --water lakes.geojson --out site_out/
    python -m geo site --units 宁乡市 --model pmedian --k 5 --population-grid worldpop.tif \\
        --existing clinics.csv --crs GCJ02 --capacity-column beds --candidate-capacity 20000
    python -m geo site --units 芙蓉区 --population-grid pop_points.csv --population-crs WGS84 \\
        --candidates sites.csv --crs GCJ02
    python -m geo site --units 浏阳市 --osm liuyang.osm.pbf --mode drive --minutes 15 --k 10

Reach is the straight-line distance speed x minutes, or with ``--osm`` (an OSM PBF or XML extract,
read offline as ``coverage --osm`` does) the shortest road path from the resident to the site
(one-way streets honoured for drive) plus the straight access legs to the nearest road nodes at
the mode's speed; points farther than ``--max-snap-m`` from the roads are off the network
(counted in the outputs).  Demand comes from the coverage engine's
population models: ``--population-grid`` a GeoTIFF raster in any CRS (each cell a demand point at
its centre, in the unit containing it) or population points (CSV in ``--population-crs``,
independent of the facilities' ``--crs``; GeoJSON/GPKG in their own CRS).  A unit without cells,
and every unit without a grid, uses its census population spread evenly over its area (the
coarse census_uniform model, with a warning on stderr for a fallback).  Each unit's model is
stated in every output.

Exit codes: 0 ok, 2 bad input (the message names file/row/field), 3 the solver stopped at its
time limit before proving the optimum (outputs written and labelled), 1 internal error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
from tqdm import tqdm

from geo.errors import InputError

if TYPE_CHECKING:
    from geo.analysis.network import RoadNetwork
from geo.settings import DEFAULT_MINUTES, MODE_SPEEDS

__all__ = ["register", "run"]

_EXIT_NOT_OPTIMAL = 3


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``site`` sub-command.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        Sub-parsers of the main CLI.
    """
    from geo.analysis.siting import MODELS

    p = sub.add_parser(
        "site",
        help="facility siting: where the next k sites go (MCLP, LSCP, p-median)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--units",
        required=True,
        help="comma-separated Hunan county or city names (e.g. 浏阳市 or 长沙市), changsha, "
        "yongzhou, all, or a polygon file",
    )
    p.add_argument("--model", default="mclp", choices=list(MODELS))
    p.add_argument("--k", type=int, default=5, help="new sites (mclp, pmedian)")
    p.add_argument(
        "--target",
        type=float,
        help="share of each unit's population (lscp: default 0.9; mclp/pmedian: only when given)",
    )
    p.add_argument("--mode", default="walk", help=f"one of {sorted(MODE_SPEEDS)}")
    p.add_argument("--minutes", type=float, default=DEFAULT_MINUTES)
    p.add_argument("--speed-kmh", type=float, help="override the mode's default speed")
    p.add_argument("--osm", type=Path, help="OSM PBF or XML for road-network reach")
    p.add_argument(
        "--max-snap-m",
        type=float,
        help="with --osm: largest straight access leg (m) to the nearest road node "
        "(default 1000); points farther away are off the network",
    )
    _site_arguments(p)
    _demand_arguments(p)
    _solver_arguments(p)
    p.set_defaults(func=run)


def _site_arguments(p: argparse.ArgumentParser) -> None:
    """Add the existing-facility, candidate-site and file-reading options."""
    ex = p.add_argument_group("existing facilities (held fixed)")
    ex.add_argument("--existing-layers", help="comma-separated point layer ids, e.g. cs_medical")
    ex.add_argument("--existing", type=Path, help="CSV, XLSX, GeoJSON or GPKG of facilities")
    ex.add_argument("--capacity-column", help="capacity (people served) column of the facilities")
    ex.add_argument("--candidate-capacity", type=float, help="people a new site can serve")
    cand = p.add_argument_group("candidate sites")
    cand.add_argument("--candidates", type=Path, help="CSV, XLSX, GeoJSON or GPKG of sites")
    cand.add_argument(
        "--candidate-source",
        default="auto",
        choices=["auto", "user", "grid", "both"],
        help="auto: the file when given, else a grid",
    )
    cand.add_argument("--grid-spacing", type=float, default=1000.0, help="grid spacing (m)")
    cand.add_argument("--water", type=Path, help="polygons where no site may go (lakes, rivers)")
    files = p.add_argument_group("file options (--existing, --candidates)")
    files.add_argument(
        "--crs", default="WGS84", help="WGS84, GCJ02, BD09, CGCS2000 or EPSG:xxxx of the files"
    )
    files.add_argument("--sheet", help="XLSX sheet (default the first)")
    files.add_argument("--lon-column", help="longitude/x column (guessed when omitted)")
    files.add_argument("--lat-column", help="latitude/y column (guessed when omitted)")
    files.add_argument("--id-column", help="id column (guessed when omitted)")
    files.add_argument(
        "--header-row",
        type=int,
        help="row of the column names as Excel shows it (default: the first non-empty row)",
    )
    files.add_argument(
        "--skip-bad-rows",
        action="store_true",
        help="use the good rows of a file with bad rows (listed in the report) instead of stopping",
    )


def _demand_arguments(p: argparse.ArgumentParser) -> None:
    """Add the population (demand) options."""
    dem = p.add_argument_group("demand (population models of the coverage engine)")
    dem.add_argument(
        "--population-grid",
        type=Path,
        help="population raster (GeoTIFF in any CRS, e.g. WorldPop 100 m) or points "
        "(CSV lon,lat,population or GeoJSON/GPKG); default: census spread by area (coarse)",
    )
    dem.add_argument(
        "--population-crs",
        default="WGS84",
        help="coordinate system of a CSV population grid (not --crs, which is the sites'): "
        "WGS84, GCJ02, BD09, CGCS2000 or EPSG:xxxx",
    )
    dem.add_argument(
        "--demand", type=Path, help="deprecated: same as --population-grid (points or raster)"
    )
    dem.add_argument("--population-column", default="population", help="column of points")
    dem.add_argument(
        "--demand-spacing",
        type=float,
        help="census grid cell size (m); default a quarter of the reach, 100-500 m",
    )


def _solver_arguments(p: argparse.ArgumentParser) -> None:
    """Add the solver and output options."""
    from geo.analysis.siting_plan import SOLVERS

    run_ = p.add_argument_group("solver and outputs")
    run_.add_argument("--solver", default="exact", choices=list(SOLVERS))
    run_.add_argument(
        "--time-limit",
        type=float,
        default=120.0,
        help="seconds per MILP solve (default 120; the gain curve adds one per k)",
    )
    run_.add_argument("--curve-k", type=int, help="largest k of the gain curve (0: none)")
    run_.add_argument("--out", type=Path, default=Path("siting_out"), help="output folder")
    run_.add_argument("--format", default="xlsx,csv,geojson,html", help="xlsx,csv,geojson,html")
    run_.add_argument("--quiet", action="store_true", help="no progress bar")


def _read_points(
    path: Path, args: argparse.Namespace, *, capacity: str | None, problems: list[pd.DataFrame]
) -> gpd.GeoDataFrame:
    """Read a point file; its bad rows stop the run, or with --skip-bad-rows join ``problems``."""
    from geo.analysis.facilities import read_facilities

    load = read_facilities(
        path,
        crs=args.crs,
        sheet=args.sheet,
        header_row=args.header_row,
        lon_column=args.lon_column,
        lat_column=args.lat_column,
        id_column=args.id_column,
        capacity_column=capacity,
    )
    if not load.problems.empty and not args.skip_bad_rows:
        msg = (
            f"{len(load.problems)} problem(s) in the file (fix them, or pass "
            f"--skip-bad-rows to use the {len(load.facilities)} good rows):\n{load.problem_text()}"
        )
        raise InputError(msg, file=path.name)
    if not load.problems.empty:
        problems.append(load.problems)
    return load.facilities


def _existing(
    args: argparse.Namespace, problems: list[pd.DataFrame]
) -> tuple[gpd.GeoDataFrame | None, str]:
    from geo.analysis.facilities import facilities_from_layers

    if args.existing is not None and args.existing_layers:
        msg = "give either --existing-layers or --existing, not both"
        raise InputError(msg, field="existing")
    if args.existing is not None:
        fac = _read_points(args.existing, args, capacity=args.capacity_column, problems=problems)
        return fac, f"file {args.existing.name} ({args.crs})"
    if args.existing_layers:
        ids = [s.strip() for s in args.existing_layers.split(",") if s.strip()]
        fac = facilities_from_layers(ids, capacity_column=args.capacity_column)
        return fac, f"plan layers {', '.join(ids)} (layers/*.geojson)"
    return None, "none given: every facility is new"


def _water(path: Path | None) -> gpd.GeoDataFrame | None:
    if path is None:
        return None
    try:
        water = gpd.read_file(path)
    except (OSError, ValueError) as exc:
        msg = f"cannot read the water file ({exc})"
        raise InputError(msg, file=path.name, field="water") from exc
    if water.crs is None:
        msg = "the water file has no CRS: save it with one (e.g. EPSG:4326)"
        raise InputError(msg, file=path.name, field="water")
    return water


def _with_zones(units: gpd.GeoDataFrame, source: str) -> tuple[gpd.GeoDataFrame, str]:
    """Add management-zone residents to their host county, as ``coverage`` does."""
    from geo.analysis.population import add_management_zones

    if "population" not in units or not units["population"].notna().any():
        return units, source
    units = add_management_zones(units)
    if units["population_note"].astype(bool).any():
        source += "; management zones added to their host county (data/management_zones.csv)"
    return units, source


def _population(args: argparse.Namespace, units: gpd.GeoDataFrame) -> tuple[object, str]:
    """Read ``--population-grid`` (or the deprecated ``--demand``) as ``coverage`` does."""
    from geo.cli.coverage import load_population

    if args.demand is not None and args.population_grid is not None:
        msg = "give --population-grid only (--demand is its deprecated name)"
        raise InputError(msg, field="demand")
    path = args.population_grid if args.population_grid is not None else args.demand
    return load_population(
        path, crs=args.population_crs, units=units, column=args.population_column
    )


def _network(args: argparse.Namespace, mode: str, sources: dict[str, str]) -> RoadNetwork | None:
    """Read the ``--osm`` road network for ``mode`` (None without one)."""
    if args.osm is None:
        if args.max_snap_m is not None:
            msg = "--max-snap-m needs a road network (--osm FILE)"
            raise InputError(msg, field="max_snap_m")
        return None
    from geo.analysis.network import read_network

    network = read_network(args.osm, mode=mode)
    sources["roads"] = f"OpenStreetMap extract {args.osm.name} (ODbL)"
    return network


def _check_args(args: argparse.Namespace) -> list[str]:
    from geo.analysis.siting_report import SITING_FORMATS

    formats = [f.strip().lower() for f in args.format.split(",") if f.strip()]
    unknown = [f for f in formats if f not in SITING_FORMATS]
    if unknown or not formats:
        msg = f"unknown output format(s) {unknown or args.format!r}: use {list(SITING_FORMATS)}"
        raise InputError(msg, field="format")
    if args.target is not None and 1 < args.target <= 100:
        msg = f"--target is a share: give {args.target / 100:g} for {args.target:g} %"
        raise InputError(msg, field="target")
    return formats


def run(args: argparse.Namespace) -> int:
    """Run the ``site`` command.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 on success, 3 when a solve stopped at its time limit (bad input raises: exit 2).
    """
    from geo.analysis.coverage import reach_for
    from geo.analysis.siting_report import write_siting_reports
    from geo.analysis.siting_run import site_units
    from geo.cli.coverage import load_unit_set, with_fallback_warnings

    formats = _check_args(args)
    reach = reach_for(args.mode, minutes=args.minutes, speed_kmh=args.speed_kmh)
    curve_k = args.curve_k if args.curve_k is not None else args.k
    # files, (network), demand, existing, candidates, reach matrix, solve, curve k = 0..K, outputs
    total = None if args.model == "lscp" else 7 + (curve_k + 1 if curve_k > 0 else 0)
    total = total + 1 if total is not None and args.osm is not None else total
    bar = tqdm(total=total, desc="site", unit="step", disable=args.quiet, file=sys.stderr)

    def step(label: str) -> None:
        bar.set_postfix_str(label[:30])
        bar.update(1)

    units, unit_source = load_unit_set(args.units)
    problems: list[pd.DataFrame] = []  # rows skipped with --skip-bad-rows, listed in the outputs
    existing, existing_source = _existing(args, problems)
    user = (
        _read_points(args.candidates, args, capacity=None, problems=problems)
        if args.candidates
        else None
    )
    units, unit_source = _with_zones(units, unit_source)
    population, pop_source = _population(args, units)
    sources = {"units": unit_source, "existing": existing_source}
    if population is not None:
        sources["demand"] = pop_source
    if args.candidates is not None:
        sources["candidate_file"] = f"{args.candidates.name} ({args.crs})"
    if args.water is not None:
        sources["water_mask"] = args.water.name
    step("files")
    network = _network(args, reach.mode, sources)
    if network is not None:
        step("network")
    result = with_fallback_warnings(
        site_units,
        units,
        model=args.model,
        k=args.k,
        mode=args.mode,
        minutes=args.minutes,
        speed_kmh=args.speed_kmh,
        target=args.target,
        existing=existing,
        candidates=user,
        candidate_source=args.candidate_source,
        grid_spacing_m=args.grid_spacing,
        water=_water(args.water),
        population=population,
        demand_spacing_m=args.demand_spacing,
        capacity_column="capacity" if args.capacity_column else None,
        candidate_capacity=args.candidate_capacity,
        solver=args.solver,
        time_limit=args.time_limit,
        curve_k=args.curve_k,
        sources=sources,
        progress=step,
        network=network,
        **({"max_snap_m": args.max_snap_m} if args.max_snap_m is not None else {}),
    )
    written = write_siting_reports(
        result,
        args.out,
        formats=formats,
        units=units,
        problems=pd.concat(problems, ignore_index=True) if problems else None,
        # straight-line reach discs only: a road reach is no circle
        radius_m=reach.radius_m if network is None else None,
    )
    step("outputs")
    bar.close()
    for fmt, path in written.items():
        print(f"{fmt}: {path}")
    if result.solution.status not in {"optimal", "heuristic"}:
        print(f"warning: {result.solution.status}", file=sys.stderr)
        return _EXIT_NOT_OPTIMAL
    return 0
