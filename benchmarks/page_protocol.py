"""Page load at the protocol level: `python -m benchmarks.page_protocol --index DIR [--sessions 10 --searches 5]`.

The server's side of page load without browsers on its cores: in use the browsers run on their users'
machines, while benchmarks/page_load.py runs ten Chromium tabs on the server's own two cores. Starts
`streamlit run` on 127.0.0.1 (loopback only) over an existing index and opens SESSIONS Streamlit
sessions over the websocket `/_stcore/stream` as the frontend does: GET /_stcore/health and
/_stcore/host-config, connect with the `streamlit` subprotocol, send a `rerun_script` BackMsg (the
page load), then for each search the BackMsg the browser sends when the user types into the search box
and presses Enter: a rerun whose widget state sets the text input (its id read from the page's own
delta) to the query. Streamlit's own protobuf classes (BackMsg_pb2, ForwardMsg_pb2) build and read
the messages.

A search is timed from sending the BackMsg to the ForwardMsg `script_finished`, and counts only if
it finished successfully, the hits' HTML (`class="hit-title"`) arrived in the deltas, the URL was
set to the query (`page_info_changed` with `q=`), and no exception or error alert was sent. Queries
are read at run time from a gold file (by default ../shared/eval/dev_queries.jsonl: Vietnamese,
without diacritics, English), each made distinct per session and search so that no cache answers.
Reports p50/p95/max, errors, the server's RSS and CPU, and this client's own CPU, as text and JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from benchmarks.page_load import ROOT, _cpu_s, _free_port, _machine_busy_s, _rss_mb, finish, sample_rss, start_server

SEARCH_LABEL = "Câu hỏi hoặc từ khóa (có thể gõ không dấu)"  # the page's search box (search_view)
HIT_MARK = 'class="hit-title"'  # every hit's block starts with it (app.passage_html)
ERROR_TEXT = "Đã xảy ra lỗi"  # the page's own message for an unexpected error (app.main)
DEFAULT_QUERIES = ROOT.parent / "shared" / "eval" / "dev_queries.jsonl"


def load_queries(path: Path) -> list[str]:
    """The queries of a gold file (one JSON object a line with "query"), in file order."""
    queries = [json.loads(line)["query"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not queries:
        raise SystemExit(f"page_protocol: no queries in {path}")
    return queries


class Run:
    """What one script run sent back: its status, the HTML and alerts in its deltas, the URL it set."""

    def __init__(self) -> None:
        self.status: int | None = None
        self.html: list[str] = []
        self.errors: list[str] = []
        self.query_string: str | None = None
        self.search_box: str | None = None
        self.page_script_hash = ""
        self.elements = 0
        self.bytes = 0

    @property
    def hits(self) -> int:
        return sum(h.count(HIT_MARK) for h in self.html)


def _read(run: Run, raw: bytes) -> bool:
    """Fold one ForwardMsg into `run`; True when it ends the run."""
    from streamlit.proto.Alert_pb2 import Alert
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = ForwardMsg()
    msg.ParseFromString(raw)
    run.bytes += len(raw)
    kind = msg.WhichOneof("type")
    if kind == "new_session":
        run.page_script_hash = msg.new_session.page_script_hash
    elif kind == "page_info_changed":
        run.query_string = msg.page_info_changed.query_string
    elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
        el = msg.delta.new_element
        run.elements += 1
        which = el.WhichOneof("type")
        if which == "html":
            run.html.append(el.html.body)
        elif which == "markdown":
            run.html.append(el.markdown.body)
        elif which == "exception":
            run.errors.append(f"exception {el.exception.type}: {el.exception.message[:120]}")
        elif which == "alert" and (el.alert.format == Alert.ERROR or ERROR_TEXT in el.alert.body):
            run.errors.append(f"error shown: {el.alert.body[:120]}")
        elif which == "text_input" and el.text_input.label == SEARCH_LABEL:
            run.search_box = el.text_input.id
    elif kind == "script_finished":
        run.status = msg.script_finished
        return True
    return False


async def _rerun(ws, query_string: str, page_script_hash: str, widgets: dict[str, str], timeout: float) -> Run:
    """Send one rerun_script BackMsg (as the frontend does) and read ForwardMsgs until script_finished."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    back = BackMsg()
    state = back.rerun_script
    state.query_string = query_string
    state.page_script_hash = page_script_hash
    for wid, value in widgets.items():
        w = state.widget_states.widgets.add()
        w.id = wid
        w.string_value = value
    run = Run()
    await ws.send(back.SerializeToString())
    async with asyncio.timeout(timeout):
        while not _read(run, await ws.recv()):
            pass
    return run


def _problems(run: Run, query: str) -> list[str]:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    problems = list(run.errors)
    if run.status != ForwardMsg.FINISHED_SUCCESSFULLY:
        problems.append(f"script finished with status {run.status}")
    if not run.hits:
        problems.append("no hits in the deltas")
    if run.query_string is None or urllib.parse.parse_qs(run.query_string).get("q") != [query]:
        problems.append(f"URL not set to the query (query string {run.query_string!r})")
    return problems


async def _session(port: int, n: int, queries: list[str], timeout: float, out: dict, ready: list,
                   sessions: int) -> None:
    from websockets.asyncio.client import connect

    base = f"http://127.0.0.1:{port}"
    try:
        t = time.perf_counter()
        # what the frontend fetches before it opens the stream (in a thread: urllib blocks)
        for path in ("/_stcore/health", "/_stcore/host-config"):
            await asyncio.to_thread(lambda p=path: urllib.request.urlopen(base + p, timeout=timeout).read())
        async with connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"], origin=base,
                           max_size=None, open_timeout=timeout, ping_interval=None) as ws:
            first = await _rerun(ws, "", "", {}, timeout)  # the page load: no query
            out["loads"].append(time.perf_counter() - t)
            if first.search_box is None:
                out["errors"].append(f"session {n}: no search box in the first run ({first.errors[:2]})")
                return
            ready.append(n)  # every session open before any searches: the searches run against each other
            deadline = time.perf_counter() + timeout
            while len(ready) < sessions and time.perf_counter() < deadline:
                await asyncio.sleep(0.02)
            query_string, page = "", first.page_script_hash
            for i, base_query in enumerate(queries):
                query = f"{base_query} {n}-{i}"  # distinct per session and search: no cache answers
                t = time.perf_counter()
                try:
                    run = await _rerun(ws, query_string, page, {first.search_box: query}, timeout)
                except TimeoutError:
                    out["errors"].append(f"session {n} search {i}: no script_finished in {timeout} s")
                    return  # the stream is out of step now
                elapsed = time.perf_counter() - t
                if problems := _problems(run, query):
                    out["errors"].append(f"session {n} search {i}: {'; '.join(problems)}")
                    continue
                out["times"].append(elapsed)
                out["hits"].append(run.hits)
                out["elements"].append(run.elements)
                out["bytes"].append(run.bytes)
                query_string = run.query_string or ""
    except Exception as e:  # noqa: BLE001 - counted and reported
        out["errors"].append(f"session {n}: {type(e).__name__}: {str(e)[:120]}")


async def _run(port: int, sessions: int, searches: int, queries: list[str], timeout: float, pid: int) -> dict:
    out: dict = {"times": [], "errors": [], "loads": [], "hits": [], "elements": [], "bytes": []}
    ready: list[int] = []
    peak = [_rss_mb(pid)]

    phase: dict = {}

    async def searches_start() -> None:  # the server's CPU from when every session is open: the searches'
        while len(ready) < sessions:
            await asyncio.sleep(0.01)
        phase.update(cpu=_cpu_s(pid), busy=_machine_busy_s(), t=time.perf_counter())

    sampler, starter = asyncio.create_task(sample_rss(pid, peak, 0.25)), asyncio.create_task(searches_start())
    cpu0, busy0, own0 = _cpu_s(pid), _machine_busy_s(), time.process_time()
    t = time.perf_counter()
    # session n searches queries n*searches … (mod the file): Vietnamese, unaccented and English mixed
    await asyncio.gather(*(_session(port, n, [queries[(n * searches + i) % len(queries)] for i in range(searches)],
                                    timeout, out, ready, sessions) for n in range(sessions)))
    wall = time.perf_counter() - t
    server_cpu, machine_cpu, own_cpu = _cpu_s(pid) - cpu0, _machine_busy_s() - busy0, time.process_time() - own0
    sampler.cancel()
    starter.cancel()
    if phase:
        phase.update(cpu=_cpu_s(pid) - phase["cpu"], busy=_machine_busy_s() - phase["busy"],
                     t=time.perf_counter() - phase["t"])
    times = sorted(out["times"])
    q = statistics.quantiles(times, n=20, method="inclusive") if len(times) >= 2 else times * 19
    return {"client": "protocol", "sessions": sessions, "searches_per_session": searches,
            "searches_timed": len(times),
            "p50_s": round(statistics.median(times), 3) if times else None,
            "p95_s": round(q[18], 3) if times else None, "max_s": round(times[-1], 3) if times else None,
            "wall_s": round(wall, 1), "server_cpu_s": round(server_cpu, 1),
            # from when every session was open (the page loads and the model's loading left out)
            "search_phase_wall_s": round(phase["t"], 1) if phase else None,
            "search_phase_server_cpu_s": round(phase["cpu"], 1) if phase else None,
            "search_phase_machine_cpu_s": round(phase["busy"], 1) if phase else None,
            "server_cpu_per_search_s": round(phase["cpu"] / len(times), 3) if phase and times else None,
            "client_cpu_s": round(own_cpu, 1), "machine_cpu_s": round(machine_cpu, 1), "cores": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "errors": out["errors"], "server_rss_start_mb": round(peak[0]), "server_rss_peak_mb": round(max(peak)),
            "hits_per_search": round(statistics.mean(out["hits"]), 1) if out["hits"] else None,
            "elements_per_search": round(statistics.mean(out["elements"]), 1) if out["elements"] else None,
            "kb_per_search": round(statistics.mean(out["bytes"]) / 1024, 1) if out["bytes"] else None,
            "page_load_p50_s": round(statistics.median(out["loads"]), 3) if out["loads"] else None,
            "page_load_max_s": round(max(out["loads"]), 3) if out["loads"] else None,
            "times_s": [round(x, 3) for x in out["times"]]}


def measure(index: Path, sessions: int, searches: int, queries: list[str], timeout: float = 60) -> dict:
    """Start a page server on 127.0.0.1 over `index`, run the sessions against it, stop it."""
    port = _free_port()
    server = start_server(index, port)
    try:
        res = asyncio.run(_run(port, sessions, searches, queries, timeout, server.pid))
    finally:
        server.terminate()
        server.wait(timeout=30)
    res["index"] = str(index)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=Path(os.environ.get("VNSEARCH_INDEX", "index")))
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--searches", type=int, default=5)
    ap.add_argument("--queries", type=Path, default=DEFAULT_QUERIES,
                    help="a JSONL file with a \"query\" per line (default: ../shared/eval/dev_queries.jsonl)")
    ap.add_argument("--timeout", type=float, default=60, help="seconds one search may take")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--profile", type=Path, default=None,
                    help="serve the page under cProfile (benchmarks/page_profiled.py): one stats file a rerun here")
    args = ap.parse_args(argv)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        os.environ.update(PAGE_APP=str(ROOT / "benchmarks" / "page_profiled.py"),
                          PAGE_PROFILE_DIR=str(args.profile.resolve()))
    if not (args.index / "CURRENT").exists() and not (args.index / "backend.json").exists():
        print(f"page_protocol: no index in {args.index} (make index); skipped", file=sys.stderr)
        return 0
    if not args.queries.exists():
        print(f"page_protocol: no query file {args.queries}; skipped", file=sys.stderr)
        return 0
    res = measure(args.index, args.sessions, args.searches, load_queries(args.queries), args.timeout)
    print(f"page protocol: {res['sessions']} sessions × {res['searches_per_session']} searches: "
          f"p50 {res['p50_s']} s, p95 {res['p95_s']} s, max {res['max_s']} s, errors {len(res['errors'])}; "
          f"page opened in p50 {res['page_load_p50_s']} s, max {res['page_load_max_s']} s; "
          f"server RSS {res['server_rss_start_mb']} → {res['server_rss_peak_mb']} MB; CPU in {res['wall_s']} s wall: "
          f"server {res['server_cpu_s']} s, client {res['client_cpu_s']} s, whole machine {res['machine_cpu_s']} s "
          f"of {res['cores']} cores; searches alone: {res['search_phase_wall_s']} s wall, server "
          f"{res['search_phase_server_cpu_s']} s ({res['server_cpu_per_search_s']} s a search), whole machine "
          f"{res['search_phase_machine_cpu_s']} s; "
          f"load average {res['load_average']}; {res['hits_per_search']} hits, {res['elements_per_search']} elements, "
          f"{res['kb_per_search']} KiB a search")
    return finish(res, args.json)


if __name__ == "__main__":
    sys.exit(main())
