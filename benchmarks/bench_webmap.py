"""Benchmark of the browser map: default-view payload and time to first map (one run).

1. Builds the default view with :func:`geo.web.webmap.build_map` and reports the bytes of map data
it
   embeds (budget 1.5 MB) and the build time.
2. Starts ``streamlit run app.py`` on a free loopback port and opens it in headless Debian
   Chromium (Playwright, ``/usr/bin/chromium``) three times: seconds from navigation to the first
   Leaflet feature drawn in the map iframe, and the number of requests that left localhost.

Run: ``python benchmarks/bench_webmap.py``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from geo.data.layers import load_layers, load_manifest
from geo.web.webmap import build_map, geojson_payload_bytes

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _first_map_seconds(url: str) -> tuple[float, int]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        hosts: list[str] = []
        page.on("request", lambda r: hosts.append(urlparse(r.url).hostname or ""))
        start = time.perf_counter()
        page.goto(url)
        while time.perf_counter() - start < 60:
            if any(f.query_selector(".leaflet-interactive") for f in page.frames):
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        browser.close()
    remote = sum(1 for h in hosts if h not in {"", "127.0.0.1", "localhost"})
    return elapsed, remote


def main() -> None:
    manifest = load_manifest()
    layers = load_layers()
    start = time.perf_counter()
    fmap = build_map(layers, manifest)
    build_s = time.perf_counter() - start
    payload = geojson_payload_bytes(fmap)
    print(f"default view map data      | {payload:,} bytes ({payload / 1e6:.2f} MB; budget 1.5 MB)")
    print(f"build_map (Python)         | {build_s:.2f} s")
    if not Path(CHROMIUM).exists():
        print("time to first map          | skipped: /usr/bin/chromium absent")
        return
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(120):
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        for run in range(3):
            seconds, remote = _first_map_seconds(url)
            label = "cold" if run == 0 else "warm"
            print(
                f"time to first map ({label})   | {seconds:.2f} s, requests off localhost: {remote}"
            )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
