"""End-to-end: what the first map costs the browser, offline.

Starts ``streamlit run app.py`` and opens it in headless Chromium with other hosts blocked in the
resolver. The page must not load Streamlit's syntax highlighter (``st.code``), whose start-up
held back the first map (benchmarks/bench_webmap.py), and must make no request off localhost.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from tests.e2e.test_browser import ARGS as BASE_ARGS
from tests.e2e.test_browser import (
    CHROMIUM,
    LOCAL,
    ROOT,
    _map_frame,
    _open_tab,
    pytestmark,  # noqa: F401  (e2e, slow, skip without chromium)
    serve,
)

APP = os.environ.get("GEO_APP") or str(ROOT / "app.py")
ARGS = [*BASE_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    with serve(APP) as url:  # GEO_APP: an earlier copy of the page, to see the test fail there
        yield url


def test_first_map_without_syntax_highlighter_and_nothing_off_localhost(app_url):
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.on("request", lambda r: requests.append(r.url))
        try:
            page = context.new_page()
            page.goto(app_url)
            frame = _map_frame(page, timeout_s=90.0)
            # the vendored Leaflet, plugins and map client, with the map itself
            assert frame.evaluate("() => !!(window.hgmap && window.hgmap.map && window.L)")
            _open_tab(page, "下载")  # the share hint is on this tab
            hint = page.get_by_text("复制浏览器地址栏中的链接").first
            hint.wait_for(timeout=30_000)
            assert "cs_medical" in page.url  # the address bar is the share link
            page.wait_for_timeout(1000)
        finally:
            browser.close()

    # the share link is plain text: no page load pays for Streamlit's syntax highlighter
    assert [u for u in requests if "/static/js/" in u]  # Streamlit's chunks were seen
    assert not [u for u in requests if "SyntaxHighlighter" in u]
    remote = [
        u
        for u in requests
        if urlparse(u).scheme in {"http", "https", "ws", "wss"}
        and urlparse(u).hostname not in LOCAL
    ]
    assert requests and remote == []
