"""No interleaving of writers loses a change (issue 19 item 2), on the embedded backend.

Update A is stopped (SIGSTOP) after it planned and began writing; a file is added; update B must
refuse clearly (short timeout) or wait (long one), and so must an upload from the page; after
SIGCONT every change is in the index: A's files, the file added while A was stopped, the upload.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from helpers import LAW_FIXTURE, ROOT, write

from indexer.pipeline.build import build
from indexer.store import open_backend

pytestmark = pytest.mark.slow


def _cmd(corpus, index):
    return [sys.executable, "-m", "indexer", "update", str(corpus), "--index", str(index), "--model", "hash",
            "--quiet"]


def _wait_for(pred, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_a_stopped_update_never_loses_a_concurrent_change(synthetic_corpus, tmp_path):
    from search_app.page.uploads import UploadPolicy, add_and_index

    corpus, index = synthetic_corpus, tmp_path / "index"
    assert build([corpus], index, model="hash", progress=False).ok
    for i in range(150):  # A's change: enough files that A is still writing when it is stopped
        write(corpus / "dot-a" / f"luat-{i:03d}.txt", LAW_FIXTURE.replace("999/2099/QH99", f"{i}/2099/QH99")
              + f"\nĐiều 9. Điều riêng {i}\nNội dung riêng của văn bản thử nghiệm {i}.\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    a = subprocess.Popen(_cmd(corpus, index), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    b = None
    try:
        _wait_for(lambda: any(index.glob(".tmp-gen-*")) or a.poll() is not None, 120, "A to begin writing")
        a.send_signal(signal.SIGSTOP)
        assert a.poll() is None, "A finished before it could be stopped: make its change bigger"
        write(corpus / "them-khi-a-dung.txt", "Văn bản thử nghiệm thêm khi cập nhật A đang dừng.")

        # B with a short wait: it refuses, clearly, and publishes nothing
        refused = subprocess.run(_cmd(corpus, index), cwd=ROOT, env={**env, "VNSEARCH_WRITER_TIMEOUT": "1"},
                                 capture_output=True, text=True, timeout=120, check=False)
        assert refused.returncode == 3, refused.stderr
        assert "another process is writing the index" in refused.stderr and "Traceback" not in refused.stderr

        # B with a long wait, and an upload from the page: both wait for A
        b = subprocess.Popen(_cmd(corpus, index), cwd=ROOT, env={**env, "VNSEARCH_WRITER_TIMEOUT": "300"},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        upload: dict = {}

        def do_upload() -> None:
            try:
                upload["path"], upload["report"] = add_and_index(
                    "tai-len.txt", "Văn bản thử nghiệm tải lên khi A đang dừng.".encode(), corpus, index,
                    [str(corpus)], "hash", policy=UploadPolicy(True), audit_log=tmp_path / "audit.jsonl")
            except BaseException as e:  # noqa: BLE001 - reported by the assertion below
                upload["error"] = e

        t = threading.Thread(target=do_upload)
        t.start()
        time.sleep(2)
        assert b.poll() is None and t.is_alive(), "B and the upload must wait while A holds the writer lock"
    finally:
        a.send_signal(signal.SIGCONT)
    assert a.wait(timeout=300) == 0, a.stderr.read()
    assert b.wait(timeout=300) == 0, b.stderr.read()
    t.join(timeout=300)
    assert "error" not in upload, upload.get("error")

    backend = open_backend(index)
    try:
        paths = {d["path"] for d in backend.documents()}
        files = set(backend.manifest["files"])
    finally:
        backend.close()
    wanted = {"dot-a/luat-000.txt", "dot-a/luat-149.txt", "them-khi-a-dung.txt", "uploads/tai-len.txt",
              "luat-thu-nghiem.txt"}
    assert wanted <= paths, wanted - paths
    assert wanted <= files
    assert not list(index.glob(".tmp-gen-*"))
