"""Benchmark: 20 concurrent sessions, each choosing a different unit and running coverage.

Starts ``streamlit run app.py`` on a loopback port and opens 20 sessions at once with a small
client that speaks Streamlit's websocket protocol (the browser's own messages: ``BackMsg``
``rerun_script`` with the page's query string, answered by ``ForwardMsg`` deltas until
``script_finished``).  Each session asks for another county's 15-minute walking coverage of the
Changsha hospitals (``?unit=<adcode>&cov=cs_medical``); the benchmark checks that every session
got *its own* figure (the covered share the engine gives for that county, computed here
independently) and reports the wall time until all 20 finished (goal <= 10 s on 2 cores), plus the
server's peak RSS (``resource.getrusage`` of the child) and the CPU seconds the server spent on
the sessions (on a shared machine the wall time also contains other processes' work).

A browser would additionally render the map; that is client time, measured by
``bench_webmap.py``.  Run: ``python benchmarks/bench_sessions.py [--sessions 20]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from geo.data.layers import load_layers
from geo.web.attributes import facility_points
from geo.web.search import unit_coverage

ROOT = Path(__file__).resolve().parent.parent
SHARE_LABEL = "面积覆盖率"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _session(port: int, query: str) -> tuple[dict[str, str], float]:
    """Run the page once as a new browser tab would; return its metrics and seconds taken."""
    start = time.perf_counter()
    metrics: dict[str, str] = {}
    uri = f"ws://127.0.0.1:{port}/_stcore/stream"
    async with websockets.connect(uri, subprotocols=["streamlit"], max_size=2**28) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_script_hash = ""
        await ws.send(msg.SerializeToString())
        while True:
            raw = await asyncio.wait_for(ws.recv(), timeout=120)
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                el = fwd.delta.new_element
                if el.WhichOneof("type") == "metric":
                    metrics[el.metric.label] = el.metric.body
            elif kind == "script_finished":
                break
    return metrics, time.perf_counter() - start


async def _all(port: int, queries: list[str]) -> list[tuple[dict[str, str], float]]:
    return await asyncio.gather(*(_session(port, q) for q in queries))


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far (Linux ``/proc``; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start_server(port: int) -> subprocess.Popen:
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.headless", "true", "--server.port", str(port),
        "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    msg = "streamlit did not start within 60 s"
    raise RuntimeError(msg)


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    args = parser.parse_args()
    layers = load_layers(["cs_medical", "counties"])
    counties = layers["counties"]
    units = counties["adcode"].astype(str).tolist()
    units = (units * (args.sessions // len(units) + 1))[: args.sessions]
    fac = facility_points(layers, ["cs_medical"])
    expected = {
        u: f"{unit_coverage(fac, counties, u, mode='walk').area_share:.1%}" for u in set(units)
    }
    port = _free_port()
    server = _start_server(port)
    try:
        warm, _ = asyncio.run(_session(port, "unit=430102&cov=cs_medical"))  # load caches once
        assert SHARE_LABEL in warm, warm
        cpu0 = _cpu_seconds(server.pid)
        start = time.perf_counter()
        results = asyncio.run(_all(port, [f"unit={u}&cov=cs_medical" for u in units]))
        wall = time.perf_counter() - start
        cpu1 = _cpu_seconds(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=20)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # the server's peak
    got = [m.get(SHARE_LABEL) for m, _ in results]
    own = sum(1 for u, g in zip(units, got, strict=True) if g == expected[u])
    slowest = max(s for _, s in results)
    print(f"sessions                    | {len(units)} (distinct units: {len(set(units))})")
    print(f"sessions with their own figure | {own}/{len(units)}")
    print(f"wall time, all sessions     | {wall:.2f} s (goal <= 10 s on 2 cores)")
    print(f"slowest session             | {slowest:.2f} s")
    if cpu0 is not None and cpu1 is not None:
        print(f"server CPU for the sessions | {cpu1 - cpu0:.2f} s (≈ wall on an idle machine)")
    print(
        f"load average during the run | {os.getloadavg()[0]:.1f} (other processes share the cores)"
    )
    print(f"server peak RSS             | {rss / 2**20:.0f} MiB")
    if own != len(units):
        bad = [(u, g, expected[u]) for u, g in zip(units, got, strict=True) if g != expected[u]]
        print(f"MISMATCH: {bad[:5]}")
        sys.exit(3)


if __name__ == "__main__":
    main()
