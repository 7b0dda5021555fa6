"""``python -m geo site``: outputs, messages and exit codes, formulas and HTML, atomic writes."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest

from geo.boundaries import load_units
from geo.cli import main
from geo.crs import metric_crs_for

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
    values = [row[col].value for row in sheet.iter_rows(min_row=2)]
    assert all(v is None or not str(v).startswith(("=", "+", "-", "@")) for v in values)
    assert '\'=HYPERLINK("http://x")' in values
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    csv = pd.read_csv(out / "siting_sites.csv", encoding="utf-8-sig")
    assert not csv["name"].astype(str).str.match(r"^[=+\-@]").any()
    page = (out / "siting_report.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "census-uniform (coarse)" in page
    method = pd.read_csv(out / "siting_method.csv", encoding="utf-8-sig").set_index("parameter")
    assert "HiGHS" in method.loc["solver_library", "value"]
    units = pd.read_csv(out / "siting_units.csv", encoding="utf-8-sig")
    assert units["population"].iloc[0] == pytest.approx(642010)


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
    # the row number comes from geo.facilities (issue 8 moves it to Excel numbering: row 3)
    assert "cand.csv" in err and re.search(r"row [23], field 'lon'", err)


def test_failed_write_leaves_earlier_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unit_points: list[tuple[float, float]]
) -> None:
    import geo.siting_report as report

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
