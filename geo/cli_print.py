"""CLI sub-command `print` (placeholder until its module lands)."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `print` sub-command (not yet available)."""
    parser = sub.add_parser("print", help="(not yet available)")
    parser.set_defaults(func=lambda _args: 1)
