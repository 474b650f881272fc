"""Page load benchmark: `python -m benchmarks.page_load --index DIR [--sessions 10 --searches 5]`.

Starts `streamlit run` on 127.0.0.1 (loopback only) over an existing index, opens SESSIONS browser
sessions at once in Debian's Chromium (Playwright), and has each type SEARCHES different queries.
A search is timed from Enter until the page has finished its rerun and shows results. Reports
p50/p95/max per search, errors, and the server's peak RSS, as text and JSON. Bounded: sessions ×
searches searches, each with a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]
QUERIES = ["quyền và nghĩa vụ của người lao động", "thoi han giai quyet khieu nai", "trách nhiệm của cơ quan nhà nước",
           "xu phat vi pham hanh chinh", "hợp đồng và bồi thường thiệt hại", "quy hoach phat trien kinh te",
           "điều kiện cấp giấy phép", "nghia vu nop thue", "bảo vệ môi trường", "to chuc bo may chinh quyen"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy_s() -> float:
    """CPU seconds all cores spent busy since boot: with the server's share it says who used the machine."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def start_server(index: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "VNSEARCH_INDEX": str(index), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        # PAGE_APP: another script (a profiling wrapper of app.py) served the same way
        [sys.executable, "-m", "streamlit", "run", os.environ.get("PAGE_APP", str(ROOT / "search_app/page/app.py")),
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                return proc
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("streamlit did not start")


async def _session(browser, url: str, n: int, searches: int, timeout_ms: int, out: dict, ready: list,
                   sessions: int) -> None:
    ctx = await browser.new_context(viewport={"width": 1300, "height": 900})
    page = await ctx.new_page()
    page.set_default_timeout(timeout_ms)
    try:
        t = time.perf_counter()
        await page.goto(url)
        box = page.get_by_label("Câu hỏi hoặc từ khóa (có thể gõ không dấu)")
        await box.wait_for()
        out["loads"].append(time.perf_counter() - t)
        # every session is open before any searches: the searches are timed against each other, not
        # against the other tabs still starting Streamlit's frontend (the page loads are timed apart)
        ready.append(n)
        deadline = time.perf_counter() + timeout_ms / 1000
        while len(ready) < sessions and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        for i in range(searches):
            query = QUERIES[(n + i) % len(QUERIES)] + f" {n}-{i}"  # distinct per session: no shared cache
            t = time.perf_counter()
            try:
                await box.fill(query)
                await box.press("Enter")
                # the rerun has set ?q= (early in the run), then finished (status widget gone) with results
                await page.wait_for_function(
                    "q => new URLSearchParams(location.search).get('q') === q", arg=query, polling=50)
                await page.wait_for_function(
                    "() => !document.querySelector('[data-testid=stStatusWidget]') && "
                    "document.querySelectorAll('.hit-title').length > 0", polling=50)
                out["times"].append(time.perf_counter() - t)
                out.setdefault("by_search", {}).setdefault(i, []).append(round(time.perf_counter() - t, 2))
            except Exception as e:  # noqa: BLE001 - counted and reported
                out["errors"].append(f"session {n} search {i}: {type(e).__name__}: {str(e)[:120]}")
        if await page.get_by_text("Traceback").count() or await page.locator("[data-testid=stException]").count():
            out["errors"].append(f"session {n}: an exception is shown on the page")
    finally:
        await ctx.close()


def _browser_path(client_nice: int, folder: Path) -> str:
    """Chromium itself, or a wrapper that starts it at a lower CPU priority than the server: in use the
    browsers run on their users' machines, and here ten tabs rendering would otherwise take most of
    the two cores the server has (docs/benchmarks.md, "Page load")."""
    if not client_nice:
        return CHROMIUM
    wrapper = folder / "chromium-niced"
    wrapper.write_text(f'#!/bin/sh\nexec nice -n {int(client_nice)} {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


async def sample_rss(pid: int, peak: list[float], every: float) -> None:
    """Append the server's RSS to `peak` every `every` seconds until cancelled."""
    while True:
        peak.append(_rss_mb(pid))
        await asyncio.sleep(every)


async def _run(url: str, sessions: int, searches: int, timeout_ms: int, pid: int, browser_path: str) -> dict:
    from playwright.async_api import async_playwright

    out: dict = {"times": [], "errors": [], "loads": []}
    ready: list[int] = []
    peak = [_rss_mb(pid)]

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=browser_path, args=FLAGS, headless=True)
        sampler = asyncio.create_task(sample_rss(pid, peak, 0.5))
        cpu0, busy0 = _cpu_s(pid), _machine_busy_s()
        t = time.perf_counter()
        await asyncio.gather(*(_session(browser, url, n, searches, timeout_ms, out, ready, sessions)
                               for n in range(sessions)))
        wall = time.perf_counter() - t
        server_cpu, machine_cpu = _cpu_s(pid) - cpu0, _machine_busy_s() - busy0
        sampler.cancel()
        await browser.close()
    times = sorted(out["times"])
    q = statistics.quantiles(times, n=20, method="inclusive") if len(times) >= 2 else times * 19

    return {"sessions": sessions, "searches_per_session": searches, "searches_timed": len(times),
            "p50_s": round(statistics.median(times), 3) if times else None,
            "p95_s": round(q[18], 3) if times else None, "max_s": round(times[-1], 3) if times else None,
            "wall_s": round(wall, 1),
            "server_cpu_s": round(server_cpu, 1), "machine_cpu_s": round(machine_cpu, 1), "cores": os.cpu_count(),
            "errors": out["errors"], "server_rss_start_mb": round(peak[0]),
            "server_rss_peak_mb": round(max(peak)), "by_search": out.get("by_search", {}),
            "page_load_p50_s": round(statistics.median(out["loads"]), 3) if out["loads"] else None,
            "page_load_max_s": round(max(out["loads"]), 3) if out["loads"] else None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=Path(os.environ.get("VNSEARCH_INDEX", "index")))
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--searches", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=60, help="seconds one search may take")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--client-nice", type=int, default=0,
                    help="run the browsers at this nice level (0: the same priority as the server)")
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"page_load: {CHROMIUM} is missing (apt-get install chromium); skipped", file=sys.stderr)
        return 0
    if not (args.index / "CURRENT").exists() and not (args.index / "backend.json").exists():
        print(f"page_load: no index in {args.index} (make index); skipped", file=sys.stderr)
        return 0
    port = _free_port()
    server = start_server(args.index, port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            res = asyncio.run(_run(f"http://127.0.0.1:{port}", args.sessions, args.searches,
                                   int(args.timeout * 1000), server.pid, _browser_path(args.client_nice, Path(tmp))))
    finally:
        server.terminate()
        server.wait(timeout=30)
    res["index"], res["client_nice"] = str(args.index), args.client_nice
    print(f"page load: {res['sessions']} sessions × {res['searches_per_session']} searches: "
          f"p50 {res['p50_s']} s, p95 {res['p95_s']} s, max {res['max_s']} s, errors {len(res['errors'])}; "
          f"page opened in p50 {res['page_load_p50_s']} s, max {res['page_load_max_s']} s; "
          f"server RSS {res['server_rss_start_mb']} → {res['server_rss_peak_mb']} MB (wall {res['wall_s']} s; CPU: "
          f"server {res['server_cpu_s']} s, whole machine {res['machine_cpu_s']} s of {res['cores']} cores)")
    return finish(res, args.json)


def finish(res: dict, json_path: Path | None) -> int:
    """The first errors printed, the figures written to `json_path`; exit code 1 if any search failed."""
    for e in res["errors"][:5]:
        print("  -", e)
    if json_path:
        json_path.write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding="utf-8")
    return 1 if res["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
