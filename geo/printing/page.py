"""Paper sizes, page regions and text that must fit inside them.

All lengths are millimetres on the page, origin at the lower left; ``k`` is the page's size
relative to A4 (1.0 for A4, about 1.41 for A3), used to scale type and line widths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from geo.errors import InputError

__all__ = [
    "ORIENTATIONS",
    "PAGE_SIZES_MM",
    "Frames",
    "QuietCanvas",
    "Rect",
    "add_axes",
    "em_width",
    "fit_lines",
    "frames",
    "page_mm",
    "panel_axes",
    "stack",
    "wrap",
]

#: Paper sizes (short side, long side) in millimetres (ISO 216).
PAGE_SIZES_MM: Final[dict[str, tuple[float, float]]] = {
    "A4": (210.0, 297.0),
    "A3": (297.0, 420.0),
    "A2": (420.0, 594.0),
    "A1": (594.0, 841.0),
    "A0": (841.0, 1189.0),
}
ORIENTATIONS: Final[tuple[str, ...]] = ("landscape", "portrait")
_NO_LINE_START: Final[str] = "，。；：、）》」】)!?,.;:"
#: Opening brackets and quotes: never the last character of a line.
_NO_LINE_END: Final[str] = "（《「【(“"
#: A bracketed group (kept on one line when it fits), a Latin word, a space or one character.
_GROUP: Final[str] = r"（[^（）]*）|《[^《》]*》|\([^()]*\)"
_WORD: Final[str] = r"[A-Za-z0-9][A-Za-z0-9.\-:/%±_]*|\s|."
_MM_PER_PT: Final[float] = 25.4 / 72.0

#: A page region: x, y, width, height in millimetres from the lower left.
Rect = tuple[float, float, float, float]


class QuietCanvas(FigureCanvasAgg):
    """Agg canvas whose ``draw_idle`` does nothing.

    geopandas calls ``canvas.draw_idle()`` after every ``plot``; on a plain Agg canvas that
    renders the whole page each time (23 full renders per map).  Pages are rendered once, when
    saved.
    """

    def draw_idle(self, *args: object, **kwargs: object) -> None:
        """Skip: the page is drawn when it is saved."""


def page_mm(size: str, orientation: str) -> tuple[float, float]:
    """Page width and height in millimetres.

    Parameters
    ----------
    size : str
        ``"A4"`` ... ``"A0"`` (case-insensitive).
    orientation : {"landscape", "portrait"}
        Orientation.

    Returns
    -------
    tuple of float

    Raises
    ------
    InputError
        For an unknown size or orientation (the message names the option).

    Examples
    --------
    >>> page_mm("a3", "landscape")
    (420.0, 297.0)
    """
    key = str(size).strip().upper()
    if key not in PAGE_SIZES_MM:
        msg = f"unknown page size {size!r}: use one of {', '.join(PAGE_SIZES_MM)}"
        raise InputError(msg, field="size")
    if orientation not in ORIENTATIONS:
        msg = f"unknown orientation {orientation!r}: use one of {', '.join(ORIENTATIONS)}"
        raise InputError(msg, field="orientation")
    short, long_ = PAGE_SIZES_MM[key]
    return (long_, short) if orientation == "landscape" else (short, long_)


@dataclass(frozen=True)
class Frames:
    """Page regions in millimetres.

    Attributes
    ----------
    page : tuple of float
        Page width and height.
    map : Rect
        The map frame.
    inset : Rect
        The locator inset.
    legend : Rect or None
        A fixed legend panel (portrait); None when the legend is part of ``stack``.
    stack : Rect
        Region where the legend (landscape), the place key and the notes are stacked.
    title : Rect
        Title block.
    margin, gutter, gap, k : float
        Page margin, space around the map frame for graticule labels, space between panels,
        and the size factor relative to A4.
    """

    page: tuple[float, float]
    map: Rect
    inset: Rect
    legend: Rect | None
    stack: Rect
    title: Rect
    margin: float
    gutter: float
    gap: float
    k: float


def frames(width: float, height: float) -> Frames:
    """Split a page into map, inset, legend, stacked panels and title block.

    Parameters
    ----------
    width, height : float
        Page size in millimetres.

    Returns
    -------
    Frames
    """
    k = min(width, height) / 210.0
    m, gutter, gap = 9.0 * k, 6.0 * k, 4.0 * k
    title_h = 21.0 * k
    top = height - m - title_h
    title = (m, top, width - 2 * m, title_h)
    if width > height:
        side = 0.29 * width
        map_frame = (
            m + gutter,
            m + gutter,
            width - 2 * m - side - 2 * gutter - gap,
            top - m - 2 * gutter,
        )
        sx = width - m - side
        inset_h = 0.22 * (top - m)
        inset = (sx, top - inset_h, side, inset_h)
        stack_rect = (sx, m, side, top - inset_h - gap - m)
        return Frames((width, height), map_frame, inset, None, stack_rect, title, m, gutter, gap, k)
    bottom_h = 0.30 * height
    map_frame = (
        m + gutter,
        m + bottom_h + gap + gutter,
        width - 2 * m - 2 * gutter,
        top - m - bottom_h - gap - 2 * gutter,
    )
    inner = width - 2 * m - 2 * gap
    inset = (m, m, 0.25 * inner, bottom_h)
    legend = (m + 0.25 * inner + gap, m, 0.33 * inner, bottom_h)
    sx = legend[0] + legend[2] + gap
    stack_rect = (sx, m, width - m - sx, bottom_h)
    return Frames((width, height), map_frame, inset, legend, stack_rect, title, m, gutter, gap, k)


def stack(rect: Rect, heights: list[float | None], gap: float) -> list[Rect]:
    """Stack panels top to bottom inside ``rect``; one height of None takes what is left.

    Parameters
    ----------
    rect : Rect
        Region to fill.
    heights : list of float or None
        Wanted heights (0 for a panel left out); at most one None.
    gap : float
        Space between panels.

    Returns
    -------
    list of Rect
        One per height, in order (zero-height panels get a zero-height rect).

    Examples
    --------
    >>> stack((0, 0, 10, 100), [20.0, None, 30.0], 5.0)
    [(0, 80.0, 10, 20.0), (0, 35.0, 10, 40.0), (0, 0.0, 10, 30.0)]
    """
    x, y, w, h = rect
    used = sum(v for v in heights if v) + gap * (sum(1 for v in heights if v is None or v) - 1)
    flex = max(h - used, 0.0)
    out: list[Rect] = []
    cursor = y + h
    for value in heights:
        height = flex if value is None else value
        if height <= 0:
            out.append((x, cursor, w, 0.0))
            continue
        cursor -= height
        out.append((x, cursor, w, height))
        cursor -= gap
    return out


def add_axes(fig: Figure, rect: Rect, page: tuple[float, float]) -> Any:
    """Add an axes covering ``rect`` (millimetres) of the page."""
    x, y, w, h = rect
    return fig.add_axes((x / page[0], y / page[1], w / page[0], h / page[1]))


def panel_axes(fig: Figure, rect: Rect, page: tuple[float, float], k: float) -> Any:
    """Add a framed panel whose data coordinates are millimetres from its lower left corner."""
    pax = add_axes(fig, rect, page)
    pax.set_xticks([])
    pax.set_yticks([])
    pax.set_xlim(0, rect[2])
    pax.set_ylim(0, rect[3])
    for spine in pax.spines.values():
        spine.set_linewidth(0.5 * k)
    return pax


def em_width(text: str) -> float:
    """Width of ``text`` in ems: CJK and full-width characters 1, others 0.55.

    Examples
    --------
    >>> em_width("湘S(2026)")
    4.85
    """
    return round(sum(1.0 if ord(ch) > 0x2E7F else 0.55 for ch in text), 6)


def _tokens(text: str, width_em: float, *, keep_groups: bool) -> list[str]:
    """Split ``text`` into unbreakable pieces: bracketed groups that fit a line, words, chars."""
    if not keep_groups:
        return re.findall(_WORD, text)
    out: list[str] = []
    for token in re.findall(f"{_GROUP}|{_WORD}", text):
        if not (len(token) > 1 and token[0] in _NO_LINE_END and em_width(token) > width_em):
            out.append(token)
            continue
        # a group longer than a line breaks after its commas, or anywhere when a part is too long
        for part in re.findall(r"[^、，,；]+[、，,；]?|[、，,；]", token):
            if em_width(part) <= width_em:
                out.append(part)
            else:
                out.extend(re.findall(_WORD, part))
    return out


def _break(current: str) -> tuple[str, str]:
    """Split a full line into what stays and the opening brackets carried to the next line."""
    stay = current.rstrip()
    carry = ""
    while stay and stay[-1] in _NO_LINE_END:
        carry = stay[-1] + carry
        stay = stay[:-1].rstrip()
    return stay, carry


def wrap(text: str, width_em: float, *, keep_groups: bool = False) -> list[str]:
    """Wrap mixed CJK/Latin text to ``width_em`` ems.

    CJK characters are 1 em and may break anywhere; runs of Latin letters, digits and their
    punctuation (``GCJ-02``, ``2026-04``) are 0.55 em per character and never split (unless a
    run alone is wider than a line); closing punctuation never starts a line and an opening
    bracket never ends one.  With ``keep_groups`` (short labels: legend, map), a bracketed
    group such as ``（专栏3、8）`` stays on one line when it fits one (the break comes
    before its ``（``) and a longer one breaks only after its commas.

    Parameters
    ----------
    text : str
        Text to wrap.
    width_em : float
        Line width in ems.
    keep_groups : bool
        Keep bracketed groups on one line (break before them).

    Returns
    -------
    list of str

    Examples
    --------
    >>> wrap("集聚区、专业园与平台（专栏3、8）（示意）", 14, keep_groups=True)
    ['集聚区、专业园与平台', '（专栏3、8）（示意）']
    """
    lines: list[str] = []
    current, used = "", 0.0
    for token in _tokens(text, width_em, keep_groups=keep_groups):
        w = em_width(token)
        if used + w > width_em and current.strip() and token not in _NO_LINE_START:
            stay, carry = _break(current)
            if stay:
                lines.append(stay)
                current = carry
                used = em_width(carry)
                if token.isspace() and not current:
                    continue
        current += token
        used += w
    if current.strip():
        lines.append(current.rstrip())
    return lines


def fit_lines(
    text: str,
    *,
    width_mm: float,
    height_mm: float,
    sizes: tuple[float, ...],
    max_lines: int,
    linespacing: float = 1.25,
) -> tuple[float, list[str]] | None:
    """Largest font size (points) at which ``text`` wraps into the box, and its lines.

    Parameters
    ----------
    text : str
        Text to fit.
    width_mm, height_mm : float
        Box size.
    sizes : tuple of float
        Font sizes to try, largest first.
    max_lines : int
        Most lines allowed.
    linespacing : float
        Line height as a multiple of the font size.

    Returns
    -------
    tuple or None
        ``(size, lines)``, or None when it fits at none of the sizes.

    Examples
    --------
    >>> fit_lines("长沙市", width_mm=50, height_mm=10, sizes=(18, 12), max_lines=1)
    (18, ['长沙市'])
    """
    for size in sizes:
        em = size * _MM_PER_PT
        lines = wrap(text, width_mm / em)
        if len(lines) <= max_lines and len(lines) * em * linespacing <= height_mm + 1e-9:
            return size, lines
    return None
