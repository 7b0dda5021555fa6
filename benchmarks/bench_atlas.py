"""Benchmark of the print atlas: all 20 units of 长沙市 and 永州市 in one run.

Each atlas PDF holds a cover, an overview, and per unit its map page and its place list; each
unit's own PDF (and PNG when asked) is written beside it.  Wall time per city and in total, and
the process's peak RSS (``resource.getrusage``), are printed.

Run: ``python benchmarks/bench_atlas.py [--formats pdf png] [--dpi 150] [--size A4]``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time

from geo.printing.printmap import print_atlas


def main() -> None:
    """Print both atlases into a temporary folder and report time and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--formats", nargs="+", default=["pdf"])
    parser.add_argument("--dpi", type=int, default=150)
    parser.add_argument("--size", default="A4")
    args = parser.parse_args()
    total = 0.0
    units = 0
    with tempfile.TemporaryDirectory() as out:
        for city in ("长沙市", "永州市"):
            start = time.perf_counter()
            result = print_atlas(
                city, size=args.size, dpi=args.dpi, formats=tuple(args.formats), out_dir=out
            )
            took = time.perf_counter() - start
            total += took
            units += len(result.maps)
            print(f"{city}: {len(result.maps)} units in {took:.1f} s", file=sys.stderr)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"all {units} units ({args.size}, {'+'.join(args.formats)}, {args.dpi} dpi): "
        f"{total:.1f} s, peak RSS {peak_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()
