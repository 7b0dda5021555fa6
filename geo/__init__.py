"""Hunan health-industry spatial layout: layers, coverage, web map and print.

Modules (each with one job): :mod:`geo.settings` (paths, CRSs, speeds), :mod:`geo.errors`,
:mod:`geo.coords` (GCJ-02/BD-09), :mod:`geo.crs` (metric CRSs), :mod:`geo.boundaries`,
:mod:`geo.sources` (reviewable CSVs), :mod:`geo.layout` (schematic geometry), :mod:`geo.build`,
:mod:`geo.validate`, :mod:`geo.layers`, :mod:`geo.coverage`, :mod:`geo.webmap`, :mod:`geo.printmap`.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
