"""End-to-end: switching the page language in Chromium keeps every choice and raises nothing.

Streamlit keeps a radio/selectbox choice by its label in the browser; the page once read the
Chinese label of the chosen mode back after switching to English and crashed (``unknown mode
'步行'``), and the basemap and unit boxes kept their Chinese labels.
"""

from __future__ import annotations

import pytest

from geo.web.webmap import BASEMAPS
from tests.e2e.test_browser import (
    _select,
    _settle,
    _until,
    app_url,  # noqa: F401  (fixture)
    local_page,
    pytestmark,  # noqa: F401  (e2e, slow, skip without chromium)
)


@pytest.fixture
def page(app_url, tmp_path):  # noqa: F811
    with local_page(app_url, viewport={"width": 1500, "height": 1000}, fonts=tmp_path) as pg:
        yield pg


def _box(page, label: str) -> str:
    """Text a select box shows (its label and chosen option, or the option in its input)."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    inputs = box.locator("input")
    shown = inputs.first.input_value() if inputs.count() else ""
    return box.inner_text() + " " + shown + " " + (box.get_attribute("aria-label") or "")


def test_switching_language_keeps_mode_unit_and_basemap(page):
    _settle(page)
    page.get_by_text("驾车", exact=True).click()
    _select(page, "区县", "长沙市 · 天心区")
    _until(page, lambda: "430103" in page.url and "mode=drive" in page.url, "drive, 天心区")
    page.get_by_text("English", exact=True).click()
    _until(page, lambda: "lang=en" in page.url, "English page")
    _until(page, lambda: page.get_by_role("radio", name="drive").count() > 0, "English radio")
    page.wait_for_timeout(1500)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_role("radio", name="drive").is_checked()
    assert "mode=drive" in page.url and "430103" in page.url
    assert BASEMAPS["offline"][1] in _box(page, "Basemap")
    assert "天心区" in _box(page, "District")
    speed = page.locator('[data-testid="stNumberInput"]').filter(has_text="Speed").locator("input")
    assert float(speed.input_value()) == 30.0
