"""Panels around the map: title block, legend, place key and notes, each fitted to its panel.

Every function takes a page region in millimetres and draws inside it; sizes shrink (down to a
floor) and text wraps so nothing leaves its panel.  Text is drawn with ``parse_math=False`` so
user text (titles, 审图号) prints literally.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerLine2D, HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.offsetbox import DrawingArea

from geo.errors import InputError
from geo.printing.page import Rect, em_width, fit_lines, panel_axes, wrap

__all__ = [
    "KeyEntry",
    "draw_key",
    "draw_legend",
    "draw_notes",
    "draw_title",
    "key_height",
    "legend_height",
    "notes_height",
]

_MM_PER_PT: Final[float] = 25.4 / 72.0
#: Smallest type on any panel, in points at A4 (scaled by ``k``).
NOTE_PT: Final[float] = 7.0
_KEY_SIZES: Final[tuple[float, ...]] = (6.5, 6.0, 5.5, 5.0)
#: Legend type sizes tried (points at A4): never below 6 pt, the panel wraps and adds columns.
_LEGEND_SIZES: Final[tuple[float, ...]] = (7.0, 6.5, 6.0)
#: Legend symbol scales tried last, when the legend fits at no size and column count.
_MARKER_SCALES: Final[tuple[float, ...]] = (1.0, 0.8, 0.65)
_LINESPACING: Final[float] = 1.3


@dataclass(frozen=True)
class KeyEntry:
    """A numbered place in the key.

    Attributes
    ----------
    number : int
        Number printed beside the symbol on the map.
    name : str
        Place name.
    """

    number: int
    name: str

    @property
    def text(self) -> str:
        """``"12 长沙市口腔医院"``."""
        return f"{self.number} {self.name}"


def draw_title(
    fig: Figure, rect: Rect, page: tuple[float, float], title: str, subtitle: str, k: float
) -> list[Any]:
    """Draw the title (bold, wrapped or shrunk to fit) and the subtitle.

    Parameters
    ----------
    fig : Figure
        The page.
    rect : Rect
        Title block.
    page : tuple of float
        Page size in millimetres.
    title, subtitle : str
        Text, printed literally.
    k : float
        Page size factor.

    Returns
    -------
    list of Text

    Raises
    ------
    InputError
        When the title or subtitle cannot fit even at the smallest size (names ``title`` or
        ``subtitle`` and the page).
    """
    x, y, w, h = rect
    sub = fit_lines(
        subtitle,
        width_mm=w - 8 * k,
        height_mm=0.3 * h,
        sizes=tuple(s * k for s in (9.0, 8.0, 7.0)),
        max_lines=2,
    )
    if sub is None:
        msg = f"subtitle is too long for the page ({len(subtitle)} characters): shorten it"
        raise InputError(msg, field="subtitle")
    sub_h = len(sub[1]) * sub[0] * _MM_PER_PT * 1.25
    fit = fit_lines(
        title,
        width_mm=w - 8 * k,
        height_mm=h - sub_h - 4 * k,
        sizes=tuple(s * k for s in (18.0, 16.0, 14.0, 12.0, 11.0)),
        max_lines=2,
        linespacing=1.2,
    )
    if fit is None:
        msg = f"title is too long for the page ({len(title)} characters): shorten it"
        raise InputError(msg, field="title")
    size, lines = fit
    top = y + h - 1 * k
    texts = [
        fig.text(
            (x + w / 2) / page[0],
            top / page[1],
            "\n".join(lines),
            ha="center",
            va="top",
            fontsize=size,
            fontweight="bold",
            linespacing=1.2,
            parse_math=False,
        )
    ]
    sub_top = top - len(lines) * size * _MM_PER_PT * 1.2 - 1.5 * k
    texts.append(
        fig.text(
            (x + w / 2) / page[0],
            sub_top / page[1],
            "\n".join(sub[1]),
            ha="center",
            va="top",
            fontsize=sub[0],
            color="#444444",
            parse_math=False,
        )
    )
    return texts


def _marker_pt(handle: Any) -> float:
    """Height in points of a handle's marker, edge included (0 for lines and patches)."""
    members = handle if isinstance(handle, tuple) else (handle,)
    sizes = [
        m.get_markersize() + m.get_markeredgewidth()
        for m in members
        if isinstance(m, Line2D) and m.get_marker() not in (None, "None", "none", "", " ")
    ]
    return max(sizes, default=0.0)


def _fit_row(handlebox: DrawingArea, need: float) -> bool:
    """Make a legend row at least ``need`` points tall, growing evenly up and down."""
    extra = need - handlebox.height
    if extra <= 0:
        return False
    handlebox.height += extra
    handlebox.ydescent += extra / 2
    return True


def _centre_markers(handlebox: DrawingArea) -> None:
    centre = handlebox.height / 2 - handlebox.ydescent
    for child in handlebox.get_children():
        if isinstance(child, Line2D):
            child.set_ydata([centre] * len(child.get_xdata()))


class _RowFit:
    """Legend-handler mixin: the row is as tall as its (largest) marker really is."""

    def legend_artist(self, legend: Any, orig_handle: Any, fontsize: float, handlebox: Any) -> Any:
        """Grow the row to the marker, draw it, and centre the marker(s) in the row."""
        grown = _fit_row(handlebox, _marker_pt(orig_handle) * legend.markerscale)
        artist = super().legend_artist(legend, orig_handle, fontsize, handlebox)
        if grown:
            _centre_markers(handlebox)
        return artist


class _RowLine2D(_RowFit, HandlerLine2D):
    """Line/marker legend handler whose row is as tall as the marker."""


class _RowTuple(_RowFit, HandlerTuple):
    """Tuple legend handler whose row is as tall as its largest marker."""


_HANDLERS: Final[dict] = {Line2D: _RowLine2D(), tuple: _RowTuple()}


def _header(pax: Any, rect: Rect, text: str, k: float) -> float:
    pax.text(2 * k, rect[3] - 2 * k, text, ha="left", va="top", fontsize=8 * k, fontweight="bold")
    return 8 * k * _MM_PER_PT * 1.2 + 3 * k


def _wrap_label(label: str, width_em: float) -> str:
    return "\n".join(wrap(label, max(width_em, 4.0), keep_groups=True))


def legend_height(
    fig: Figure,
    width: float,
    page: tuple[float, float],
    handles: Sequence[Any],
    k: float,
    *,
    columns: Sequence[int] = (2, 1),
    markerscales: Sequence[float] = (1.0,),
) -> float:
    """Measure the height (mm) a legend of ``handles`` needs in a panel ``width`` mm wide.

    The legend is drawn at 6 pt, measured and removed again; with several ``markerscales``
    the lowest of their heights is returned (what :func:`draw_legend` can reach).
    """
    probe_h = page[1] * 0.8
    rect = (0.0, 0.0, width, probe_h)
    renderer = fig.canvas.get_renderer()
    heights = []
    for scale in markerscales:
        legend = draw_legend(
            fig, rect, page, handles, k, sizes=(6.0,), columns=columns, markerscales=(scale,)
        )
        bb = legend.get_window_extent(renderer)
        pax = legend.axes
        top = pax.get_window_extent(renderer).y1
        pax.remove()
        heights.append((top - bb.y0) / fig.dpi * 25.4 + 2 * k)
    return min(heights)


def draw_legend(
    fig: Figure,
    rect: Rect,
    page: tuple[float, float],
    handles: Sequence[Any],
    k: float,
    *,
    sizes: Sequence[float] = _LEGEND_SIZES,
    columns: Sequence[int] = (1, 2, 3),
    markerscales: Sequence[float] = _MARKER_SCALES,
) -> Any:
    """Draw a legend whose labels wrap inside the panel, shrinking type until it fits.

    Parameters
    ----------
    fig : Figure
        The page.
    rect : Rect
        Legend panel.
    page : tuple of float
        Page size in millimetres.
    handles : sequence of Artist
        Legend handles with labels.
    k : float
        Page size factor.
    sizes : sequence of float
        Font sizes to try (points at A4), largest first; never below 6 pt at A4.
    columns : sequence of int
        Column counts to try, in order (for each, every size); when nothing fits, the
        legend symbols are drawn smaller, never the text.
    markerscales : sequence of float
        Legend symbol scales tried, in order (1 is the map's size).

    Notes
    -----
    Each row is as tall as its symbol really is (a large star gets a tall row), so
    symbols never overlap the rows above and below; labels wrap without splitting a
    bracketed group (see :func:`geo.printing.page.wrap`).

    Returns
    -------
    Legend
    """
    pax = panel_axes(fig, rect, page, k)
    pax.set_zorder(5)
    pax.set_facecolor("white")
    head = _header(pax, rect, "图  例", k)
    labels = [h.get_label() for h in handles]
    renderer = fig.canvas.get_renderer()
    box = pax.get_window_extent(renderer)
    legend = None
    for scale, ncol, size in ((m, c, s) for m in markerscales for c in columns for s in sizes):
        fontsize = size * k
        em = fontsize * _MM_PER_PT
        col_w = (rect[2] - 3 * k) / ncol
        text_em = (col_w - 2.2 * fontsize * _MM_PER_PT - 2.5 * em) / em
        wrapped = [_wrap_label(label, text_em) for label in labels]
        if legend is not None:
            legend.remove()
        legend = pax.legend(
            handles=list(handles),
            labels=wrapped,
            loc="upper left",
            bbox_to_anchor=(0.0, (rect[3] - head) / max(rect[3], 1e-6)),
            frameon=False,
            fontsize=fontsize,
            ncol=ncol,
            handlelength=2.2,
            handleheight=1.0,
            handletextpad=0.6,
            borderaxespad=0.3,
            borderpad=0.2,
            labelspacing=0.35,
            columnspacing=0.6,
            markerscale=scale,
            handler_map=_HANDLERS,
        )
        for text in legend.get_texts():
            text.set_parse_math(False)
        bb = legend.get_window_extent(renderer)
        if bb.y0 >= box.y0 and bb.x1 <= box.x1:
            return legend
    return legend


def _key_layout(
    entries: Sequence[KeyEntry], width: float, k: float, size: float
) -> tuple[int, list[KeyEntry], list[KeyEntry], float]:
    """Columns, entries set in columns, entries set full width (too long), column width."""
    em = size * _MM_PER_PT
    usable = width - 4 * k
    widths = sorted(em_width(e.text) * em + 3 * k for e in entries)
    # the widest column that still holds 85 % of the entries decides the column count
    typical = widths[max(0, int(len(widths) * 0.85) - 1)]
    ncol = max(1, min(4, int(usable // typical)))
    col_w = usable / ncol
    short = [e for e in entries if em_width(e.text) * em + 1.5 * k <= col_w]
    long_ = [e for e in entries if e not in short]
    return ncol, short, long_, col_w


def key_height(entries: Sequence[KeyEntry], width: float, k: float) -> tuple[float, float, int]:
    """Height a key of ``entries`` needs in a panel ``width`` mm wide.

    Entries never wrap: they are set in columns, and the few too long for a column run the
    full width below them.

    Returns
    -------
    tuple
        ``(height_mm, fontsize_pt, columns)`` (height 0 when there are no entries).
    """
    if not entries:
        return 0.0, 0.0, 0
    best = None
    for size in (s * k for s in _KEY_SIZES):
        ncol, short, long_, _ = _key_layout(entries, width, k, size)
        rows = math.ceil(len(short) / ncol) + len(long_)
        height = 8 * k * _MM_PER_PT * 1.2 + 3 * k + rows * size * _MM_PER_PT * _LINESPACING + 2 * k
        best = (height, size, ncol)
        if rows <= 12:
            break
    assert best is not None
    return best


def draw_key(
    fig: Figure, rect: Rect, page: tuple[float, float], entries: Sequence[KeyEntry], k: float
) -> list[Any]:
    """Draw the numbered place key (places too close to others to label on the map).

    Parameters
    ----------
    fig : Figure
        The page.
    rect : Rect
        Key panel (sized with :func:`key_height`).
    page : tuple of float
        Page size in millimetres.
    entries : sequence of KeyEntry
        Numbered places.
    k : float
        Page size factor.

    Returns
    -------
    list of Text
    """
    if not entries:
        return []
    _, size, _ = key_height(entries, rect[2], k)
    ncol, short, long_, col_w = _key_layout(entries, rect[2], k, size)
    pax = panel_axes(fig, rect, page, k)
    head = _header(pax, rect, "地名注记（图中编号）", k)
    rows = math.ceil(len(short) / ncol)
    line_h = size * _MM_PER_PT * _LINESPACING
    texts = []
    cells = [(i // rows, i % rows, e) for i, e in enumerate(short)]
    cells += [(0, rows + j, e) for j, e in enumerate(long_)]
    for col, row, entry in cells:
        texts.append(
            pax.text(
                2 * k + col * col_w,
                rect[3] - head - row * line_h,
                entry.text,
                ha="left",
                va="top",
                fontsize=size,
                parse_math=False,
            )
        )
    return texts


def _note_lines(items: Sequence[str], footer: Sequence[str], width: float, k: float) -> tuple:
    fontsize = NOTE_PT * max(k, 1.0) ** 0.5
    width_em = (width - 4 * k) / (fontsize * _MM_PER_PT)
    lines = ["注："]
    for i, item in enumerate(items, 1):
        lines.extend(wrap(f"{i}. {item}", width_em))
    foot = [line for item in footer for line in wrap(item, width_em)]
    return fontsize, lines, foot


def notes_height(items: Sequence[str], footer: Sequence[str], width: float, k: float) -> float:
    """Height the notes need (7 pt at A4, growing with the square root of ``k``)."""
    fontsize, lines, foot = _note_lines(items, footer, width, k)
    line_h = fontsize * _MM_PER_PT * _LINESPACING
    return (len(lines) + len(foot)) * line_h + 2 * line_h + 4 * k


def draw_notes(
    fig: Figure,
    rect: Rect,
    page: tuple[float, float],
    items: Sequence[str],
    footer: Sequence[str],
    k: float,
) -> list[Any]:
    """Draw numbered notes and, at the bottom, the 审图号/制图单位/日期 footer.

    Parameters
    ----------
    fig : Figure
        The page.
    rect : Rect
        Notes panel.
    page : tuple of float
        Page size in millimetres.
    items : sequence of str
        Notes, numbered in order.
    footer : sequence of str
        Footer lines (user text, printed literally).
    k : float
        Page size factor.

    Returns
    -------
    list of Text
    """
    pax = panel_axes(fig, rect, page, k)
    fontsize, lines, foot = _note_lines(items, footer, rect[2], k)
    common = {"ha": "left", "fontsize": fontsize, "linespacing": _LINESPACING, "parse_math": False}
    return [
        pax.text(2 * k, rect[3] - 2 * k, "\n".join(lines), va="top", **common),
        pax.text(2 * k, 2 * k, "\n".join(foot), va="bottom", **common),
    ]
