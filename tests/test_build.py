"""The layer build: deterministic, current, and geometrically what the plans say."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import shape

from geo.cli import main
from geo.crs import geodesic_area_km2
from geo.data.boundaries import load_units
from geo.data.build import build_layers, write_layers
from geo.data.layers import load_layer, load_manifest
from geo.errors import GeoDataError
from geo.settings import DATA_DIR, LAYERS_DIR


def _features(built: dict[str, str], layer: str) -> list[dict]:
    return json.loads(built[f"{layer}.geojson"])["features"]


def _by_id(built: dict[str, str], layer: str) -> dict[str, dict]:
    return {f["properties"]["id"]: f for f in _features(built, layer)}


def test_build_is_deterministic(built: dict[str, str], tmp_path: Path) -> None:
    again = build_layers(DATA_DIR)
    assert again == built
    write_layers(again, tmp_path)
    first = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    write_layers(build_layers(DATA_DIR), tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == first


def test_committed_layers_are_current(built: dict[str, str]) -> None:
    stale = [n for n, t in built.items() if (LAYERS_DIR / n).read_text(encoding="utf-8") != t]
    assert stale == [], f"stale layers {stale}: run `python -m geo build` and commit"


def test_cli_build_check_reports_stale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--out", str(tmp_path)]) == 0
    (tmp_path / "sanqu.geojson").write_text("{}", encoding="utf-8")
    assert main(["build", "--check", "--out", str(tmp_path)]) == 3
    assert "stale:" in capsys.readouterr().err


def test_rfc7946_no_crs_member_and_wgs84(built: dict[str, str]) -> None:
    for name, text in built.items():
        if name.endswith(".geojson"):
            doc = json.loads(text)
            assert "crs" not in doc
            gdf = load_layer(name.removesuffix(".geojson"))
            assert gdf.crs.to_epsg() == 4326


RING_AREAS = {"攻关研发圈": 5.6, "创新孵化圈": 13.0, "产业发展圈": 24.9}


@pytest.mark.parametrize(("ring", "area"), sorted(RING_AREAS.items()))
def test_ring_areas_within_half_percent(built: dict[str, str], ring: str, area: float) -> None:
    feats = {f["properties"]["name"]: f for f in _features(built, "yhsq")}
    geom = shape(feats[ring]["geometry"])
    assert geodesic_area_km2(geom) == pytest.approx(area, rel=0.005)
    assert feats[ring]["properties"]["area_km2_planned"] == area


def test_rings_core_and_subareas(built: dict[str, str]) -> None:
    tianxin = load_units().set_index("name").loc["天心区", "geometry"]
    rings = {f["properties"]["name"]: shape(f["geometry"]) for f in _features(built, "yhsq")}
    places = _features(built, "yhsq_places")
    core = [shape(f["geometry"]) for f in places if f["properties"]["kind"] == "core"]
    assert len(core) == 1
    assert tianxin.contains(core[0])
    assert rings["攻关研发圈"].contains(core[0])
    for ring in rings.values():
        assert tianxin.buffer(1e-6).contains(ring)
    outer = rings["产业发展圈"]
    subareas = [f for f in places if f["properties"]["kind"] == "subarea"]
    names = "".join(f["properties"]["name"] for f in subareas)
    for token in ("先锋", "牛角塘", "解放垸", "机场"):
        assert token in names
    for f in subareas:
        assert outer.contains(shape(f["geometry"])), f["properties"]["name"]
    # the rings do not overlap
    assert rings["攻关研发圈"].intersection(rings["创新孵化圈"]).area < 1e-9
    assert rings["创新孵化圈"].intersection(outer).area < 1e-9


@pytest.mark.parametrize(
    ("zone", "counties"),
    [
        ("湘江新区", {"岳麓区", "望城区", "宁乡市"}),
        ("浏阳经开区", {"浏阳市"}),
        ("融城片区", {"天心区", "雨花区"}),
    ],
)
def test_sanqu_zones_lie_in_their_counties(
    built: dict[str, str], zone: str, counties: set[str]
) -> None:
    units = load_units().set_index("name")
    feats = {f["properties"]["name"]: shape(f["geometry"]) for f in _features(built, "sanqu")}
    geom = feats[zone]
    allowed = units.loc[sorted(counties), "geometry"].union_all().buffer(1e-6)
    assert allowed.contains(geom)
    touched = {n for n in counties if units.loc[n, "geometry"].intersection(geom).area > 1e-6}
    assert touched == counties, f"{zone} should reach into each of {counties}, reaches {touched}"


def test_every_plan_feature_is_cited(built: dict[str, str]) -> None:
    manifest = json.loads(built["manifest.json"])
    for layer in manifest["layers"]:
        if layer["kind"] not in {"points", "zones"}:
            continue
        for f in _features(built, layer["id"]):
            p = f["properties"]
            assert p["quote"] and p["plan"] and p["section"], p["id"]
            assert p["plan_file"].startswith("data/plans/")
            assert p["precision"] in {"surveyed", "geocoded", "approximate", "schematic"}
            assert p["schematic"] == (p["precision"] == "schematic")


def test_zones_are_schematic(built: dict[str, str]) -> None:
    for layer in ("sanqu", "sandai", "yhsq", "bio"):
        for f in _features(built, layer):
            assert f["properties"]["schematic"] is True
            assert "not a surveyed boundary" in f["properties"]["position_basis"]


def test_gcj02_hospitals_converted(built: dict[str, str]) -> None:
    feats = [
        f for f in _features(built, "cs_medical") if f["properties"]["source_datum"] == "GCJ02"
    ]
    assert feats
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    for f in feats:
        lon, lat = f["geometry"]["coordinates"]
        p = f["properties"]
        shift = geod.inv(lon, lat, p["source_lon"], p["source_lat"])[2]
        assert 300 < shift < 700, p["id"]


def test_targets_are_typed(built: dict[str, str]) -> None:
    xjxq = next(f for f in _features(built, "sanqu") if f["properties"]["name"] == "湘江新区")
    target = next(t for t in xjxq["properties"]["targets"] if t["unit"] == "亿元")
    assert (target["value"], target["year"]) == (1300, 2026)
    indicators = json.loads(built["indicators.json"])
    revenue = next(i for i in indicators if i["label"] == "当年大健康产业总营收")
    assert (revenue["baseline"], revenue["value"], revenue["year"]) == (3986, 5000, 2026)
    assert len(indicators) == 20  # 专栏1 (13), 美妆, 5 sector targets, the 2030 outlook


def test_yongzhou_links_join_centre_to_every_sub_centre(built: dict[str, str]) -> None:
    network = _features(built, "yz_network")
    subs = {
        f["properties"]["id"] for f in network if f["properties"]["kind"] == "county_sub_centre"
    }
    links = _features(built, "yz_links")
    assert len(subs) >= 9
    assert subs <= {f["properties"]["to_id"] for f in links}
    for f in links:
        assert f["properties"]["length_km"] > 0


def test_manifest_counts_match(built: dict[str, str]) -> None:
    manifest = load_manifest()
    for layer in manifest["layers"]:
        assert layer["count"] == len(_features(built, layer["id"])), layer["id"]
        assert layer["zh"] and layer["en"] and layer["style"]["color"].startswith("#")


def test_counties_carry_population() -> None:
    counties = gpd.read_file(LAYERS_DIR / "counties.geojson")
    assert len(counties) == 20
    assert counties["population"].sum() == 10_047_914 + 5_191_762


def test_unknown_layer_in_sources(data_copy: Path) -> None:
    path = data_copy / "places.csv"
    text = path.read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    cells = text[1].split(",")
    cells[header.index("layer")] = "moon_bases"
    text[1] = ",".join(cells)
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(
        GeoDataError, match=r"places.csv, row 1, field 'layer': unknown layer 'moon_bases'"
    ):
        build_layers(data_copy)


EXPECTED_COUNTS = {
    "sanqu": 3,  # 湘江新区, 浏阳经开区, 融城片区
    "sandai": 3,  # the three belts
    "sandai_carriers": 16,
    "yhsq": 3,  # the three rings
    "yhsq_places": 7,  # core, 天心经开区, four sub-areas, 芙蓉实验室
    "cs_medical": 23,
    "yz_network": 28,  # 2 city centres, 5 specialist hosts, 9 + 9 sub-centres, 2 goals, 脑科医院
    "yz_links": 18,  # each city centre to its 9 sub-centres
    "cs_parks": 16,
    "cs_sports": 15,
    "yz_kangyang": 7,
    "bio": 8,  # 两区两谷两心两翼
    "bio_places": 13,
    "provincial": 16,
    "counties": 20,
    "cities": 14,
    "xiangjiang": 113,
}


@pytest.mark.parametrize(("layer", "count"), sorted(EXPECTED_COUNTS.items()))
def test_feature_counts_per_layer(built: dict[str, str], layer: str, count: int) -> None:
    assert len(_features(built, layer)) == count


def test_named_places_present(built: dict[str, str]) -> None:
    names = {
        f["properties"]["name"]
        for layer in EXPECTED_COUNTS
        for f in _features(built, layer)
        if "name" in f["properties"]
    }
    for expected in (
        "中南大学湘雅医院",
        "湖南省肿瘤医院",
        "永州市中心医院",
        "道县人民医院",
        "江华瑶族自治县中医医院",
        "常德市第一人民医院",
        "郴州市第一人民医院",
        "邵东廉桥中药材交易市场",
        "灰汤温泉",
        "种业硅谷",
        "生物物流东翼",
    ):
        assert expected in names
