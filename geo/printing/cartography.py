"""Map furniture for printed maps: scale, scale bar, north arrow, graticule, label placement.

Everything here works on a matplotlib ``Axes`` whose data coordinates are metres of a projected
(Gauss-Kruger) CRS drawn at a true scale, i.e. one page millimetre is the same number of metres
horizontally and vertically.  matplotlib-scalebar picks its length from pixel sizes and cannot
print the representative fraction or rotate a north arrow to true north, so this module keeps a
small, tested helper instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.patches import Polygon as MplPolygon
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from pyproj import CRS, Transformer
from shapely.geometry import LineString, box

from geo.errors import CRSError, InputError
from geo.printing.page import em_width, wrap

__all__ = [
    "NICE_SCALES",
    "LabelSpec",
    "ScaleBar",
    "add_graticule",
    "add_north_arrow",
    "add_scale_bar",
    "format_dms",
    "format_length",
    "format_scale",
    "metres_per_point",
    "nice_length",
    "nice_scale",
    "north_angle",
    "place_labels",
    "scale_ticks",
    "underlay",
    "wrap_label",
]

#: Mantissas of the representative fractions a map may be printed at (1:10 000, 1:15 000, ...).
NICE_SCALES: Final[tuple[float, ...]] = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.5)
_NICE_LENGTHS: Final[tuple[float, ...]] = (1.0, 2.0, 5.0)
#: Graticule steps tried, in degrees (1', 2', 5', 10', 15', 20', 30', 1°, 2°).
_GRATICULE_STEPS: Final[tuple[float, ...]] = (
    1 / 60,
    2 / 60,
    5 / 60,
    10 / 60,
    15 / 60,
    20 / 60,
    30 / 60,
    1.0,
    2.0,
)
_MM_PER_POINT: Final[float] = 25.4 / 72.0
_HALO: Final[list] = [patheffects.Stroke(linewidth=2.2, foreground="white")]
#: Point labels longer than this (ems) wrap; the name before its first bracket may go to 14.
_LABEL_EM: Final[float] = 10.0
_LABEL_HEAD_EM: Final[float] = 14.0
#: Farthest a point label's centre may be from its point, in ems of the label's type
#: (8 em of 6.2 pt is 17.5 mm on A4); a label that only fits farther away is keyed by number.
_MAX_OFFSET_EM: Final[float] = 8.0


def nice_scale(denominator: float) -> int:
    """Round a scale denominator up to the next printable value.

    Parameters
    ----------
    denominator : float
        Smallest denominator that fits the map (positive).

    Returns
    -------
    int
        ``m * 10**k`` with ``m`` in :data:`NICE_SCALES`, at least ``denominator``.

    Raises
    ------
    InputError
        When ``denominator`` is not a positive finite number.

    Examples
    --------
    >>> nice_scale(43_210)
    50000
    >>> nice_scale(100_000)
    100000
    >>> nice_scale(101_000)
    125000
    """
    if not (math.isfinite(denominator) and denominator > 0):
        msg = f"scale denominator must be a positive number, got {denominator!r}"
        raise InputError(msg, field="scale")
    exponent = math.floor(math.log10(denominator))
    for k in (exponent, exponent + 1):
        for mantissa in NICE_SCALES:
            value = round(mantissa * 10**k)
            if value >= denominator * (1 - 1e-9):
                return int(value)
    raise AssertionError("unreachable")  # pragma: no cover


def nice_length(max_metres: float) -> float:
    """Largest round length (1, 2 or 5 times a power of ten) not above ``max_metres``.

    Parameters
    ----------
    max_metres : float
        Upper bound in metres (positive).

    Returns
    -------
    float
        Length in metres.

    Raises
    ------
    InputError
        When ``max_metres`` is not positive.

    Examples
    --------
    >>> nice_length(3_700)
    2000.0
    >>> nice_length(999)
    500.0
    """
    if not (math.isfinite(max_metres) and max_metres > 0):
        msg = f"scale-bar length must be positive, got {max_metres!r}"
        raise InputError(msg, field="length")
    exponent = math.floor(math.log10(max_metres))
    best = 10.0**exponent
    for mantissa in _NICE_LENGTHS:
        value = mantissa * 10.0**exponent
        if value <= max_metres * (1 + 1e-9):
            best = value
    return float(best)


def format_length(metres: float, *, unit: str | None = None) -> str:
    """Format a length as ``"500 m"`` or ``"2.5 km"``.

    Parameters
    ----------
    metres : float
        Length in metres.
    unit : {"m", "km"}, optional
        Force the unit (default: km from 1000 m up).

    Returns
    -------
    str

    Examples
    --------
    >>> format_length(2500)
    '2.5 km'
    >>> format_length(500)
    '500 m'
    >>> format_length(0, unit="km")
    '0 km'
    """
    unit = unit or ("km" if metres >= 1000 else "m")
    value = metres / 1000 if unit == "km" else metres
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return f"{text} {unit}"


def format_scale(denominator: int) -> str:
    """Format a representative fraction with a thin space as thousands separator.

    Examples
    --------
    >>> format_scale(50000)
    '1:50 000'
    """
    return "1:" + f"{int(denominator):,}".replace(",", " ")


def metres_per_point(ax: Axes) -> tuple[float, float]:
    """Metres of map per typographic point on the page, horizontally and vertically.

    Parameters
    ----------
    ax : Axes
        Map axes in metres.

    Returns
    -------
    tuple of float
        ``(x, y)``; equal for a map drawn at a true scale.
    """
    fig = ax.figure
    pos = ax.get_position()
    width_pt = pos.width * fig.get_figwidth() * 72.0
    height_pt = pos.height * fig.get_figheight() * 72.0
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    return (x1 - x0) / width_pt, (y1 - y0) / height_pt


@dataclass
class ScaleBar:
    """A drawn scale bar.

    Attributes
    ----------
    length_m : float
        Length the bar stands for, in metres.
    label : str
        Its end label (``"5 km"``).
    x0, x1, y : float
        Bar start, end and baseline in data coordinates (metres).
    artists : list
        Patches and texts drawn.
    """

    length_m: float
    label: str
    x0: float
    x1: float
    y: float
    artists: list = field(default_factory=list)


def scale_ticks(length: float) -> tuple[float, ...]:
    """Labelled ticks of a scale bar: 0, the 1-2-5 midpoint where there is one, and the end.

    Parameters
    ----------
    length : float
        Bar length (1, 2 or 5 times a power of ten).

    Returns
    -------
    tuple of float

    Examples
    --------
    >>> scale_ticks(5000.0)
    (0.0, 2000.0, 5000.0)
    >>> scale_ticks(2000.0)
    (0.0, 1000.0, 2000.0)
    >>> scale_ticks(1000.0)
    (0.0, 500.0, 1000.0)
    """
    mantissa = length / 10 ** math.floor(math.log10(length))
    if round(mantissa) == 5:
        return (0.0, length * 2 / 5, length)
    return (0.0, length / 2, length)


def _scale_bar_backing(
    ax: Axes,
    x0: float,
    y: float,
    *,
    length: float,
    height: float,
    fontsize: float,
    zorder: float,
    mx: float,
    my: float,
) -> Rectangle:
    """Add the white backing box so the bar reads over any map content."""
    pad_x, pad_top, pad_bottom = 8 * mx, (fontsize * 2.6 + 4) * my, 3 * my
    backing = Rectangle(
        (x0 - pad_x, y - pad_bottom),
        length + 2 * pad_x + 4 * fontsize * mx,
        height + pad_top + pad_bottom,
        facecolor="white",
        edgecolor="none",
        alpha=0.85,
        zorder=zorder - 0.5,
    )
    ax.add_patch(backing)
    return backing


def _scale_bar_blocks(
    ax: Axes,
    x0: float,
    y: float,
    *,
    length: float,
    height: float,
    segments: int,
    zorder: float,
) -> list[Rectangle]:
    """Add the alternating black and white blocks of the bar."""
    step = length / segments
    blocks = []
    for i in range(segments):
        rect = Rectangle(
            (x0 + i * step, y),
            step,
            height,
            facecolor="black" if i % 2 == 0 else "white",
            edgecolor="black",
            linewidth=0.6,
            zorder=zorder,
        )
        ax.add_patch(rect)
        blocks.append(rect)
    return blocks


def _scale_bar_labels(
    ax: Axes,
    x0: float,
    top: float,
    *,
    length: float,
    unit: str,
    scale: int | None,
    fontsize: float,
    zorder: float,
    my: float,
) -> list[Text]:
    """Add the tick lengths above the bar (unit on the last) and the scale above them."""
    ticks = scale_ticks(length)
    texts = []
    for i, tick in enumerate(ticks):
        text = format_length(tick, unit=unit).split()[0]
        if i == len(ticks) - 1:
            text = format_length(tick, unit=unit)
        texts.append(
            ax.text(
                x0 + tick,
                top + 1.5 * my,
                text,
                ha="center",
                va="bottom",
                fontsize=fontsize,
                zorder=zorder,
            )
        )
    if scale is not None:
        texts.append(
            ax.text(
                x0,
                top + (fontsize * 1.4 + 2) * my,
                f"比例尺 {format_scale(scale)}",
                ha="left",
                va="bottom",
                fontsize=fontsize,
                zorder=zorder,
            )
        )
    return texts


def add_scale_bar(
    ax: Axes,
    *,
    scale: int | None = None,
    anchor: tuple[float, float] = (0.04, 0.05),
    max_fraction: float = 0.25,
    segments: int | None = None,
    height_pt: float = 3.0,
    fontsize: float = 7.0,
    zorder: float = 20,
) -> ScaleBar:
    """Draw a segmented scale bar with a round length, plus the representative fraction.

    Parameters
    ----------
    ax : Axes
        Map axes whose data unit is the metre.
    scale : int, optional
        Scale denominator printed above the bar (omitted when None).
    anchor : tuple of float
        Lower-left corner of the bar in axes fractions.
    max_fraction : float
        Longest the bar may be, as a fraction of the axes width.
    segments : int, optional
        Alternating black and white blocks (default 5 for a bar of 5 units, else 4, so every
        labelled tick falls on a block edge).
    height_pt : float
        Bar height in points.
    fontsize : float
        Label size in points.
    zorder : float
        Drawing order.

    Returns
    -------
    ScaleBar
    """
    mx, my = metres_per_point(ax)
    x_lo, x_hi = ax.get_xlim()
    y_lo, y_hi = ax.get_ylim()
    length = nice_length(max_fraction * (x_hi - x_lo))
    x0 = x_lo + anchor[0] * (x_hi - x_lo)
    y = y_lo + anchor[1] * (y_hi - y_lo)
    height = height_pt * my
    unit = "km" if length >= 1000 else "m"
    artists: list = []
    artists.append(
        _scale_bar_backing(
            ax, x0, y, length=length, height=height, fontsize=fontsize, zorder=zorder, mx=mx, my=my
        )
    )
    segments = segments or (5 if scale_ticks(length)[1] * 5 == length * 2 else 4)
    artists += _scale_bar_blocks(
        ax, x0, y, length=length, height=height, segments=segments, zorder=zorder
    )
    artists += _scale_bar_labels(
        ax,
        x0,
        y + height,
        length=length,
        unit=unit,
        scale=scale,
        fontsize=fontsize,
        zorder=zorder,
        my=my,
    )
    return ScaleBar(length, format_length(length), x0, x0 + length, y, artists)


def north_angle(crs: CRS | str, x: float, y: float) -> float:
    """Angle from grid north to true north at a point, in degrees (clockwise positive).

    Parameters
    ----------
    crs : pyproj.CRS or str
        Projected CRS of ``x, y``.
    x, y : float
        Point in that CRS.

    Returns
    -------
    float
        Degrees; the meridian convergence with the sign flipped.

    Raises
    ------
    CRSError
        When the CRS is geographic.

    Examples
    --------
    >>> round(north_angle("EPSG:4547", 500000.0, 3_100_000.0), 6)  # on the central meridian
    0.0
    """
    crs = CRS.from_user_input(crs)
    if crs.is_geographic:
        msg = f"north_angle needs a projected CRS, got {crs.to_string()}"
        raise CRSError(msg)
    inverse = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    forward = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    lon, lat = inverse.transform(x, y)
    x2, y2 = forward.transform(lon, lat + 0.01)
    return math.degrees(math.atan2(x2 - x, y2 - y))


def _rotated_points(
    cx: float, cy: float, *, angle: float, mx: float, my: float
) -> Callable[[float, float], tuple[float, float]]:
    """Return ``f(px, py)``: an offset in points, turned ``angle`` degrees clockwise, to data."""
    theta = math.radians(-angle)
    cos_t, sin_t = math.cos(theta), math.sin(theta)

    def _pt(px: float, py: float) -> tuple[float, float]:
        rx, ry = px * cos_t - py * sin_t, px * sin_t + py * cos_t
        return cx + rx * mx, cy + ry * my

    return _pt


def _arrow_halves(
    ax: Axes,
    tip: tuple[float, float],
    base: tuple[float, float],
    left: tuple[float, float],
    right: tuple[float, float],
    *,
    zorder: float,
) -> None:
    """Draw the arrow as a white left half and a black right half."""
    ax.add_patch(
        MplPolygon(
            [tip, left, base],
            closed=True,
            facecolor="white",
            edgecolor="black",
            lw=0.7,
            zorder=zorder,
        )
    )
    ax.add_patch(
        MplPolygon(
            [tip, right, base],
            closed=True,
            facecolor="black",
            edgecolor="black",
            lw=0.7,
            zorder=zorder,
        )
    )


def _north_letter(
    ax: Axes, xy: tuple[float, float], *, angle: float, fontsize: float, zorder: float
) -> None:
    """Write "北" above the arrow tip, turned with the arrow, on a halo."""
    lx, ly = xy
    north = ax.text(
        lx,
        ly,
        "北",
        ha="center",
        va="center",
        fontsize=fontsize,
        zorder=zorder,
        rotation=-angle,
    )
    underlay(north, _HALO)


def add_north_arrow(
    ax: Axes,
    *,
    crs: CRS | str,
    anchor: tuple[float, float] = (0.95, 0.88),
    size_pt: float = 26.0,
    fontsize: float = 9.0,
    zorder: float = 20,
) -> float:
    """Draw a north arrow pointing to true north at the map centre.

    Parameters
    ----------
    ax : Axes
        Map axes in metres of ``crs``.
    crs : pyproj.CRS or str
        The map's projected CRS.
    anchor : tuple of float
        Arrow centre in axes fractions.
    size_pt : float
        Arrow length in points.
    fontsize : float
        Size of the "北" letter (the only north label).
    zorder : float
        Drawing order.

    Returns
    -------
    float
        The rotation applied (degrees clockwise from grid north).
    """
    mx, my = metres_per_point(ax)
    x_lo, x_hi = ax.get_xlim()
    y_lo, y_hi = ax.get_ylim()
    cx = x_lo + anchor[0] * (x_hi - x_lo)
    cy = y_lo + anchor[1] * (y_hi - y_lo)
    angle = north_angle(crs, (x_lo + x_hi) / 2, (y_lo + y_hi) / 2)
    half = size_pt / 2
    width = size_pt * 0.32
    _pt = _rotated_points(cx, cy, angle=angle, mx=mx, my=my)
    tip, base, left, right = (
        _pt(0, half),
        _pt(0, -half * 0.45),
        _pt(-width, -half),
        _pt(width, -half),
    )
    _arrow_halves(ax, tip, base, left, right, zorder=zorder)
    _north_letter(ax, _pt(0, half + fontsize * 0.9), angle=angle, fontsize=fontsize, zorder=zorder)
    return angle


def format_dms(value: float, *, axis: str) -> str:
    """Format a longitude or latitude as degrees and minutes (``112°58′E``).

    Parameters
    ----------
    value : float
        Decimal degrees.
    axis : {"lon", "lat"}
        Which hemisphere letters to use.

    Returns
    -------
    str

    Examples
    --------
    >>> format_dms(112.5, axis="lon")
    '112°30′E'
    >>> format_dms(28.0, axis="lat")
    '28°N'
    """
    letter = ("E" if value >= 0 else "W") if axis == "lon" else ("N" if value >= 0 else "S")
    total = round(abs(value) * 60)
    deg, minutes = divmod(total, 60)
    return f"{deg}°{minutes:02d}′{letter}" if minutes else f"{deg}°{letter}"


def _graticule_step(span_deg: float, *, target: int = 5) -> float:
    for step in _GRATICULE_STEPS:
        if span_deg / step <= target + 1:
            return step
    return _GRATICULE_STEPS[-1]


def _geo_extent(
    to_geo: Transformer, x0: float, x1: float, y0: float, y1: float
) -> tuple[float, float, float, float]:
    """Return the lon/lat range of the map frame (corners and edge midpoints)."""
    xs = np.array([x0, x1, x1, x0, (x0 + x1) / 2, (x0 + x1) / 2, x0, x1])
    ys = np.array([y0, y0, y1, y1, y0, y1, (y0 + y1) / 2, (y0 + y1) / 2])
    lons, lats = to_geo.transform(xs, ys)
    return min(lons), max(lons), min(lats), max(lats)


def _graticule_line(
    axis: str,
    value: float,
    dense: np.ndarray,
    *,
    step: float,
    lon: tuple[float, float],
    lat: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """Return the vertices in degrees of a meridian (``lon``) or parallel, one step past the map."""
    (lon_lo, lon_hi), (lat_lo, lat_hi) = lon, lat
    if axis == "lon":
        return (
            np.full(dense.size, value),
            lat_lo - step + dense * (lat_hi - lat_lo + 2 * step),
        )
    return (
        lon_lo - step + dense * (lon_hi - lon_lo + 2 * step),
        np.full(dense.size, value),
    )


def _graticule_label(
    ax: Axes,
    axis: str,
    text: str,
    pos: float,
    *,
    x0: float,
    y0: float,
    fontsize: float,
    color: str,
) -> None:
    """Write a graticule label outside the frame: longitudes below it, latitudes left of it."""
    if axis == "lon":
        ax.annotate(
            text,
            (pos, y0),
            xytext=(0, -3),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=fontsize,
            color=color,
            annotation_clip=False,
        )
    else:
        ax.annotate(
            text,
            (x0, pos),
            xytext=(-3, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            rotation=90,
            fontsize=fontsize,
            color=color,
            annotation_clip=False,
        )


def add_graticule(
    ax: Axes,
    *,
    crs: CRS | str,
    fontsize: float = 6.0,
    color: str = "#7f8c8d",
    zorder: float = 6,
) -> list[tuple[str, float, float]]:
    """Draw a longitude/latitude graticule with degree-minute labels outside the frame.

    Parameters
    ----------
    ax : Axes
        Map axes in metres of ``crs``.
    crs : pyproj.CRS or str
        The map's projected CRS.
    fontsize : float
        Label size in points.
    color : str
        Line and label colour.
    zorder : float
        Drawing order of the lines.

    Returns
    -------
    list of tuple
        ``(axis, degrees, position)`` per label: ``axis`` is ``"lon"`` (position = x on the
        bottom edge) or ``"lat"`` (position = y on the left edge), in metres.
    """
    crs = CRS.from_user_input(crs)
    to_geo = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    to_map = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    frame = box(x0, y0, x1, y1)
    lon_lo, lon_hi, lat_lo, lat_hi = _geo_extent(to_geo, x0, x1, y0, y1)
    step = _graticule_step(min(lon_hi - lon_lo, lat_hi - lat_lo))
    bottom, left = LineString([(x0, y0), (x1, y0)]), LineString([(x0, y0), (x0, y1)])
    labels: list[tuple[str, float, float]] = []
    dense = np.linspace(0.0, 1.0, 60)
    for axis, lo, hi in (("lon", lon_lo, lon_hi), ("lat", lat_lo, lat_hi)):
        start = math.floor(lo / step) * step
        for value in np.arange(start, hi + step, step):
            value = round(float(value) * 3600) / 3600
            gx, gy = _graticule_line(
                axis, value, dense, step=step, lon=(lon_lo, lon_hi), lat=(lat_lo, lat_hi)
            )
            mx_, my_ = to_map.transform(gx, gy)
            line = LineString(np.column_stack([mx_, my_])).intersection(frame)
            if line.is_empty:
                continue
            for part in getattr(line, "geoms", [line]):
                px, py = part.xy
                ax.plot(px, py, color=color, lw=0.4, ls=(0, (4, 3)), zorder=zorder)
            edge = bottom if axis == "lon" else left
            hit = LineString(np.column_stack([mx_, my_])).intersection(edge)
            if hit.is_empty or hit.geom_type != "Point":
                continue
            pos = hit.x if axis == "lon" else hit.y
            _graticule_label(
                ax,
                axis,
                format_dms(value, axis=axis),
                pos,
                x0=x0,
                y0=y0,
                fontsize=fontsize,
                color=color,
            )
            labels.append((axis, value, pos))
    return labels


@dataclass(frozen=True)
class LabelSpec:
    """A label to place.

    Attributes
    ----------
    x, y : float
        Anchor in data coordinates.
    text : str
        Label text.
    priority : float
        Higher is placed first (and kept when space runs out).
    fontsize : float
        Size in points.
    color : str
        Text colour.
    weight : {"normal", "bold"}
        Font weight (bold uses the vendored Noto Sans SC Bold).
    point : bool
        True for a point feature (label beside the symbol), False for an area (label centred).
    clearance : float
        Radius of the point's symbol in points (the label keeps this far plus the gap away).
    within : shapely geometry, optional
        Area (data coordinates) the whole label must stay inside, e.g. a neighbouring county's
        outline so its name never falls inside the printed unit.
    required : bool
        The feature must be named: the caller keys it by number when no position is free.
    anchors : tuple of (x, y)
        Further anchors tried for an area label after ``(x, y)``.
    """

    x: float
    y: float
    text: str
    priority: float = 0.0
    fontsize: float = 7.0
    color: str = "black"
    weight: str = "normal"
    point: bool = True
    clearance: float = 0.0
    within: Any = None
    required: bool = False
    anchors: tuple[tuple[float, float], ...] = ()


_POINT_OFFSETS: Final[tuple[tuple[float, float, str, str], ...]] = (
    (1, 0, "left", "center"),
    (-1, 0, "right", "center"),
    (0.8, 0.8, "left", "bottom"),
    (-0.8, 0.8, "right", "bottom"),
    (0.8, -0.8, "left", "top"),
    (-0.8, -0.8, "right", "top"),
    (0, 1, "center", "bottom"),
    (0, -1, "center", "top"),
)
_AREA_OFFSETS: Final[tuple[tuple[float, float], ...]] = (
    (0, 0),
    (0, 1.5),
    (0, -1.5),
    (2.5, 0),
    (-2.5, 0),
    (0, 3),
    (0, -3),
)


def _effects(spec: LabelSpec, *, halo: bool) -> list:
    effects: list = []
    if halo:
        effects.append(patheffects.Stroke(linewidth=2.4, foreground="white"))
    return effects


def underlay(text: Text, effects: list) -> Text:
    """Draw stroke effects (halo, faux bold) as a copy beneath ``text``.

    Path effects make matplotlib draw text as outlines, which a PDF reader can no longer find
    or copy; the strokes therefore go on an outline-only copy underneath, and ``text`` itself
    stays real, searchable text.

    Parameters
    ----------
    text : Text
        A drawn text (or annotation).
    effects : list of AbstractPathEffect
        Strokes to draw (no ``Normal``: the copy shows only its strokes).

    Returns
    -------
    Text
        The copy.
    """
    kwargs = {
        "ha": text.get_ha(),
        "va": text.get_va(),
        "fontsize": text.get_fontsize(),
        "rotation": text.get_rotation(),
        "color": text.get_color(),
        "zorder": text.get_zorder() - 0.001,
        "path_effects": list(effects),
        "fontproperties": text.get_fontproperties(),
        "parse_math": False,
    }
    if hasattr(text, "xyann"):  # an annotation with an offset
        twin = text.axes.annotate(
            text.get_text(),
            text.xy,
            xytext=text.xyann,
            textcoords=text.anncoords,
            xycoords=text.xycoords,
            annotation_clip=False,
            **kwargs,
        )
    else:
        x, y = text.get_position()
        owner = text.axes if text.axes is not None else text.figure
        twin = owner.text(x, y, text.get_text(), transform=text.get_transform(), **kwargs)
    return twin


def _overlaps(candidate: Bbox, placed: Iterable[Bbox], pad: float = 0.0) -> bool:
    """Tell whether ``candidate``, grown by ``pad``, overlaps a placed box.

    The box grows by ``pad`` above and below and twice that to the sides, so two labels on
    one line never read as one.
    """
    grown = candidate.padded(2 * pad, pad) if pad else candidate
    return any(grown.overlaps(other) for other in placed)


def _box_distance(bbox: Bbox, xy: np.ndarray) -> np.ndarray:
    """Distances (display units) from points ``xy`` (n, 2) to the nearest point of ``bbox``."""
    dx = np.maximum(np.maximum(bbox.x0 - xy[:, 0], xy[:, 0] - bbox.x1), 0.0)
    dy = np.maximum(np.maximum(bbox.y0 - xy[:, 1], xy[:, 1] - bbox.y1), 0.0)
    return np.hypot(dx, dy)


def _beside_other_symbol(
    bbox: Bbox, own: tuple[float, float, float], others: np.ndarray, near: float
) -> bool:
    """Tell whether a label box would read as the name of another symbol.

    That is when another symbol is within ``near`` of the box and not clearly farther from
    it than the label's own symbol.
    ``own`` is (x, y, radius) and ``others`` an (n, 3) array of the same, in display units;
    symbols at the label's own position (the same place drawn twice) do not count.
    """
    if not len(others):
        return False
    d_own = float(_box_distance(bbox, np.array([own[:2]]))[0]) - own[2]
    same = np.hypot(others[:, 0] - own[0], others[:, 1] - own[1]) < 0.5
    d = _box_distance(bbox, others[:, :2]) - others[:, 2]
    # a tie counts against the label: within ``near`` it must be clearly nearer its own
    return bool(np.any(~same & (d < near) & (d < d_own + near / 4)))


def wrap_label(text: str, *, width_em: float = _LABEL_EM) -> str:
    """Wrap a point label: before its brackets, keeping each bracketed group together.

    The name before the first ``（`` may run to 14 ems so that it is not split for a
    character or two; a longer name splits in two about equal lines.

    Examples
    --------
    >>> print(wrap_label("永州市妇幼保健院（市妇幼保健中心、市妇女儿童医院）"))
    永州市妇幼保健院
    （市妇幼保健中心、
    市妇女儿童医院）
    """
    if em_width(text) <= width_em:
        return text
    head = em_width(text.split("（", 1)[0])
    # a name up to 14 ems stays whole; a longer one splits in halves, never leaving an orphan
    width = max(width_em, head if head <= _LABEL_HEAD_EM else math.ceil(head / 2))
    return "\n".join(wrap(text, width, keep_groups=True))


def _inside_area(ax: Axes, bbox: Bbox, area: Any) -> bool:
    (x0, y0), (x1, y1) = ax.transData.inverted().transform([(bbox.x0, bbox.y0), (bbox.x1, bbox.y1)])
    return bool(area.contains(box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))))


def _candidates(spec: LabelSpec, gap_pt: float, rings: Sequence[float]) -> list[tuple]:
    """(anchor x, anchor y, dx pt, dy pt, ha, va, leader) to try, best first."""
    out: list[tuple] = []
    if spec.point:
        for ring_i, ring in enumerate(rings):
            reach = gap_pt * ring + spec.clearance
            out.extend(
                (spec.x, spec.y, dx * reach, dy * reach, ha, va, ring_i > 0)
                for dx, dy, ha, va in _POINT_OFFSETS
            )
        return out
    for ax_, ay_ in ((spec.x, spec.y), *spec.anchors):
        out.extend(
            (ax_, ay_, dx * spec.fontsize, dy * spec.fontsize, "center", "center", False)
            for dx, dy in _AREA_OFFSETS
        )
    return out


def _box_at(px: float, py: float, w: float, h: float, ha: str, va: str) -> Bbox:
    x0 = {"left": px, "right": px - w, "center": px - w / 2}[ha]
    y0 = {"bottom": py, "top": py - h, "center": py - h / 2}[va]
    return Bbox.from_bounds(x0, y0, w, h)


def _text_size(probe: Text, spec: LabelSpec, renderer: Any) -> tuple[float, float]:
    """Return the display width and height of the label's text, measured with ``probe``."""
    probe.set_text(spec.text)
    probe.set_fontsize(spec.fontsize)
    probe.set_fontweight(spec.weight)
    size = probe.get_window_extent(renderer)
    return size.width, size.height


def _box_is_free(
    ax: Axes, spec: LabelSpec, bbox: Bbox, *, frame: Bbox, placed: Sequence[Bbox], pad: float
) -> bool:
    """Tell whether a label box is inside the axes, ``pad`` clear of ``placed``, in its area."""
    inside = (
        bbox.x0 >= frame.x0 and bbox.x1 <= frame.x1 and bbox.y0 >= frame.y0 and bbox.y1 <= frame.y1
    )
    if not inside or _overlaps(bbox, placed, pad):
        return False
    return not (spec.within is not None and not _inside_area(ax, bbox, spec.within))


def _draw_label(
    ax: Axes,
    spec: LabelSpec,
    xy: tuple[float, float],
    offset: tuple[float, float],
    *,
    ha: str,
    va: str,
    leader: bool,
) -> Text:
    """Write the label at ``offset`` points from ``xy``, with a leader line for callouts."""
    return ax.annotate(
        spec.text,
        xy,
        xytext=offset,
        textcoords="offset points",
        ha=ha,
        va=va,
        fontsize=spec.fontsize,
        color=spec.color,
        zorder=15 + spec.priority / 100,
        annotation_clip=False,
        fontweight=spec.weight,
        parse_math=False,
        arrowprops=(
            {"arrowstyle": "-", "lw": 0.4, "color": "#566573", "shrinkA": 0, "shrinkB": 2}
            if leader
            else None
        ),
    )


def place_labels(
    ax: Axes,
    labels: Sequence[LabelSpec],
    *,
    obstacles: Sequence[Bbox] = (),
    symbols: Sequence[tuple[float, float, float]] = (),
    gap_pt: float = 3.0,
    halo: bool = True,
    rings: Sequence[float] = (1.0, 3.0, 5.5),
    pad_pt: float = 1.0,
) -> list[Text | None]:
    """Place labels greedily so that no two overlap and none leaves the axes.

    Labels are taken in descending priority; each tries a fixed list of positions around its
    anchor (beside a point symbol, then further out on wider rings as a callout with a leader
    line; or at and around an area's centre and its extra ``anchors``) and takes the first
    whose bounding box is inside the axes, at least ``pad_pt`` clear of the labels placed so
    far and of ``obstacles``, inside ``within`` when given, and, for a point, centred within
    8 ems of it and not nearer another point symbol than its own (where it would read as
    that symbol's name).  Long point labels wrap
    (:func:`wrap_label`), so no label reaches far from its point.  A label with no free
    position is left out (callers key ``required`` labels by number).

    Parameters
    ----------
    ax : Axes
        Axes to draw on (its figure needs a canvas that can measure text).
    labels : sequence of LabelSpec
        What to place.
    obstacles : sequence of Bbox
        Display-space boxes to keep clear (symbols, scale bar, north arrow).
    symbols : sequence of tuple
        Point symbols on the map as ``(x, y, size_pt)`` in data coordinates (size as a
        marker size, i.e. the diameter in points); a point label never sits nearer one of
        them than its own point.
    gap_pt : float
        Distance between a point and its label, in points.
    halo : bool
        Draw a white halo behind each label.
    rings : sequence of float
        Distances tried for point labels, in multiples of ``gap_pt`` (beyond the first, a
        leader line joins label and point).  The last ring bounds how far a label may be
        displaced from its point.
    pad_pt : float
        Clear space kept above and below every label, in points (lines of two labels never
        touch); three times as much to the sides.

    Returns
    -------
    list of Text or None
        Per input label, the placed text, or None when it was left out.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    scale = fig.dpi / 72.0
    placed: list[Bbox] = list(obstacles)
    result: list[Text | None] = [None] * len(labels)
    order = sorted(range(len(labels)), key=lambda i: -labels[i].priority)
    probe = ax.text(0, 0, "", fontsize=7, parse_math=False)
    others = _symbols_display(ax, symbols, scale)
    for i in order:
        spec = labels[i]
        if spec.point:
            spec = replace(spec, text=wrap_label(spec.text))
        text = _place_one(
            ax,
            spec,
            probe=probe,
            frame=frame,
            placed=placed,
            others=others,
            gap_pt=gap_pt,
            rings=rings,
            pad=pad_pt * scale,
        )
        if text is None:
            continue
        result[i] = text
        effects = _effects(spec, halo=halo)
        if effects:
            underlay(text, effects)
    probe.remove()
    return result


def _symbols_display(
    ax: Axes, symbols: Sequence[tuple[float, float, float]], scale: float
) -> np.ndarray:
    """Symbols as an (n, 3) array of display x, y and radius."""
    if not symbols:
        return np.empty((0, 3))
    arr = np.asarray(symbols, dtype=float)
    xy = ax.transData.transform(arr[:, :2])
    return np.column_stack([xy, arr[:, 2] / 2 * scale])


def _place_one(
    ax: Axes,
    spec: LabelSpec,
    *,
    probe: Text,
    frame: Bbox,
    placed: list[Bbox],
    others: np.ndarray,
    gap_pt: float,
    rings: Sequence[float],
    pad: float,
) -> Text | None:
    """Draw ``spec`` at its first free candidate position and record its box in ``placed``."""
    renderer = ax.figure.canvas.get_renderer()
    scale = ax.figure.dpi / 72.0
    w, h = _text_size(probe, spec, renderer)
    near = 2 * gap_pt * scale
    for x, y, dx, dy, ha, va, leader in _candidates(spec, gap_pt, rings):
        px, py = ax.transData.transform((x, y))
        bbox = _box_at(px + dx * scale, py + dy * scale, w, h, ha, va)
        if not _box_is_free(ax, spec, bbox, frame=frame, placed=placed, pad=pad):
            continue
        own = (px, py, spec.clearance * scale)
        if spec.point and (
            math.hypot(bbox.x0 + bbox.width / 2 - px, bbox.y0 + bbox.height / 2 - py)
            > _MAX_OFFSET_EM * spec.fontsize * scale
            or _beside_other_symbol(bbox, own, others, near)
        ):
            continue
        placed.append(bbox)
        return _draw_label(ax, spec, (x, y), (dx, dy), ha=ha, va=va, leader=leader)
    return None
