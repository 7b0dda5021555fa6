"""2SFCA / Gaussian E2SFCA against a plain reference implementation."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from geo.access import gaussian_weight, two_step_fca, unit_access
from geo.errors import InputError

CRS = "EPSG:4547"


def _reference(
    supply_xy: list[tuple[float, float]],
    capacity: list[float],
    demand_xy: list[tuple[float, float]],
    population: list[float],
    d0: float,
    decay: str,
) -> list[float]:
    """Plain loops, straight from Luo & Wang (2003) and Dai (2010)."""

    def weight(d: float) -> float:
        if d > d0 or (decay == "gaussian" and d >= d0):
            return 0.0
        if decay == "uniform":
            return 1.0
        return (math.exp(-0.5 * (d / d0) ** 2) - math.exp(-0.5)) / (1 - math.exp(-0.5))

    ratios = []
    for (sx, sy), cap in zip(supply_xy, capacity, strict=True):
        total = 0.0
        for (dx, dy), pop in zip(demand_xy, population, strict=True):
            total += pop * weight(math.hypot(sx - dx, sy - dy))
        ratios.append(cap / total if total > 0 else 0.0)
    scores = []
    for dx, dy in demand_xy:
        a = 0.0
        for (sx, sy), r in zip(supply_xy, ratios, strict=True):
            a += r * weight(math.hypot(sx - dx, sy - dy))
        scores.append(a)
    return scores


def _gdf(xy: list[tuple[float, float]], **cols: list[float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=[Point(x, y) for x, y in xy], crs=CRS)


def test_hand_computed_case() -> None:
    supply = _gdf([(500_000, 3_120_000)], capacity=[10.0])
    demand = _gdf(
        [(500_300, 3_120_000), (500_000, 3_120_800), (505_000, 3_120_000)],
        population=[5.0, 15.0, 100.0],
    )
    score = two_step_fca(supply, demand, catchment_m=1000)
    assert score.tolist() == pytest.approx([0.5, 0.5, 0.0])


@pytest.mark.parametrize("decay", ["uniform", "gaussian"])
def test_matches_reference(decay: str) -> None:
    rng = np.random.default_rng(42)
    s_xy = [tuple(p) for p in rng.uniform(0, 5000, (12, 2)) + np.array([500_000, 3_120_000])]
    d_xy = [tuple(p) for p in rng.uniform(0, 5000, (60, 2)) + np.array([500_000, 3_120_000])]
    d_xy.append(s_xy[0])  # a demand point on top of a facility (distance 0)
    cap = rng.integers(1, 100, len(s_xy)).astype(float).tolist()
    pop = rng.integers(0, 500, len(d_xy)).astype(float).tolist()
    ours = two_step_fca(
        _gdf(s_xy, capacity=cap), _gdf(d_xy, population=pop), catchment_m=1500, decay=decay
    )
    ref = _reference(s_xy, cap, d_xy, pop, 1500, decay)
    assert ours.to_numpy() == pytest.approx(ref, rel=1e-9, abs=1e-15)
    assert ours.iloc[-1] > 0


def test_total_supply_is_conserved() -> None:
    # with every demand point inside every catchment, sum_i P_i A_i = sum_j S_j
    supply = _gdf([(500_000, 3_120_000), (500_100, 3_120_100)], capacity=[30.0, 70.0])
    demand = _gdf([(500_050, 3_120_050), (500_020, 3_120_000)], population=[40.0, 60.0])
    score = two_step_fca(supply, demand, catchment_m=1000)
    assert float((score * demand["population"]).sum()) == pytest.approx(100.0)


def test_gaussian_weight_ends() -> None:
    w = gaussian_weight(np.array([0.0, 500.0, 1000.0, 2000.0]), 1000.0)
    assert w[0] == 1.0 and w[2] == 0.0 and w[3] == 0.0
    assert 0 < w[1] < 1


def test_unit_access_weighted_mean() -> None:
    demand = _gdf([(0, 0), (1, 1), (2, 2)], population=[10.0, 30.0, 5.0])
    score = pd.Series([0.001, 0.002, 0.01], index=demand.index)
    out = unit_access(score, demand, unit_ids=pd.Series(["a", "a", "b"], index=demand.index))
    assert out["access_per_1000"].tolist() == pytest.approx([(0.01 + 0.06) / 40 * 1000, 10.0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"capacity_column": "beds"}, "no capacity column 'beds'"),
        ({"decay": "linear"}, "unknown decay 'linear'"),
        ({"catchment_m": 0}, "catchment must be > 0 m"),
    ],
)
def test_errors(kwargs: dict, match: str) -> None:
    supply = _gdf([(500_000, 3_120_000)], capacity=[1.0])
    demand = _gdf([(500_000, 3_120_000)], population=[1.0])
    args = {"catchment_m": 1000.0} | kwargs
    with pytest.raises(InputError, match=match):
        two_step_fca(supply, demand, **args)
