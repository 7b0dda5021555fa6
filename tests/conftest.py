"""Shared fixtures: small GeoDataFrames with explicit CRSs and copies of the real sources."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from geo.settings import DATA_DIR, LAYERS_DIR


@pytest.fixture
def square_units() -> gpd.GeoDataFrame:
    """Two 10 km x 10 km units side by side in CGCS2000 / 3-degree GK CM 114E (metres)."""
    x0, y0 = 500_000.0, 3_120_000.0
    return gpd.GeoDataFrame(
        {"adcode": ["900001", "900002"], "name": ["西单元", "东单元"], "population": [1000, 3000]},
        geometry=[
            box(x0, y0, x0 + 10_000, y0 + 10_000),
            box(x0 + 10_000, y0, x0 + 20_000, y0 + 10_000),
        ],
        crs="EPSG:4547",
    )


@pytest.fixture
def changsha_points() -> gpd.GeoDataFrame:
    """Three WGS-84 points in central Changsha."""
    return gpd.GeoDataFrame(
        {"id": ["a", "b", "c"], "name": ["甲", "乙", "丙"]},
        geometry=[Point(112.98, 28.20), Point(112.95, 28.23), Point(113.00, 28.15)],
        crs="EPSG:4326",
    )


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of ``data/`` for tests that break it on purpose."""
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


@pytest.fixture
def layers_copy(tmp_path: Path) -> Path:
    """A writable copy of ``layers/``."""
    target = tmp_path / "layers"
    shutil.copytree(LAYERS_DIR, target)
    return target


@pytest.fixture(scope="session")
def built() -> dict[str, str]:
    """The layers as the current sources build them (built once per session)."""
    from geo.build import build_layers

    return build_layers(DATA_DIR)
