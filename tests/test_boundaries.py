"""County and city boundaries: counts, official areas, census join, WGS-84 positions."""

from __future__ import annotations

import pytest
from shapely.geometry import Point

from geo.crs import geodesic_area_km2
from geo.data.boundaries import load_cities, load_management_zones, load_province, load_units

# Official land areas (km²): 长沙市人民政府 "总面积11819平方公里"; 永州市人民政府 "2.24万平方公里"
# (22,441 km²); 湖南省 21.18 万平方公里.
OFFICIAL_KM2 = {"长沙市": 11_819.0, "永州市": 22_441.0}


def test_unit_counts() -> None:
    units = load_units()
    assert (units["city_adcode"] == "430100").sum() == 9
    assert (units["city_adcode"] == "431100").sum() == 11
    assert units.crs.to_epsg() == 4326
    assert len(load_units(cities=None)) == 122


@pytest.mark.parametrize("city", sorted(OFFICIAL_KM2))
def test_city_area_within_3_percent(city: str) -> None:
    cities = load_cities()
    geom = cities.loc[cities["name"] == city, "geometry"].iloc[0]
    assert geodesic_area_km2(geom) == pytest.approx(OFFICIAL_KM2[city], rel=0.03)


def test_province_area() -> None:
    assert geodesic_area_km2(load_province().geometry.iloc[0]) == pytest.approx(211_800, rel=0.01)


@pytest.mark.parametrize(("adcode", "city"), [("430100", "长沙市"), ("431100", "永州市")])
def test_counties_tile_their_city(adcode: str, city: str) -> None:
    units = load_units()
    union = units[units["city_adcode"] == adcode].union_all()
    outline = load_cities().set_index("name").loc[city, "geometry"]
    assert geodesic_area_km2(union.symmetric_difference(outline)) < 0.005 * geodesic_area_km2(
        outline
    )


def test_census_population_joined() -> None:
    units = load_units()
    cs = units[units["city_adcode"] == "430100"]["population"].sum()
    yz = units[units["city_adcode"] == "431100"]["population"].sum()
    assert cs == 10_047_914
    assert yz == 5_191_762  # the 11 counties; the city total also counts 3 management zones


def test_boundaries_are_wgs84_not_gcj02() -> None:
    # 湘雅医院 main gate, WGS-84 (GCJ-02 112.98494, 28.212003 converted): inside 开福区
    units = load_units().set_index("name")
    assert units.loc["开福区", "geometry"].contains(Point(112.9794, 28.2154))
    # 岳麓山 summit (WGS-84 ≈ 112.936, 28.186) is in 岳麓区
    assert units.loc["岳麓区", "geometry"].contains(Point(112.936, 28.186))


def test_census_covers_every_hunan_county_and_city() -> None:
    units = load_units(cities=None)
    assert len(units) == 122
    assert units["population"].notna().all()
    # 祁阳: 431121 in the census, joined whatever code the boundary set uses
    assert units.set_index("name").loc["祁阳市", "population"] == 791_939
    zones = load_management_zones()
    assert len(zones) == 15
    assert units["population"].sum() + zones["population"].sum() == 66_444_864
    cities = load_cities().set_index("name")
    assert len(cities) == 14
    assert cities["population"].sum() == 66_444_864
    assert cities.loc["永州市", "population"] == 5_289_824  # counties + 3 management zones
    assert cities.loc["永州市", "population_counties"] == 5_191_762
    assert cities.loc["常德市", "population"] == 5_279_102


def test_management_zones_keep_their_residents() -> None:
    zones = load_management_zones().set_index("name")
    assert zones.loc["永州经济技术开发区", "population"] == 47_111
    assert zones.loc["永州市金洞管理区", "population"] == 40_874
    assert zones.loc["永州市回龙圩管理区", "population"] == 10_077


def test_cities_layer_carries_city_population() -> None:
    import json

    from geo.settings import LAYERS_DIR

    doc = json.loads((LAYERS_DIR / "cities.geojson").read_text(encoding="utf-8"))
    pops = {f["properties"]["name"]: f["properties"]["population"] for f in doc["features"]}
    assert pops["常德市"] == 5_279_102
    assert sum(pops.values()) == 66_444_864
