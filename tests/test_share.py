import pytest

from geo.errors import InputError
from geo.web.share import (
    CLIENT_PARAMS,
    MapState,
    decode_state,
    encode_state,
    shown_layers,
    speed_for,
    view_from_map,
)


@pytest.mark.parametrize(
    "state",
    [
        MapState(),
        MapState(layers=(), unit="430104"),
        MapState(
            layers=("sanqu", "counties"),
            basemap="amap",
            cov_layers=("cs_medical",),
            mode="bike",
            minutes=10.0,
            speed=14.5,
            lang="en",
        ),
    ],
)
def test_round_trip(state):
    assert decode_state(encode_state(state)) == state


def test_defaults_are_omitted():
    assert encode_state(MapState()) == {}
    assert encode_state(MapState(minutes=20)) == {"min": "20"}


def test_unknown_layers_dropped_and_lists_take_last():
    s = decode_state({"layers": "a,zz,b", "basemap": ["osm", "light"]}, known_layers=("a", "b"))
    assert s.layers == ("a", "b") and s.basemap == "light"


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"basemap": "bing"}, "basemap"),
        ({"mode": "fly"}, "mode"),
        ({"min": "abc"}, "'min' must be a number"),
        ({"min": "0"}, r"'min' must be in \(0, 240\]"),
        ({"speed": "999"}, "'speed' must be in"),
        ({"unit": "<x>"}, "'unit' must be an adcode"),
        ({"lang": "fr"}, "'lang'"),
    ],
)
def test_bad_params(params, match):
    with pytest.raises(InputError, match=match):
        decode_state(params)


def test_view_round_trip():
    s = MapState(unit="430103", center=(28.18, 112.99), zoom=13)
    params = encode_state(s)
    assert params["c"] == "28.18000,112.99000" and params["z"] == "13"
    assert decode_state(params) == s


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"c": "28.1", "z": "12"}, "'c' must be 'lat,lon'"),
        ({"c": "95,112", "z": "12"}, "'c' must be 'lat,lon'"),
        ({"c": "28,112", "z": "30"}, "'z' must be a zoom"),
        ({"c": "28,112"}, "'z' must be a zoom"),
    ],
)
def test_bad_view(params, match):
    with pytest.raises(InputError, match=match):
        decode_state(params)


def test_view_from_st_folium_value():
    assert view_from_map({"center": {"lat": 28.123456789, "lng": 112.9}, "zoom": 11.0}) == (
        (28.12346, 112.9),
        11,
    )
    assert view_from_map(None) is None
    assert view_from_map({"center": None, "zoom": 3}) is None


@pytest.mark.parametrize(("mode", "kmh"), [("walk", 4.0), ("bike", 12.0), ("drive", 30.0)])
def test_link_mode_gives_mode_speed(mode, kmh):
    assert decode_state({"mode": mode}).speed_kmh == kmh
    assert speed_for(mode) == kmh


KNOWN = ("sanqu", "cs_medical", "xiangjiang", "counties")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # the map client switched xiangjiang off: the link keeps that, in map order
        ({"layers": "counties,sanqu,cs_medical"}, ("sanqu", "cs_medical", "counties")),
        ({"layers": ["sanqu", "counties,zz"]}, ("counties",)),  # last value, unknown id dropped
        ({"layers": ""}, ()),  # every layer switched off is a state of its own
        ({"unit": "430103"}, ("sanqu", "xiangjiang")),  # no layers in the URL: the default
    ],
)
def test_shown_layers_keep_the_links_layers(params, expected):
    assert shown_layers(params, known_layers=KNOWN, default=("sanqu", "xiangjiang")) == expected


def test_client_params_are_the_link_keys_of_layers_and_view():
    s = MapState(layers=("sanqu",), center=(28.2, 113.0), zoom=12)
    assert set(encode_state(s)) == set(CLIENT_PARAMS.values())
    shown = shown_layers(encode_state(s), known_layers=KNOWN, default=())
    assert shown == s.layers
