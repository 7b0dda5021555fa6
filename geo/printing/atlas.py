"""Atlas pages around the unit maps.

Cover, overview with page numbers, place lists, page numbers and PDF bookmarks.

Page plan of an atlas of ``n`` units: 1 cover, 2 overview, then per unit its map (page
``3 + 2 i``) followed by the list of its plan places (page ``4 + 2 i``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from pypdf import PdfReader, PdfWriter

from geo.printing.page import QuietCanvas, add_axes, frames, wrap
from geo.printing.symbols import KIND_LABELS
from geo.settings import KIND_NAMES

__all__ = [
    "PRECISION_LABELS",
    "add_bookmarks",
    "cover_page",
    "map_page_number",
    "number_page",
    "overview_page",
    "places_page",
    "split_page",
]

_MM_PER_PT: Final[float] = 25.4 / 72.0
#: Position precision in words.
PRECISION_LABELS: Final[dict[str, str]] = {
    "geocoded": "地理编码（±150 m）",
    "approximate": "近似位置",
    "schematic": "示意位置",
    "exact": "精确",
}
#: Table columns: header and share of the width.
_COLUMNS: Final[tuple[tuple[str, str, float], ...]] = (
    ("name", "名称", 0.26),
    ("kind", "类型", 0.14),
    ("role", "功能定位", 0.30),
    ("precision", "位置精度", 0.11),
    ("section", "规划出处", 0.19),
)


def map_page_number(index: int) -> int:
    """1-based atlas page of the ``index``-th unit's map (cover and overview come first).

    Examples
    --------
    >>> [map_page_number(i) for i in range(3)]
    [3, 5, 7]
    """
    return 3 + 2 * index


def _figure(page: tuple[float, float]) -> Figure:
    fig = Figure(figsize=(page[0] / 25.4, page[1] / 25.4), dpi=72)
    QuietCanvas(fig)
    fig.patch.set_facecolor("white")
    return fig


def _frame(fig: Figure, page: tuple[float, float], k: float) -> None:
    m = 9.0 * k
    fig.add_artist(
        Rectangle(
            (m / page[0], m / page[1]),
            1 - 2 * m / page[0],
            1 - 2 * m / page[1],
            transform=fig.transFigure,
            fill=False,
            lw=1.2 * k,
            edgecolor="black",
        )
    )


def number_page(fig: Figure, number: int) -> Any:
    """Print ``— number —`` centred in the bottom margin.

    Parameters
    ----------
    fig : Figure
        A page.
    number : int
        Its 1-based page number.

    Returns
    -------
    Text
    """
    width_in, height_in = fig.get_size_inches()
    k = min(width_in, height_in) * 25.4 / 210.0
    y = 4.5 * k / (height_in * 25.4)
    return fig.text(0.5, y, f"— {number} —", ha="center", va="center", fontsize=8 * k)


def cover_page(
    page: tuple[float, float],
    *,
    title: str,
    city: str,
    units: Sequence[str],
    producer: str,
    date: dt.date,
) -> Figure:
    """Draw the atlas cover: title, city, list of units, producer and date.

    Returns
    -------
    Figure
    """
    fig = _figure(page)
    k = min(page) / 210.0
    _frame(fig, page, k)
    lines = wrap(title, (page[0] - 60 * k) / (22 * k * _MM_PER_PT))
    fig.text(
        0.5,
        0.64,
        "\n".join(lines),
        ha="center",
        va="center",
        fontsize=22 * k,
        fontweight="bold",
        linespacing=1.3,
    )
    fig.text(
        0.5,
        0.50,
        f"{city} · 共 {len(units)} 幅分区图",
        ha="center",
        va="center",
        fontsize=12 * k,
        color="#444444",
    )
    names = wrap("、".join(units), (page[0] - 80 * k) / (9 * k * _MM_PER_PT))
    fig.text(
        0.5,
        0.40,
        "\n".join(names),
        ha="center",
        va="top",
        fontsize=9 * k,
        color="#555555",
        linespacing=1.5,
    )
    foot = f"制图单位：{producer.strip() or '________________'}    制图日期：{date.isoformat()}"
    fig.text(0.5, 0.12, foot, ha="center", va="center", fontsize=9 * k)
    return fig


def overview_page(
    page: tuple[float, float],
    units: gpd.GeoDataFrame,
    pages: dict[str, int],
    *,
    title: str,
) -> Figure:
    """Overview map: every unit outlined and labelled with its name and atlas page number.

    Parameters
    ----------
    page : tuple of float
        Page size in millimetres.
    units : GeoDataFrame
        Units (``name`` column) in a metric CRS.
    pages : dict
        Unit name to page number.
    title : str
        Page title.

    Returns
    -------
    Figure
    """
    fig = _figure(page)
    fr = frames(*page)
    k = fr.k
    _frame(fig, page, k)
    fig.text(
        0.5,
        (page[1] - fr.margin - 3 * k) / page[1],
        title,
        ha="center",
        va="top",
        fontsize=16 * k,
        fontweight="bold",
    )
    m = fr.margin + 6 * k
    ax = add_axes(fig, (m, m, page[0] - 2 * m, page[1] - 2 * m - 18 * k), page)
    ax.set_axis_off()
    palette = ("#fdebd0", "#d6eaf8", "#d5f5e3", "#f5eef8", "#fcf3cf")
    for i, (_, row) in enumerate(units.iterrows()):
        gpd.GeoSeries([row.geometry], crs=units.crs).plot(
            ax=ax,
            aspect="equal",
            facecolor=palette[i % len(palette)],
            edgecolor="#2c3e50",
            linewidth=0.6 * k,
        )
    for _, row in units.iterrows():
        rp = row.geometry.representative_point()
        ax.text(
            rp.x,
            rp.y,
            f"{row['name']}\n第 {pages[row['name']]} 页",
            ha="center",
            va="center",
            fontsize=7.5 * k,
            linespacing=1.2,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 1},
        )
    return fig


def _cell(place: dict, key: str) -> str:
    value = str(place.get(key) or "")
    if key == "kind":
        return KIND_NAMES.get(value, (KIND_LABELS.get(value, value),))[0] or "—"
    if key == "precision":
        return PRECISION_LABELS.get(value, value) or "—"
    if key == "section":
        plan = str(place.get("plan_title") or "")
        return f"《{plan}》{value}" if plan and not plan.isascii() else value or "—"
    if key == "name" and place.get("attribution") == "inferred":
        return f"{value}（归属推定）"
    return value or "—"


def places_page(
    page: tuple[float, float], unit: str, places: Sequence[dict], *, map_page: int
) -> Figure:
    """Table of a unit's plan places: name, kind, role, precision and plan section.

    Type shrinks (down to 5 pt at A4) until the table fits one page.

    Returns
    -------
    Figure
    """
    fig = _figure(page)
    k = min(page) / 210.0
    _frame(fig, page, k)
    m = 9.0 * k
    fig.text(
        0.5,
        (page[1] - m - 3 * k) / page[1],
        f"{unit} 规划要素一览（见第 {map_page} 页地图）",
        ha="center",
        va="top",
        fontsize=13 * k,
        fontweight="bold",
    )
    left, right, top, bottom = m + 4 * k, page[0] - m - 4 * k, page[1] - m - 16 * k, m + 8 * k
    width = right - left
    if not places:
        fig.text(left / page[0], top / page[1], "本单元内无规划要素。", va="top", fontsize=9 * k)
        return fig
    for size in (7.5, 7.0, 6.5, 6.0, 5.5, 5.0):
        fs = size * k
        em = fs * _MM_PER_PT
        rows = [
            [wrap(_cell(p, key), max(share * width / em - 1, 3)) for key, _, share in _COLUMNS]
            for p in places
        ]
        height = (1 + sum(max(len(c) for c in row) for row in rows)) * em * 1.35 + len(
            rows
        ) * em * 0.4
        if height <= top - bottom:
            break
    y = top
    x = left
    for _, header, share in _COLUMNS:
        fig.text(x / page[0], y / page[1], header, va="top", fontsize=fs, fontweight="bold")
        x += share * width
    y -= em * 1.6
    for row in rows:
        x = left
        for lines, (_, _, share) in zip(row, _COLUMNS, strict=True):
            fig.text(
                x / page[0], y / page[1], "\n".join(lines), va="top", fontsize=fs, linespacing=1.35
            )
            x += share * width
        y -= max(len(c) for c in row) * em * 1.35 + em * 0.4
    return fig


def add_bookmarks(pdf: Path, marks: Sequence[tuple[str, int]], *, out: Path) -> Path:
    """Copy ``pdf`` to ``out`` with an outline entry per ``(title, 1-based page)``.

    Returns
    -------
    Path
        ``out``.
    """
    writer = PdfWriter(clone_from=PdfReader(pdf))
    for title, number in marks:
        writer.add_outline_item(title=title, page_number=number - 1)
    writer.page_mode = "/UseOutlines"
    with out.open("wb") as fh:
        writer.write(fh)
    return out


def split_page(pdf: Path, number: int, *, out: Path, title: str, author: str | None) -> Path:
    """Copy one page (1-based ``number``) of ``pdf`` into its own file ``out``.

    Per-unit PDFs of an atlas are cut from the atlas this way instead of being saved again:
    saving subsets the large CJK fonts each time, which costs seconds per file.

    Returns
    -------
    Path
        ``out``.
    """
    writer = PdfWriter()
    writer.add_page(PdfReader(pdf).pages[number - 1])
    writer.add_metadata(
        {
            "/Title": title,
            "/Creator": "hunan-health-geo (geo.printing.printmap)",
            **({"/Author": author} if author else {}),
        }
    )
    with out.open("wb") as fh:
        writer.write(fh)
    return out
