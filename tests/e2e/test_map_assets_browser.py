"""End-to-end: the page's map loads its vendored assets by URL, cached by the browser, offline.

Starts ``streamlit run app.py`` (static serving on in ``.streamlit/config.toml``, ``static`` ->
``geo/assets``) and visits it twice in one headless Chromium context. Other hosts are blocked in
the resolver, not by request interception, which would turn the browser cache off.
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

from geo.settings import ASSETS_DIR

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


def _visit(context, url: str) -> tuple[list[str], dict[str, dict]]:
    """Open the page until its map shows: the iframe's script sources, the static responses."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    static: dict[str, dict] = {}

    def _response(event: dict) -> None:
        if "/app/static/" in event["response"]["url"]:
            static[event["response"]["url"]] = event["response"]

    cdp.on("Network.responseReceived", _response)
    page.goto(url)
    frame = _map_frame(page)
    scripts = frame.evaluate("() => [...document.scripts].map((s) => s.src).filter(Boolean)")
    page.wait_for_timeout(500)  # the stylesheets' images
    page.close()
    return scripts, static


def test_map_assets_by_url_cached_and_nothing_off_localhost(app_url):
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.on("request", lambda r: requests.append(r.url))
        try:
            scripts, first = _visit(context, app_url)
            _, second = _visit(context, app_url)
        finally:
            browser.close()

    # Leaflet, the plugins and the map client come by URL from geo/assets, not as data: URLs
    assert not [s for s in scripts if s.startswith("data:")]
    served = [urlparse(s).path.removeprefix("/app/static/") for s in scripts if "/app/static/" in s]
    assert served[0] == "leaflet/leaflet.js"
    assert served[-1] == "hgmap/hgmap.js"
    assert len(served) == 6
    assert all((ASSETS_DIR / path).is_file() for path in served)
    for url, response in first.items():
        assert response["status"] == 200, url
        kind = "text/css" if ".css" in url else "javascript" if ".js" in url else "image/"
        assert kind in response["mimeType"], (url, response["mimeType"])
    assert len(first) >= 11  # 6 scripts, 5 stylesheets (+ their images)
    # the second visit takes every one of them from the browser cache
    assert second.keys() == first.keys()
    assert all(r.get("fromDiskCache") or r.get("fromMemoryCache") for r in second.values())

    # the share link is plain text: no page load pays for Streamlit's syntax highlighter
    assert not [u for u in requests if "SyntaxHighlighter" in u]
    remote = [
        u
        for u in requests
        if urlparse(u).scheme in {"http", "https", "ws", "wss"}
        and urlparse(u).hostname not in LOCAL
    ]
    assert requests and remote == []
