"""Source tables: every malformed file gives one message naming file, row and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.data.sources import PLACES_COLUMNS, load_places, read_table, split_list
from geo.errors import GeoDataError

HEADER = "id,layer,name,kind,role,county,lon,lat,datum,precision,position_basis,plan,section,quote"
GOOD = (
    "cs_x,cs_medical,某医院,hospital,,开福区,112.98494,28.212003,GCJ02,geocoded,dataset,"
    "cs_health,专栏2,某句"
)


def _write(tmp_path: Path, text: str, name: str = "places.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("row", "pattern"),
    [
        (GOOD.replace("112.98494", "东经112"), r"row 1, field 'lon': '东经112' is not a number"),
        (GOOD.replace("28.212003", ""), r"row 1, field 'lat': empty value"),
        (GOOD.replace("geocoded", "exact"), r"row 1, field 'precision': 'exact' is not one of"),
        (GOOD.replace("GCJ02", "MARS"), r"row 1, field 'datum': 'MARS' is not one of"),
        (GOOD.replace("cs_x", "CS X"), r"row 1, field 'id': 'CS X' is not a slug"),
        (GOOD.replace(",某句", ","), r"row 1, field 'quote': empty value"),
        (GOOD.replace(",cs_health,", ",,"), r"row 1, field 'plan': empty value"),
        (GOOD.replace("112.98494", "inf"), r"row 1, field 'lon': 'inf' is not a finite number"),
    ],
)
def test_bad_cell_names_file_row_field(tmp_path: Path, row: str, pattern: str) -> None:
    path = _write(tmp_path, f"{HEADER}\n{row}\n")
    with pytest.raises(GeoDataError, match=rf"places\.csv, {pattern}"):
        load_places(path)


def test_duplicate_id(tmp_path: Path) -> None:
    path = _write(tmp_path, f"{HEADER}\n{GOOD}\n{GOOD}\n")
    with pytest.raises(GeoDataError, match=r"row 2, field 'id': duplicate id 'cs_x'"):
        load_places(path)


def test_missing_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "id,name\ncs_x,某\n")
    with pytest.raises(GeoDataError, match=r"missing column\(s\) layer, kind"):
        read_table(path, PLACES_COLUMNS)


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (b"", "empty file"),
        (b'id,name\n"cs_x,unterminated\n', "malformed CSV"),
        ("id,name\ncs_x,湘雅医院\n".encode("gbk"), "not UTF-8"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, pattern: str) -> None:
    path = tmp_path / "places.csv"
    path.write_bytes(content)
    with pytest.raises(GeoDataError, match=pattern):
        read_table(path, PLACES_COLUMNS)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(GeoDataError, match=r"nope\.csv: file not found"):
        load_places(tmp_path / "nope.csv")


def test_gcj02_converted_on_the_way_in(tmp_path: Path) -> None:
    places = load_places(_write(tmp_path, f"{HEADER}\n{GOOD}\n"))
    point = places.geometry.iloc[0]
    assert places.crs.to_epsg() == 4326
    assert places["source_datum"].iloc[0] == "GCJ02"
    assert point.x == pytest.approx(112.97937, abs=2e-5) and point.y == pytest.approx(
        28.21542, abs=2e-5
    )


def test_split_list() -> None:
    assert split_list(" a; b ;;c ") == ["a", "b", "c"]
