"""Updates whose cost follows the change: the size+mtime fast path before hashing, streamed hashes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import INTERVIEW_FIXTURE, LAW_FIXTURE, write

from indexer.load.base import MAX_FILE_BYTES
from indexer.pipeline import build as build_module
from indexer.pipeline import stages
from indexer.pipeline.build import build
from indexer.store import open_backend

OLD_NS = 1_600_000_000 * 10**9  # an mtime long settled (files written by a test are "too recent")


def _age(*paths: Path) -> None:
    for p in paths:
        os.utime(p, ns=(OLD_NS, OLD_NS))


@pytest.fixture
def corpus(tmp_path) -> Path:
    root = tmp_path / "corpus"
    write(root / "luat.txt", LAW_FIXTURE)
    write(root / "phong-van.txt", INTERVIEW_FIXTURE)
    write(root / "phong-van.txt.meta.json", '{"title": "Văn bản thử nghiệm: phỏng vấn"}')
    _age(*root.iterdir())
    return root


def _count_hashes(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = stages.file_hash
    monkeypatch.setattr(build_module, "file_hash", lambda p: seen.append(p.name) or real(p))
    return seen


def test_an_unchanged_file_is_not_read_again(corpus, tmp_path, monkeypatch):
    index = tmp_path / "index"
    first = build([corpus], index, model="hash", progress=False)
    assert first.files_hashed == 2
    assert set(open_backend(index).manifest["file_stamps"]) == {"luat.txt", "phong-van.txt"}
    seen = _count_hashes(monkeypatch)
    again = build([corpus], index, model="hash", progress=False, incremental=True)
    assert again.up_to_date and seen == [] and again.files_hashed == 0
    # a touched file is hashed again; same content: nothing else happens
    os.utime(corpus / "luat.txt", ns=(OLD_NS + 10**9, OLD_NS + 10**9))
    touched = build([corpus], index, model="hash", progress=False, incremental=True)
    assert seen == ["luat.txt"] and touched.up_to_date
    # a changed sidecar changes the stamp, so the document is re-read
    seen.clear()
    write(corpus / "phong-van.txt.meta.json", '{"title": "Văn bản thử nghiệm: phỏng vấn mới"}')
    _age(corpus / "phong-van.txt.meta.json")
    changed = build([corpus], index, model="hash", progress=False, incremental=True)
    assert "phong-van.txt" in seen and changed.files_indexed and not changed.up_to_date
    assert open_backend(index).document("phong-van.txt")["title"] == "Văn bản thử nghiệm: phỏng vấn mới"


def test_a_file_written_just_now_keeps_no_stamp(corpus, tmp_path):
    write(corpus / "moi.txt", LAW_FIXTURE.replace("999/2099/QH99", "998/2099/QH99"))  # mtime: now
    build([corpus], tmp_path / "index", model="hash", progress=False)
    stamps = open_backend(tmp_path / "index").manifest["file_stamps"]
    assert "moi.txt" not in stamps and "luat.txt" in stamps
    assert not stages.settled(stages.file_stamp(corpus / "moi.txt"), time.time_ns())


def test_hashing_streams_and_never_reads_a_file_whole(corpus, monkeypatch):
    import hashlib

    expected = stages.file_hash(corpus / "phong-van.txt")
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read whole"))
    monkeypatch.setattr(stages, "CHUNK", 7)
    assert stages.file_hash(corpus / "phong-van.txt") == expected
    data = (corpus / "phong-van.txt").open("rb").read() + (corpus / "phong-van.txt.meta.json").open("rb").read()
    assert expected == hashlib.sha256(data).hexdigest()


def test_a_file_over_the_size_limit_is_not_read_and_is_skipped_with_the_reason(corpus, tmp_path, monkeypatch):
    big = corpus / "qua-lon.txt"
    with big.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing is written
    reads: list[int] = []
    real_read = os.read
    monkeypatch.setattr(stages.os, "read", lambda fd, n: reads.append(n) or real_read(fd, n))
    with pytest.raises(OSError, match="over the 50 MiB limit"):
        stages.file_hash(big)
    assert reads == []  # refused on the opened file's size, before a byte was read
    report = build([corpus], tmp_path / "index", model="hash", progress=False)
    assert any(f.endswith("qua-lon.txt") and "50 MiB limit" in why for f, why in report.skipped)
