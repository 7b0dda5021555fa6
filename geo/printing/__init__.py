"""Layout elements of printed maps (used by :mod:`geo.printing.printmap`).

``units``     printable units and cached data (boundaries, plan layers, river, plan index)
``mapframe``  map frames (main map, enlargement): admin units, water, coverage overlay
``planlayers`` plan zones, links and points with per-kind symbols
``naming``    labels, callouts and numbers keyed to the place key
``page``      paper sizes, page regions, text wrapping and fitting
``symbols``   point symbols, per-kind styles (``style.kinds``), zone hatches
``water``     the river's main stem (named) versus other water (unnamed)
``panels``    title block, legend, place key and notes, each fitted inside its panel
``atlas``     cover, overview, place lists, page numbers and bookmarks of an atlas
"""
