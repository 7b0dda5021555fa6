"""Naming every place on a page.

Labels and callouts where they fit, otherwise numbers keyed to the place key on the same page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.transforms import Bbox

from geo.printing import panels
from geo.printing.cartography import (
    LabelSpec,
    place_labels,
)
from geo.printing.mapframe import _Page, _View

__all__: list[str] = []


# --------------------------------------------------------------------------------------------
# naming every place


def _obstacles(v: _View, renderer: Any) -> list[Bbox]:
    boxes = [p.get_window_extent(renderer) for p in v.ax.patches if p.get_zorder() >= 20]
    boxes += [t.get_window_extent(renderer) for t in v.ax.texts]
    fig = v.ax.figure
    for x, y, ms in v.symbols:
        px, py = v.ax.transData.transform((x, y))
        half = ms / 2 * fig.dpi / 72
        boxes.append(Bbox.from_extents(px - half, py - half, px + half, py + half))
    return boxes


def _name_places(
    pg: _Page, views: Sequence[_View], extra: dict[int, list[Bbox]]
) -> tuple[list, list[panels.KeyEntry]]:
    """Label what fits; number the required labels that do not and list them in the key."""
    renderer = pg.fig.canvas.get_renderer()
    placed: list = []
    missing: list[tuple[int, LabelSpec]] = []
    for i, v in enumerate(views):
        obstacles = _obstacles(v, renderer) + extra.get(i, [])
        texts = place_labels(v.ax, v.labels, obstacles=obstacles, symbols=v.symbols)
        for spec, text in zip(v.labels, texts, strict=True):
            if text is not None:
                placed.append(text)
            elif spec.required:
                missing.append((i, spec))
    missing.sort(key=lambda item: (item[0], -round(item[1].y, -3), item[1].x))
    entries = [panels.KeyEntry(n, spec.text) for n, (_, spec) in enumerate(missing, 1)]
    for i, v in enumerate(views):
        mine = [(n, spec) for n, (j, spec) in enumerate(missing, 1) if j == i]
        if mine:
            _number(pg, v, mine, placed, extra.get(i, []), renderer)
    return placed, entries


def _number(
    pg: _Page,
    v: _View,
    items: list[tuple[int, LabelSpec]],
    placed: list,
    extra: list,
    renderer: Any,
) -> None:
    """Place numbers beside the unlabelled places; a number never finding room is drawn anyway."""
    specs = [
        LabelSpec(
            spec.x,
            spec.y,
            str(n),
            priority=1,
            fontsize=5.5 * pg.k,
            color="#922b21",
            weight="bold",
            point=True,
            clearance=spec.clearance if spec.point else 0.0,
        )
        for n, spec in items
    ]
    mine = [t.get_window_extent(renderer) for t in placed if t.axes is v.ax]
    symbols = _obstacles(v, renderer)
    texts = place_labels(
        v.ax,
        specs,
        obstacles=[*mine, *symbols, *extra],
        symbols=v.symbols,
        gap_pt=1.5,
        rings=(1.0, 3.0, 6.0, 10.0),
    )
    for spec, text in zip(specs, texts, strict=True):
        if text is None:
            forced = v.ax.annotate(
                spec.text,
                (spec.x, spec.y),
                xytext=(1.5 + spec.clearance, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontsize=spec.fontsize,
                color=spec.color,
                fontweight="bold",
                zorder=16,
                annotation_clip=False,
                parse_math=False,
            )
            _clamp_to_axes(forced, v.ax, renderer)
            _least_overlap(forced, [*mine, *extra], 1.5 + spec.clearance, renderer)
            mine.append(forced.get_window_extent(renderer))


def _overlap(box: Bbox, others: list[Bbox]) -> float:
    total = 0.0
    for o in others:
        w = min(box.x1, o.x1) - max(box.x0, o.x0)
        h = min(box.y1, o.y1) - max(box.y0, o.y0)
        total += max(w, 0.0) * max(h, 0.0)
    return total


def _least_overlap(text: Any, others: list[Bbox], d: float, renderer: Any) -> None:
    """Move a forced number to the nearby offset that covers the least of the placed labels."""
    frame = text.axes.get_window_extent(renderer)
    best: tuple[float, tuple[float, float], str] | None = None
    for dx, dy in ((1, 0), (-1, 0), (0, 1.6), (0, -1.6), (2, 2), (-2, 2), (2, -2), (-2, -2)):
        off = (dx * d, dy * d * 2)
        text.xyann = off
        text.set_ha("left" if dx >= 0 else "right")
        box = text.get_window_extent(renderer)
        if box.x0 < frame.x0 or box.x1 > frame.x1 or box.y0 < frame.y0 or box.y1 > frame.y1:
            continue
        score = _overlap(box, others)
        if best is None or score < best[0]:
            best = (score, off, text.get_ha())
        if score == 0.0:
            break
    if best is not None:
        text.xyann = best[1]
        text.set_ha(best[2])


def _clamp_to_axes(text: Any, ax: Any, renderer: Any) -> None:
    """Move a forced number left of its point when it would leave the frame on the right."""
    frame = ax.get_window_extent(renderer)
    if text.get_window_extent(renderer).x1 > frame.x1:
        text.set_ha("right")
        x, y = text.xyann
        text.xyann = (-x, y)
