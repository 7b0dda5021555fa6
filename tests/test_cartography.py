"""Map furniture: round scales and lengths, scale bar, north arrow, graticule, label placement."""

from __future__ import annotations

import itertools
import math

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from geo.errors import CRSError, InputError
from geo.printing.cartography import (
    LabelSpec,
    add_graticule,
    add_north_arrow,
    add_scale_bar,
    format_dms,
    format_length,
    format_scale,
    metres_per_point,
    nice_length,
    nice_scale,
    north_angle,
    place_labels,
)
from geo.printing.fonts import register_cjk_font


def _text_box(text: Text, renderer: object) -> object:
    """Extent of a label's text alone (an annotation's extent includes its leader line)."""
    if hasattr(text, "update_positions"):
        text.update_positions(renderer)
    return Text.get_window_extent(text, renderer)


@pytest.fixture(autouse=True)
def _cjk_font() -> None:
    """Labels are Chinese: draw them with the packaged CJK font (as the print module does)."""
    register_cjk_font()


def _map_axes(*, width_mm: float = 100.0, height_mm: float = 80.0, scale: int = 100_000):
    """Axes of width_mm x height_mm on a 200 x 150 mm page showing metres at 1:scale."""
    fig = Figure(figsize=(200 / 25.4, 150 / 25.4), dpi=72)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((20 / 200, 20 / 150, width_mm / 200, height_mm / 150))
    x0, y0 = 500_000.0, 3_100_000.0
    ax.set_xlim(x0, x0 + width_mm / 1000 * scale)
    ax.set_ylim(y0, y0 + height_mm / 1000 * scale)
    return fig, ax


@pytest.mark.parametrize(
    ("needed", "expected"),
    [
        (1, 1),
        (9_999, 10_000),
        (10_000, 10_000),
        (10_001, 12_500),
        (43_210, 50_000),
        (130_000, 150_000),
        (760_000, 1_000_000),
    ],
)
def test_nice_scale_rounds_up_to_printable_values(needed: float, expected: int) -> None:
    assert nice_scale(needed) == expected


@pytest.mark.parametrize(
    ("limit", "expected"),
    [(3_700, 2_000), (2_600, 2_000), (999, 500), (1_000, 1_000), (24.9, 20), (0.7, 0.5)],
)
def test_nice_length_is_largest_round_value_below_limit(limit: float, expected: float) -> None:
    assert nice_length(limit) == pytest.approx(expected)


@pytest.mark.parametrize("bad", [0, -5, math.nan, math.inf])
def test_nice_scale_rejects_non_positive(bad: float) -> None:
    with pytest.raises(InputError, match="positive number"):
        nice_scale(bad)


def test_nice_length_rejects_zero() -> None:
    with pytest.raises(InputError, match="must be positive"):
        nice_length(0)


def test_formatting() -> None:
    assert format_length(2500) == "2.5 km"
    assert format_length(500) == "500 m"
    assert format_length(1250, unit="km") == "1.25 km"
    assert format_scale(125_000) == "1:125 000"
    assert format_dms(112.9833333, axis="lon") == "112°59′E"
    assert format_dms(-0.5, axis="lat") == "0°30′S"


def test_metres_per_point_matches_the_true_scale() -> None:
    _, ax = _map_axes(scale=50_000)
    mx, my = metres_per_point(ax)
    expected = 50_000 * 25.4 / 72 / 1000  # metres of ground per point of paper at 1:50 000
    assert mx == pytest.approx(expected, rel=1e-9)
    assert my == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("scale", [25_000, 100_000, 600_000])
def test_scale_bar_drawn_length_matches_its_label(scale: int) -> None:
    fig, ax = _map_axes(scale=scale)
    bar = add_scale_bar(ax, scale=scale, max_fraction=0.25)
    renderer = fig.canvas.get_renderer()
    segments = [a for a in bar.artists if hasattr(a, "get_width") and a.get_zorder() == 20]
    x0 = min(s.get_window_extent(renderer).x0 for s in segments)
    x1 = max(s.get_window_extent(renderer).x1 for s in segments)
    drawn_mm = (x1 - x0) / fig.dpi * 25.4
    value, unit = bar.label.split()
    label_m = float(value) * (1000 if unit == "km" else 1)
    assert drawn_mm * scale / 1000 == pytest.approx(label_m, rel=0.01)
    # the bar is a round length no longer than a quarter of the 100 mm frame
    assert label_m <= 0.25 * 100 * scale / 1000
    texts = [t.get_text() for t in bar.artists if hasattr(t, "get_text")]
    assert bar.label in texts
    assert f"比例尺 {format_scale(scale)}" in texts


def test_north_angle_is_meridian_convergence() -> None:
    assert north_angle("EPSG:4547", 500_000.0, 3_100_000.0) == pytest.approx(0.0, abs=1e-6)
    # 113 E, 28 N in the 114 E zone: convergence = dlon * sin(lat) = -1 * sin 28 deg = -0.469 deg;
    # true north lies that much clockwise of grid north.
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 4547, always_xy=True).transform(113.0, 28.0)
    assert north_angle("EPSG:4547", x, y) == pytest.approx(math.sin(math.radians(28.0)), abs=0.01)


def test_north_angle_needs_projected_crs() -> None:
    with pytest.raises(CRSError, match="projected CRS"):
        north_angle("EPSG:4326", 113.0, 28.0)


def test_north_arrow_returns_its_rotation() -> None:
    _, ax = _map_axes()
    angle = add_north_arrow(ax, crs="EPSG:4547")
    assert angle == pytest.approx(north_angle("EPSG:4547", 505_000.0, 3_104_000.0), abs=1e-9)
    assert [t.get_text() for t in ax.texts if t.get_path_effects() == []] == ["北"]  # one label


@pytest.mark.parametrize("length", [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0])
def test_scale_bar_ticks_are_1_2_5_values(length: float) -> None:
    """No 12.5 km or 2.5 km ticks: every labelled value is 1, 2 or 5 times a power of ten."""
    from geo.printing.cartography import scale_ticks

    for tick in scale_ticks(length * 1000)[1:]:
        mantissa = tick / 10 ** math.floor(math.log10(tick))
        assert round(mantissa, 9) in {1.0, 2.0, 5.0}, tick


def test_graticule_labels_lie_on_the_frame_edges() -> None:
    _, ax = _map_axes(scale=200_000)  # 20 km x 16 km
    labels = add_graticule(ax, crs="EPSG:4547")
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    lons = [value for axis, value, _ in labels if axis == "lon"]
    lats = [value for axis, value, _ in labels if axis == "lat"]
    assert len(lons) >= 2
    assert len(lats) >= 2
    for axis, _, pos in labels:
        lo, hi = (x0, x1) if axis == "lon" else (y0, y1)
        assert lo <= pos <= hi
    steps = {round(b - a, 6) for a, b in itertools.pairwise(sorted(lons))}
    assert len(steps) == 1  # evenly spaced


def test_place_labels_never_overlaps_and_keeps_priority() -> None:
    fig, ax = _map_axes()
    cx, cy = 505_000.0, 3_104_000.0
    specs = [LabelSpec(cx, cy, f"标签{i}号", priority=i, fontsize=9) for i in range(30)]
    specs.append(LabelSpec(cx, cy, "最重要的名称", priority=100, fontsize=12))
    placed = place_labels(ax, specs)
    renderer = fig.canvas.get_renderer()
    kept = [t for t in placed if t is not None]
    assert placed[-1] is not None  # the highest priority always gets a place
    assert 1 < len(kept) < len(specs)  # crowded: some placed, some dropped
    boxes = [_text_box(t, renderer) for t in kept]  # text only, not its leader
    frame = ax.get_window_extent(renderer)
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    for b in boxes:
        assert frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1
    # dropped labels leave nothing behind; each kept one has its halo copy beneath
    assert len(ax.texts) == 2 * len(kept)


def test_place_labels_respects_obstacles() -> None:
    fig, ax = _map_axes()
    renderer = fig.canvas.get_renderer()
    blocker = ax.get_window_extent(renderer)  # the whole frame is taken
    placed = place_labels(ax, [LabelSpec(505_000.0, 3_104_000.0, "无处可放")], obstacles=[blocker])
    assert placed == [None]
