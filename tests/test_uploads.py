"""Browser uploads go through the command line's validation (geo.analysis.facilities)."""

import io
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.coords import from_wgs84
from geo.errors import CRSError, InputError
from geo.web.uploads import DATUM_CHOICES, problems_for_display, read_upload

GOOD = [("h1", "湘雅医院", 112.9867, 28.2149), ("h2", "省人民医院", 112.9936, 28.1956)]


def _csv(rows, encoding="gbk") -> bytes:
    lines = ["编号,名称,经度,纬度", *(f"{i},{n},{x},{y}" for i, n, x, y in rows)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def test_gbk_csv_from_chinese_excel_with_one_bad_row():
    data = _csv([GOOD[0], ("h3", "坏行医院", "abc", 28.2), GOOD[1]])
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    load = read_upload(data, "我的医院.csv", datum="WGS84")
    assert load.facilities["name"].tolist() == ["湘雅医院", "省人民医院"]
    shown = problems_for_display(load.problems)
    # Excel: header is row 1, so the second data row is row 3.
    assert shown[["row", "field", "value"]].values.tolist() == [[3, "经度", "abc"]]
    assert load.facilities.crs.to_epsg() == 4326


@pytest.mark.parametrize("datum", ["GCJ02", "BD09"])
def test_stated_datum_is_converted_to_wgs84(datum):
    lon, lat = from_wgs84(np.array([112.9867]), np.array([28.2149]), datum)
    load = read_upload(_csv([("h1", "甲", lon[0], lat[0])], "utf-8"), "a.csv", datum=datum)
    p = load.facilities.geometry.iloc[0]
    assert p.x == pytest.approx(112.9867, abs=2e-5) and p.y == pytest.approx(28.2149, abs=2e-5)


def test_xlsx_and_geojson_give_the_same_points(tmp_path):
    frame = pd.DataFrame(GOOD, columns=["id", "name", "lon", "lat"])
    buf = io.BytesIO()
    frame.to_excel(buf, index=False)
    from_xlsx = read_upload(buf.getvalue(), "a.xlsx", datum="CGCS2000").facilities
    gdf = gpd.GeoDataFrame(
        frame[["id", "name"]], geometry=gpd.points_from_xy(frame.lon, frame.lat), crs=4326
    )
    from_geojson = read_upload(gdf.to_json().encode(), "a.geojson", datum="WGS84").facilities
    assert from_xlsx["id"].tolist() == from_geojson["id"].tolist() == ["h1", "h2"]
    assert np.allclose(from_xlsx.geometry.x, from_geojson.geometry.x)
    path = tmp_path / "a.gpkg"
    gdf.to_file(path, driver="GPKG")
    from_gpkg = read_upload(path.read_bytes(), "a.gpkg", datum="WGS84").facilities
    assert from_gpkg["name"].tolist() == ["湘雅医院", "省人民医院"]
    assert set(from_gpkg["precision"]) == {"user"}


@pytest.mark.parametrize(
    ("data", "name", "datum", "error", "match"),
    [
        (b"x", "a.shp", "WGS84", InputError, "unsupported file type '.shp'"),
        (b"id,name,lon,lat\n", "a.csv", "WGS84", InputError, "no data rows"),
        (_csv([GOOD[0]]), "a.csv", "Beijing54x", CRSError, "unknown coordinate system"),
        (json.dumps({"a": 1}).encode(), "a.geojson", "WGS84", InputError, "cannot read|no feat"),
    ],
)
def test_bad_uploads_say_what_to_fix(data, name, datum, error, match):
    with pytest.raises(error, match=match):
        read_upload(data, name, datum=datum)


def test_the_four_datums_are_offered():
    assert list(DATUM_CHOICES) == ["WGS84", "GCJ02", "BD09", "CGCS2000"]


def test_problems_are_worded_in_the_page_language() -> None:
    import pandas as pd

    from geo.analysis.facilities import PROBLEM_COLUMNS
    from geo.web.uploads import problems_for_display

    p = pd.DataFrame(
        [["a.csv", 3, "经度", "not a number", "abc"], ["a.csv", 5, "id", "missing id", ""]],
        columns=PROBLEM_COLUMNS,
    )
    assert problems_for_display(p, lang="zh")["problem"].tolist() == ["不是数字", "缺少编号"]
    assert problems_for_display(p, lang="en")["problem"].tolist() == ["not a number", "missing id"]
