"""Validation: the real sources pass, and each kind of broken input is caught and named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geo.cli import main
from geo.data.validate import validate_layers, validate_sources


def _edit_layer(layers: Path, layer: str, edit) -> None:
    path = layers / f"{layer}.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _messages(problems) -> str:
    return "\n".join(str(p) for p in problems)


def test_committed_sources_and_layers_are_valid() -> None:
    assert validate_sources() == []
    assert validate_layers() == []


def test_cli_validate_passes_on_committed_layers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 0
    assert "valid" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("quote", "", "field 'quote': missing quote"),
        ("plan", "", "field 'plan': missing plan"),
        ("section", None, "field 'section': missing section"),
        ("quote", "长沙市将建设一座月球医院", "quote is not verbatim in plan '"),
    ],
)
def test_missing_or_invented_citation(layers_copy: Path, field: str, value, expected: str) -> None:
    def edit(doc: dict) -> None:
        doc["features"][0]["properties"][field] = value

    _edit_layer(layers_copy, "cs_medical", edit)
    text = _messages(validate_layers(layers_copy))
    assert "cs_medical.geojson, feature " in text
    assert expected in text


def test_point_outside_declared_county(layers_copy: Path) -> None:
    def edit(doc: dict) -> None:
        feature = doc["features"][0]
        feature["properties"]["adcode"] = "431124"  # 道县, far from any Changsha hospital
        feature["properties"]["county"] = "道县"

    _edit_layer(layers_copy, "cs_medical", edit)
    assert "point lies outside its declared county 道县 (431124)" in _messages(
        validate_layers(layers_copy)
    )


def test_invalid_geometry(layers_copy: Path) -> None:
    def edit(doc: dict) -> None:
        bowtie = [[112.9, 28.0], [113.0, 28.1], [113.0, 28.0], [112.9, 28.1], [112.9, 28.0]]
        doc["features"][0]["geometry"] = {"type": "Polygon", "coordinates": [bowtie]}

    _edit_layer(layers_copy, "sanqu", edit)
    assert "invalid geometry: Self-intersection" in _messages(validate_layers(layers_copy))


def test_wrong_crs(layers_copy: Path) -> None:
    from pyproj import Transformer

    to_gk = Transformer.from_crs(4326, 4547, always_xy=True)

    def edit(doc: dict) -> None:
        doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4547"}}
        for feature in doc["features"]:
            x, y = feature["geometry"]["coordinates"]
            feature["geometry"]["coordinates"] = list(to_gk.transform(x, y))

    _edit_layer(layers_copy, "cs_medical", edit)
    text = _messages(validate_layers(layers_copy))
    assert "declares CRS urn:ogc:def:crs:EPSG::4547" in text
    assert "not longitude/latitude degrees: layers must be WGS-84" in text


def test_swapped_coordinates(layers_copy: Path) -> None:
    def edit(doc: dict) -> None:
        x, y = doc["features"][0]["geometry"]["coordinates"]
        doc["features"][0]["geometry"]["coordinates"] = [y, x]

    _edit_layer(layers_copy, "cs_medical", edit)
    assert "longitude and latitude look swapped" in _messages(validate_layers(layers_copy))


def test_count_mismatch_and_unreadable_layer(layers_copy: Path) -> None:
    _edit_layer(layers_copy, "cs_sports", lambda doc: doc["features"].pop())
    (layers_copy / "cs_parks.geojson").write_text("{not json", encoding="utf-8")
    text = _messages(validate_layers(layers_copy))
    assert "cs_sports.geojson:" in text and "manifest says" in text
    assert "cs_parks.geojson, line 1: not JSON" in text


def test_source_quote_not_verbatim(data_copy: Path) -> None:
    import pandas as pd

    path = data_copy / "places.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[0, "quote"] = table.loc[0, "quote"] + "（杜撰）"
    table.to_csv(path, index=False)
    text = _messages(validate_sources(data_copy))
    assert "places.csv, row 1, field 'quote': quote is not verbatim" in text


def test_source_point_outside_county(data_copy: Path) -> None:
    import pandas as pd

    path = data_copy / "places.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[0, "county"] = "江华瑶族自治县"
    table.to_csv(path, index=False)
    text = _messages(validate_sources(data_copy))
    assert "row 1, field 'lon/lat':" in text and "lies outside 江华瑶族自治县" in text


def test_cli_exit_code_and_listing_on_problems(
    data_copy: Path, layers_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit_layer(
        layers_copy, "cs_medical", lambda doc: doc["features"][0]["properties"].update(quote="")
    )
    code = main(["validate", "--data", str(data_copy), "--layers", str(layers_copy)])
    err = capsys.readouterr().err
    assert code == 3
    assert "missing quote" in err
    assert "stale: run `python -m geo build`" in err  # the edited file no longer matches the build
    assert "problem(s) found" in err


def test_catalogue_is_complete_and_clean() -> None:
    from geo.data.sources import load_catalogue
    from geo.data.validate import validate_catalogue

    assert validate_catalogue() == []
    table = load_catalogue().set_index("name")
    for name in ("岳麓山实验室（长沙总部）", "中南大学", "水稻国家工程研究中心", "永州市脑科医院"):
        assert table.loc[name, "status"] == "mapped"
    assert table.loc["爱尔国际医疗健康产业城", "feature_id"] == "bio_aier"
    for name in ("永州健康食品产业园", "省康复医院"):
        assert table.loc[name, "status"] == "not_mapped"
        assert table.loc[name, "reason"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reason", "", "field 'reason': not mapped: give a reason"),
        ("sentence", "杜撰的句子", "field 'sentence': quote is not verbatim"),
    ],
)
def test_catalogue_entry_without_reason_or_verbatim_sentence(
    data_copy: Path, field: str, value: str, message: str
) -> None:
    import pandas as pd

    from geo.data.validate import validate_catalogue

    path = data_copy / "place_catalogue.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = int((table["status"] == "not_mapped").to_numpy().argmax())
    table.loc[row, field] = value
    table.to_csv(path, index=False)
    assert message in _messages(validate_catalogue(data_copy))


def test_catalogue_must_list_every_mapped_feature(data_copy: Path) -> None:
    import pandas as pd

    from geo.data.validate import validate_catalogue

    path = data_copy / "place_catalogue.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table[table["feature_id"] != "yz_brain"].to_csv(path, index=False)
    assert "feature 'yz_brain' has no catalogue entry" in _messages(validate_catalogue(data_copy))


def test_inferred_source_row_without_reason(data_copy: Path) -> None:
    import pandas as pd

    path = data_copy / "places.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[0, ["attribution", "attribution_reason"]] = ["inferred", ""]
    table.to_csv(path, index=False)
    text = _messages(validate_sources(data_copy))
    assert "row 1, field 'attribution_reason': inferred feature without a reason" in text


def test_empty_county_only_for_inferred_rows(data_copy: Path) -> None:
    import pandas as pd

    path = data_copy / "places.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = int((table["attribution"] == "stated").to_numpy().argmax())
    table.loc[row, "county"] = ""
    table.to_csv(path, index=False)
    text = _messages(validate_sources(data_copy))
    assert f"row {row + 1}, field 'county': empty county: allowed only for inferred" in text


def test_target_year_not_in_quote_is_reported(data_copy: Path) -> None:
    import pandas as pd

    path = data_copy / "targets.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = int((table["metric"] == "planned_area").to_numpy().argmax())
    table.loc[row, "year"] = "2026"  # the ring areas have no year in the text
    table.to_csv(path, index=False)
    text = _messages(validate_sources(data_copy))
    assert f"targets.csv, row {row + 1}, field 'year': year 2026 is in neither" in text
