"""Shareable map state: encode/decode the URL query string (layers, unit, basemap, coverage, view).

Examples
--------
>>> s = MapState(layers=("sanqu", "counties"), unit="430104", minutes=10.0)
>>> decode_state(encode_state(s)) == s
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Final

from geo.errors import InputError
from geo.settings import DEFAULT_MINUTES, MODE_SPEEDS

__all__ = [
    "BASEMAP_IDS",
    "CLIENT_PARAMS",
    "MapState",
    "decode_state",
    "encode_state",
    "shown_layers",
    "speed_for",
    "view_from_map",
]

#: Basemap ids accepted in a URL (same keys as :data:`geo.web.webmap.BASEMAPS`).
BASEMAP_IDS: Final[tuple[str, ...]] = ("offline", "osm", "light", "tianditu", "amap")

#: Query parameters that the map client keeps current in the page's URL itself (layer toggles
#: and the view happen in the browser, without a rerun): visible layers, centre, zoom.
CLIENT_PARAMS: Final[dict[str, str]] = {"layers": "layers", "center": "c", "zoom": "z"}


@dataclass(frozen=True)
class MapState:
    """What the URL carries.

    Attributes
    ----------
    layers : tuple of str, optional
        Visible layer ids (``None``: the default selection).
    unit : str
        Selected unit adcode ('' for none).
    basemap : str
        Basemap id.
    cov_layers : tuple of str
        Facility layers of the coverage panel (empty: coverage off).
    mode : str
        ``walk``, ``bike`` or ``drive``.
    minutes : float
        Travel time.
    speed : float, optional
        Speed override in km/h (``None``: mode default).
    lang : str
        ``zh`` or ``en``.
    center : tuple of float, optional
        Map centre ``(lat, lon)`` in WGS-84 degrees (``None``: the page's default view).
    zoom : int, optional
        Map zoom level (0-22).
    """

    layers: tuple[str, ...] | None = None
    unit: str = ""
    basemap: str = "offline"
    cov_layers: tuple[str, ...] = field(default_factory=tuple)
    mode: str = "walk"
    minutes: float = DEFAULT_MINUTES
    speed: float | None = None
    lang: str = "zh"
    center: tuple[float, float] | None = None
    zoom: int | None = None

    @property
    def speed_kmh(self) -> float:
        """Speed used for coverage: the override, else the mode's default (settings)."""
        return speed_for(self.mode, self.speed)


def speed_for(mode: str, override: float | None = None) -> float:
    """Speed (km/h) of a travel mode: ``override`` when given, else :data:`MODE_SPEEDS`.

    The page and a shared link both go through this, so ``mode=drive`` means 30 km/h on both.

    Parameters
    ----------
    mode : str
        ``walk``, ``bike`` or ``drive``.
    override : float, optional
        A speed the user typed.

    Returns
    -------
    float

    Raises
    ------
    InputError
        For an unknown mode.

    Examples
    --------
    >>> speed_for("drive"), speed_for("bike"), speed_for("walk", 5.0)
    (30.0, 12.0, 5.0)
    """
    if mode not in MODE_SPEEDS:
        msg = f"unknown mode {mode!r}: use one of {sorted(MODE_SPEEDS)}"
        raise InputError(msg, field="mode")
    return float(override) if override is not None else float(MODE_SPEEDS[mode].kmh)


def view_from_map(returned: Mapping[str, object] | None) -> tuple[tuple[float, float], int] | None:
    """Centre and zoom from what ``streamlit_folium.st_folium`` returns (None when absent).

    Parameters
    ----------
    returned : mapping, optional
        The component's value, with ``center`` (``{"lat", "lng"}``) and ``zoom``.

    Returns
    -------
    ((lat, lon), zoom) or None
        Rounded to 5 decimals (about 1 m).

    Examples
    --------
    >>> view_from_map({"center": {"lat": 28.19, "lng": 112.97}, "zoom": 12})
    ((28.19, 112.97), 12)
    >>> view_from_map({"zoom": 12}) is None
    True
    """
    if not returned:
        return None
    center, zoom = returned.get("center"), returned.get("zoom")
    if not isinstance(center, Mapping) or not isinstance(zoom, int | float):
        return None
    lat, lon = center.get("lat"), center.get("lng")
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return None
    return (round(float(lat), 5), round(float(lon), 5)), int(zoom)


def encode_state(state: MapState) -> dict[str, str]:
    """Encode a state as query-string parameters (only non-default values).

    Parameters
    ----------
    state : MapState
        The view.

    Returns
    -------
    dict of str to str
    """
    default = MapState()
    out: dict[str, str] = {}
    if state.layers is not None:
        out[CLIENT_PARAMS["layers"]] = ",".join(state.layers)
    if state.unit:
        out["unit"] = state.unit
    if state.basemap != default.basemap:
        out["basemap"] = state.basemap
    if state.cov_layers:
        out["cov"] = ",".join(state.cov_layers)
    if state.mode != default.mode:
        out["mode"] = state.mode
    if state.minutes != default.minutes:
        out["min"] = f"{state.minutes:g}"
    if state.speed is not None:
        out["speed"] = f"{state.speed:g}"
    if state.lang != default.lang:
        out["lang"] = state.lang
    if state.center is not None and state.zoom is not None:
        out[CLIENT_PARAMS["center"]] = f"{state.center[0]:.5f},{state.center[1]:.5f}"
        out[CLIENT_PARAMS["zoom"]] = str(int(state.zoom))
    return out


def shown_layers(
    params: Mapping[str, str | list[str]],
    *,
    known_layers: tuple[str, ...],
    default: tuple[str, ...],
) -> tuple[str, ...]:
    """Layers of the share link: the URL's ``layers`` when it has them, else ``default``.

    The map client switches layers in the browser and writes the visible set into the page's
    URL (:data:`CLIENT_PARAMS`); the page keeps that set when it writes the link again after a
    rerun, instead of putting back the set the session started with.

    Parameters
    ----------
    params : mapping
        Query parameters as the page received them (a list value uses its last item).
    known_layers : tuple of str
        Layer ids of the map, in map order; other ids are dropped.
    default : tuple of str
        The layers when the URL has no ``layers`` parameter.

    Returns
    -------
    tuple of str
        Known layer ids in ``known_layers`` order (empty when every layer is switched off).

    Examples
    --------
    >>> shown_layers({"layers": "b,zz,a"}, known_layers=("a", "b", "c"), default=("c",))
    ('a', 'b')
    >>> shown_layers({}, known_layers=("a", "b", "c"), default=("c",))
    ('c',)
    """
    raw = params.get(CLIENT_PARAMS["layers"])
    raw = raw[-1] if isinstance(raw, list) and raw else raw
    if not isinstance(raw, str):
        return tuple(default)
    wanted = set(_split(raw))
    return tuple(x for x in known_layers if x in wanted)


def _view(flat: Mapping[str, str]) -> tuple[tuple[float, float] | None, int | None]:
    raw_c, raw_z = flat.get("c", ""), flat.get("z", "")
    if not raw_c and not raw_z:
        return None, None
    parts = raw_c.split(",")
    try:
        lat, lon = (float(v) for v in parts) if len(parts) == 2 else (math.nan, math.nan)
    except ValueError:
        lat, lon = math.nan, math.nan
    if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        msg = f"query parameter 'c' must be 'lat,lon' in degrees, got {raw_c!r}"
        raise InputError(msg, field="c")
    if not raw_z.isdigit() or not 0 <= int(raw_z) <= 22:
        msg = f"query parameter 'z' must be a zoom level 0-22, got {raw_z!r}"
        raise InputError(msg, field="z")
    return (lat, lon), int(raw_z)


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _number(params: Mapping[str, str], key: str, lo: float, hi: float) -> float | None:
    raw = params.get(key)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        msg = f"query parameter {key!r} must be a number, got {raw!r}"
        raise InputError(msg, field=key) from None
    if not (math.isfinite(value) and lo < value <= hi):
        msg = f"query parameter {key!r} must be in ({lo:g}, {hi:g}], got {raw!r}"
        raise InputError(msg, field=key)
    return value


def decode_state(
    params: Mapping[str, str | list[str]], *, known_layers: tuple[str, ...] | None = None
) -> MapState:
    """Decode query-string parameters into a state.

    Parameters
    ----------
    params : mapping
        Query parameters (a list value uses its last item, as Streamlit does).
    known_layers : tuple of str, optional
        When given, layer ids not in it are dropped (stale links stay usable).

    Returns
    -------
    MapState

    Raises
    ------
    InputError
        For an unknown basemap, mode or language, minutes/speed out of range, or a bad view
        (``c=lat,lon`` and ``z=zoom`` go together).
    """
    flat = {k: (v[-1] if isinstance(v, list) and v else v) for k, v in params.items()}
    flat = {k: str(v) for k, v in flat.items() if isinstance(v, str)}
    state = MapState()
    if "layers" in flat:
        layers = _split(flat["layers"])
        if known_layers is not None:
            layers = tuple(x for x in layers if x in known_layers)
        state = replace(state, layers=layers)
    if "cov" in flat:
        cov = _split(flat["cov"])
        if known_layers is not None:
            cov = tuple(x for x in cov if x in known_layers)
        state = replace(state, cov_layers=cov)
    basemap = flat.get("basemap", state.basemap)
    if basemap not in BASEMAP_IDS:
        msg = f"query parameter 'basemap' must be one of {list(BASEMAP_IDS)}, got {basemap!r}"
        raise InputError(msg, field="basemap")
    mode = flat.get("mode", state.mode)
    if mode not in MODE_SPEEDS:
        msg = f"query parameter 'mode' must be one of {sorted(MODE_SPEEDS)}, got {mode!r}"
        raise InputError(msg, field="mode")
    lang = flat.get("lang", state.lang)
    if lang not in ("zh", "en"):
        msg = f"query parameter 'lang' must be 'zh' or 'en', got {lang!r}"
        raise InputError(msg, field="lang")
    minutes = _number(flat, "min", 0, 240)
    speed = _number(flat, "speed", 0, 200)
    unit = flat.get("unit", "")
    if unit and not unit.isalnum():
        msg = f"query parameter 'unit' must be an adcode, got {unit!r}"
        raise InputError(msg, field="unit")
    center, zoom = _view(flat)
    return replace(
        state,
        center=center,
        zoom=zoom,
        unit=unit,
        basemap=basemap,
        mode=mode,
        lang=lang,
        minutes=minutes if minutes is not None else state.minutes,
        speed=speed,
    )
