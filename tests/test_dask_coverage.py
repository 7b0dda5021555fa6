"""The per-county report on a local Dask cluster equals the one-machine report."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.analysis.coverage import coverage_report, reach_for
from geo.crs import metric_crs_for
from geo.data.boundaries import load_units

distributed = pytest.importorskip("distributed")
pytest.importorskip("dask_geopandas")


@pytest.fixture(scope="module")
def changsha() -> gpd.GeoDataFrame:
    return load_units(cities=("430100",))


@pytest.fixture(scope="module")
def random_facilities(changsha: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    metric = metric_crs_for(changsha)
    city = changsha.to_crs(metric).union_all()
    rng = np.random.default_rng(7)
    minx, miny, maxx, maxy = city.bounds
    x, y = rng.uniform(minx, maxx, 4000), rng.uniform(miny, maxy, 4000)
    keep = shapely.contains_xy(city, x, y)
    pts = gpd.GeoDataFrame(
        {"id": [f"r{i}" for i in range(int(keep.sum()))]},
        geometry=gpd.points_from_xy(x[keep], y[keep]),
        crs=metric,
    )
    return pts.iloc[:300].to_crs("EPSG:4326")


@pytest.mark.slow
@pytest.mark.filterwarnings(
    "ignore::DeprecationWarning"
)  # tornado/asyncio internals of distributed
@pytest.mark.filterwarnings("ignore::ResourceWarning")  # sockets closed at cluster shutdown
def test_dask_matches_single_machine(
    changsha: gpd.GeoDataFrame, random_facilities: gpd.GeoDataFrame
) -> None:
    from geo.analysis.dask_coverage import SUMMARY_COLUMNS, coverage_by_county

    reach = reach_for("bike", minutes=10)
    expected = coverage_report(random_facilities, changsha, reach=reach).summary
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        got = coverage_by_county(random_facilities, changsha, reach=reach)
    assert list(got.columns) == list(SUMMARY_COLUMNS)
    assert got["unit_id"].tolist() == changsha["adcode"].tolist()
    numeric = [
        "area_km2",
        "covered_km2",
        "covered_pct",
        "population_covered",
        "facilities",
        "gaps",
        "minutes_p50",
        "minutes_p90",
    ]
    pd.testing.assert_frame_equal(
        got[numeric].reset_index(drop=True),
        expected[numeric].reset_index(drop=True),
        check_dtype=False,
        rtol=1e-6,
    )
    assert got["facilities"].sum() == 300
