import pytest

from geo.errors import InputError
from geo.share import MapState, decode_state, encode_state


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
