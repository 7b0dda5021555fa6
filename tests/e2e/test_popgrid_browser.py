"""End-to-end: upload a population grid (GeoTIFF) in headless Chromium; the coverage panel and
the siting tab then count its cells and say the model (``GEO_SCREENSHOTS=1``: docs/web_popgrid.png).
"""

from __future__ import annotations

import pytest

from tests.e2e.test_browser import (
    _metric,
    _open_tab,
    _shot,
    _until,
    app_url,  # noqa: F401  (fixture)
    local_page,
    pytestmark,  # noqa: F401  (e2e, slow, skip without chromium)
)
from tests.test_app_popgrid import _tianxin_hand
from tests.test_popgrid import raster_4326


@pytest.fixture
def page(app_url, tmp_path):  # noqa: F811
    url = f"{app_url}/?unit=430103&cov=cs_medical&c=28.12,112.975&z=13"
    with local_page(url, viewport={"width": 1500, "height": 1500}, fonts=tmp_path) as pg:
        yield pg


def test_population_grid_upload_drives_coverage_and_siting(page, tmp_path):
    census = _until(page, lambda: _metric(page, "覆盖人口"), "census coverage")
    tif = tmp_path / "worldpop_clip.tif"
    tif.write_bytes(raster_4326()[0])
    page.get_by_text("人口网格（可选）").click()
    page.locator('[data-testid="stSidebar"] input[type="file"]').set_input_files(str(tif))
    _, covered = _tianxin_hand()
    expected = f"{covered:,.0f}"
    assert expected != census
    _until(page, lambda: _metric(page, "覆盖人口") == expected, "population covered by the grid")
    summary = page.locator('[data-testid="stDataFrame"]').filter(has_text="人口模型").first
    _until(
        page, lambda: "raster" in (summary.text_content() or ""), "population model in the table"
    )
    assert page.get_by_text("已读入人口网格（raster）").count() == 1
    page.wait_for_timeout(1500)
    _shot(page, "web_popgrid.png")

    _open_tab(page, "选址")
    page.locator('[data-testid="stButton"]').filter(has_text="计算选址").locator("button").click()
    table = page.locator('[data-testid="stDataFrame"]').filter(has_text="选址后覆盖率")
    _until(
        page,
        lambda: table.count() > 0 and "raster" in (table.first.text_content() or ""),
        "siting",
        120,
    )
    caption = page.get_by_text("人口模型：人口栅格（raster")
    _until(page, lambda: caption.count() >= 1, "model caption")
    page.wait_for_timeout(1500)
    _shot(page, "web_popgrid_siting.png")
