"""End-to-end: what the first map costs the browser, offline.

Starts ``streamlit run app.py`` and opens it in headless Chromium with other hosts blocked in the
resolver. The page must not load Streamlit's syntax highlighter (``st.code``), whose start-up
held back the first map (benchmarks/bench_webmap.py), and must make no request off localhost.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
APP = os.environ.get("GEO_APP") or str(ROOT / "app.py")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
LOCAL = {"localhost", "127.0.0.1", "::1", "[::1]"}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("REQUIRE_E2E"),
        reason=f"{CHROMIUM} (Debian chromium) absent",
    ),
]


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    cmd = [sys.executable, "-m", "streamlit", "run", APP, "--server.port", str(port)]
    cmd += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TIANDITU_KEY": ""},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("streamlit did not answer /_stcore/health within 60 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _map_frame(page, timeout_s: float = 90.0):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        for frame in page.frames:
            if frame == page.main_frame:
                continue
            try:
                if frame.locator("path.leaflet-interactive").count() > 0:
                    return frame
            except Exception:  # frames come and go while Streamlit renders
                continue
        page.wait_for_timeout(250)
    pytest.fail("no Leaflet map with features appeared in an iframe")


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
            frame = _map_frame(page)
            # the vendored Leaflet, plugins and map client, with the map itself
            assert frame.evaluate("() => !!(window.hgmap && window.hgmap.map && window.L)")
            page.get_by_role("tab", name="下载").click()  # the share hint is on this tab
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
