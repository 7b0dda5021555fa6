"""Facility files: reading, CRS conversion and row-level validation."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
from pyproj import Geod, Transformer
from shapely.geometry import Point

from geo.analysis.facilities import facilities_from_layers, normalise_crs, read_facilities
from geo.coords import from_wgs84
from geo.errors import CRSError, InputError

_GEOD = Geod(ellps="WGS84")
PLACE = (112.9823, 28.1941)  # WGS-84, central Changsha


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return abs(_GEOD.inv(a[0], a[1], b[0], b[1])[2])


def test_clean_csv_reads_all_rows(facility_csv: Path) -> None:
    load = read_facilities(facility_csv, capacity_column="beds")
    assert load.problems.empty
    assert list(load.facilities["id"]) == ["f1", "f2", "f3", "f4"]
    assert load.facilities.crs == "EPSG:4326"
    assert load.facilities["capacity"].tolist() == [30, 50, 10, 200]
    assert load.facilities.geometry.iloc[0].equals(Point(112.98, 28.20))


@pytest.mark.parametrize("datum", ["GCJ02", "BD09"])
def test_obfuscated_datum_lands_on_wgs84_position(tmp_path: Path, datum: str) -> None:
    lon, lat = from_wgs84([PLACE[0]], [PLACE[1]], datum)
    shifted = _metres(PLACE, (float(lon[0]), float(lat[0])))
    assert shifted > 100  # the datums really are offset in Hunan
    gcj = tmp_path / "gcj.csv"
    gcj.write_text(f"id,lon,lat\na,{lon[0]:.10f},{lat[0]:.10f}\n", encoding="utf-8")
    wgs = tmp_path / "wgs.csv"
    wgs.write_text(f"id,lon,lat\na,{PLACE[0]},{PLACE[1]}\n", encoding="utf-8")
    p1 = read_facilities(gcj, crs=datum).facilities.geometry.iloc[0]
    p2 = read_facilities(wgs, crs="WGS84").facilities.geometry.iloc[0]
    assert _metres((p1.x, p1.y), (p2.x, p2.y)) < 1.0


def test_projected_epsg_input(tmp_path: Path) -> None:
    x, y = Transformer.from_crs(4326, 4547, always_xy=True).transform(*PLACE)
    path = tmp_path / "gk.csv"
    path.write_text(f"id,x,y\na,{x},{y}\n", encoding="utf-8")
    p = read_facilities(path, crs="EPSG:4547").facilities.geometry.iloc[0]
    assert _metres((p.x, p.y), PLACE) < 0.01


def test_bad_rows_reported_good_rows_kept(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        "id,lon,lat\n"
        "ok1,112.98,28.20\n"
        "nan,abc,28.2\n"
        "miss,,28.2\n"
        "swap,28.2,112.98\n"
        "far,116.40,39.90\n"
        "ok1,112.99,28.21\n"
        "ok2,112.90,28.10\n",
        encoding="utf-8",
    )
    load = read_facilities(path)
    assert list(load.facilities["id"]) == ["ok1", "ok2"]
    # rows as Excel shows them: header = row 1
    assert load.facilities["source_row"].tolist() == [2, 8]
    by_row = {r.row: r.problem for r in load.problems.itertuples()}
    assert by_row[3] == "not a number"
    assert by_row[4] == "missing coordinate"
    assert "swapped" in by_row[5]
    assert "outside Hunan" in by_row[6]
    assert "duplicate id (first used on row 2)" in by_row[7]
    text = load.problem_text()
    assert "mixed.csv, row 3, field 'lon': not a number (received: 'abc')" in text


def test_inside_bbox_but_outside_province_outline(tmp_path: Path) -> None:
    path = tmp_path / "gz.csv"
    # Guilin (Guangxi) lies inside Hunan's bounding box but outside the province
    path.write_text("id,lon,lat\ng,110.29,25.27\nc,112.98,28.2\n", encoding="utf-8")
    load = read_facilities(path)
    assert list(load.facilities["id"]) == ["c"]
    assert load.problems["problem"].str.contains("outside Hunan").tolist() == [True]


def test_geojson_and_gpkg(tmp_path: Path, changsha_points: gpd.GeoDataFrame) -> None:
    gj = tmp_path / "f.geojson"
    changsha_points.to_file(gj, driver="GeoJSON")
    gp = tmp_path / "f.gpkg"
    changsha_points.to_file(gp, driver="GPKG")
    for path in (gj, gp):
        load = read_facilities(path)
        assert list(load.facilities["id"]) == ["a", "b", "c"]
        assert load.facilities.geometry.iloc[0].distance(Point(112.98, 28.20)) < 1e-9


def test_geojson_non_point_rows_reported(tmp_path: Path) -> None:
    path = tmp_path / "mixed.geojson"
    features = [
        {
            "type": "Feature",
            "properties": {"id": "p"},
            "geometry": {"type": "Point", "coordinates": [112.98, 28.2]},
        },
        {
            "type": "Feature",
            "properties": {"id": "l"},
            "geometry": {"type": "LineString", "coordinates": [[112.9, 28.1], [113.0, 28.2]]},
        },
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    load = read_facilities(path)
    assert list(load.facilities["id"]) == ["p"]
    assert load.problems.iloc[0]["problem"] == "a Point geometry is expected"


def test_xlsx_sheet(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "说明"
    sheet = book.create_sheet("机构")
    sheet.append(["编号", "名称", "经度", "纬度"])
    sheet.append(["x1", "诊所", 112.98, 28.2])
    book.save(path)
    load = read_facilities(path, sheet="机构")
    assert list(load.facilities["id"]) == ["x1"]
    assert list(load.facilities["name"]) == ["诊所"]
    with pytest.raises(InputError, match=r"no sheet 'beds'; the workbook has \['说明', '机构'\]"):
        read_facilities(path, sheet="beds")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("WGS-84", "WGS84"),
        ("cgcs2000", "WGS84"),
        ("GCJ-02", "GCJ02"),
        ("bd09", "BD09"),
        ("EPSG:4490", "WGS84"),
        ("4547", "EPSG"),
    ],
)
def test_normalise_crs(text: str, expected: str) -> None:
    assert normalise_crs(text)[0] == expected


def test_unknown_crs() -> None:
    with pytest.raises(CRSError, match="unknown coordinate system 'Beijing54x'"):
        normalise_crs("Beijing54x")


def test_size_limit(facility_csv: Path) -> None:
    with pytest.raises(InputError, match="over the 10-byte limit"):
        read_facilities(facility_csv, max_bytes=10)


def test_layers_as_facilities() -> None:
    gdf = facilities_from_layers(["cs_medical"])
    assert (gdf["layer"] == "cs_medical").all()
    assert gdf.crs == "EPSG:4326"
    with pytest.raises(InputError, match="unknown layer 'nope'"):
        facilities_from_layers(["nope"])
    with pytest.raises(InputError, match="holds zones, not points"):
        facilities_from_layers(["sanqu"])


def test_rows_numbered_as_excel_shows_them_with_blank_rows(tmp_path: Path) -> None:
    # Excel: row 1 header, rows 2-4 good, rows 5-6 blank, row 7 good, row 8 blank, row 9 bad
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["id", "name", "lon", "lat"])
    for i in range(3):
        ws.append([f"g{i}", "站", 112.98 + i / 100, 28.2])
    ws.append([])
    ws.append([None, None, None, None])
    ws.append(["g3", "站", 112.95, 28.2])
    ws.append([])
    ws.append(["bad", "站", "oops", 28.2])
    path = tmp_path / "gaps.xlsx"
    book.save(path)
    load = read_facilities(path)
    assert load.facilities["source_row"].tolist() == [2, 3, 4, 7]
    assert load.problems["row"].tolist() == [9]
    # the same rows in a CSV with blank lines
    csv_path = tmp_path / "gaps.csv"
    csv_path.write_text(
        "id,lon,lat\ng0,112.98,28.2\n\n,,\ng1,112.97,28.2\n\nbad,x,28.2\n", encoding="utf-8"
    )
    load = read_facilities(csv_path)
    assert load.facilities["source_row"].tolist() == [2, 5]
    assert load.problems["row"].tolist() == [7]


def _titled_book(path: Path, *, data_sheet_first: bool = True) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "说明" if not data_sheet_first else "机构"
    if not data_sheet_first:
        ws.append(["本表为长沙市医疗机构名录"])
        ws = book.create_sheet("机构")
    ws.append(["长沙市基层医疗机构一览表（2024年）"])
    ws.append([])
    ws.append(["编号", "机构名称", "经度", "纬度"])
    ws.append(["a1", "芙蓉社区卫生服务中心", 112.98, 28.20])
    ws.append(["a2", "=1+2", 112.99, 28.21])
    book.save(path)


def test_title_row_hint_and_header_row(tmp_path: Path) -> None:
    path = tmp_path / "titled.xlsx"
    _titled_book(path)
    with pytest.raises(InputError) as err:
        read_facilities(path)
    text = str(err.value)
    assert "looks like a title" in text
    assert "--header-row 3" in text
    load = read_facilities(path, header_row=3)
    assert load.facilities["id"].tolist() == ["a1", "a2"]
    assert load.facilities["source_row"].tolist() == [4, 5]
    # a formula-looking name read from a text cell stays text
    assert load.facilities["name"].tolist()[1] == "=1+2"


def test_sheet_list_when_first_sheet_has_no_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "sheets.xlsx"
    _titled_book(path, data_sheet_first=False)
    with pytest.raises(InputError) as err:
        read_facilities(path)
    text = str(err.value)
    assert "['说明', '机构']" in text
    assert "--sheet '机构'" in text
    load = read_facilities(path, sheet="机构", header_row=3)
    assert len(load.facilities) == 2


@pytest.mark.parametrize(
    ("sep", "body"),
    [
        (";", "id;name;lon;lat\na;东站;112,98;28,20\nb;西站;112,90;28,10\n"),
        ("\t", "id\tname\tlon\tlat\na\t东站\t112.98\t28.20\nb\t西站\t112,90\t28,10\n"),
        (",", "id,name,lon,lat\na,东站,112.98,28.20\nb,西站,112.90,28.10\n"),
    ],
)
def test_csv_separator_and_decimal_comma(tmp_path: Path, sep: str, body: str) -> None:
    path = tmp_path / "sep.csv"
    path.write_text(body, encoding="utf-8")
    load = read_facilities(path)
    assert load.problems.empty
    assert load.facilities.geometry.x.tolist() == pytest.approx([112.98, 112.90])
    assert load.facilities["name"].tolist() == ["东站", "西站"]


def test_decimal_comma_in_comma_csv_is_named(tmp_path: Path) -> None:
    path = tmp_path / "dc.csv"
    path.write_text('id,lon,lat\na,"112,98",28.2\nb,112.9,28.1\n', encoding="utf-8")
    load = read_facilities(path)
    assert "decimal comma" in load.problems["problem"].iloc[0]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_chinese_excel_csv_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("编号,机构名称,经度,纬度\n1,岳麓区人民医院,112.94,28.23\n".encode(encoding))
    load = read_facilities(path)
    assert load.facilities["name"].tolist() == ["岳麓区人民医院"]
    assert load.facilities["id"].tolist() == ["1"]
