"""CLI sub-command `coverage` (placeholder until its module lands)."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `coverage` sub-command (not yet available)."""
    parser = sub.add_parser("coverage", help="(not yet available)")
    parser.set_defaults(func=lambda _args: 1)
