"""Siting models: hand cases, PySAL spopt on the same instances, fixed sites, capacities."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from shapely.geometry import Point, box

from geo.analysis.candidates import combine_candidates, grid_candidates, mask_candidates
from geo.analysis.coverage import reach_for
from geo.analysis.siting import (
    greedy_lscp,
    greedy_mclp,
    greedy_pmedian,
    order_by_gain,
    solve_lscp,
    solve_mclp,
    solve_pmedian,
)
from geo.analysis.siting_demand import CENSUS_MODEL, census_uniform_demand, demand_from_points
from geo.analysis.siting_plan import plan_sites, reach_matrix
from geo.errors import CRSError, InputError

# --- hand-solvable: demand on a line x = 0..10, candidates at x = 1, 5, 9 --------------------

LINE = np.arange(11.0)
CANDS = np.array([1.0, 5.0, 9.0])


def _line(radius: float) -> tuple[sparse.csr_matrix, np.ndarray]:
    dist = np.abs(LINE[:, None] - CANDS[None, :])
    return sparse.csr_matrix(dist <= radius), dist


def test_mclp_hand_case() -> None:
    # weights x + 1; radius 1.5: site 1 covers 0-2 (6), site 5 covers 4-6 (18), site 9: 8-10 (30)
    cover, _ = _line(1.5)
    w = LINE + 1
    none = np.zeros(3, dtype=bool)
    one = solve_mclp(cover, w, k=1, fixed=none)
    two = solve_mclp(cover, w, k=2, fixed=none)
    assert one.chosen.tolist() == [2] and one.objective == 30
    assert sorted(two.chosen.tolist()) == [1, 2] and two.objective == 48
    assert solve_mclp(cover, w, k=3, fixed=none).objective == 54  # 3 and 7 are out of reach


def test_lscp_hand_case() -> None:
    # radius 2: site 1 covers 0-3, site 5 covers 3-7, site 9 covers 7-10; all points coverable
    cover, _ = _line(2.0)
    w = np.ones(11)
    unit = np.array(["u"] * 11)
    none = np.zeros(3, dtype=bool)
    assert solve_lscp(cover, w, unit_of=unit, target=1.0, fixed=none).objective == 3
    half = solve_lscp(cover, w, unit_of=unit, target=0.5, fixed=none)
    assert half.objective == 2  # one site covers at most 5 of 11 < 50 %
    assert (w @ half.served) / 11 >= 0.5


def test_lscp_unreachable_target_uses_best_share() -> None:
    cover, _ = _line(1.5)  # 3 and 7 are out of every site's reach: best share 9/11
    sol = solve_lscp(
        cover, np.ones(11), unit_of=np.array(["u"] * 11), target=0.9, fixed=np.zeros(3, bool)
    )
    assert sol.targets == {"u": pytest.approx(9 / 11)}
    assert sol.objective == 3
    assert "not reachable" in sol.notes[0] and "81.8%" in sol.notes[0]


def test_pmedian_hand_case() -> None:
    _, dist = _line(0.0)
    w = np.ones(11)
    none = np.zeros(3, dtype=bool)
    one = solve_pmedian(dist, w, k=1, fixed=none)
    assert one.chosen.tolist() == [1] and one.objective == pytest.approx(30.0)
    two = solve_pmedian(dist, w, k=2, fixed=none)
    assert sorted(two.chosen.tolist()) == [0, 2] and two.objective == pytest.approx(18.0)


def test_fixed_site_is_kept_and_counted() -> None:
    cover, dist = _line(1.5)
    w = LINE + 1
    fixed = np.array([False, False, True])  # site at x = 9 exists
    sol = solve_mclp(cover, w, k=1, fixed=fixed)
    assert sol.chosen.tolist() == [1]  # the next-best site, not a duplicate of the fixed one
    assert sol.objective == 48  # existing coverage (30) counted
    assert sol.served[[8, 9, 10]].all()
    pm = solve_pmedian(dist, np.ones(11), k=1, fixed=fixed)
    assert pm.chosen.tolist() == [0]  # x = 1 complements the fixed site at 9
    assert pm.objective == pytest.approx(18.0)


def test_capacity_never_exceeded() -> None:
    cover, dist = _line(2.0)
    w = np.full(11, 10.0)
    cap = np.array([25.0, 25.0, 25.0])
    none = np.zeros(3, dtype=bool)
    sol = solve_mclp(cover, w, k=2, fixed=none, capacity=cap)
    assert sol.load is not None and (sol.load <= cap + 1e-6).all()
    assert sol.objective == pytest.approx(50.0)  # two sites x 25 people
    lscp = solve_lscp(cover, w, unit_of=np.array(["u"] * 11), target=0.6, fixed=none, capacity=cap)
    assert lscp.objective == 3 and (lscp.load <= cap + 1e-6).all()
    pm = solve_pmedian(dist, w, k=3, fixed=none, capacity=np.array([40.0, 40.0, 40.0]))
    assert (pm.load <= 40 + 1e-6).all()
    assert pm.load.sum() == pytest.approx(110.0)


def test_capacitated_fixed_site_keeps_its_load_within_capacity() -> None:
    cover, _ = _line(2.0)
    w = np.full(11, 10.0)
    fixed = np.array([True, False, False])
    sol = solve_mclp(cover, w, k=1, fixed=fixed, capacity=np.array([15.0, 100.0, 100.0]))
    assert sol.load[0] == pytest.approx(15.0)
    assert sol.objective == pytest.approx(15.0 + 50.0)


def test_greedy_matches_hand_optimum_and_is_never_better() -> None:
    cover, dist = _line(1.5)
    w = LINE + 1
    none = np.zeros(3, dtype=bool)
    assert greedy_mclp(cover, w, k=2, fixed=none).objective == 48
    cover2, _ = _line(2.0)
    unit = np.array(["u"] * 11)
    assert greedy_lscp(cover2, np.ones(11), unit_of=unit, target=1.0, fixed=none).objective == 3
    assert greedy_pmedian(dist, np.ones(11), k=2, fixed=none).objective >= 18.0


def test_order_by_gain_sums_to_improvement() -> None:
    cover, _ = _line(1.5)
    w = LINE + 1
    order, gains = order_by_gain(
        np.array([0, 1, 2]), fixed=np.zeros(3, bool), cover=cover, weight=w
    )
    assert order.tolist() == [2, 1, 0]
    assert gains.tolist() == [30.0, 18.0, 6.0]


# --- against PySAL spopt on the same random instances ------------------------------------------


def _instance(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, 10, (70, 2))
    sites = rng.uniform(0, 10, (16, 2))
    cost = np.linalg.norm(demand[:, None] - sites[None], axis=2)
    return cost, rng.integers(1, 100, 70).astype(float)


def _spopt_solve(cls: type, *args: object, **kwargs: object) -> float:
    """Build and solve a spopt model with CBC (PuLP's deprecation warnings silenced)."""
    pulp = pytest.importorskip("pulp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cls.from_cost_matrix(*args, **kwargs).solve(pulp.PULP_CBC_CMD(msg=False))
    return float(model.problem.objective.value())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mclp_matches_spopt(seed: int) -> None:
    locate = pytest.importorskip("spopt.locate")
    cost, w = _instance(seed)
    pre = np.zeros(16, dtype=int)
    pre[[0, 5]] = 1
    ref = _spopt_solve(locate.MCLP, cost, w, 2.0, p_facilities=5, predefined_facilities_arr=pre)
    ours = solve_mclp(sparse.csr_matrix(cost <= 2.0), w, k=3, fixed=pre.astype(bool))
    assert ours.status == "optimal"
    assert ours.objective == pytest.approx(ref)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lscp_matches_spopt(seed: int) -> None:
    locate = pytest.importorskip("spopt.locate")
    cost, w = _instance(seed)
    radius = float(cost.min(axis=1).max()) + 1.0  # every point coverable
    assert (cost <= radius).any(axis=1).all()  # spopt's classic LSCP needs every point coverable
    ref = _spopt_solve(locate.LSCP, cost, radius)
    ours = solve_lscp(
        sparse.csr_matrix(cost <= radius),
        w,
        unit_of=np.array(["u"] * len(w)),
        target=1.0,
        fixed=np.zeros(16, bool),
    )
    assert ours.objective == ref


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pmedian_matches_spopt(seed: int) -> None:
    locate = pytest.importorskip("spopt.locate")
    cost, w = _instance(seed)
    ref = _spopt_solve(locate.PMedian, cost, w, p_facilities=3)
    ours = solve_pmedian(cost, w, k=3, fixed=np.zeros(16, bool))
    assert ours.objective == pytest.approx(ref, rel=1e-9)


def test_pmedian_with_fixed_matches_spopt() -> None:
    locate = pytest.importorskip("spopt.locate")
    cost, w = _instance(3)
    pre = np.zeros(16, dtype=int)
    pre[[2, 7]] = 1
    ref = _spopt_solve(locate.PMedian, cost, w, p_facilities=4, predefined_facilities_arr=pre)
    ours = solve_pmedian(cost, w, k=2, fixed=pre.astype(bool))
    assert ours.objective == pytest.approx(ref, rel=1e-9)


# --- geometry: reach, demand, candidates, the whole plan -------------------------------------

GK = "EPSG:4547"  # CGCS2000 Gauss-Kruger 114 E (Changsha)
X0, Y0 = 500_000.0, 3_120_000.0


def _pts(xy: list[tuple[float, float]], **cols: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        dict(cols), geometry=[Point(X0 + x, Y0 + y) for x, y in xy], crs=GK
    ).to_crs("EPSG:4326")


def _units() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"adcode": ["1", "2"], "name": ["West", "East"], "population": [1000.0, 3000.0]},
        geometry=[box(X0, Y0, X0 + 4000, Y0 + 2000), box(X0 + 4000, Y0, X0 + 10000, Y0 + 2000)],
        crs=GK,
    ).to_crs("EPSG:4326")


def test_reach_matrix_keeps_zero_distance_pairs() -> None:
    t = reach_matrix(
        np.array([[0.0, 0.0], [99.0, 0.0], [101.0, 0.0]]),
        np.array([[0.0, 0.0]]),
        radius_m=100.0,
        metres_per_minute=10.0,
    )
    assert t.nnz == 2
    assert t[1, 0] == pytest.approx(9.9)


def test_census_uniform_demand_sums_and_weights_by_area() -> None:
    demand = census_uniform_demand(_units(), spacing_m=500.0)
    by_unit = demand.groupby("unit_id")["population"].sum()
    assert by_unit["1"] == pytest.approx(1000.0) and by_unit["2"] == pytest.approx(3000.0)
    # 4 km x 2 km at 500 m -> 32 cells of equal area (the box may shift cells by rounding)
    assert len(demand[demand.unit_id == "1"]) in range(32, 46)
    assert (demand["population_model"] == CENSUS_MODEL).all()


def test_census_demand_without_population_names_the_unit() -> None:
    units = _units()
    units.loc[1, "population"] = np.nan
    with pytest.raises(InputError, match=r"no census population for unit\(s\) \['East'\]"):
        census_uniform_demand(units)


def test_demand_points_outside_units_are_counted() -> None:
    pts = _pts([(1000, 1000), (5000, 1000), (50_000, 1000)], population=[10, 20, 30])
    demand, outside = demand_from_points(pts, _units())
    assert outside == 1
    assert demand["unit_id"].tolist() == ["1", "2"]


def test_grid_candidates_inside_units_and_water_mask() -> None:
    units = _units()
    grid = grid_candidates(units, spacing_m=1000.0)
    assert len(grid) == 20  # 10 km x 2 km at 1 km
    water = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 2000, Y0 + 2000)], crs=GK)
    kept, dropped = mask_candidates(combine_candidates(None, grid), units=units, water=water)
    assert len(kept) == 16 and set(dropped["reason"]) == {"in water"}


def test_plan_sites_end_to_end_keeps_existing_and_states_model() -> None:
    units = _units()
    demand = census_uniform_demand(units, spacing_m=250.0)
    cand = combine_candidates(None, grid_candidates(units, spacing_m=1000.0))
    existing = _pts([(500, 1000)], id=["H1"], name=["Old clinic"])
    res = plan_sites(
        demand, cand, reach=reach_for("walk", minutes=15), model="mclp", k=3, existing=existing
    )
    assert (res.sites["role"] == "existing").sum() == 1
    assert (res.sites["role"] == "new").sum() == 3
    assert (res.units["covered_after"] >= res.units["covered_before"] - 1e-9).all()
    assert res.curve["k"].tolist() == [0, 1, 2, 3]
    assert res.curve["objective"].is_monotonic_increasing
    assert res.solution.objective == pytest.approx(res.curve["objective"].iloc[-1])
    assert res.sites.loc[res.sites.role == "new", "gain"].sum() == pytest.approx(
        res.solution.objective - res.units["covered_before"].sum()
    )
    assert "census_uniform (coarse)" in res.params["population_model"]
    assert "held fixed" in res.params["existing_facilities"]
    assert "than the optimum" in res.params["greedy_heuristic"]


def test_plan_sites_lscp_reports_where_units_reach_target() -> None:
    units = _units()
    demand = census_uniform_demand(units, spacing_m=250.0)
    cand = combine_candidates(None, grid_candidates(units, spacing_m=1000.0))
    res = plan_sites(demand, cand, reach=reach_for("walk", minutes=15), model="lscp", target=0.5)
    assert res.units["target_met"].all()
    assert res.units["target_reached_at_k"].notna().all()
    assert int(res.units["target_reached_at_k"].max()) <= len(res.solution.chosen)


@pytest.mark.parametrize(
    ("model", "target", "shown"),
    [("mclp", None, False), ("pmedian", None, False), ("mclp", 0.5, True), ("lscp", None, True)],
)
def test_target_columns_only_for_lscp_or_a_given_target(
    model: str, target: float | None, shown: bool
) -> None:
    units = _units()
    demand = census_uniform_demand(units, spacing_m=500.0)
    cand = combine_candidates(None, grid_candidates(units, spacing_m=1000.0))
    res = plan_sites(
        demand, cand, reach=reach_for("walk", minutes=15), model=model, k=2, target=target
    )
    assert ("target_pct" in res.units) is shown
    assert ("target_met" in res.units) is shown
    assert ("target" in res.params) is shown
    if shown:
        assert res.units["target_pct"].eq(100 * (target or 0.9)).all()
        assert res.params["target"].startswith("50%" if target else "90%")


def test_plan_sites_needs_a_crs() -> None:
    demand = census_uniform_demand(_units(), spacing_m=500.0)
    cand = combine_candidates(None, grid_candidates(_units(), spacing_m=1000.0))
    cand = cand.set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match="candidates has no CRS"):
        plan_sites(demand, cand, reach=reach_for("walk"))


def test_plan_sites_rejects_bad_target() -> None:
    demand = census_uniform_demand(_units(), spacing_m=500.0)
    cand = combine_candidates(None, grid_candidates(_units(), spacing_m=1000.0))
    with pytest.raises(InputError, match=r"target must be a share in \(0, 1\]"):
        plan_sites(demand, cand, reach=reach_for("walk"), target=90)


def test_capacity_needs_both_parts() -> None:
    demand = census_uniform_demand(_units(), spacing_m=500.0)
    cand = combine_candidates(None, grid_candidates(_units(), spacing_m=1000.0))
    with pytest.raises(InputError, match="need both"):
        plan_sites(demand, cand, reach=reach_for("walk"), candidate_capacity=100.0)


def test_unit_table_is_a_frame() -> None:
    demand = census_uniform_demand(_units(), spacing_m=500.0)
    cand = combine_candidates(None, grid_candidates(_units(), spacing_m=1000.0))
    res = plan_sites(demand, cand, reach=reach_for("walk"), model="pmedian", k=2)
    assert isinstance(res.units, pd.DataFrame)
    assert (res.units["mean_minutes_after"] < np.inf).all()
    assert (res.units["share_after_pct"] < 100).all()  # covered = within reach, not "assigned"
    assert res.curve["objective"].iloc[1:].is_monotonic_decreasing


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mclp_reduced_cost_pruning_keeps_the_optimum(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    locate = pytest.importorskip("spopt.locate")
    import geo.analysis.siting as siting

    cost, w = _instance(seed)
    ref = _spopt_solve(locate.MCLP, cost, w, 2.0, p_facilities=4)
    monkeypatch.setattr(siting, "PRUNE_ABOVE", 0)  # force the LP-pruned path
    ours = solve_mclp(sparse.csr_matrix(cost <= 2.0), w, k=4, fixed=np.zeros(16, bool))
    assert ours.objective == pytest.approx(ref)


def test_site_units_keeps_near_existing_and_drops_goals() -> None:
    from geo.analysis.siting_run import existing_near, site_units

    units = _units()
    fac = _pts(
        [(500, 1000), (-600, 1000), (-5000, 1000), (3000, 1000)],
        id=["in", "near", "far", "goal"],
        name=["in", "near", "far", "goal"],
        kind=["hospital", "hospital", "hospital", "goal"],
    )
    kept = existing_near(fac, units, radius_m=1000.0)
    assert kept["id"].tolist() == ["in", "near"]  # 600 m outside still serves the unit
    res = site_units(units, model="mclp", k=2, existing=fac, grid_spacing_m=1000.0, curve_k=0)
    assert sorted(res.sites.loc[res.sites.role == "existing", "id"]) == ["in", "near"]
    assert res.params["source_existing_within_reach"] == "2 of 4"


def test_site_units_water_lines_cannot_mask() -> None:
    from shapely.geometry import LineString

    from geo.analysis.siting_run import site_units

    river = gpd.GeoDataFrame(geometry=[LineString([(X0, Y0), (X0 + 9000, Y0 + 2000)])], crs=GK)
    with pytest.raises(InputError, match="holds no polygons"):
        site_units(_units(), water=river)


def test_mclp_time_limit_keeps_at_least_the_greedy_and_says_so() -> None:
    rng = np.random.default_rng(7)
    demand = rng.uniform(0, 10_000, (6000, 2))
    sites = rng.uniform(0, 10_000, (200, 2))
    w = rng.gamma(0.5, 20.0, 6000)
    cover = reach_matrix(demand, sites, radius_m=1000.0, metres_per_minute=1.0)
    none = np.zeros(200, dtype=bool)
    sol = solve_mclp(cover, w, k=20, fixed=none, time_limit=0.2)
    assert sol.objective >= greedy_mclp(cover, w, k=20, fixed=none).objective - 1e-9
    if sol.status != "optimal":
        assert "not proven optimal" in sol.status
        # with an upper bound when HiGHS found a solution in time (on a loaded machine it may not)
        assert "upper bound" in sol.status or "found no solution" in sol.status
        assert not sol.mip_gap < 0  # the bound is never below the kept solution (NaN: none)


# --- demand from the coverage engine's population models (raster, points, census fallback) ---

RASTER_CELLS = {(1250.0, 1250.0): 100.0, (1750.0, 1250.0): 50.0, (7250.0, 1250.0): 300.0}


def _write_raster(path: Path, crs: str, *, east: bool = True) -> Path:
    """People per cell around :data:`RASTER_CELLS` (GK offsets), in ``crs``; zeros elsewhere.

    500 m cells in EPSG:4547, 0.004 degree cells in EPSG:4326; covers both units (or only the
    western one with ``east=False``).
    """
    import rasterio
    from affine import Affine
    from pyproj import Transformer

    width_m = 10_000 if east else 4000
    tr = Transformer.from_crs(GK, crs, always_xy=True)
    xs, ys = tr.transform([X0, X0 + width_m, X0, X0 + width_m], [Y0, Y0, Y0 + 2000, Y0 + 2000])
    size = 500.0 if crs == GK else 0.004
    left, top = min(xs), max(ys)
    ncols = int(np.ceil((max(xs) - left) / size))
    nrows = int(np.ceil((top - min(ys)) / size))
    transform = Affine(size, 0.0, left, 0.0, -size, top)  # (rasterio's from_origin warns)
    data = np.zeros((nrows, ncols), dtype="float32")
    for (dx, dy), people in RASTER_CELLS.items():
        if dx < width_m:
            x, y = tr.transform(X0 + dx, Y0 + dy)
            data[int((top - y) // size), int((x - left) // size)] += people
    profile = {"driver": "GTiff", "height": nrows, "width": ncols, "count": 1}
    profile |= {"dtype": "float32", "crs": crs, "transform": transform, "nodata": -1.0}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


def _site_cands() -> gpd.GeoDataFrame:
    # next to the western cells, on the eastern cell, and an empty corner of the east unit
    return _pts([(1250, 1250), (7250, 1250), (9500, 250)], id=["w", "e", "far"], name=list("WEF"))


@pytest.mark.parametrize("crs", ["EPSG:4326", GK])
def test_raster_demand_is_hand_sum_of_cells_and_mclp_picks_populated(
    tmp_path: Path, crs: str
) -> None:
    from geo.analysis.population import read_population_raster
    from geo.analysis.siting_demand import RASTER_MODEL, demand_from_grid
    from geo.analysis.siting_run import site_units

    units = _units()
    grid = read_population_raster(_write_raster(tmp_path / "pop.tif", crs), units=units)
    demand = demand_from_grid(grid, units)
    sums = demand.groupby("unit_id")["population"].sum().to_dict()
    assert sums == pytest.approx({"1": 150.0, "2": 300.0})  # 100 + 50 in West, 300 in East
    assert len(demand) == 3 and (demand["population_model"] == RASTER_MODEL).all()
    assert not demand["population_coarse"].any()
    kw = {"candidates": _site_cands(), "candidate_source": "user", "speed_kmh": 4.0}
    one = site_units(units, model="mclp", k=1, population=grid, curve_k=0, **kw)  # reach 1 km
    assert one.sites.loc[one.sites.role == "new", "id"].tolist() == ["e"]
    assert one.solution.objective == pytest.approx(300.0)
    two = site_units(units, model="mclp", k=2, population=grid, curve_k=0, **kw)
    assert sorted(two.sites.loc[two.sites.role == "new", "id"]) == ["e", "w"]
    assert two.solution.objective == pytest.approx(450.0)
    table = two.units.set_index("name")
    assert table["population"].to_dict() == pytest.approx({"West": 150.0, "East": 300.0})
    assert (table["population_model"] == "raster").all() and not table["population_coarse"].any()
    assert two.params["population_model"].startswith("raster: people per cell")


def test_unit_without_raster_cells_falls_back_to_census_with_warning(tmp_path: Path) -> None:
    from geo.analysis.population import PopulationFallbackWarning, read_population_raster
    from geo.analysis.siting_run import site_units

    units = _units()
    grid = read_population_raster(_write_raster(tmp_path / "w.tif", GK, east=False), units=units)
    kw = {"candidates": _site_cands(), "candidate_source": "user", "curve_k": 0}
    with pytest.warns(PopulationFallbackWarning, match=r"1 unit\(s\).*\(East\)"):
        res = site_units(units, model="mclp", k=1, population=grid, **kw)
    table = res.units.set_index("name")
    assert table.loc["West", "population"] == pytest.approx(150.0)
    assert table.loc["East", "population"] == pytest.approx(3000.0)  # census total
    assert table["population_model"].to_dict() == {"West": "raster", "East": "census_uniform"}
    assert table["population_coarse"].to_dict() == {"West": False, "East": True}
    assert "census spread by area instead" in table.loc["East", "population_note"]
    assert "census_uniform (coarse)" in res.params["population_model"]
    assert "East" in res.params["population_model"] and "caveat" in res.params


def test_points_grid_demand_keeps_its_own_positions() -> None:
    from geo.analysis.siting_demand import demand_from_grid

    pts = _pts([(1000, 1000), (5000, 1000), (50_000, 1000)], population=[10.0, 20.0, 30.0])
    demand = demand_from_grid(pts, _units())
    assert demand["unit_id"].tolist() == ["1", "2"] and demand.attrs["outside_units"] == 1
    assert demand.geometry.x.tolist() == pytest.approx(pts.geometry.x[:2].tolist(), abs=1e-9)
    assert (demand["population_model"] == "points").all()


def test_sites_gains_and_per_k_curve_are_labelled_and_add_up(tmp_path: Path) -> None:
    """Non-nested MCLP: X (at 1.5 km) is the best single site, Y + Z the best pair.

    Demand a, b, c, d at 0, 1, 2, 3 km (5, 6, 6, 5 people); candidates Y 0.5 km (a, b),
    X 1.5 km (b, c), Z 2.5 km (c, d), reach 1 km. k = 1: X covers 12; k = 2: Y + Z cover 22, so
    the curve adds 12 then 10, while the sites (Y, Z) each add 11 in rank order.
    """
    from geo.analysis.siting_report import write_siting_reports

    demand = _pts(
        [(0, 0), (1000, 0), (2000, 0), (3000, 0)],
        population=[5.0, 6.0, 6.0, 5.0],
        unit_id="1",
        unit_name="Line",
        population_model="points",
    )
    cand = _pts([(500, 0), (1500, 0), (2500, 0)], id=["Y", "X", "Z"], name=["Y", "X", "Z"])
    reach = reach_for("walk", minutes=15, speed_kmh=4.0)  # 1,000 m
    res = plan_sites(demand, cand, reach=reach, model="mclp", k=2)
    assert sorted(res.sites["id"]) == ["Y", "Z"]
    assert res.curve_per_k
    written = write_siting_reports(res, tmp_path, formats=["xlsx", "csv", "html"])
    sites = pd.read_excel(written["xlsx"], sheet_name="sites")
    gain_col = "按序加入时新增 gain when added in rank order to the chosen set"
    assert sites[gain_col].tolist() == [11, 11]
    curve = pd.read_excel(written["xlsx"], sheet_name="gain_curve")
    optimum = "k个新址的最优值 optimum with k new sites"
    added = "第k个新址新增 added by the k-th site (optimum k - optimum k-1)"
    assert curve[optimum].tolist() == [0, 12, 22]
    assert curve[added].iloc[1:].tolist() == [12, 10]
    # the sites' gains sum to the final gain; the curve ends at the final optimum
    assert sites[gain_col].sum() == curve[added].iloc[1:].sum() == res.solution.objective
    assert curve[optimum].iloc[-1] == pytest.approx(res.solution.objective)
    csv = pd.read_csv(tmp_path / "siting_curve.csv", encoding="utf-8-sig")
    assert optimum in csv.columns and added in csv.columns
    page = (tmp_path / "siting_report.html").read_text(encoding="utf-8")
    assert "optimum with k new sites, solved exactly for each k" in page
    assert "added one by one in rank order" in page
    assert "not nested" in res.params["gain_curve"]


@pytest.mark.parametrize("population", ["census", "raster"])
def test_time_to_nearest_before_equals_coverage_with_a_facility_beyond_reach(
    tmp_path: Path, population: str
) -> None:
    """The hospital 3 km east of East (beyond its 1 km reach) is nearest for East's residents."""
    from geo.analysis.coverage import coverage_report
    from geo.analysis.population import read_population_raster
    from geo.analysis.siting_run import site_units

    units = _units()
    fac = _pts([(500, 1000), (13_000, 1000)], id=["in", "beyond"], name=["in", "beyond"])
    grid = None
    if population == "raster":
        grid = read_population_raster(_write_raster(tmp_path / "pop.tif", GK), units=units)
    reach = reach_for("walk", minutes=15, speed_kmh=4.0)
    cov = coverage_report(fac, units, reach=reach, population=grid).summary.set_index("unit_id")
    kw = {"model": "mclp", "k": 1, "speed_kmh": 4.0, "population": grid, "grid_spacing_m": 1000.0}
    res = site_units(units, existing=fac, curve_k=0, **kw)
    before = res.units.set_index("unit_id")["mean_minutes_before"]
    rel = 0.01 if population == "census" else 1e-9  # census: a 250 m grid vs 200 m samples
    assert before["2"] == pytest.approx(cov.loc["2", "minutes_mean"], rel=rel)
    assert before["1"] == pytest.approx(cov.loc["1", "minutes_mean"], rel=rel)
    assert res.params["source_existing_within_reach"] == "1 of 2"
    assert "1 more" in res.params["source_existing_nearest_beyond_reach"]
    # coverage counts are unaffected: the same as with the facility within reach only
    near = site_units(units, existing=fac.iloc[:1], curve_k=0, **kw)
    for col in ("covered_before", "covered_after"):
        assert res.units[col].tolist() == pytest.approx(near.units[col].tolist())
    assert (near.units["mean_minutes_before"] > res.units["mean_minutes_before"] + 1).any()


def test_curve_reuses_the_runs_own_solve_and_ends_at_its_optimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import geo.analysis.siting_plan as plan

    calls: list[int] = []

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(int(kwargs["k"]))
        return solve_mclp(*args, **kwargs)

    monkeypatch.setattr(plan, "solve_mclp", counted)
    units = _units()
    demand = census_uniform_demand(units, spacing_m=500.0)
    cand = combine_candidates(None, grid_candidates(units, spacing_m=1000.0))
    res = plan_sites(demand, cand, reach=reach_for("walk", minutes=15), model="mclp", k=3)
    assert calls == [3, 1, 2]  # the run's k = 3, then the curve's k = 1, 2 (k = 3 not again)
    assert res.curve["objective"].iloc[-1] == res.solution.objective


def test_mclp_reaching_the_bound_of_the_best_single_sites_needs_no_milp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Equal disjoint clusters (as census_uniform demand gives): greedy is provably optimal."""
    import geo.analysis.siting as siting

    def no_milp(*args: object, **kwargs: object) -> None:
        raise AssertionError("MILP run although the greedy reached the bound")

    monkeypatch.setattr(siting, "milp", no_milp)
    # 4 sites, each alone covering 3 demand points of 10 people; site 4 overlaps sites 0 and 1
    rows = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 2, 3, 4]
    cols = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
    cover = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(12, 5))
    sol = solve_mclp(cover, np.full(12, 10.0), k=3, fixed=np.zeros(5, bool))
    assert sol.status == "optimal" and sol.objective == 90.0
    assert len(set(sol.chosen.tolist()) & {0, 1, 2, 3}) == 3
