"""Session overlays drawn on top of the shared base map: unit outline, coverage, sites, selection.

The base map (every layer, legend, controls) is built once per process and shared by sessions;
what belongs to one session travels as these small feature groups (streamlit-folium's
``feature_group_to_add``), so a coverage or scenario change does not rebuild or reload the map and
the view stays where the planner left it.  They are drawn into the map client's panes
(``geo/assets/hgmap/hgmap.js``: areas < coverage < selected unit < lines < points < search mark),
so the client's legend lists the coverage and the selected unit, and areas here are not
interactive: a click inside the selected unit or the coverage reaches the hospital under it.
The same groups go into the offline HTML (:func:`geo.web.webmap.build_map`).
"""

from __future__ import annotations

import html
from typing import Any

import folium
import geopandas as gpd
import shapely

from geo.coords import geometry_to_wgs84
from geo.crs import require_crs
from geo.settings import WGS84

__all__ = ["OVERLAY_PANES", "OVERLAY_STYLES", "overlay_groups"]

#: Styles of the overlays (also used by the legend note on the page).
OVERLAY_STYLES: dict[str, dict[str, Any]] = {
    "unit": {"color": "#e6007e", "weight": 3, "fill": False},
    "coverage": {"color": "#1f77b4", "weight": 1, "fillColor": "#1f77b4", "fillOpacity": 0.2},
    "uncertain": {
        "color": "#1f77b4",
        "weight": 2,
        "dashArray": "6 4",
        "fillColor": "#ffffff",
        "fillOpacity": 0.25,
    },
    "own": {"color": "#6a3d9a", "fillColor": "#cab2d6", "fillOpacity": 0.9, "radius": 6},
    "proposed": {"color": "#d62728", "fillColor": "#ffffff", "fillOpacity": 1.0, "radius": 8},
    "closed": {"color": "#000000", "fillColor": "#7f7f7f", "fillOpacity": 0.9, "radius": 7},
    "selected": {"color": "#ff7f00", "fillOpacity": 0.0, "radius": 14, "weight": 3},
    "mark": {"color": "#ff00ff", "weight": 4, "fill": False, "className": "hg-mark"},
}
#: Pane of each overlay in the map client (areas never take clicks; own points show a tooltip).
OVERLAY_PANES: dict[str, str] = {
    "unit": "hg-highlight",
    "coverage": "hg-coverage",
    "uncertain": "hg-coverage",
    "own": "hg-points",
    "proposed": "hg-points",
    "closed": "hg-points",
    "selected": "hg-search",
    "mark": "hg-search",
}
_NAMES = {
    "unit": ("所选区县", "Selected unit"),
    "coverage": ("覆盖范围", "Coverage"),
    "uncertain": ("覆盖（近似/示意位置，仅供参考）", "Coverage (approximate/schematic positions)"),
    "own": ("我的设施", "My facilities"),
    "proposed": ("拟建设施", "Proposed sites"),
    "closed": ("拟关闭设施", "Facilities to close"),
    "selected": ("选中要素", "Selected feature"),
    "mark": ("搜索结果", "Search hit"),
}


def _shift(geom: shapely.Geometry, datum: str) -> shapely.Geometry:
    return geometry_to_wgs84(geom, datum, inverse=True) if datum != "WGS84" else geom


def _area_group(key: str, geoms: gpd.GeoSeries, *, datum: str, lang: str) -> folium.FeatureGroup:
    require_crs(geoms, name=key)
    i = 0 if lang == "zh" else 1
    feats = [
        {
            "type": "Feature",
            "properties": {},
            "geometry": shapely.geometry.mapping(shapely.set_precision(_shift(g, datum), 1e-6)),
        }
        for g in geoms.to_crs(WGS84)
        if g is not None and not g.is_empty
    ]
    fg = folium.FeatureGroup(name=_NAMES[key][i])
    style = OVERLAY_STYLES[key]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": feats},
        style_function=lambda _f: style,
        marker=_circle(None, 16, key=key, interactive=False, style=style)
        if key == "mark"
        else None,
        interactive=False,
        pane=OVERLAY_PANES[key],
    ).add_to(fg)
    return fg


def _point_group(
    key: str, points: gpd.GeoDataFrame, *, datum: str, lang: str
) -> folium.FeatureGroup:
    require_crs(points, name=key)
    i = 0 if lang == "zh" else 1
    style = dict(OVERLAY_STYLES[key])
    radius = style.pop("radius", 6)
    fg = folium.FeatureGroup(name=_NAMES[key][i])
    pts = points.to_crs(WGS84)
    names = pts["name"] if "name" in pts.columns else [""] * len(pts)
    for geom, name in zip(pts.geometry, names, strict=True):
        if geom is None or geom.is_empty:
            continue
        p = _shift(geom, datum)
        label = f"{_NAMES[key][i]}: {html.escape(str(name))}"
        interactive = OVERLAY_PANES[key] != "hg-search"
        _circle([p.y, p.x], radius, key=key, interactive=interactive, style=style,
                tooltip=label if interactive else None).add_to(fg)  # fmt: skip
    return fg


def _circle(
    location: list[float] | None, radius: float, *, key: str, interactive: bool, style: dict,
    tooltip: str | None = None,
) -> folium.CircleMarker:  # fmt: skip
    """Make a circle marker in its overlay's client pane.

    folium's ``path_options`` drops ``pane`` and ``interactive`` from a CircleMarker's keyword
    arguments, which left every point overlay in Leaflet's default overlay pane (under the plan's
    areas and points, and clickable); they are set on its options instead.
    """
    marker = folium.CircleMarker(location, radius=radius, tooltip=tooltip, **style)
    marker.options.update(pane=OVERLAY_PANES[key], interactive=interactive)
    return marker


def overlay_groups(
    *,
    unit: gpd.GeoDataFrame | None = None,
    coverage: gpd.GeoSeries | None = None,
    uncertain: gpd.GeoSeries | None = None,
    own: gpd.GeoDataFrame | None = None,
    proposed: gpd.GeoDataFrame | None = None,
    closed: gpd.GeoDataFrame | None = None,
    selected: gpd.GeoDataFrame | None = None,
    mark: gpd.GeoSeries | None = None,
    datum: str = "WGS84",
    lang: str = "zh",
) -> list[folium.FeatureGroup]:
    """Feature groups of one session's overlays, bottom to top.

    Parameters
    ----------
    unit : GeoDataFrame, optional
        Selected unit (outline only, not clickable).
    coverage : GeoSeries, optional
        Covered area.
    uncertain : GeoSeries, optional
        Part of the coverage around approximate/schematic positions (dashed, marked as such).
    own, proposed, closed, selected : GeoDataFrame, optional
        Points: uploaded facilities, proposed sites, facilities to close, the selected row.
    mark : GeoSeries, optional
        A found feature (search hit): a ring around a point, an outline around an area.
    datum : str
        ``"WGS84"`` or ``"GCJ02"`` (the basemap's datum; overlays are shifted to it).
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    list of folium.FeatureGroup
        Only the overlays given (and not empty).

    Raises
    ------
    CRSError
        When an input has no CRS.
    """
    groups: list[folium.FeatureGroup] = []
    areas = (("coverage", coverage), ("uncertain", uncertain))
    for key, geoms in areas:
        if geoms is not None and len(geoms):
            groups.append(_area_group(key, geoms, datum=datum, lang=lang))
    if unit is not None and len(unit):
        groups.append(_area_group("unit", unit.geometry, datum=datum, lang=lang))
    for key, pts in (
        ("own", own),
        ("closed", closed),
        ("proposed", proposed),
        ("selected", selected),
    ):
        if pts is not None and len(pts):
            groups.append(_point_group(key, pts, datum=datum, lang=lang))
    if mark is not None and len(mark):
        groups.append(_area_group("mark", mark, datum=datum, lang=lang))
    return groups
