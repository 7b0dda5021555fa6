"""2SFCA / Gaussian E2SFCA against a plain reference implementation."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray
from shapely.geometry import Point

from geo.analysis.access import access_by_unit, gaussian_weight, two_step_fca, unit_access
from geo.cli import main
from geo.data.boundaries import load_units
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


# --- issue 8: PySAL access as the independent reference; demand never one point per unit --------


def _pysal_scores(
    s_xy: NDArray, cap: NDArray, d_xy: NDArray, pop: NDArray, d0: float, decay: str
) -> NDArray:
    """Scores from PySAL ``access`` on the same straight-line distances (capacity per person)."""
    from access import Access

    di, sj = np.meshgrid(np.arange(len(d_xy)), np.arange(len(s_xy)), indexing="ij")
    dist = np.hypot(*(d_xy[di.ravel()] - s_xy[sj.ravel()]).T)
    cost = pd.DataFrame({"origin": di.ravel(), "dest": sj.ravel(), "cost": dist})
    model = Access(
        demand_df=pd.DataFrame({"pop": pop}, index=pd.RangeIndex(len(d_xy), name="origin")),
        demand_value="pop",
        supply_df=pd.DataFrame({"cap": cap}, index=pd.RangeIndex(len(s_xy), name="dest")),
        supply_value="cap",
        cost_df=cost,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    if decay == "uniform":
        out = model.two_stage_fca(name="s", max_cost=d0)
    else:
        edge = math.exp(-0.5)

        def dai(d: float) -> float:
            return (math.exp(-0.5 * (d / d0) ** 2) - edge) / (1 - edge) if d < d0 else 0.0

        out = model.enhanced_two_stage_fca(name="s", max_cost=d0, weight_fn=dai)
    return out.iloc[:, 0].reindex(range(len(d_xy))).fillna(0.0).to_numpy()


@pytest.mark.parametrize("decay", ["uniform", "gaussian"])
def test_matches_pysal_access(decay: str) -> None:
    rng = np.random.default_rng(8)
    origin = np.array([500_000.0, 3_120_000.0])
    s_xy = rng.uniform(0, 8000, (25, 2)) + origin
    d_xy = rng.uniform(0, 8000, (300, 2)) + origin
    cap = rng.integers(1, 200, len(s_xy)).astype(float)
    pop = rng.integers(0, 2000, len(d_xy)).astype(float)
    ours = two_step_fca(
        _gdf([tuple(p) for p in s_xy], capacity=cap.tolist()),
        _gdf([tuple(p) for p in d_xy], population=pop.tolist()),
        catchment_m=2000,
        decay=decay,
    )
    ref = _pysal_scores(s_xy, cap, d_xy, pop, 2000, decay)
    assert (ref > 0).sum() > 100
    assert ours.to_numpy() == pytest.approx(ref, rel=1e-9, abs=1e-12)


@pytest.fixture(scope="module")
def changsha_clinics(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """15 clinics (100 beds): 10 in 浏阳市 > 10 km from its interior point, 5 in 芙蓉区."""
    units = load_units(cities=("430100",)).to_crs("EPSG:4547").set_index("name")
    rng = np.random.default_rng(2026)
    rows = []
    for name, n, far in (("浏阳市", 10, 10_000.0), ("芙蓉区", 5, 0.0)):
        geom = units.geometry[name]
        centre = geom.representative_point()
        minx, miny, maxx, maxy = geom.bounds
        found = 0
        while found < n:
            p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if geom.contains(p) and p.distance(centre) > far:
                rows.append(p)
                found += 1
    pts = gpd.GeoSeries(rows, crs="EPSG:4547").to_crs("EPSG:4326")
    path = tmp_path_factory.mktemp("clinics") / "clinics.csv"
    frame = pd.DataFrame({"id": [f"c{i}" for i in range(len(pts))], "lon": pts.x, "lat": pts.y})
    frame.assign(name="诊所", beds=100).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("mode", ["drive", "walk"])
def test_cli_access_without_grid_uses_the_unit_area(
    changsha_clinics: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    """Before: 浏阳市 0.000 by car (its population sat at one point), every unit 0 on foot."""
    out = tmp_path / "o"
    args = ["--facilities", str(changsha_clinics), "--units", "changsha", "--mode", mode]
    fmt = ["--capacity-column", "beds", "--out", str(out), "--format", "csv"]
    code = main(["coverage", "--quiet", *args, *fmt])
    assert code == 0, capsys.readouterr().err
    s = pd.read_csv(out / "coverage_summary.csv").set_index("name")
    assert s.loc["浏阳市", "access_per_1000"] > 0
    assert s.loc["芙蓉区", "access_per_1000"] > 0
    assert (s["access_demand"] == "census_uniform").all()
    # conservation: people x score sums to the beds of clinics that have people in reach
    total = (s["population"] * s["access_per_1000"] / 1000).sum()
    assert 0 < total <= 1500 + 1e-6


def test_access_by_unit_uses_grid_cells(square_units: gpd.GeoDataFrame) -> None:
    x0, y0 = 500_000.0, 3_120_000.0
    supply = _gdf([(x0 + 5_000, y0 + 5_000)], capacity=[10.0])
    grid = _gdf([(x0 + 5_500, y0 + 5_000), (x0 + 15_000, y0 + 5_000)], population=[100.0, 50.0])
    out = access_by_unit(supply, square_units, catchment_m=1000, population=grid)
    assert out["unit_id"].tolist() == ["900001", "900002"]
    assert out["access_per_1000"].tolist() == pytest.approx([100.0, 0.0])
    assert out["access_demand"].tolist() == ["points", "points"]
