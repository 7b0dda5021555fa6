"""Symbols of printed maps: per-kind point styles, goal points, zone hatches, draw order.

Styles come from the layer manifest (``layers/manifest.json``), the same source the web map
uses: a layer's ``style`` may carry ``"kinds": {kind: {marker, color, fillColor, radius}}``
overrides that apply to the features of that ``kind``.  Goal and placeholder points
(``kind == "goal"``) are hollow (``*_open`` markers) unless the manifest says otherwise.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = [
    "GOAL_KIND",
    "KIND_LABELS",
    "MARKERS",
    "is_goal",
    "kind_style",
    "point_symbol",
    "zone_hatch",
]

#: Kind of goal and placeholder points (创建目标, 筹备): not facilities.
GOAL_KIND: Final[str] = "goal"
#: Manifest marker names to matplotlib markers (``*_open`` draws the same shape hollow).
MARKERS: Final[dict[str, str]] = {
    "circle": "o",
    "square": "s",
    "diamond": "D",
    "triangle": "^",
    "star": "*",
    "cross": "P",
    "hexagon": "h",
}
#: Legend text of the kinds that have their own symbol.
KIND_LABELS: Final[dict[str, str]] = {
    "city_regional_centre": "市级区域医疗中心",
    "city_tcm_centre": "市级中医医疗中心",
    "county_sub_centre": "市域医疗卫生副中心",
    "tcm_sub_centre": "市中医医疗副中心",
    "specialist_centre": "市级专科中心",
    "national_medical_centre": "国家医学中心",
    "regional_medical_centre": "国家区域医疗中心",
    "tcm_hospital": "中医医院",
    "specialist_hospital": "专科医院",
    "city_regional_centre_to_county_sub_centre": "区域医疗中心—副中心",
    "city_tcm_centre_to_tcm_sub_centre": "中医医疗中心—中医副中心",
    GOAL_KIND: "规划目标（未建成，位置示意）",
}
#: Hatches of zone layers, distinct per layer (None: fill only).
_HATCHES: Final[dict[str, str | None]] = {
    "sanqu": "//",
    "sandai": "\\\\",
    "yhsq": None,
    "bio": "..",
}
_SPARE_HATCHES: Final[tuple[str, ...]] = ("xx", "++", "--", "||", "oo")


def is_goal(props: dict[str, Any]) -> bool:
    """Whether a feature is a goal or placeholder point (``kind == "goal"``).

    Examples
    --------
    >>> is_goal({"kind": "goal"}), is_goal({"kind": "hospital"}), is_goal({})
    (True, False, False)
    """
    return str(props.get("kind") or "") == GOAL_KIND


def kind_style(style: dict[str, Any], kind: str | None) -> dict[str, Any]:
    """Apply the manifest's ``kinds[kind]`` override applied.

    Goal points without their own entry get the layer's marker hollow (``*_open``).

    Parameters
    ----------
    style : dict
        The layer's ``style`` from the manifest.
    kind : str or None
        The feature's ``kind``.

    Returns
    -------
    dict
        Style without the ``kinds`` table.

    Examples
    --------
    >>> s = {"marker": "cross", "radius": 5, "kinds": {"hub": {"marker": "star", "radius": 9}}}
    >>> kind_style(s, "hub")["marker"], kind_style(s, "other")["marker"]
    ('star', 'cross')
    >>> kind_style(s, "goal")["marker"]
    'cross_open'
    """
    base = {key: value for key, value in style.items() if key != "kinds"}
    kinds = style.get("kinds") or {}
    if kind and kind in kinds:
        return {**base, **kinds[kind]}
    if kind == GOAL_KIND:
        marker = str(base.get("marker", "circle")).removesuffix("_open")
        return {**base, "marker": f"{marker}_open"}
    return base


def point_symbol(style: dict[str, Any], k: float) -> dict[str, Any]:
    """Keyword arguments of ``Axes.plot`` for a point style (markers in points).

    Parameters
    ----------
    style : dict
        A resolved style (see :func:`kind_style`).
    k : float
        Page size factor (1 for A4).

    Returns
    -------
    dict
        ``marker``, ``markersize``, ``markerfacecolor``, ``markeredgecolor``,
        ``markeredgewidth``.
    """
    name = str(style.get("marker", "circle"))
    hollow = name.endswith("_open")
    marker = MARKERS.get(name.removesuffix("_open"), "o")
    size = float(style.get("radius", 5)) * 1.4 * k
    if marker == "*":
        size *= 1.5
    edge = style.get("color", "#333333")
    face = style.get("fillColor", edge)
    return {
        "marker": marker,
        "markersize": size,
        "markerfacecolor": "white" if hollow or face == "none" else face,
        "markeredgecolor": edge,
        "markeredgewidth": (1.3 if hollow else 0.6) * k,
    }


def zone_hatch(layer_id: str, index: int) -> str | None:
    """Hatch of a zone layer: a fixed one per known layer, a spare one per other layer.

    Examples
    --------
    >>> zone_hatch("sanqu", 0), zone_hatch("yhsq", 2), zone_hatch("new", 1)
    ('//', None, '++')
    """
    if layer_id in _HATCHES:
        return _HATCHES[layer_id]
    return _SPARE_HATCHES[index % len(_SPARE_HATCHES)]
