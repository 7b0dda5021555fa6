"""Benchmark of the browser map: payload, build time, time to first map, layer toggle, reruns.

1. Python: :func:`geo.web.webmap.prepare_map_data` (the per-process cached part), :func:`build_map`
   from cached data and from scratch, the default view's map data (budget 1.5 MB) and the
   offline HTML file size.
2. The offline HTML in headless Debian Chromium (Playwright, ``/usr/bin/chromium``, internet
   blocked): time until the map client is ready and the median time of a layer toggle through
   the map's own layer control (budget 100 ms).
3. ``streamlit run app.py`` (or ``--app``, e.g. an earlier copy of the page) on a free loopback
   port: time to first map (budget 2.0 s warm) from ``page.goto`` until the map client exists in
   the map's iframe. Cold: the first session of the server process. Then ``--repeat`` new browser
   contexts, each visiting twice: "warm" is the first visit (server warm, browser cache empty),
   "warm+cache" the second (the browser has cached Streamlit's own bundles). Other
   hosts are blocked in Chromium's resolver, not by request interception, which would turn the
   cache off and add a round-trip to this process per request. Medians, with the load average
   (the machine may be shared). Then websocket frames sent to the server during a layer toggle
   (0 = no round-trip), and whether the map keeps its view (and is not re-created) when an
   analysis input changes.

Run: ``python benchmarks/bench_webmap.py [--repeat N]`` (N = 5 by default).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from geo.data.layers import load_layers, load_manifest
from geo.web.webmap import build_map, geojson_payload_bytes, map_to_offline_html, prepare_map_data

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Request interception (context.route) turns the browser cache off and adds a round-trip to this
# process per request; the timed runs block other hosts in the resolver instead (and count requests
# off localhost from the request events).
ARGS_OFFLINE = [*ARGS, "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
LOCAL = {"", "127.0.0.1", "localhost"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _block_remote(context) -> list[str]:
    remote: list[str] = []

    def _route(route) -> None:
        if urlparse(route.request.url).hostname not in LOCAL | {None}:
            remote.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", _route)
    return remote


def _python_figures() -> str:
    manifest = load_manifest()
    layers = load_layers()
    start = time.perf_counter()
    data = prepare_map_data(layers, manifest)
    prep_s = time.perf_counter() - start
    start = time.perf_counter()
    fmap = build_map(layers, manifest, data=data)
    cached_s = time.perf_counter() - start
    start = time.perf_counter()
    build_map(layers, manifest)
    full_s = time.perf_counter() - start
    payload = geojson_payload_bytes(fmap)
    start = time.perf_counter()
    html = map_to_offline_html(fmap)
    html_s = time.perf_counter() - start
    mb = payload / 1e6
    print(f"default view map data        | {payload:,} bytes ({mb:.2f} MB; budget 1.5 MB)")
    print(f"offline HTML file            | {len(html.encode()):,} bytes ({html_s:.2f} s to write)")
    print(f"prepare_map_data (cached)    | {prep_s:.2f} s once per process and language")
    print(f"build_map from cached data   | {cached_s * 1000:.0f} ms")
    print(f"build_map from scratch       | {full_s:.2f} s")
    return html


def _client_figures(html: str) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        path = Path(tmp) / "map.html"
        path.write_text(html, encoding="utf-8")
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        remote = _block_remote(context)
        page = context.new_page()
        start = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_function("() => window.hgmap && window.hgmap.map")
        ready = time.perf_counter() - start
        times = page.evaluate(
            """async () => {
                const box = document.querySelector("input[data-layer='cs_medical']");
                const out = [];
                for (let i = 0; i < 20; i++) {
                    const t0 = performance.now();
                    box.click();
                    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
                    out.push(performance.now() - t0);
                }
                return out;
            }"""
        )
        browser.close()
    print(f"offline file: map ready      | {ready:.2f} s, requests off localhost: {len(remote)}")
    print(
        f"layer toggle (to next frame) | median {statistics.median(times):.1f} ms, "
        f"max {max(times):.1f} ms over {len(times)} (budget 100 ms)"
    )


def _map_frame(page, timeout_s: float = 60.0):
    end = time.perf_counter() + timeout_s
    while time.perf_counter() < end:
        for frame in page.frames:
            try:
                if frame.evaluate("() => !!(window.hgmap && window.hgmap.map)"):
                    return frame
            except Exception:  # frames come and go while Streamlit renders
                continue
        time.sleep(0.05)
    raise TimeoutError("no map appeared")


def _visit(context, url: str) -> float:
    """Seconds from ``page.goto`` to the map client in the map's iframe."""
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    _map_frame(page)
    elapsed = time.perf_counter() - start
    page.close()
    return elapsed


def _first_maps(browser, url: str) -> tuple[float, float, int]:
    """A new browser context visits twice: the first map of each visit (seconds) and the requests
    off localhost."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    remote: list[str] = []

    def _request(request) -> None:
        if urlparse(request.url).hostname not in LOCAL | {None}:
            remote.append(request.url)

    context.on("request", _request)
    first = _visit(context, url)
    second = _visit(context, url)
    context.close()
    return first, second, len(remote)


def _median_line(label: str, values: list[float]) -> str:
    runs = " ".join(f"{v:.2f}" for v in values)
    return f"{label} | median {statistics.median(values):.2f} s over {len(values)} ({runs})"


def _app_interaction(browser, url: str) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    _block_remote(context)
    page = context.new_page()
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(str(f)[:40])))
    page.goto(url + "?cov=cs_medical&unit=430103")
    frame = _map_frame(page)
    page.wait_for_timeout(1500)
    frame.evaluate("() => { window.hgmap.map.setView([28.15, 112.99], 12, {animate: false}); }")
    frame.evaluate("() => { window.__kept = 1; }")
    page.wait_for_timeout(1500)  # the map reports the new view once (share link c=/z=)
    before = len(sent)
    frame.locator("input[data-layer='cs_parks']").uncheck()
    page.wait_for_timeout(1000)
    print(f"app: frames sent on toggle   | {len(sent) - before} (0 = no server round-trip)")
    box = page.locator('[data-testid="stSidebar"]').get_by_label("分钟")
    box.fill("30")
    box.press("Enter")
    page.wait_for_timeout(4000)
    frame = _map_frame(page)
    state = frame.evaluate(
        "() => [window.__kept === 1, window.hgmap.map.getZoom(), window.hgmap.map.getCenter()]"
    )
    print(
        f"app: after analysis rerun    | map kept: {state[0]}, zoom {state[1]}, "
        f"centre {state[2]['lat']:.3f}, {state[2]['lng']:.3f} (was 12, 28.150, 112.990)"
    )
    context.close()


def _coverage_changes(browser, url: str) -> None:
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.goto(url + "?unit=430103&cov=cs_medical")
    _map_frame(page)
    page.wait_for_timeout(3000)
    share = page.locator('[data-testid="stMetric"]').filter(has_text="面积覆盖率").first
    first, again = [], []
    for i, mode in enumerate(["驾车", "骑行", "步行"] * 3):
        before = share.inner_text()
        start = time.perf_counter()
        page.get_by_text(mode, exact=True).click()
        while share.inner_text() == before and time.perf_counter() - start < 30:
            page.wait_for_timeout(10)
        (first if i < 3 else again).append(time.perf_counter() - start)
        page.wait_for_timeout(1000)
    page.close()
    print(_median_line("app: coverage change (new)   ", first) + " (budget 1 s)")
    print(_median_line("app: coverage change (cached)", again))


def _app_figures(repeat: int, app: str) -> None:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / app)]
    cmd += ["--server.headless", "true", "--server.port", str(port)]
    cmd += ["--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    server = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(120):
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS_OFFLINE)
            cold = _first_maps(browser, url)
            print(f"app: first map (cold)        | {cold[0]:.2f} s, off localhost: {cold[2]}")
            load = os.getloadavg()[0]
            runs = [_first_maps(browser, url) for _ in range(repeat)]
            print(_median_line("app: first map (warm)       ", [r[0] for r in runs]))
            print(_median_line("app: first map (warm+cache) ", [r[1] for r in runs]))
            print(f"app: requests off localhost  | {sum(r[2] for r in runs)}")
            after = os.getloadavg()[0]
            print(f"app: load average (1 min)    | {load:.1f} before, {after:.1f} after")
            browser.close()
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            _app_interaction(browser, url)
            _coverage_changes(browser, url)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="warm sessions to time (median)")
    parser.add_argument("--app", default="app.py", help="page to serve (an earlier copy: before)")
    parser.add_argument("--app-only", action="store_true", help="only the streamlit figures")
    args = parser.parse_args()
    if args.app_only:
        _app_figures(args.repeat, args.app)
        return
    html = _python_figures()
    if not Path(CHROMIUM).exists():
        print("browser figures              | skipped: /usr/bin/chromium absent")
        return
    _client_figures(html)
    _app_figures(args.repeat, args.app)


if __name__ == "__main__":
    main()
