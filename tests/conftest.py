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
    from geo.data.build import build_layers

    return build_layers(DATA_DIR)


@pytest.fixture(scope="session")
def print_layers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny layers for print tests: a point and a schematic zone in 天心区, a point in 江华.

    Positions are WGS-84; the manifest carries web-map styles as layers/manifest.json does.
    """
    import json

    root = tmp_path_factory.mktemp("print_layers")
    features = {
        "fx_points": gpd.GeoDataFrame(
            {"id": ["p1"], "name": ["测试医院"], "plan": ["cs_health"], "schematic": [False]},
            geometry=[Point(112.99, 28.08)],
            crs="EPSG:4326",
        ),
        "fx_zones": gpd.GeoDataFrame(
            {"id": ["z1"], "name": ["测试片区"], "plan": ["cs_health"], "schematic": [True]},
            geometry=[box(112.97, 28.05, 113.01, 28.09)],
            crs="EPSG:4326",
        ),
        "fx_yz": gpd.GeoDataFrame(
            {"id": ["y1"], "name": ["江华测试点"], "plan": ["yz_health"], "schematic": [False]},
            geometry=[Point(111.58, 25.18)],
            crs="EPSG:4326",
        ),
    }
    for layer_id, gdf in features.items():
        (root / f"{layer_id}.geojson").write_text(gdf.to_json(), encoding="utf-8")
    point_style = {"color": "#1a5276", "fillColor": "#2e86c1", "radius": 5, "marker": "cross"}
    zone_style = {
        "color": "#8e44ad",
        "fillColor": "#9b59b6",
        "fillOpacity": 0.16,
        "weight": 2,
        "dashArray": "6 4",
    }
    manifest = {
        "groups": [{"id": "fx", "zh": "测试", "en": "test"}],
        "layers": [
            {
                "id": "fx_points",
                "group": "fx",
                "zh": "测试医院图层",
                "kind": "points",
                "schematic": False,
                "style": point_style,
                "file": "fx_points.geojson",
            },
            {
                "id": "fx_zones",
                "group": "fx",
                "zh": "测试示意片区",
                "kind": "zones",
                "schematic": True,
                "style": zone_style,
                "file": "fx_zones.geojson",
            },
            {
                "id": "fx_yz",
                "group": "fx",
                "zh": "永州测试图层",
                "kind": "points",
                "schematic": False,
                "style": point_style,
                "file": "fx_yz.geojson",
            },
        ],
    }
    (root / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return root


# --- coverage engine fixtures (issue 4) -------------------------------------------------------


@pytest.fixture
def empty_square() -> gpd.GeoDataFrame:
    """One empty 20 km x 20 km unit in CGCS2000 / GK CM 114E with 40,000 residents."""
    x0, y0 = 500_000.0, 3_120_000.0
    return gpd.GeoDataFrame(
        {"adcode": ["900100"], "name": ["方块"], "population": [40_000.0]},
        geometry=[box(x0, y0, x0 + 20_000, y0 + 20_000)],
        crs="EPSG:4547",
    )


@pytest.fixture
def facility_csv(tmp_path: Path) -> Path:
    """A clean WGS-84 facility CSV in central Changsha (ids f1-f4, beds)."""
    path = tmp_path / "clinics.csv"
    path.write_text(
        "id,name,lon,lat,beds\n"
        "f1,<b>社区诊所</b>,112.98,28.20,30\n"
        "f2,卫生服务中心,112.95,28.23,50\n"
        "f3,门诊部,113.00,28.15,10\n"
        "f4,医院,112.90,28.10,200\n",
        encoding="utf-8",
    )
    return path


# --- web map fixtures (issue 3) ---------------------------------------------------------------


@pytest.fixture
def web_manifest() -> dict:
    """A two-group manifest: a schematic zone layer, a point layer and a county layer."""
    return {
        "groups": [
            {"id": "plan", "zh": "规划", "en": "Plan"},
            {"id": "boundaries", "zh": "行政区划", "en": "Boundaries"},
        ],
        "layers": [
            {
                "id": "zones",
                "group": "plan",
                "zh": "示意区",
                "en": "Zones",
                "kind": "zones",
                "schematic": True,
                "count": 1,
                "style": {
                    "color": "#c0392b",
                    "fillColor": "#e74c3c",
                    "fillOpacity": 0.2,
                    "weight": 2,
                    "dashArray": "6 4",
                },
            },
            {
                "id": "pts",
                "group": "plan",
                "zh": "医院",
                "en": "Hospitals",
                "kind": "points",
                "schematic": False,
                "count": 2,
                "style": {"color": "#1a5276", "fillColor": "#2e86c1", "radius": 5},
            },
            {
                "id": "counties",
                "group": "boundaries",
                "zh": "区县",
                "en": "Counties",
                "kind": "boundary",
                "schematic": False,
                "count": 2,
                "style": {"color": "#566573", "fillOpacity": 0.0, "weight": 1.2},
            },
        ],
    }


@pytest.fixture
def web_layers() -> dict[str, gpd.GeoDataFrame]:
    """WGS-84 layers matching ``web_manifest``; one name carries ``<script>`` and a quote."""
    quote = "建设国家医学中心"
    zones = gpd.GeoDataFrame(
        {
            "id": ["z1"],
            "name": ["核心区"],
            "role": ["一核"],
            "precision": ["schematic"],
            "schematic": [True],
            "plan_title": ["长沙规划"],
            "section": ["专栏5"],
            "quote": [quote],
            "area_km2": [13.0],
            "targets": [[{"label": "规划面积", "value": 13, "unit": "平方公里", "year": 2026}]],
        },
        geometry=[box(112.95, 28.15, 113.0, 28.2)],
        crs="EPSG:4326",
    )
    pts = gpd.GeoDataFrame(
        {
            "id": ["p1", "p2"],
            "name": ['<script>alert("x")</script>医院', "湘雅医院"],
            "role": ["综合", "龙头"],
            "precision": ["geocoded", "surveyed"],
            "schematic": [False, False],
            "plan_title": ["长沙规划", "长沙规划"],
            "section": ["三、", "三、"],
            "quote": ['他说"好"<b>', quote],
            "targets": [[], []],
        },
        geometry=[Point(112.97, 28.18), Point(112.98, 28.19)],
        crs="EPSG:4326",
    )
    counties = gpd.GeoDataFrame(
        {
            "adcode": ["430102", "430103"],
            "name": ["芙蓉区", "天心区"],
            "population": [1_000_000, 500_000],
        },
        geometry=[box(112.9, 28.1, 113.0, 28.2), box(113.0, 28.1, 113.1, 28.2)],
        crs="EPSG:4326",
    )
    return {"zones": zones, "pts": pts, "counties": counties}
