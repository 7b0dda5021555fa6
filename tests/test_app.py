"""AppTest of the Streamlit page: widgets, state and query-string restore (no browser)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.layers import layer_ids, load_manifest

APP = str(Path(__file__).resolve().parent.parent / "app.py")
pytestmark = pytest.mark.slow


def _run(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    return at.run()


def test_default_page_chinese_with_all_layer_toggles():
    at = _run()
    assert not at.exception
    assert at.title[0].value == "湖南大健康产业空间布局"
    manifest = load_manifest()
    toggles = [cb for cb in at.sidebar.checkbox if cb.key.startswith("lyr_")]
    assert len(toggles) == len(layer_ids(manifest))
    assert all(cb.value for cb in toggles)
    assert [e.label for e in at.sidebar.expander] == [g["zh"] for g in manifest["groups"]]
    assert at.sidebar.selectbox(key="basemap").value == "offline"
    assert at.sidebar.number_input(key="minutes").value == 15.0


def test_english_switch():
    at = _run()
    at.sidebar.radio(key="lang").set_value("en").run()
    assert at.title[0].value == "Hunan health-industry layout"
    assert at.query_params["lang"] == ["en"] or at.query_params["lang"] == "en"


def test_toggle_updates_query_string():
    at = _run()
    at.sidebar.checkbox(key="lyr_cities").uncheck().run()
    layers = at.query_params["layers"]
    layers = layers[-1] if isinstance(layers, list) else layers
    assert "cities" not in layers.split(",") and "counties" in layers.split(",")


def test_query_string_restores_view():
    at = _run(
        {
            "layers": "cs_medical,counties",
            "unit": "430103",
            "basemap": "light",
            "mode": "bike",
            "min": "10",
            "cov": "cs_medical",
        }
    )
    assert not at.exception
    checked = {
        cb.key.removeprefix("lyr_")
        for cb in at.sidebar.checkbox
        if cb.value and cb.key.startswith("lyr_")
    }
    assert checked == {"cs_medical", "counties"}
    assert at.sidebar.selectbox(key="unit").value == "430103"
    assert at.sidebar.selectbox(key="basemap").value == "light"
    assert at.sidebar.radio(key="mode").value == "bike"
    assert at.sidebar.number_input(key="minutes").value == 10.0
    assert at.sidebar.multiselect(key="cov_layers").value == ["cs_medical"]
    labels = [m.label for m in at.metric]
    assert "面积覆盖率" in labels and "人口" in labels
    assert any("均匀分布" in c.value for c in at.caption)


def test_search_lists_hits():
    at = _run()
    at.sidebar.text_input(key="q").input("湘雅").run()
    assert not at.exception
    opts = at.sidebar.selectbox(key="hit").options
    assert any("湘雅" in o for o in opts)


def test_bad_query_string_warns_not_crashes():
    at = _run({"basemap": "bing"})
    assert not at.exception
    assert "basemap" in at.warning[0].value


def test_downloads_offered():
    at = _run({"layers": "cs_medical,counties"})
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == [
        "下载可见图层 GeoJSON",
        "下载可见图层 GeoPackage",
        "下载当前地图（离线 HTML）",
    ]
