"""Command-line interface: ``python -m geo <command>``.

Exit codes: 0 success, 1 internal error, 2 bad input (the message says what to fix), 3 checks
found problems (``validate``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_OK", "EXIT_PROBLEMS", "main"]

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_PROBLEMS = 3

#: Modules that contribute sub-commands: each defines ``register(subparsers)`` which adds its
#: parsers and sets ``func`` (``args -> int``) as the parser default.
_COMMAND_MODULES = ("geo.cli.layers", "geo.cli.coverage", "geo.cli.printing", "geo.cli.site")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m geo",
        description="Hunan health-industry layout: build and validate layers, coverage reports, "
        "print maps.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 ok, 1 internal error, 2 bad input, 3 problems found.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    from geo.errors import GeoDataError

    try:
        return int(args.func(args))
    except (GeoDataError, ValueError, FileNotFoundError, PermissionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERNAL
