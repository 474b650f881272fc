"""Updates whose cost follows the change: the size+mtime fast path before hashing, streamed hashes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import INTERVIEW_FIXTURE, LAW_FIXTURE, write

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


# --- the embedded backend: an update writes a delta on the live base ---------------------------


def _gen(index: Path) -> Path:
    from indexer.store.embedded import current_generation

    return current_generation(index)


def _pids(s, query: str, method: str, top_k: int = 5) -> list[int]:
    return [h.pid for h in s.search(query, top_k=top_k, method=method)]


def test_an_update_writes_a_delta_on_the_base_not_a_copy(synthetic_corpus, hash_index):
    from search_app.core.searcher import Searcher

    base = _gen(hash_index)
    reader = Searcher(hash_index)
    before = reader.search("Kho thử nghiệm là nơi lưu giữ các văn bản giả định", top_k=1)[0]
    law = synthetic_corpus / "luat-thu-nghiem.txt"
    write(law, LAW_FIXTURE.replace("Kho thử nghiệm là nơi lưu giữ", "Kho thử nghiệm là kho cất giữ"))
    report = build([synthetic_corpus], hash_index, model="hash", progress=False, incremental=True)
    delta = _gen(hash_index)
    m = open_backend(hash_index).manifest
    assert m["base"] == base.name and m["hidden"] == ["luat-thu-nghiem.txt"] and m["delta_documents"] == 1
    assert (delta / "passages.sqlite").stat().st_size < (base / "passages.sqlite").stat().st_size
    assert not (delta / "bm25.json").exists() and (base / "bm25.json").exists()
    assert m["documents"] == 3 and m["passages"] == report.passages
    # the reader on the previous generation answers until it refreshes, then sees the new text only
    assert reader.search("Kho thử nghiệm là nơi lưu giữ các văn bản giả định", top_k=1)[0].pid == before.pid
    assert reader.refresh()
    for method in ("keyword", "dense", "hybrid"):
        hits = reader.search("kho cất giữ", top_k=3, method=method)
        assert all("nơi lưu giữ" not in h.text for h in hits)
    hit = reader.search("kho cất giữ", top_k=1, method="keyword")[0]
    assert hit.doc_id == "luat-thu-nghiem.txt" and "kho cất giữ" in hit.text
    assert {d["doc_id"] for d in reader.documents()} == {"luat-thu-nghiem.txt", "phong-van-thu-nghiem.txt",
                                                         "xss.html"}
    reader.close()


def test_a_delta_index_answers_as_a_full_build_of_the_same_files(synthetic_corpus, hash_index, tmp_path):
    from search_app.core.searcher import Searcher

    write(synthetic_corpus / "luat-thu-nghiem.txt", LAW_FIXTURE.replace("Đoạn ngắn", "Đoạn rất ngắn"))
    (synthetic_corpus / "xss.html").unlink()
    write(synthetic_corpus / "moi.txt", "Văn bản thử nghiệm mới\n\nĐoạn thử nghiệm mới về kiểm thử tự động.\n")
    build([synthetic_corpus], hash_index, model="hash", progress=False, incremental=True)
    assert "base" in open_backend(hash_index).manifest
    build([synthetic_corpus], tmp_path / "full", model="hash", progress=False)
    a, b = Searcher(hash_index), Searcher(tmp_path / "full")
    for name in ("documents", "passages"):
        assert a.manifest[name] == b.manifest[name]
    assert a.documents() == b.documents()
    for d in b.documents():
        assert a.doc_passages(d["doc_id"]) == b.doc_passages(d["doc_id"])
    assert a.backend.graph_rows() == b.backend.graph_rows()
    assert a.reference_list() == b.reference_list()
    for q in ("Đoạn rất ngắn", "kiểm thử tự động", "trách nhiệm của cơ quan thử nghiệm", "999-NQ/TEST"):
        for method in ("dense", "keyword", "hybrid"):
            assert _pids(a, q, method, 100) == _pids(b, q, method, 100), (q, method)
        assert a.references(q)["validity"] == b.references(q)["validity"]
    a.close()
    b.close()


DELTA_BASE = ["Văn bản thử nghiệm về quỹ đất.", "Đoạn thử nghiệm thứ hai về kiểm thử kiểm thử kiểm thử.",
              "Một đoạn khác hẳn, dài hơn hẳn các đoạn thử nghiệm khác của kho văn bản thử nghiệm giả định.",
              "Văn bản thử nghiệm bị thay: quỹ đất thử nghiệm cũ."]
DELTA_NEW = ["Đoạn thử nghiệm mới về quỹ đất và kiểm thử.", "", "Quỹ đất, quỹ đất và quỹ đất thử nghiệm."]
DELTA_QUERIES = ("quỹ đất", "kiểm thử thử nghiệm", "quy dat", "không có", "van ban thu nghiem", "đoạn")


@pytest.mark.parametrize("hidden", [(), (3,), (0, 3)])
@pytest.mark.parametrize("cached", [2_000_000, 1])
def test_the_delta_and_its_base_score_bm25_as_one_index_of_the_rows_shown(tmp_path, monkeypatch, hidden, cached):
    from indexer.store.embedded import delta as delta_module
    from indexer.store.embedded.delta import DeltaKeyword
    from indexer.store.keyword import KeywordIndex

    monkeypatch.setattr(delta_module, "CACHED_ENTRIES", cached)  # every column kept, or hardly any

    shown = [t for i, t in enumerate(DELTA_BASE) if i not in hidden]
    combined = KeywordIndex().index(shown + DELTA_NEW)  # a full build of what the generation shows
    KeywordIndex().index(DELTA_BASE).save(tmp_path)
    b = KeywordIndex.load(tmp_path)  # as a reader loads it: bm25s's stored scores, lengths beside
    d = DeltaKeyword.index(DELTA_NEW)
    visible = np.array([i not in hidden for i in range(len(DELTA_BASE))]) if hidden else None
    for q in DELTA_QUERIES * 2:  # the second time from the rescored columns kept
        want = combined.scores(q)
        base_scores, delta_scores = d.scores(q, b, visible)
        assert delta_scores == pytest.approx(want[len(shown):], abs=1e-5), q
        rows = [i for i in range(len(DELTA_BASE)) if i not in hidden]
        assert base_scores[rows] == pytest.approx(want[: len(shown)], abs=1e-5), q


def test_a_base_without_stored_lengths_still_gets_the_combined_idf(tmp_path):
    from indexer.store.embedded.delta import DeltaKeyword
    from indexer.store.keyword import LENGTHS, KeywordIndex

    KeywordIndex().index(DELTA_BASE).save(tmp_path)
    (tmp_path / LENGTHS).unlink()  # an index written before the lengths were kept
    b = KeywordIndex.load(tmp_path)
    base_scores, _ = DeltaKeyword.index(DELTA_NEW).scores("quỹ đất", b)
    alone = b.scores("quỹ đất")
    # "quỹ đất" is in 4 of the 7 passages shown, not 2 of 4: both base hits fall by the same idf ratio
    hit = alone > 0
    assert hit.sum() == 2 and np.allclose(base_scores[hit] / alone[hit], (base_scores[hit] / alone[hit])[0])
    assert (base_scores[hit] < alone[hit]).all()


def test_a_delta_past_the_threshold_is_merged_into_a_new_base(synthetic_corpus, hash_index, monkeypatch):
    from indexer.store.embedded import writer

    first = _gen(hash_index)
    write(synthetic_corpus / "moi-1.txt", "Văn bản thử nghiệm một\n\nĐoạn thử nghiệm thứ nhất.\n")
    build([synthetic_corpus], hash_index, model="hash", progress=False, incremental=True)
    assert open_backend(hash_index).manifest["base"] == first.name
    monkeypatch.setattr(writer, "MERGE_FRACTION", 0.0)
    write(synthetic_corpus / "moi-2.txt", "Văn bản thử nghiệm hai\n\nĐoạn thử nghiệm thứ hai.\n")
    build([synthetic_corpus], hash_index, model="hash", progress=False, incremental=True)
    merged = open_backend(hash_index)
    assert "base" not in merged.manifest and merged.manifest["documents"] == 5
    assert {d["doc_id"] for d in merged.documents()} >= {"moi-1.txt", "moi-2.txt"}
    assert len(merged.graph_rows()) == 5
    merged.close()
    monkeypatch.setattr(writer, "MERGE_FRACTION", 0.1)
    write(synthetic_corpus / "moi-3.txt", "Văn bản thử nghiệm ba\n\nĐoạn thử nghiệm thứ ba.\n")
    build([synthetic_corpus], hash_index, model="hash", progress=False, incremental=True)
    assert not first.exists()  # the first base is pruned once no kept generation needs it


def test_a_delta_on_an_hnsw_base_searches_both(synthetic_corpus, tmp_path):
    from search_app.core.searcher import Searcher

    index = tmp_path / "hnsw"
    build([synthetic_corpus], index, model="hash", progress=False, index_type="hnsw")
    write(synthetic_corpus / "moi.txt", "Văn bản thử nghiệm mới\n\nĐoạn thử nghiệm về kho cất giữ giả định.\n")
    build([synthetic_corpus], index, model="hash", progress=False, incremental=True)
    s = Searcher(index)
    assert s.manifest["vector_index"]["type"] == "hnsw" and s.manifest["delta_vector_index"]["type"] == "flat"
    assert s.search("kho cất giữ giả định", top_k=1, method="dense")[0].doc_id == "moi.txt"
    assert {h.doc_id for h in s.search("kiểm thử", top_k=10, method="dense")} >= {"phong-van-thu-nghiem.txt"}
    s.close()
