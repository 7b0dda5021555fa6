"""Hunan health-industry spatial layout: layers, coverage, siting, web map and print.

The package is grouped by job:

- top level: :mod:`geo.settings` (paths, CRSs, speeds, kind names), :mod:`geo.errors`,
  :mod:`geo.coords` (GCJ-02/BD-09 <-> WGS-84), :mod:`geo.crs` (Gauss-Kruger zones, geodesy);
- :mod:`geo.data`: source tables, boundaries and census, schematic layout, the deterministic layer
  build and its validation, layer loading;
- :mod:`geo.analysis`: facility input, population models, coverage, 2SFCA, road networks,
  scenarios, siting (MCLP / LSCP / p-median) and report files;
- :mod:`geo.web`: the folium map, search, overlays, share links, uploads and page logic (no
  Streamlit import anywhere in ``geo``);
- :mod:`geo.printing`: fonts, cartographic elements, page layout and atlases;
- :mod:`geo.cli`: ``python -m geo`` sub-commands.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
