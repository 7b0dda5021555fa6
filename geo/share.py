"""Shareable map state: encode/decode the URL query string (layers, unit, basemap, coverage).

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

__all__ = ["BASEMAP_IDS", "MapState", "decode_state", "encode_state"]

#: Basemap ids accepted in a URL (same keys as :data:`geo.webmap.BASEMAPS`).
BASEMAP_IDS: Final[tuple[str, ...]] = ("offline", "osm", "light", "tianditu", "amap")


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
    """

    layers: tuple[str, ...] | None = None
    unit: str = ""
    basemap: str = "offline"
    cov_layers: tuple[str, ...] = field(default_factory=tuple)
    mode: str = "walk"
    minutes: float = DEFAULT_MINUTES
    speed: float | None = None
    lang: str = "zh"


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
        out["layers"] = ",".join(state.layers)
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
    return out


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
        For an unknown basemap, mode or language, or minutes/speed out of range.
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
    return replace(
        state,
        unit=unit,
        basemap=basemap,
        mode=mode,
        lang=lang,
        minutes=minutes if minutes is not None else state.minutes,
        speed=speed,
    )
