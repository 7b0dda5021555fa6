import json

from geo.settings import KIND_NAMES, LAYERS_DIR


def test_every_kind_in_the_layers_has_a_reader_name() -> None:
    kinds = set()
    for path in LAYERS_DIR.glob("*.geojson"):
        for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
            kind = feature["properties"].get("kind")
            if kind:
                kinds.add(kind)
    assert len(kinds) > 30
    assert sorted(kinds - set(KIND_NAMES)) == []


def test_atlas_place_list_shows_kind_names_not_ids() -> None:
    from geo.printing.atlas import _cell

    assert _cell({"kind": "provincial_regional_centre"}, "kind") == "省域区域医疗中心"
