"""The Milvus backend on the Milvus engine, as the local mode runs it (no --milvus-uri): processes that
read while another writes, an update SIGKILLed mid-write, a server that dies mid-update, several
writers in one epoch, and what a one-file update touches. All text is visibly synthetic."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("pymilvus")
pytestmark = [pytest.mark.milvus, pytest.mark.slow]

from conftest import write  # noqa: E402

from indexer.pipeline.build import build  # noqa: E402
from indexer.store import open_backend  # noqa: E402
from indexer.store.base import BackendUnavailable, StoreConfig  # noqa: E402
from indexer.store.milvus import MilvusBackend, ShardWriter, ensure_lite_server, stop_lite_server  # noqa: E402
from indexer.store.milvus.common import LITE_STATE, is_transient  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def corpus(folder: Path, n: int, version: str, start: int = 0) -> None:
    for i in range(start, start + n):
        paras = "\n\n".join(f"Điều {k}. Quy định {k} của văn bản thử nghiệm {i}\nNội dung phiên bản {version} của "
                            f"điều {k} trong văn bản thử nghiệm số {i}, kho giả định." for k in range(1, 7))
        write(folder / f"vb-{i:03d}.txt", f"Văn bản thử nghiệm {i}\n\n{paras}\n")


def cli(*args: str, env: dict | None = None) -> list[str]:
    return [sys.executable, "-m", "indexer", *args]


@pytest.fixture
def local_index(tmp_path: Path):
    """A Milvus index in local mode (the engine started from the folder), stopped at the end."""
    index = tmp_path / "ix"
    yield index
    stop_lite_server(index)


def raw(backend: MilvusBackend, kind: str, expr: str) -> int:
    """Rows physically present in the live set, visible or not."""
    return backend.session.count(backend._live().names[kind], expr)


def test_a_second_process_reads_while_one_writes(tmp_path: Path, local_index: Path) -> None:
    corpus(tmp_path / "c", 40, "cũ")
    assert build([tmp_path / "c"], local_index, model="hash", progress=False, backend="milvus").ok
    reader = textwrap.dedent(f"""
        import json, sys, time
        from search_app.core.searcher import Searcher
        s = Searcher({str(local_index)!r})
        seen, n, t_end = set(), 0, time.monotonic() + 120
        while time.monotonic() < t_end:
            s.refresh()
            hits = s.search("phiên bản nội dung văn bản thử nghiệm", top_k=20, method="keyword")
            versions = {{v for h in hits for v in ("cũ", "mới") if f"phiên bản {{v}} " in h.text}}
            assert len(hits) == 20 and len(versions) == 1, versions  # one whole version, never a mix
            seen |= versions
            n += 1
            if "mới" in seen and n > 3:
                break
        print(json.dumps({{"seen": sorted(seen), "searches": n}}))
    """)
    proc = subprocess.Popen([sys.executable, "-c", reader], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(3)  # the reader is searching the old version
    corpus(tmp_path / "c", 40, "mới")
    up = subprocess.run(cli("update", "--index", str(local_index), "--quiet"), cwd=ROOT, capture_output=True,
                        text=True, timeout=300)
    assert up.returncode == 0, up.stderr[-2000:]
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err[-2000:]
    got = json.loads(out.strip().splitlines()[-1])
    assert got["seen"] == ["cũ", "mới"] and got["searches"] > 3  # it read through the update and saw both


def _kill_mid_write(index: Path, cmd: list[str]) -> dict:
    """Run `cmd` (an update) and SIGKILL it once it has claimed its epoch and written rows nobody sees."""
    b = open_backend(index)
    epoch, gen = b.manifest["epoch"], b.manifest["generation"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    state = None
    while proc.poll() is None and time.monotonic() < deadline:
        ptr = b._pointer()
        if ptr is not None and ptr.claimed > epoch and raw(b, "passages", f"born > {epoch}") > 0:
            proc.send_signal(signal.SIGKILL)
            state = "killed"
            break
        time.sleep(0.01)
    proc.wait(timeout=30)
    ptr = b._pointer()
    out = {"state": state, "rc": proc.returncode, "claimed": ptr.claimed, "epoch": ptr.epoch, "old_epoch": epoch,
           "unpublished_rows": raw(b, "passages", f"born > {epoch}"), "generation": ptr.generation, "old_gen": gen}
    b.close()
    return out


def test_sigkill_mid_write_keeps_the_published_index_and_the_next_update_completes(tmp_path: Path,
                                                                                 local_index: Path) -> None:
    corpus(tmp_path / "c", 150, "cũ")
    assert build([tmp_path / "c"], local_index, model="hash", progress=False, backend="milvus").ok
    corpus(tmp_path / "c", 150, "mới")
    got = _kill_mid_write(local_index, cli("update", "--index", str(local_index), "--quiet"))
    # The kill landed mid-write: the epoch was claimed, rows were written, nothing was published.
    assert got["state"] == "killed" and got["rc"] == -signal.SIGKILL, got
    assert got["claimed"] > got["epoch"] == got["old_epoch"] and got["unpublished_rows"] > 0, got
    assert got["generation"] == got["old_gen"], got
    b = open_backend(local_index)
    texts = [p["text"] for p in b.doc_passages("vb-007.txt")]
    assert texts and all("phiên bản mới " not in t for t in texts)  # the previous index answers, whole
    assert b.manifest["documents"] == 150
    b.close()
    done = subprocess.run(cli("update", "--index", str(local_index), "--quiet"), cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    b = open_backend(local_index)
    assert b.manifest["documents"] == 150 and b.manifest["epoch"] > got["claimed"]
    assert all("phiên bản mới " in p["text"] for p in b.doc_passages("vb-007.txt") if "phiên bản" in p["text"])
    # the dead writer's rows were deleted: every row present is visible or an old version awaiting collection
    assert raw(b, "passages", f"born > {b.manifest['epoch']}") == 0
    b.close()


def test_a_server_that_dies_mid_update_gives_a_clear_error_and_the_next_update_completes(
        tmp_path: Path, local_index: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from indexer import cli as indexer_cli
    from indexer.store.milvus.writer import MilvusWriter

    corpus(tmp_path / "c", 12, "cũ")
    assert build([tmp_path / "c"], local_index, model="hash", progress=False, backend="milvus").ok
    corpus(tmp_path / "c", 12, "mới")
    real_add, calls = MilvusWriter.add, []

    def add_then_kill(self, records):  # the server dies after the update has written something
        real_add(self, records)
        calls.append(records.doc.doc_id)
        if len(calls) == 3:
            self._flush()
            pid = json.loads((local_index / LITE_STATE).read_text())["pid"]
            os.kill(pid, signal.SIGKILL)
            for _ in range(200):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.02)

    monkeypatch.setattr(MilvusWriter, "add", add_then_kill)
    rc = indexer_cli.main(["update", "--index", str(local_index), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "stopped answering" in err and "not published" in err and "Traceback" not in err, err
    monkeypatch.setattr(MilvusWriter, "add", real_add)
    b = open_backend(local_index)  # the server is started again; the previous index answers
    assert b.manifest["documents"] == 12
    assert all("phiên bản cũ " in p["text"] for p in b.doc_passages("vb-001.txt") if "phiên bản" in p["text"])
    b.close()
    assert indexer_cli.main(["update", "--index", str(local_index), "--quiet"]) == 0
    b = open_backend(local_index)
    assert all("phiên bản mới " in p["text"] for p in b.doc_passages("vb-001.txt") if "phiên bản" in p["text"])
    b.close()


def test_a_one_file_update_touches_only_that_files_rows(tmp_path: Path, local_index: Path) -> None:
    corpus(tmp_path / "c", 20, "cũ")
    assert build([tmp_path / "c"], local_index, model="hash", progress=False, backend="milvus").ok
    b = open_backend(local_index)
    before = b.manifest["epoch"]
    per_file = {f"vb-{i:03d}.txt": raw(b, "passages", f'path == "vb-{i:03d}.txt"') for i in range(20)}
    b.close()
    write(tmp_path / "c" / "vb-004.txt", (tmp_path / "c" / "vb-004.txt").read_text().replace("cũ", "mới"))
    report = build([tmp_path / "c"], local_index, model="hash", progress=False, incremental=True)
    assert report.files_indexed and report.unchanged and len(report.unchanged) == 19
    b = open_backend(local_index)
    epoch = b.manifest["epoch"]
    for kind in ("passages", "documents", "sentences", "refs", "texts"):
        new_paths = {r["path"] for r in b.session.scan(b._live().names[kind], f"born > {before}", ["path"])}
        assert new_paths <= {"vb-004.txt"}, (kind, new_paths)  # rows written by the update: that file's only
    assert raw(b, "passages", f'born == {epoch} and path == "vb-004.txt"') == per_file["vb-004.txt"]
    assert raw(b, "passages", f"born == {epoch}") == per_file["vb-004.txt"]
    assert b.manifest["passages"] == sum(per_file.values())
    b.close()


def test_reads_retry_only_transient_errors(tmp_path: Path, local_index: Path, monkeypatch) -> None:
    from pymilvus import MilvusException

    assert is_transient(MilvusException(code=2, message="Fail connecting to server on 127.0.0.1:1"))
    assert is_transient(MilvusException(code=100, message="collection not found"))
    assert not is_transient(MilvusException(code=1100, message="Invalid expr: born >>> 3"))
    assert not is_transient(MilvusException(code=2000, message="unsupported expr proto node"))
    corpus(tmp_path / "c", 2, "cũ")
    assert build([tmp_path / "c"], local_index, model="hash", progress=False, backend="milvus").ok
    b = open_backend(local_index)
    recovered = []
    monkeypatch.setattr(b.published, "recover", lambda: recovered.append(1))
    with pytest.raises(MilvusException):  # a permanent error: raised at once, no reconnect, no retry
        b.published.read(lambda v: b.session.client.query(v.names["passages"], filter="born >>> 3",
                                                          output_fields=["pid"]))
    assert recovered == []
    calls = []

    def flaky(v):
        calls.append(1)
        if len(calls) == 1:
            raise MilvusException(code=2, message="Fail connecting to server")
        return "ok"

    assert b.published.read(flaky) == "ok" and recovered == [1] and len(calls) == 2
    b.close()


def test_a_uri_where_no_server_answers_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailable, match="no Milvus server answers"):
        MilvusBackend.create(tmp_path / "x", StoreConfig("milvus", "http://127.0.0.1:9"))


_SHARD = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {tests!r})
    from test_milvus_backend import records
    from indexer.store.milvus import ShardWriter
    spec = json.loads(sys.argv[1])
    w = ShardWriter(spec)
    for i in range(int(sys.argv[2]), int(sys.argv[3])):
        w.add(records(f"p{{i}}", f"Văn bản thử nghiệm song song số {{i}} có từ khóa songsong.", f"p{{i}}.txt"))
    print(json.dumps(w.close()))
""")


def test_several_writers_in_one_epoch_publish_once(tmp_path: Path) -> None:
    from test_milvus_backend import EMB, records

    home = tmp_path / "srv"
    url = ensure_lite_server(home)
    try:
        b = MilvusBackend.create(tmp_path / "ix", StoreConfig("milvus", url))
        w = b.begin(full=True)
        w.add(records("main", "Văn bản thử nghiệm của người ghi chính có từ khóa songsong.", "main.txt"))
        specs = w.shard_specs(2, EMB.dimension)
        script = _SHARD.format(tests=str(Path(__file__).parent))
        procs = [subprocess.Popen([sys.executable, "-c", script, json.dumps(spec), str(a), str(a + 5)], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for spec, a in zip(specs, (0, 5), strict=True)]
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err[-2000:]
            w.absorb(json.loads(out.strip().splitlines()[-1]))
        assert b.refresh() is False and b.manifest == {}  # nothing visible before the one publish
        w.publish({"model": "hash", "dimension": EMB.dimension})
        assert b.refresh()
        assert b.manifest["documents"] == 11
        assert sorted(d["doc_id"] for d in b.documents()) == sorted(["main", *(f"p{i}" for i in range(10))])
        rids = [r["rid"] for r in b.session.scan(b._live().names["passages"], "born >= 0", ["rid"])]
        assert len(rids) == len(set(rids)) == b.manifest["passages"]  # no row id shared between writers
        assert {r >> 27 & 31 for r in rids} == {0, 1, 2}
        assert len(b.keyword("songsong", 20)) == 11
        with pytest.raises(ValueError, match="two writers"):
            w2 = b.begin(full=False)
            try:
                w2.add(records("p1", "Văn bản thử nghiệm trùng.", "x.txt"))
                w2.absorb({"added": {"p1": ["y.txt", 1]}, "hidden": []})
            finally:
                w2.abort()
        b.close()
        assert ShardWriter  # exported for other processes (Ray workers)
    finally:
        stop_lite_server(home)


@pytest.mark.parametrize("wanted", ["auto", "hnsw"])
def test_the_local_engine_keeps_an_exact_index_past_flat_max(tmp_path: Path, local_index: Path, monkeypatch,
                                                             wanted: str) -> None:
    """The local engine refuses HNSW ("local mode only support FLAT IVF_FLAT AUTOINDEX"): a build past
    FLAT_MAX passages (here lowered to 5) must still publish, with the exact index, and answer."""
    from search_app.core.searcher import Searcher

    monkeypatch.setattr("indexer.store.milvus.writer.FLAT_MAX", 5)
    corpus(tmp_path / "c", 2, "một")
    report = build([tmp_path / "c"], local_index, model="hash", progress=False, backend="milvus", index_type=wanted)
    assert report.ok and report.passages > 5, report.summary()
    s = Searcher(local_index)
    try:
        assert s.manifest["vector_index"]["type"] == "flat"
        hits = s.search("Nội dung phiên bản một của điều 3 trong văn bản thử nghiệm số 1", top_k=3)
        assert hits and hits[0].doc_id == "vb-001.txt"
    finally:
        s.close()
