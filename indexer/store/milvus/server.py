"""The local Milvus server process that the page and the indexer share (one per index folder).

It is the Milvus engine (segcore, knowhere: what a standalone server or a cluster runs), the `milvus`
binary shipped in the milvus-lite 2.5.1 wheel, run as a TCP server on 127.0.0.1 and reached like any
standalone server (``http://127.0.0.1:PORT``). Only the binary is used: the wheel's Python package
imports ``pkg_resources``, which the setuptools torch needs no longer has, so it is never imported.
Its data is one file, ``index_dir/milvus/milvus.db``; a SIGKILL loses nothing acknowledged (each
insert and delete is committed to it), and it starts in under a second.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from indexer.settings import current
from indexer.store.locks import ReadOnlyIndex, held
from indexer.store.milvus.common import (
    LITE_DIR,
    LITE_LOCK,
    LITE_LOG,
    LITE_STATE,
    LiteServerError,
    log,
)

# --- the local Milvus server --------------------------------------------------------------------

DB_FILE = "milvus.db"  # inside LITE_DIR; the engine wants a plain name of at most 36 characters

_STARTED: dict[str, subprocess.Popen] = {}  # servers this process spawned, reaped by stop_lite_server


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    status = Path(f"/proc/{pid}/status")
    with contextlib.suppress(OSError):
        for line in status.read_text().splitlines():
            if line.startswith("State:"):
                return "Z" not in line.split()[1]  # a zombie has exited
    return True


def engine_binary() -> Path:
    """The `milvus` server binary of the installed milvus-lite 2.5.x wheel, found without importing it."""
    spec = importlib.util.find_spec("milvus_lite")  # a top-level package: located, not executed
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        binary = Path(loc) / "lib" / "milvus"
        if binary.is_file() and os.access(binary, os.X_OK):
            return binary
    raise LiteServerError("the Milvus engine is not installed (its server binary comes with milvus-lite==2.5.1): "
                          "pip install 'vn-political-search[scale]', or give a server with --milvus-uri")


def _is_lite_server(pid: int, data_dir: Path) -> bool:
    """Whether `pid` is a live Milvus server for `data_dir` (not a recycled pid)."""
    if not _pid_alive(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():  # not Linux: trust the pid and the answer check
        return True
    try:
        args = cmdline.read_bytes().split(b"\0")
    except OSError:
        return False
    return any(b"milvus" in a for a in args) and str(data_dir / DB_FILE).encode() in args


def _answers(url: str, timeout: float) -> bool:
    """Whether a Milvus server answers at `url` (a real RPC, not only an open port)."""
    import grpc
    from pymilvus.grpc_gen import milvus_pb2, milvus_pb2_grpc

    target = url.split("://", 1)[-1]
    try:
        with grpc.insecure_channel(target) as channel:
            stub = milvus_pb2_grpc.MilvusServiceStub(channel)
            stub.ShowCollections(milvus_pb2.ShowCollectionsRequest(), timeout=timeout)
        return True
    except grpc.RpcError:
        return False


def _read_lite_state(index_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((index_dir / LITE_STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _live_server(index_dir: Path, timeout: float) -> str | None:
    info = _read_lite_state(index_dir)
    if not info:
        return None
    data_dir = index_dir / LITE_DIR
    if not _is_lite_server(int(info.get("pid", -1)), data_dir):
        return None
    url = str(info["url"])
    deadline = time.monotonic() + timeout
    while True:  # a live server that is busy (a long flush) gets a moment to answer
        if _answers(url, 2.0):
            return url
        if time.monotonic() > deadline or not _is_lite_server(int(info["pid"]), data_dir):
            return None
        time.sleep(0.2)


def running_lite_server(index_dir: Path | str) -> str | None:
    """The URL of the local Milvus server of ``index_dir`` if one is running and answers, else None."""
    return _live_server(Path(index_dir), timeout=2.0)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def ensure_lite_server(index_dir: Path | str, timeout: float | None = None) -> str:
    """The URL of the local Milvus server holding ``index_dir/milvus``, started if none answers.

    Reuses the server recorded in ``milvus-lite.json`` when it is alive and answers; otherwise
    starts the engine detached on a free port of 127.0.0.1, waits until it answers (`timeout`, default
    VNSEARCH_MILVUS_LITE_TIMEOUT) and records its pid and port. Concurrent starters (the page and the
    indexer) are serialised by a lock file.
    """
    timeout = current().milvus_lite_timeout if timeout is None else timeout
    index_dir = Path(index_dir).resolve()
    index_dir.mkdir(parents=True, exist_ok=True)
    url = _live_server(index_dir, timeout=5.0)
    if url:
        return url
    try:
        with held(index_dir / LITE_LOCK, timeout, "starting the local Milvus server"):
            url = _live_server(index_dir, timeout=timeout)  # another process may have started it meanwhile
            if url:
                return url
            return _start_lite_server(index_dir, timeout)
    except (ReadOnlyIndex, PermissionError) as e:
        # a read-only copy is served by a server someone started with write access, or not at all
        raise LiteServerError(f"no local Milvus server runs for {index_dir}, and none can be started there: {e}. "
                              "Start it once with write access (python -m indexer milvus-lite), or copy the "
                              "index to a writable folder") from e


def _start_lite_server(index_dir: Path, timeout: float) -> str:
    data_dir = index_dir / LITE_DIR
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = index_dir / LITE_LOG
    binary = engine_binary()
    lib = str(binary.parent)
    env = {**os.environ, "LD_LIBRARY_PATH": lib + os.pathsep + os.environ.get("LD_LIBRARY_PATH", "")}
    for attempt in range(3):  # a free port can be taken between probing and binding
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        t0 = time.monotonic()
        with open(log_path, "ab") as logf:
            logf.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting on port {port}\n".encode())
            logf.flush()
            proc = subprocess.Popen(
                [str(binary), str(data_dir / DB_FILE), f"127.0.0.1:{port}", "ERROR"],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, cwd=str(data_dir), env=env,
                start_new_session=True, close_fds=True)  # outlives this process: other processes share it
        while True:
            rc = proc.poll()
            if rc is not None:
                tail = _log_tail(log_path)
                if ("in use" in tail.lower() or "bind" in tail.lower()) and attempt < 2:
                    break
                raise LiteServerError(f"Milvus server for {data_dir} exited with code {rc}; "
                                      f"{log_path} ends with:\n{tail}")
            if _answers(url, 1.0):
                seconds = time.monotonic() - t0
                _STARTED[str(index_dir)] = proc
                state = {"pid": proc.pid, "port": port, "url": url, "data_dir": str(data_dir),
                         "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "start_seconds": round(seconds, 2)}
                tmp = index_dir / f".{LITE_STATE}.{secrets.token_hex(3)}"
                tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
                tmp.replace(index_dir / LITE_STATE)
                log.info("local Milvus server for %s answers on %s after %.2f s", data_dir, url, seconds)
                return url
            if time.monotonic() - t0 > timeout:
                proc.kill()
                proc.wait()
                raise LiteServerError(f"local Milvus server for {data_dir} did not answer within {timeout:.0f} s; "
                                      f"{log_path} ends with:\n{_log_tail(log_path)}")
            time.sleep(0.05)
    raise LiteServerError(f"could not find a free port for the local Milvus server; see {log_path}")


def stop_lite_server(index_dir: Path | str, timeout: float = 30.0) -> bool:
    """Stop the local Milvus server of `index_dir`. True when one was running."""
    index_dir = Path(index_dir).resolve()
    if not index_dir.exists():
        return False
    with held(index_dir / LITE_LOCK, timeout, "stopping the local Milvus server"):
        info = _read_lite_state(index_dir)
        if not info:
            return False
        pid = int(info.get("pid", -1))
        stopped = False
        if _is_lite_server(pid, index_dir / LITE_DIR):
            # SIGTERM first: the engine closes its database (it ignores SIGINT); everything acknowledged
            # is in its file already, so the SIGKILL after `timeout` loses nothing.
            for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
                deadline = time.monotonic() + wait
                proc = _STARTED.get(str(index_dir))
                while time.monotonic() < deadline:
                    if proc is not None and proc.pid == pid:
                        if proc.poll() is not None:
                            break
                    elif not _pid_alive(pid):
                        break
                    time.sleep(0.05)
                else:
                    continue
                break
            stopped = True
        _STARTED.pop(str(index_dir), None)
        with contextlib.suppress(OSError):
            (index_dir / LITE_STATE).unlink()
        return stopped
