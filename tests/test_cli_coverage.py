"""`python -m geo coverage`: end to end, and hostile inputs exiting 2 with a clear message."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from geo.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["coverage", "--quiet", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_layers_default_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code, stdout, _ = _run(
        capsys,
        "--layers",
        "cs_medical",
        "--units",
        "changsha",
        "--out",
        str(out),
        "--format",
        "xlsx,csv,geojson,gpkg,html",
    )
    assert code == 0
    assert "html:" in stdout
    summary = pd.read_csv(out / "coverage_summary.csv", dtype={"unit_id": str})
    assert len(summary) == 9
    assert summary["facilities"].sum() >= 1
    assert (summary["covered_pct"] <= 100).all()
    book = openpyxl.load_workbook(out / "coverage.xlsx", read_only=True)
    assert book.sheetnames[:4] == ["summary", "facilities", "gaps", "time_distribution"]
    assert book.sheetnames[-1] == "method"
    method = pd.read_csv(out / "coverage_method.csv").set_index("parameter")["value"]
    assert method["reach_m"] == "1000"
    assert "GB 50180-2018" in method["speed_source"]
    assert "census population 2020" in method["source_units"]
    assert "used only where no population grid" in method["source_units"]
    html = (out / "coverage_report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert (out / "coverage.gpkg").exists() and (out / "coverage_gaps.geojson").exists()


def test_file_scenario_capacity(
    tmp_path: Path, facility_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add = tmp_path / "add.csv"
    add.write_text("id,name,lon,lat,beds\nn1,新站,112.93,28.25,40\n", encoding="utf-8")
    out = tmp_path / "o"
    code, _, err = _run(
        capsys,
        "--facilities",
        str(facility_csv),
        "--crs",
        "WGS84",
        "--units",
        "changsha",
        "--capacity-column",
        "beds",
        "--decay",
        "gaussian",
        "--add",
        str(add),
        "--remove",
        "f4",
        "--out",
        str(out),
        "--format",
        "xlsx,html",
    )
    assert code == 0, err
    book = openpyxl.load_workbook(out / "coverage.xlsx", read_only=True)
    assert "scenario" in book.sheetnames
    sc = pd.read_excel(out / "coverage.xlsx", sheet_name="scenario", dtype={"unit_id": str})
    assert sc["facilities_change"].sum() == 0  # one added, one removed
    summary = pd.read_excel(out / "coverage.xlsx", sheet_name="summary")
    assert "access_per_1000" in summary.columns
    html = (out / "coverage_report.html").read_text(encoding="utf-8")
    assert "Gaussian E2SFCA" in html


def test_skip_bad_rows_reports_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("id,lon,lat\na,112.98,28.2\nb,oops,28.2\n", encoding="utf-8")
    code, _, err = _run(
        capsys, "--facilities", str(path), "--units", "changsha", "--out", str(tmp_path / "o")
    )
    assert code == 2
    assert "mixed.csv, row 3, field 'lon': not a number (received: 'oops')" in err
    assert "--skip-bad-rows" in err
    code, _, _ = _run(
        capsys,
        "--facilities",
        str(path),
        "--units",
        "changsha",
        "--skip-bad-rows",
        "--out",
        str(tmp_path / "o"),
        "--format",
        "xlsx",
    )
    assert code == 0
    problems = pd.read_excel(tmp_path / "o" / "coverage.xlsx", sheet_name="input_problems")
    assert problems["row"].tolist() == [3]


def test_units_file_text_is_escaped(
    tmp_path: Path, facility_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    units = gpd.GeoDataFrame(
        {"code": ["u1"], "label": ["<script>alert(1)</script>片区"], "population": [5000.0]},
        geometry=[box(112.94, 28.14, 113.02, 28.24)],
        crs="EPSG:4326",
    )
    path = tmp_path / "units.gpkg"
    units.to_file(path, driver="GPKG")
    out = tmp_path / "o"
    code, _, err = _run(
        capsys,
        "--facilities",
        str(facility_csv),
        "--units",
        str(path),
        "--unit-id-column",
        "code",
        "--unit-name-column",
        "label",
        "--out",
        str(out),
        "--format",
        "html,csv",
    )
    assert code == 0, err
    html = (out / "coverage_report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;片区" in html
    assert "<script" not in html
    summary = pd.read_csv(out / "coverage_summary.csv")
    assert summary["facilities"].tolist() == [3]  # f1-f3 inside the box, f4 outside
    code, _, err = _run(
        capsys, "--facilities", str(facility_csv), "--units", str(path), "--out", str(out)
    )
    assert code == 2
    assert "units file lacks column(s) ['adcode', 'name']" in err


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _xlsx(path: Path) -> Path:
    book = openpyxl.Workbook()
    book.active.title = "data"
    book.active.append(["id", "lon", "lat"])
    book.active.append(["a", 112.98, 28.2])
    book.save(path)
    return path


def _huge(path: Path) -> Path:
    with path.open("wb") as f:
        f.truncate(51 * 1024 * 1024)  # sparse: over the 50 MB limit without writing it
    return path


GOOD = "id,lon,lat\na,112.98,28.20\n"
HOSTILE = {
    "malformed_csv": (
        lambda d: _write(d / "m.csv", 'id,lon,lat\n"a,112.9,28.2\n'),
        [],
        "not a well-formed CSV",
    ),
    "empty_file": (lambda d: _write(d / "e.csv", ""), [], "the file is empty"),
    "header_only": (lambda d: _write(d / "h.csv", "id,lon,lat\n"), [], "no data rows"),
    "missing_lon": (
        lambda d: _write(d / "n.csv", "id,x_coord,lat\na,112.9,28.2\n"),
        [],
        "no longitude column 'lon'",
    ),
    "non_numeric": (
        lambda d: _write(d / "t.csv", "id,lon,lat\na,东经112,28.2\n"),
        [],
        "field 'lon': not a number",
    ),
    "swapped": (lambda d: _write(d / "s.csv", "id,lon,lat\na,28.2,112.98\n"), [], "look swapped"),
    "outside_hunan": (
        lambda d: _write(d / "o.csv", "id,lon,lat\na,116.40,39.90\n"),
        [],
        "outside Hunan",
    ),
    "unknown_crs": (
        lambda d: _write(d / "c.csv", GOOD),
        ["--crs", "Xian80x"],
        "unknown coordinate system 'Xian80x'",
    ),
    "huge_file": (lambda d: _huge(d / "big.csv"), [], "over the 52,428,800-byte limit"),
    "geojson_not_json": (lambda d: _write(d / "g.geojson", "{type: Feature"), [], "not valid JSON"),
    "geojson_metres": (
        lambda d: _write(
            d / "p.geojson",
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {"id": "a"},
                            "geometry": {
                                "type": "Point",
                                "coordinates": [3_500_000.0, 3_120_000.0],
                            },
                        }
                    ],
                }
            ),
        ),
        [],
        "not longitude/latitude degrees",
    ),
    "duplicate_ids": (lambda d: _write(d / "d.csv", GOOD + "a,112.99,28.21\n"), [], "duplicate id"),
    "xlsx_wrong_sheet": (lambda d: _xlsx(d / "w.xlsx"), ["--sheet", "Sheet9"], "no sheet 'Sheet9'"),
    "xlsx_corrupt": (
        lambda d: _write(d / "z.xlsx", "not a zip"),
        [],
        "not a readable XLSX workbook",
    ),
    "capacity_missing": (
        lambda d: _write(d / "k.csv", GOOD),
        ["--capacity-column", "beds"],
        "no capacity column 'beds'",
    ),
    "negative_minutes": (
        lambda d: _write(d / "k.csv", GOOD),
        ["--minutes", "-15"],
        r"minutes must be a number in \(0, 240\], got -15",
    ),
    "unknown_mode": (
        lambda d: _write(d / "k.csv", GOOD),
        ["--mode", "helicopter"],
        "unknown mode 'helicopter'",
    ),
    "unknown_format": (
        lambda d: _write(d / "k.csv", GOOD),
        ["--format", "xlsx,pdf"],
        "unknown output format",
    ),
    "missing_file": (lambda d: d / "nope.csv", [], "file not found"),
    "unsupported_type": (lambda d: _write(d / "f.shp", "x"), [], "unsupported file type '.shp'"),
    "unknown_units": (
        lambda d: _write(d / "k.csv", GOOD),
        ["--units", "beijing"],
        "unknown unit .beijing.: give Hunan county or city names",
    ),
    "remove_unknown_id": (
        lambda d: _write(d / "k.csv", GOOD),
        ["--remove", "zz"],
        r"cannot remove unknown facility id\(s\) \['zz'\]",
    ),
    "negative_speed": (
        lambda d: _write(d / "k.csv", GOOD),
        ["--speed-kmh", "-3"],
        "speed must be a number",
    ),
    "osm_missing": (
        lambda d: _write(d / "k.csv", GOOD),
        ["--osm", "/nonexistent/x.pbf"],
        "OSM file not found",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_file_inputs_exit_2(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, extra, message = HOSTILE[case]
    path = make(tmp_path)
    code, _, err = _run(
        capsys,
        "--facilities",
        str(path),
        "--units",
        "changsha",
        "--out",
        str(tmp_path / "out"),
        *extra,
    )
    assert code == 2, err
    assert err.startswith("error: ")
    assert pd.Series([err]).str.contains(message).iloc[0], err
    assert "Traceback" not in err


def test_unknown_layer_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--layers", "cs_medical,nope", "--out", str(tmp_path))
    assert code == 2
    assert "unknown layer 'nope'" in err


def test_unwritable_output_dir_exits_2(
    tmp_path: Path, facility_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = _write(tmp_path / "file.txt", "x")
    code, _, err = _run(capsys, "--facilities", str(facility_csv), "--out", str(blocker / "sub"))
    assert code == 2
    assert "output folder is not writable" in err
    code, _, err = _run(capsys, "--facilities", str(facility_csv), "--out", str(blocker))
    assert code == 2
    assert "output path exists and is not a folder" in err


def test_both_sources_exit_2(
    tmp_path: Path, facility_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(
        capsys, "--layers", "cs_medical", "--facilities", str(facility_csv), "--out", str(tmp_path)
    )
    assert code == 2
    assert "give either --layers or --facilities, not both" in err


def test_network_mode_from_osm_xml(
    tmp_path: Path, facility_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    # a tiny street plan around f1 (112.98, 28.20): an east-west road and a north-south road
    nodes = {1: (112.96, 28.20), 2: (112.98, 28.20), 3: (113.00, 28.20), 4: (112.98, 28.22)}
    xml = "".join(f"<node id='{k}' lat='{lat}' lon='{lon}'/>" for k, (lon, lat) in nodes.items())
    xml += "<way id='10'><nd ref='1'/><nd ref='2'/><nd ref='3'/>"
    xml += "<tag k='highway' v='residential'/></way>"
    xml += "<way id='11'><nd ref='2'/><nd ref='4'/><tag k='highway' v='footway'/></way>"
    osm = _write(tmp_path / "roads.osm", f"<?xml version='1.0'?><osm version='0.6'>{xml}</osm>")
    units = gpd.GeoDataFrame(
        {"adcode": ["u1"], "name": ["片区"], "population": [1000.0]},
        geometry=[box(112.95, 28.18, 113.01, 28.23)],
        crs="EPSG:4326",
    )
    upath = tmp_path / "u.geojson"
    units.to_file(upath, driver="GeoJSON")
    out = tmp_path / "net"
    code, _, err = _run(
        capsys,
        "--facilities",
        str(facility_csv),
        "--units",
        str(upath),
        "--osm",
        str(osm),
        "--out",
        str(out),
        "--format",
        "csv",
    )
    assert code == 0, err
    method = pd.read_csv(out / "coverage_method.csv").set_index("parameter")["value"]
    assert "multi-source Dijkstra" in method["method"]
    assert "roads.osm" in method["source_roads"]
    summary = pd.read_csv(out / "coverage_summary.csv")
    # 1 km of road each way from f1 (and f2/f3 nearby), 100 m wide: well under 1 km discs
    assert 0.1 < summary["covered_km2"].iloc[0] < 3 * 3.1416
    # the profile is printed: walk keeps the footway; drive drops it and is directed
    assert "profile: walk: OSM highway in {" in method["method"]
    assert "undirected graph" in method["method"]
    code, _, err = _run(
        capsys,
        "--facilities",
        str(facility_csv),
        "--units",
        str(upath),
        "--osm",
        str(osm),
        "--mode",
        "drive",
        "--out",
        str(out),
        "--format",
        "xlsx",
    )
    assert code == 0, err
    sheet = pd.read_excel(out / "coverage.xlsx", sheet_name="method").set_index("parameter")
    text = sheet["value"]["method"]
    assert "profile: drive" in text and "directed graph honouring oneway" in text
    assert "(roads.osm, 3 nodes, 2 edges" in text  # the footway is not a drive road


def test_population_grid_csv(
    tmp_path: Path, facility_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    units = gpd.GeoDataFrame(
        {"adcode": ["u1"], "name": ["片区"], "population": [1.0]},
        geometry=[box(112.90, 28.10, 113.06, 28.30)],
        crs="EPSG:4326",
    )
    upath = tmp_path / "u.geojson"
    units.to_file(upath, driver="GeoJSON")
    # 3 cells: at f1 (covered), 500 m east of f2 (covered), far from all (not covered)
    grid = _write(
        tmp_path / "pop.csv",
        "lon,lat,population\n112.98,28.20,100\n112.955,28.23,50\n113.05,28.29,25\n",
    )
    out = tmp_path / "g"
    code, _, err = _run(
        capsys,
        "--facilities",
        str(facility_csv),
        "--units",
        str(upath),
        "--population-grid",
        str(grid),
        "--out",
        str(out),
        "--format",
        "csv",
    )
    assert code == 0, err
    s = pd.read_csv(out / "coverage_summary.csv").iloc[0]
    assert s["population"] == 175
    assert s["population_covered"] == 150
    method = pd.read_csv(out / "coverage_method.csv").set_index("parameter")["value"]
    assert "Population grid" in method["population_assumption"]


def test_population_rows_left_out_are_named(
    tmp_path: Path, facility_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    grid = _write(
        tmp_path / "pop.csv",
        "lon,lat,population\n112.98,28.20,100\n一一二,28.23,50\n113.05,28.29,25\n",
    )
    out = tmp_path / "g"
    code, _, err = _run(
        capsys, "--facilities", str(facility_csv), "--units", "芙蓉区,开福区",
        "--population-grid", str(grid), "--out", str(out), "--format", "csv",
    )  # fmt: skip
    assert code == 0, err
    assert "1 population row(s) left out" in err
    assert "pop.csv, row 3, field 'lon': not a number (received: '一一二')" in err
    method = pd.read_csv(out / "coverage_method.csv").set_index("parameter")["value"]
    assert "1 row(s) with an unusable position left out" in method["source_population"]


_NASTY = [
    "=1+2",
    '=HYPERLINK("http://example.com","点我")',
    "+86 0731",
    "-1-1",
    "@SUM(A1)",
    "\t=1",
    "<script>alert(1)</script>",
]


_SQUARE = [[112.9, 28.15], [113.0, 28.15], [113.0, 28.25], [112.9, 28.25], [112.9, 28.15]]


def _nasty_inputs(tmp_path: Path) -> tuple[Path, Path]:
    rows = "".join(
        f'f{i},"{name.replace(chr(34), chr(34) * 2)}",{112.95 + i / 200},28.20\n'
        for i, name in enumerate(_NASTY)
    )
    fac = tmp_path / "nasty.csv"
    fac.write_text("id,name,lon,lat\n" + rows, encoding="utf-8")
    units = tmp_path / "units.geojson"
    units.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"adcode": "=2*3", "name": '=HYPERLINK("http://x")'},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [_SQUARE],
                        },
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    return fac, units


def test_outputs_never_hold_formulas(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fac, units = _nasty_inputs(tmp_path)
    out = tmp_path / "o"
    code, _, err = _run(capsys, "--facilities", str(fac), "--units", str(units), "--out", str(out))
    assert code == 0, err
    book = openpyxl.load_workbook(out / "coverage.xlsx")
    kinds = {c.data_type for ws in book.worksheets for row in ws.iter_rows() for c in row}
    assert "f" not in kinds
    names = [c.value for c in book["facilities"]["B"]][1:]
    assert names == _NASTY  # kept exactly, as text
    assert book["summary"]["B2"].value == '=HYPERLINK("http://x")'
    assert book["summary"]["B2"].data_type == "s"
    for name in ("coverage_summary.csv", "coverage_gaps.csv"):
        table = pd.read_csv(out / name, dtype=str, keep_default_na=False)
        text = table.to_numpy().ravel().tolist() + list(table.columns)
        assert not [t for t in text if t[:1] in ("=", "+", "-", "@", "\t", "\r")], name
    summary = pd.read_csv(out / "coverage_summary.csv", dtype=str)
    assert summary["name"].iloc[0] == '\'=HYPERLINK("http://x")'
    html = (out / "coverage_report.html").read_text(encoding="utf-8")
    assert "<script>" not in html


def test_failed_run_leaves_previous_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fac, units = _nasty_inputs(tmp_path)
    out = tmp_path / "o"
    args = ("--facilities", str(fac), "--units", str(units), "--out", str(out))
    assert _run(capsys, *args)[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert "coverage_report.html" in before

    import geo.analysis.report

    def boom(*_a: object, **_k: object) -> None:
        msg = "disk full"
        raise OSError(msg)

    monkeypatch.setattr(geo.analysis.report, "_write_html", boom)
    with pytest.raises(OSError, match="disk full"):
        main(["coverage", "--quiet", *args, "--minutes", "5"])
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # same files, same bytes, no staging folder left
    monkeypatch.undo()
    # a later run with fewer formats leaves no file of the earlier run behind
    assert _run(capsys, *args, "--format", "csv")[0] == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "coverage_gaps.csv",
        "coverage_method.csv",
        "coverage_summary.csv",
    ]


def test_facilities_outside_units(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    yz = tmp_path / "yz.csv"
    yz.write_text("id,name,lon,lat\na1,零陵站,111.61,26.42\na2,冷水滩站,111.59,26.45\n", "utf-8")
    out = tmp_path / "o"
    code, _, err = _run(capsys, "--facilities", str(yz), "--units", "changsha", "--out", str(out))
    assert code == 2
    assert "2 of 2 facilities lie outside the units 'changsha'" in err
    assert "--allow-outside" in err
    assert "NaN" not in err
    assert not out.exists() or not list(out.iterdir())
    code, _, err = _run(
        capsys,
        "--facilities",
        str(yz),
        "--units",
        "changsha",
        "--allow-outside",
        "--out",
        str(out),
    )
    assert code == 0, err
    assert "warning: 2 of 2 facilities lie outside" in err
    summary = pd.read_csv(out / "coverage_summary.csv")
    assert summary["facilities"].sum() == 0
    assert summary["covered_km2"].sum() == 0
    assert (out / "coverage_report.html").exists()


def test_osm_file_from_elsewhere(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pyrosm

    cs = tmp_path / "cs.csv"
    cs.write_text("id,name,lon,lat\na1,芙蓉站,112.98,28.20\n", encoding="utf-8")
    out = tmp_path / "o"
    code, _, err = _run(
        capsys,
        "--facilities",
        str(cs),
        "--units",
        "changsha",
        "--osm",
        pyrosm.get_data("test_pbf"),
        "--out",
        str(out),
    )
    assert code == 2
    assert "no facility lies within 2 km of its roads" in err
    assert "use an extract of the facilities' area" in err
    assert not out.exists() or not list(out.iterdir())


def test_cli_reads_titled_gbk_and_gcj_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["长沙市医疗机构（GCJ-02 坐标）"])
    ws.append(["编号", "机构名称", "经度", "纬度"])
    ws.append(["a1", "=1+2", 112.9866, 28.1915])
    path = tmp_path / "titled.xlsx"
    book.save(path)
    out = tmp_path / "o"
    code, _, err = _run(
        capsys,
        "--facilities",
        str(path),
        "--crs",
        "GCJ02",
        "--units",
        "changsha",
        "--out",
        str(out),
    )
    assert code == 2
    assert "--header-row 2" in err
    code, _, err = _run(
        capsys,
        "--facilities",
        str(path),
        "--crs",
        "GCJ02",
        "--header-row",
        "2",
        "--units",
        "changsha",
        "--out",
        str(out),
    )
    assert code == 0, err
    fac = openpyxl.load_workbook(out / "coverage.xlsx")["facilities"]
    assert fac["B2"].value == "=1+2" and fac["B2"].data_type == "s"
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("编号;机构名称;经度;纬度\na1;岳麓站;112,94;28,23\n".encode("gbk"))
    code, _, err = _run(capsys, "--facilities", str(gbk), "--units", "changsha", "--out", str(out))
    assert code == 0, err


def test_goal_points_are_not_facilities_unless_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # yz_network holds two goal points (南部县三级甲等综合医院（创建目标）, 湘粤桂…（筹备）)
    code, _out, err = _run(
        capsys,
        "--layers",
        "yz_network",
        "--units",
        "永州市",
        "--out",
        str(tmp_path / "a"),
        "--format",
        "xlsx",
    )
    assert code == 0, err
    names = pd.read_excel(tmp_path / "a" / "coverage.xlsx", sheet_name="facilities")["name"]
    assert not names.str.contains("创建目标|筹备").any()
    code, _out, err = _run(
        capsys,
        "--layers",
        "yz_network",
        "--units",
        "永州市",
        "--include-goals",
        "--out",
        str(tmp_path / "b"),
        "--format",
        "xlsx",
        "--allow-outside",
    )
    assert code == 0, err
    names = pd.read_excel(tmp_path / "b" / "coverage.xlsx", sheet_name="facilities")["name"]
    assert names.str.contains("创建目标").any()


def test_units_by_any_hunan_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = _run(
        capsys,
        "--layers",
        "provincial",
        "--units",
        "常德市",
        "--out",
        str(tmp_path),
        "--format",
        "csv",
    )
    assert code == 0, err
    summary = pd.read_csv(tmp_path / "coverage_summary.csv")
    # 常德市 has 9 county-level units, each with its census population
    assert len(summary[summary["unit_id"].astype(str).str.startswith("4307")]) == 9
    code, _out, err = _run(capsys, "--units", "火星县", "--out", str(tmp_path))
    assert code == 2
    assert "火星县" in err


def test_report_states_position_precision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Yongzhou's network is placed at county seats (approximate) and 脑科医院 is schematic.

    A report over these points must say so per unit and in the method, not present them as sites.
    """
    out = tmp_path / "yz"
    code, _, err = _run(
        capsys,
        "--layers",
        "yz_network",
        "--units",
        "永州市",
        "--out",
        str(out),
        "--format",
        "csv,html",
    )
    assert code == 0, err
    summary = pd.read_csv(out / "coverage_summary.csv", dtype={"unit_id": str}).set_index("name")
    assert summary.loc["冷水滩区", "facilities_schematic"] == 1  # 永州市脑科医院, a stand-in
    assert (summary["facilities_approximate"] <= summary["facilities"]).all()
    assert summary["facilities_approximate"].sum() >= 20
    method = pd.read_csv(out / "coverage_method.csv").set_index("parameter")["value"]
    assert "1 schematic" in method["facility_positions"]
    assert "indicative" in method["facility_positions"]
    html = (out / "coverage_report.html").read_text(encoding="utf-8")
    assert "位置精度" in html and "schematic" in html


def test_numeric_columns_of_user_files_stay_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Beds read from a CSV are numbers in the facilities sheet; a code like 007 stays text."""
    path = tmp_path / "fac.csv"
    path.write_text(
        "id,name,lon,lat,beds,code\n007,甲院,112.98,28.19,1500,0731\n008,乙院,112.95,28.22,80.5,0732\n",
        encoding="utf-8",
    )
    out = tmp_path / "o"
    code, _, err = _run(capsys, "--facilities", str(path), "--units", "changsha", "--out", str(out))
    assert code == 0, err
    sheet = openpyxl.load_workbook(out / "coverage.xlsx")["facilities"]
    header = [c.value for c in sheet[1]]
    beds, code_col, ids = header.index("beds"), header.index("code"), header.index("id")
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert sorted(r[beds] for r in rows) == [80.5, 1500]
    assert sorted(r[code_col] for r in rows) == ["0731", "0732"]
    assert sorted(r[ids] for r in rows) == ["007", "008"]
