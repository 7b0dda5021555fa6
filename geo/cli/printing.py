"""CLI sub-command ``print``: print-ready district maps (PDF and PNG), one unit or an atlas.

Examples
--------
``python -m geo print --unit 天心区 --size A3 --orientation landscape --out maps/``
``python -m geo print --all 长沙市 --title "{unit}大健康产业空间布局示意图" --out maps/``
``python -m geo print --unit 岳阳楼区 --layers provincial --formats pdf svg``
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from geo.settings import DEFAULT_MINUTES, MODE_SPEEDS

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["register"]


def _coverage_polygons(args: argparse.Namespace) -> gpd.GeoDataFrame | None:
    import geopandas as gpd

    from geo.errors import InputError

    if args.coverage_file is not None:
        if not args.coverage_file.exists():
            msg = f"coverage file not found: {args.coverage_file}"
            raise InputError(msg, field="--coverage-file")
        gdf = gpd.read_file(args.coverage_file)
        return gdf if gdf.crs is not None else gdf.set_crs("EPSG:4326")
    if not args.coverage_layers:
        return None
    if importlib.util.find_spec("geo.analysis.coverage") is None:
        msg = (
            "--coverage-layers needs the coverage engine (geo.analysis.coverage), which is not "
            "available: "
            "pass reach polygons with --coverage-file instead"
        )
        raise InputError(msg, field="--coverage-layers")
    import pandas as pd

    from geo.analysis.coverage import coverage_report, reach_for
    from geo.data.boundaries import load_units
    from geo.data.layers import load_layer

    frames = [load_layer(layer_id) for layer_id in args.coverage_layers]
    facilities = gpd.GeoDataFrame(
        pd.concat(frames, ignore_index=True), geometry="geometry", crs=frames[0].crs
    )
    facilities = facilities[facilities.geometry.geom_type == "Point"]
    if facilities.empty:
        msg = f"layers {args.coverage_layers} have no point features to compute coverage from"
        raise InputError(msg, field="--coverage-layers")
    reach = reach_for(args.mode, minutes=args.minutes)
    return coverage_report(facilities, load_units(), reach=reach).reach


def _coverage_note(args: argparse.Namespace) -> str:
    """How the overlay was made, printed beside it on the map."""
    if args.coverage_file is not None:
        return f"外部文件 {args.coverage_file.name} 提供的覆盖范围（方法见该文件来源）"
    speed = MODE_SPEEDS[args.mode]
    return f"{speed.label_zh} {speed.kmh:g} km/h × {args.minutes:g} min 直线距离圆（非路网等时圈）"


def _print(args: argparse.Namespace) -> int:
    from geo.errors import InputError
    from geo.printing.printmap import print_atlas, print_map

    if not 0 < args.minutes <= 240:
        msg = f"--minutes must be in (0, 240], got {args.minutes:g}"
        raise InputError(msg, field="--minutes")
    coverage = _coverage_polygons(args)
    mode = MODE_SPEEDS[args.mode].label_zh
    label = f"{args.minutes:g}分钟{mode}覆盖范围"
    common = {
        "size": args.size,
        "orientation": args.orientation,
        "dpi": args.dpi,
        "approval_no": args.approval_no,
        "producer": args.producer,
        "coverage": coverage,
        "coverage_label": label,
        "coverage_note": _coverage_note(args) if coverage is not None else "",
        "grid": args.grid,
        "layers": args.layers,
        "title": args.title,
        "subtitle": args.subtitle,
        "out_dir": args.out,
        "formats": tuple(args.formats),
    }
    if args.all:
        result = print_atlas(args.all, progress=not args.quiet, **common)
        print(result.pdf)
        for printed in result.maps:
            for path in printed.paths.values():
                print(path)
        return 0
    printed = print_map(args.unit, **common)
    for path in printed.paths.values():
        print(path)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``print`` sub-command.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The sub-parsers of ``python -m geo``.
    """
    parser = sub.add_parser(
        "print",
        help="print-ready map of a unit (PDF/PNG), or an atlas of a city with --all",
        description="Print a district map: any Hunan county or city, or 一核三圈 (--unit), or "
        "every county of a city as an atlas with cover, overview, place lists, page numbers and "
        "bookmarks (--all). Exit codes: 0 ok, 2 bad input, 1 internal error.",
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--unit", help="unit name or adcode, e.g. 天心区, 430103, 岳阳楼区, 长沙市, 一核三圈"
    )
    what.add_argument("--all", metavar="CITY", help="atlas of every county of a city, e.g. 长沙市")
    parser.add_argument("--size", default="A4", help="A4, A3, A2, A1 or A0 (default A4)")
    parser.add_argument("--orientation", default="landscape", help="landscape or portrait")
    parser.add_argument("--out", type=Path, default=Path("maps"), help="output folder")
    parser.add_argument(
        "--title",
        help="title (default <unit>大健康产业空间布局示意图); with --all a template with {unit}",
    )
    parser.add_argument(
        "--subtitle", help="subtitle (default city, unit, scale and month); {unit} with --all"
    )
    parser.add_argument(
        "--layers", nargs="+", metavar="LAYER", help="plan layer ids to draw (default all)"
    )
    parser.add_argument("--approval-no", default="", help="审图号 (blank line when omitted)")
    parser.add_argument("--producer", default="", help="制图单位 (blank line when omitted)")
    parser.add_argument("--dpi", type=int, default=300, help="PNG resolution (default 300)")
    parser.add_argument(
        "--formats", nargs="+", default=["pdf", "png"], help="pdf, png, svg (default pdf png)"
    )
    parser.add_argument("--grid", action="store_true", help="draw a longitude/latitude grid")
    parser.add_argument(
        "--coverage-layers", nargs="+", metavar="LAYER", help="point layers to overlay reach of"
    )
    parser.add_argument(
        "--coverage-file", type=Path, help="GeoJSON of reach polygons to overlay instead"
    )
    parser.add_argument("--minutes", type=float, default=DEFAULT_MINUTES, help="reach minutes")
    parser.add_argument("--mode", choices=sorted(MODE_SPEEDS), default="walk", help="travel mode")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=_print)
