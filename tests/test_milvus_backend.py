"""The Milvus backend used directly (no pipeline), against one local Milvus server for the module: the
Milvus engine (segcore, knowhere) that milvus-lite 2.5.1 ships, reached by URI as a standalone server.

Each test writes its own index folder whose config points at the module's server (``uri`` = its
URL, a collection prefix of its own), so tests never see each other's collections; the local path
proper (``uri: null``: the server found or started from the folder) has tests of its own. All text
is visibly synthetic ("Văn bản thử nghiệm", numbers like 999-NQ/TEST).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
import unicodedata
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytestmark = [pytest.mark.milvus, pytest.mark.slow]
pytest.importorskip("pymilvus")

from milvus_records import file_records  # noqa: E402

from indexer.embed.hashing import HashEmbedder  # noqa: E402
from indexer.records import Document, DocumentRecords, Filters, PageSpan, passage_id  # noqa: E402
from indexer.split import split_document  # noqa: E402
from indexer.store import open_backend  # noqa: E402
from indexer.store.base import StoreConfig  # noqa: E402
from indexer.store.keyword import KeywordIndex  # noqa: E402
from indexer.store.milvus import MilvusBackend, ensure_lite_server, stop_lite_server  # noqa: E402
from indexer.store.milvus.common import LITE_STATE  # noqa: E402
from indexer.store.milvus.expressions import filter_expr, keyword_field, lit  # noqa: E402
from indexer.text.docnumbers import number_key  # noqa: E402
from indexer.text.references import find_references  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EMB = HashEmbedder(64)

LAW = """Điều 1. Phạm vi điều chỉnh
Văn bản thử nghiệm này quy định về quy hoạch vùng thử nghiệm trong kho dữ liệu giả định.
Điều 2. Trách nhiệm
Cơ quan thử nghiệm có trách nhiệm thực hiện Nghị quyết số 999-NQ/TEST và Quyết định số 9999/QĐ-TEST.
Điều 3. Hiệu lực
Văn bản thử nghiệm có hiệu lực kể từ ngày ký ban hành giả định."""

INTERVIEW = """BBT: Xin cho biết kho văn bản thử nghiệm dùng để làm gì?
Nhân vật giả định: Kho giúp kiểm tra việc tách đoạn và việc trích dẫn Nghị quyết số 999-NQ/TEST.
BBT: Xin cảm ơn nhân vật giả định!"""


_SENTENCE = re.compile(r"[^.!?;\n]*\w[^.!?;\n]*[.!?;]?")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """A simple stand-in for indexer/text/sentences.py: pieces ending at . ! ? ; or a line break, trimmed."""
    out = []
    for m in _SENTENCE.finditer(text):
        s, e = m.span()
        while text[s].isspace():
            s += 1
        out.append((s, e))
    return out


def records(doc_id: str, text: str, path: str, title: str = "Văn bản thử nghiệm", number: str | None = None,
            doc_type: str | None = None, issuer: str | None = None, date: str | None = None,
            extra: dict | None = None, pages: list[PageSpan] | None = None,
            sentences: bool = True) -> DocumentRecords:
    """A document as the pipeline hands it over: split, embedded (hash embedder), references found,
    and (unless `sentences` is False: an older caller) its sentences with their vectors."""
    doc = Document(doc_id=doc_id, title=title, text=text, path=path, doc_number=number, doc_type=doc_type,
                   issuer=issuer, date=date, extra=extra or {}, pages=pages or [], source="Trang thử nghiệm",
                   file_hash=hashlib.sha256(text.encode()).hexdigest())
    ps = split_document(doc_id, text, pages=pages)
    keys = [(number_key(number), number)] if number else []
    own = {k for k, _ in keys}
    texts = ["\n".join([x for x in (title, " › ".join(p.section)) if x] + [p.text]) for p in ps]
    spans = [sentence_spans(p.text) for p in ps] if sentences else []
    stexts = [p.text[s:e] for p, sp in zip(ps, spans, strict=False) for s, e in sp]
    return DocumentRecords(
        doc=doc, passages=ps, pids=[passage_id(doc_id, p.ordinal) for p in ps], embed_texts=texts,
        embed_hashes=[hashlib.sha256(f"hash\0{t}".encode()).hexdigest() for t in texts],
        vectors=EMB.embed_passages(texts), refs=[[r for r in find_references(p.text) if r.key not in own] for p in ps],
        keys=keys, sentences=spans,
        sentence_hashes=[hashlib.sha256(f"hash\0sentence\0{t}".encode()).hexdigest() for t in stexts],
        sentence_vectors=EMB.embed_passages(stexts) if stexts else None)


QUERY = EMB.embed_query("Câu hỏi thử nghiệm về kho văn bản giả định")


def assert_sentences(backend: MilvusBackend, rec: DocumentRecords) -> None:
    """`backend.sentences` gives back exactly the spans and vectors `rec` was written with, and
    `backend.sentence_scores` the same spans with those vectors' inner products with a query."""
    got = backend.sentences(rec.pids)
    scored = backend.sentence_scores(QUERY, rec.pids)
    assert set(got) == set(scored) == {pid for pid, spans in zip(rec.pids, rec.sentences, strict=True) if spans}
    j = 0
    for pid, spans in zip(rec.pids, rec.sentences, strict=True):
        if not spans:
            continue
        got_spans, got_vecs = got[pid]
        assert got_spans.dtype.kind == "i" and got_vecs.dtype == np.float32
        np.testing.assert_array_equal(got_spans, np.array(spans).reshape(-1, 2))
        np.testing.assert_array_equal(got_vecs, rec.sentence_vectors[j : j + len(spans)])
        score_spans, scores = scored[pid]
        assert score_spans.dtype.kind == "i" and scores.dtype == np.float32 and scores.shape == (len(spans),)
        np.testing.assert_array_equal(score_spans, got_spans)
        np.testing.assert_allclose(scores, got_vecs @ QUERY, atol=1e-4, rtol=0)
        j += len(spans)


def publish(backend: MilvusBackend, recs: list[DocumentRecords], full: bool = True,
            delete: tuple[str, ...] = ()) -> None:
    w = backend.begin(full=full)
    for path in delete:
        w.delete_file(path)
    for r in recs:
        if not full:
            w.delete_file(r.doc.path)
        w.add(r)
    w.publish({"model": "hash", "dimension": EMB.dimension, "files": {r.doc.path: r.doc.file_hash for r in recs}})
    backend.refresh()
    assert_counts(backend)


def assert_counts(backend: MilvusBackend) -> None:
    """The manifest's counts (kept incrementally) are what a reader really sees."""
    view = backend._live()
    assert backend.manifest["documents"] == backend.session.count(view.names["documents"], view.vis)
    assert backend.manifest["passages"] == backend.session.count(view.names["passages"], view.vis)
    # every visible passage's sentences once: no stale or duplicate sentence rows are visible
    visible = list(backend.session.scan(view.names["sentences"], view.vis, ["pid", "k"]))
    assert len(visible) == len({(r["pid"], r["k"]) for r in visible})
    passages = backend.session.scan(view.names["passages"], view.vis, ["pid"])
    assert {r["pid"] for r in visible} <= {r["pid"] for r in passages}


def raw_count(backend: MilvusBackend, kind: str, expr: str = "born >= 0") -> int:
    """Rows physically present in a collection of the live set, visible or not."""
    return backend.session.count(backend._live().names[kind], expr)


@pytest.fixture(scope="module")
def lite(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("lite")
    t0 = time.monotonic()
    url = ensure_lite_server(folder)
    yield SimpleNamespace(dir=folder, url=url, start_seconds=time.monotonic() - t0)
    assert stop_lite_server(folder)


@pytest.fixture
def make(tmp_path: Path, lite: SimpleNamespace):
    """Backends on the module's server, each in a folder (and under a collection prefix) of its own."""
    opened: list[MilvusBackend] = []

    def _make(name: str = "index") -> MilvusBackend:
        backend = MilvusBackend.create(tmp_path / name, StoreConfig("milvus", lite.url))
        opened.append(backend)
        return backend

    yield _make
    for b in opened:
        b.close()


def corpus() -> list[DocumentRecords]:
    # > 65,535 bytes: a VARCHAR cannot hold it (paragraphs of 15 sentences: the splitter is quick on those)
    long_text = "\n".join(" ".join(f"Đoạn thử nghiệm số {i}.{j}: kho văn bản giả định ghi nhận nội dung thử nghiệm."
                                   for j in range(15)) for i in range(60))
    return [
        records("luat-999", LAW, "luat.txt", title="Luật thử nghiệm tra cứu", number="998-NQ/TEST",
                doc_type="Nghị quyết", issuer="Ban thử nghiệm", date="2099-01-02", extra={"url": "giả định"},
                pages=[PageSpan(0, 100, 1), PageSpan(100, len(LAW), 2)]),
        records("phong-van", INTERVIEW, "phong-van.txt", title="Phỏng vấn thử nghiệm", doc_type="Phỏng vấn",
                date="2098-03-04"),
        records("dai", long_text, "dai.txt", title="Văn bản thử nghiệm dài", doc_type="Báo cáo"),
    ]


# --- the Lite server ----------------------------------------------------------------------------


def test_lite_server_is_reused_started_and_stopped(lite: SimpleNamespace, tmp_path: Path) -> None:
    assert lite.start_seconds < 30
    t0 = time.monotonic()
    assert ensure_lite_server(lite.dir) == lite.url  # recorded, alive, answering: reused
    assert time.monotonic() - t0 < 5
    info = json.loads((lite.dir / LITE_STATE).read_text())
    assert info["url"] == lite.url and info["pid"] > 0

    other = tmp_path / "other"
    url = ensure_lite_server(other)
    assert url != lite.url and (other / "milvus").is_dir() and (other / "milvus-lite.log").exists()
    pid = json.loads((other / LITE_STATE).read_text())["pid"]
    assert stop_lite_server(other)
    assert not (other / LITE_STATE).exists()
    assert not stop_lite_server(other)
    with pytest.raises(ProcessLookupError):
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.05)


def test_two_processes_share_a_lite_index(lite: SimpleNamespace) -> None:
    """uri null: the index lives in the folder; a second process finds the same server and data."""
    backend = MilvusBackend.create(lite.dir, StoreConfig("milvus", None))
    try:
        assert backend.session.url == lite.url
        config = json.loads((lite.dir / "backend.json").read_text())
        assert config["backend"] == "milvus" and config["uri"] is None and config["prefix"].startswith("vn_")
        publish(backend, corpus()[:2])
        script = textwrap.dedent(f"""
            import json
            from indexer.store import open_backend
            b = open_backend({str(lite.dir)!r})
            print(json.dumps({{"url": b.session.url, "docs": [d["doc_id"] for d in b.documents()],
                               "hit": list(b.keyword("quy hoach vung thu nghiem", 1)),
                               "generation": b.manifest["generation"]}}))
        """)
        out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        got = json.loads(out.stdout.strip().splitlines()[-1])
        assert got["url"] == lite.url
        assert got["docs"] == ["luat-999", "phong-van"]
        assert got["hit"] == list(backend.keyword("quy hoach vung thu nghiem", 1))
        assert got["generation"] == backend.manifest["generation"]
        assert open_backend(lite.dir).manifest["backend"] == "milvus"
    finally:
        backend.close()


# --- write, read back ---------------------------------------------------------------------------


def test_write_and_read_back(make) -> None:
    b = make()
    assert b.manifest == {}
    recs = corpus()
    publish(b, recs)
    m = b.manifest
    assert m["backend"] == "milvus" and m["model"] == "hash" and m["documents"] == 3
    assert m["passages"] == sum(len(r.passages) for r in recs) and m["generation"] and "uri" in m
    assert m["vector_index"]["type"] == "flat"

    docs = b.documents()
    assert [d["doc_id"] for d in docs] == ["dai", "luat-999", "phong-van"]
    law = next(d for d in docs if d["doc_id"] == "luat-999")
    assert law == {"doc_id": "luat-999", "title": "Luật thử nghiệm tra cứu", "doc_number": "998-NQ/TEST",
                   "doc_type": "Nghị quyết", "issuer": "Ban thử nghiệm", "date": "2099-01-02",
                   "source": "Trang thử nghiệm", "file_hash": recs[0].doc.file_hash, "extra": {"url": "giả định"},
                   "pages": [[0, 100, 1], [100, len(LAW), 2]], "path": "luat.txt"}
    long_doc = b.document("dai", with_text=True)
    assert len(long_doc["text"].encode()) > 65_535 and long_doc["text"] == recs[2].doc.text
    assert "text" not in b.document("dai") and b.document("nope") is None

    law_rec = recs[0]
    pids = list(reversed(law_rec.pids)) + [12345]
    rows = b.passages(pids)
    assert [r["pid"] for r in rows] == list(reversed(law_rec.pids))  # requested order, unknown pid left out
    p0 = law_rec.passages[0]
    first = rows[-1]
    assert set(first) == {"pid", "doc_id", "ordinal", "start", "end", "section", "page", "text"}
    assert (first["doc_id"], first["ordinal"], first["start"], first["end"], first["section"], first["text"]) == \
        ("luat-999", 0, p0.start, p0.end, p0.section, p0.text)
    assert first["page"] == p0.page == 1
    assert [r["ordinal"] for r in b.doc_passages("luat-999")] == list(range(len(law_rec.passages)))
    assert [r["ordinal"] for r in b.neighbours("luat-999", 1, 1)] == [0, 1, 2]

    citing = [pid for pid, refs in zip(law_rec.pids, law_rec.refs, strict=True) if refs]
    refs = b.refs_of(citing + [law_rec.pids[0]])
    assert [r["key"] for r in refs[citing[0]]] == ["999-NQ/TEST", "9999/QD-TEST"]
    assert set(refs[citing[0]][0]) == {"pid", "doc_id", "key", "label", "kind", "start", "end"}
    assert refs[law_rec.pids[0]] == []
    interview_pid = next(p for p, r in zip(recs[1].pids, recs[1].refs, strict=True) if r)
    assert b.pids_citing("999-NQ/TEST") == sorted([citing[0], interview_pid])
    assert b.docs_with_key("998-NQ/TEST") == ["luat-999"]
    assert b.key_label("998-NQ/TEST") == "998-NQ/TEST" and b.key_label("999-NQ/TEST") == "999-NQ/TEST"
    assert b.key_label("1-NQ/NONE") is None
    counts = b.reference_counts()
    assert counts[0] == {"key": "999-NQ/TEST", "label": "999-NQ/TEST", "citing_passages": 2, "citing_documents": 2,
                         "doc_ids": []}
    assert {"key": "998-NQ/TEST", "label": "998-NQ/TEST", "citing_passages": 0, "citing_documents": 0,
            "doc_ids": ["luat-999"]} in counts  # indexed, cited by nobody
    assert counts == sorted(counts, key=lambda x: (-x["citing_passages"], x["key"]))

    back = file_records(b, "luat.txt")
    assert len(back) == 1
    got, want = back[0], law_rec
    assert got.doc == want.doc and got.passages == want.passages and got.pids == want.pids
    assert got.embed_texts == want.embed_texts and got.embed_hashes == want.embed_hashes
    assert got.refs == want.refs and got.keys == want.keys
    np.testing.assert_allclose(got.vectors, want.vectors, atol=1e-6)

    cache = b.cached_vectors([*want.embed_hashes, "0" * 64])
    assert set(cache) == set(want.embed_hashes)
    np.testing.assert_allclose(cache[want.embed_hashes[1]], want.vectors[1], atol=1e-6)


# --- retrieval ----------------------------------------------------------------------------------


def test_dense_and_keyword_retrieval(make) -> None:
    b = make()
    recs = corpus()
    publish(b, recs)
    target = recs[0].pids[0]  # "quy hoạch vùng thử nghiệm"
    dense = b.dense(EMB.embed_query("quy hoạch vùng thử nghiệm trong kho dữ liệu"), 3)
    assert next(iter(dense)) == target and len(dense) == 3
    assert all(-1.0 <= s <= 1.0 + 1e-6 for s in dense.values())
    for q in ("quy hoạch vùng thử nghiệm", "quy hoach vung thu nghiem", "QUY HOẠCH VÙNG"):
        hits = b.keyword(q, 5)
        assert max(hits, key=hits.get) == target, q
    accented, plain = b.keyword("quy hoạch vùng", 5)[target], b.keyword("quy hoach vung", 5)[target]
    assert accented > plain > 0  # the exact field adds to the folded one
    citing = {p for r in recs for p, refs in zip(r.pids, r.refs, strict=True) if any(x.key == "999-NQ/TEST"
                                                                                     for x in refs)}
    for q in ("999-NQ/TEST", "so 999-nq/test"):
        assert set(b.keyword(q, 2)) == citing, q
    assert b.keyword("từkhôngcótrongkho", 5) == {} and b.keyword("   ", 5) == {}

    # Scores are the embedded backend's (bm25s, k1=1.2, b=0.75) on the same texts.
    texts = [t for r in recs for t in r.embed_texts]
    pids = [p for r in recs for p in r.pids]
    expected = KeywordIndex().index(texts)
    for q in ("quy hoạch vùng", "kho văn bản thử nghiệm", "999-NQ/TEST", "doan thu nghiem so 7"):
        want = expected.scores(q)
        got = b.keyword(q, 10)
        assert len(got) == min(10, int((want > 0).sum())), q
        for pid, score in got.items():
            assert score == pytest.approx(float(want[pids.index(pid)]), rel=1e-4), (q, pid)


def test_keyword_ranking_agrees_with_bm25s(make) -> None:
    """A random synthetic corpus: Milvus's BM25 over the mapped tokens ranks like KeywordIndex."""
    rnd = random.Random(5)
    words = re.findall(r"\w+", "quy hoạch vùng thử nghiệm văn bản giả định cơ quan trách nhiệm phát triển kinh tế "
                               "xã hội đảng bộ tỉnh cán bộ đoàn kết đổi mới sáng tạo khoa học công nghệ giáo dục "
                               "đào tạo môi trường đất đai")
    weights = [1 / (i + 1) ** 0.8 for i in range(len(words))]

    def sentence() -> str:
        return " ".join(rnd.choices(words, weights=weights, k=rnd.randint(6, 18))).capitalize() + "."

    recs = []
    for i in range(40):
        body = "\n".join(f"Điều {a}. {sentence()}\n{sentence()} {sentence()}"
                         + (f" Theo Nghị quyết số {rnd.randint(1, 9)}-NQ/TEST." if rnd.random() < 0.3 else "")
                         for a in range(1, rnd.randint(2, 5)))
        recs.append(records(f"d{i}", body, f"d{i}.txt", title=f"Văn bản thử nghiệm {i}"))
    b = make()
    publish(b, recs)
    texts = [t for r in recs for t in r.embed_texts]
    pids = [p for r in recs for p in r.pids]
    expected = KeywordIndex().index(texts)
    queries = [" ".join(rnd.choices(words, k=rnd.randint(1, 4))) for _ in range(12)]
    queries += ["quy hoach vung", "nghi quyet 3-NQ/TEST", "đổi mới sáng tạo"]
    for q in queries:
        want = expected.scores(q)
        got = b.keyword(q, 10)
        ranked = sorted((float(s), p) for p, s in zip(pids, want, strict=True) if s > 0)[::-1][:10]
        assert len(got) == len(ranked), q
        # Same scores, hence the same ranking (up to ties).
        assert sorted(got.values(), reverse=True) == pytest.approx([s for s, _ in ranked], rel=1e-4), q
        for pid, score in got.items():
            assert score == pytest.approx(float(want[pids.index(pid)]), rel=1e-4), q


def test_keyword_tokens_survive_the_standard_analyzer() -> None:
    # the engine's analyzer splits on "_" too: pieces are joined by a letter (JOINER)
    assert keyword_field(["#57-NQ/TW"]) == "ǂ57ǂnqǂtw"
    assert keyword_field(["quy_hoạch", "Đổi"]) == "quyǂhoạch đổi"
    nfd = unicodedata.normalize("NFD", "Hoạch")  # tone and vowel marks as combining characters
    assert keyword_field([nfd]) == keyword_field(["hoạch"]) == "hoạch"
    assert keyword_field(["a b"]) == "ab"  # a token never splits into two
    assert keyword_field(["ab"] * 40_000, limit=100).count("ab") == 33


# --- filters ------------------------------------------------------------------------------------


def test_filters_inside_the_search_with_hostile_values(make) -> None:
    hostile_type = 'Nghị quyết "đặc biệt" \\ thử'
    hostile_issuer = 'Ban thử nghiệm\\" or born >= 0 or issuer == "'
    hostile_id = 'văn-bản"\\x'
    text = "Văn bản thử nghiệm về quy hoạch vùng giả định số {}."
    recs = [
        records("a", text.format(1), "a.txt", doc_type=hostile_type, issuer="Ban thử nghiệm", date="2001-05-06"),
        records("b", text.format(2), "b.txt", doc_type="Phỏng vấn", issuer=hostile_issuer, date="2010-01-01"),
        records(hostile_id, text.format(3), "c'\\\".txt", doc_type="Phỏng vấn", issuer="Ban thử nghiệm"),
    ]
    b = make()
    publish(b, recs)
    pid = {r.doc.doc_id: r.pids[0] for r in recs}
    q_vec = EMB.embed_query("quy hoạch vùng giả định")

    def both(f: Filters) -> set[str]:
        dense, kw = set(b.dense(q_vec, 10, f)), set(b.keyword("quy hoach vung", 10, f))
        assert dense == kw, f
        return {d for d, p in pid.items() if p in dense}

    assert both(Filters()) == {"a", "b", hostile_id}
    assert both(Filters(type={hostile_type})) == {"a"}
    assert both(Filters(type={"Phỏng vấn"})) == {"b", hostile_id}
    assert both(Filters(issuer={hostile_issuer})) == {"b"}  # an injection attempt is only a string
    assert both(Filters(issuer={'" or 1 == 1 or issuer == "'})) == set()
    assert both(Filters(doc={hostile_id})) == {hostile_id}
    assert both(Filters(year_from=2005)) == {"b"}
    assert both(Filters(year_to=2005)) == {"a"}  # undated documents are out of any year range
    assert both(Filters(year_from=2001, year_to=2010, type={"Phỏng vấn"})) == {"b"}
    assert both(Filters(type=set())) == {"a", "b", hostile_id}  # an empty set is no filter
    assert b.document(hostile_id)["path"] == "c'\\\".txt"
    assert [r["doc_id"] for r in b.doc_passages(hostile_id)] == [hostile_id]
    assert file_records(b, "c'\\\".txt")[0].doc.doc_id == hostile_id
    assert lit('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    assert filter_expr(None) == "" and filter_expr(Filters(year_from=2000)) == "year >= 2000"


# --- updates ------------------------------------------------------------------------------------


@pytest.fixture
def lazy_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replaced rows wait for the next writer whatever their share (in these tiny indexes any
    replacement is past HIDDEN_GC_SHARE, which would collect them at publish)."""
    import indexer.store.milvus as milvus

    monkeypatch.setattr(milvus.writer, "HIDDEN_GC_SHARE", 1.0)


def test_update_adds_changes_and_deletes_files(make, lite: SimpleNamespace, lazy_collection: None) -> None:
    b = make()
    a = records("a", "Văn bản thử nghiệm thứ nhất về kho dữ liệu giả định.", "a.txt")
    bb = records("b", "Văn bản thử nghiệm thứ hai, phiên bản cũ giả định.", "b.txt")
    c = records("c", "Văn bản thử nghiệm thứ ba sẽ bị xóa khỏi kho giả định.", "c.txt")
    publish(b, [a, bb, c])
    gen1 = b.manifest["generation"]
    reader = MilvusBackend.open(b.index_dir, StoreConfig.read(b.index_dir))
    try:
        assert reader.manifest["generation"] == gen1
        b2 = records("b", "Văn bản thử nghiệm thứ hai, phiên bản mới có từ khóa xanhlam.", "b.txt")
        d = records("d", "Văn bản thử nghiệm thứ tư mới thêm có từ khóa tímbiếc.", "d.txt")
        w = b.begin(full=False)
        w.delete_file("b.txt")
        w.add(b2)
        w.delete_file("c.txt")
        w.add(d)
        w._flush()  # rows are in Milvus, not published yet
        for view in (reader, b):  # a search during the update sees the old version whole
            assert [x["doc_id"] for x in view.documents()] == ["a", "b", "c"]
            assert view.keyword("xanhlam", 5) == {} and view.keyword("tímbiếc", 5) == {}
            assert view.passages(bb.pids)[0]["text"] == bb.passages[0].text
            assert set(view.dense(EMB.embed_query("thứ tư mới thêm"), 10)) == {*a.pids, *bb.pids, *c.pids}
            assert_sentences(view, bb)  # the old sentences of b, not yet the new ones
            assert view.sentences(d.pids) == {} and set(view.sentences(c.pids)) == set(c.pids)
        assert reader.refresh() is False
        w.publish({"model": "hash", "dimension": EMB.dimension})
        w.publish({"model": "ignored"})  # idempotent

        assert [x["doc_id"] for x in reader.documents()] == ["a", "b", "c"]  # until it refreshes
        assert reader.refresh() is True and reader.refresh() is False
        for view in (reader, b):
            view.refresh()
            assert view.manifest["generation"] != gen1 and view.manifest["model"] == "hash"
            assert (view.manifest["documents"], view.manifest["passages"]) == (3, 3)
            assert_counts(view)
            assert [x["doc_id"] for x in view.documents()] == ["a", "b", "d"]
            assert view.passages(c.pids) == [] and view.document("c") is None
            assert view.passages(b2.pids)[0]["text"] == b2.passages[0].text
            assert set(view.keyword("xanhlam", 5)) == set(b2.pids) and set(view.keyword("timbiec", 5)) == set(d.pids)
            assert view.keyword("cũ", 5) == {}  # the old version of b is gone
            assert set(view.cached_vectors(a.embed_hashes + c.embed_hashes)) == set(a.embed_hashes)
            for rec in (a, b2, d):
                assert_sentences(view, rec)
            assert view.sentences(c.pids) == {}
            assert set(view.cached_vectors(bb.sentence_hashes + b2.sentence_hashes)) == set(b2.sentence_hashes)
        # The replaced rows are still there (invisible) for readers one version behind...
        n_sent = sum(len(r.sentence_hashes) for r in (a, bb, c, b2, d))
        assert raw_count(b, "passages") == 5 and raw_count(b, "sentences") == n_sent
        # ...until the next writer starts: it collects them.
        w = b.begin(full=False)
        assert raw_count(b, "passages") == 3 and raw_count(b, "documents") == 3 and raw_count(b, "texts") == 3
        assert raw_count(b, "sentences") == len(a.sentence_hashes) + len(b2.sentence_hashes) + len(d.sentence_hashes)
        w.abort()
        assert [x["doc_id"] for x in b.documents()] == ["a", "b", "d"]
    finally:
        reader.close()


def test_a_killed_writer_leaves_the_index_as_it_was(make) -> None:
    b = make()
    a = records("a", "Văn bản thử nghiệm ổn định trong kho giả định.", "a.txt")
    publish(b, [a])
    gen = b.manifest["generation"]
    epoch = b.manifest["epoch"]
    script = textwrap.dedent(f"""
        import json, os, signal, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_milvus_backend import records
        from indexer.store.base import StoreConfig
        from indexer.store.milvus import MilvusBackend
        backend = MilvusBackend.create({str(b.index_dir)!r}, StoreConfig.read({str(b.index_dir)!r}))
        w = backend.begin(full=False)
        w.delete_file("a.txt")
        w.add(records("e", "Văn bản thử nghiệm dở dang có từ khóa đỏthẫm.", "e.txt"))
        w._flush()
        os.kill(os.getpid(), signal.SIGKILL)  # a crash after writing, before publishing
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == -signal.SIGKILL, out.stderr
    assert raw_count(b, "passages", f"born > {epoch}") > 0  # its rows are there, invisible
    assert raw_count(b, "sentences", f"born > {epoch}") > 0
    e_pids = records("e", "Văn bản thử nghiệm dở dang có từ khóa đỏthẫm.", "e.txt").pids
    assert b.refresh() is False and b.manifest["generation"] == gen
    assert b.sentences(e_pids) == {} and set(b.sentences(a.pids)) == set(a.pids)
    assert [x["doc_id"] for x in b.documents()] == ["a"] and b.keyword("đỏthẫm", 5) == {}
    assert set(b.keyword("ổn định", 5)) == set(a.pids)

    # A writer dropped without publishing (an in-process crash) is no different.
    w = b.begin(full=False)
    w.add(records("f", "Văn bản thử nghiệm bỏ dở có từ khóa vàngnhạt.", "f.txt"))
    w._flush()
    del w
    gc.collect()
    assert b.keyword("vàngnhạt", 5) == {} and [x["doc_id"] for x in b.documents()] == ["a"]

    # The next writer deletes the leftovers and completes.
    w = b.begin(full=False)
    assert raw_count(b, "passages", f"born > {epoch}") == 0 and raw_count(b, "documents", f"born > {epoch}") == 0
    assert raw_count(b, "sentences", f"born > {epoch}") == 0
    g = records("g", "Văn bản thử nghiệm hoàn tất có từ khóa lụcbảo.", "g.txt")
    w.add(g)
    w.publish({"model": "hash", "dimension": EMB.dimension})
    assert b.refresh() is True
    assert [x["doc_id"] for x in b.documents()] == ["a", "g"] and set(b.keyword("lụcbảo", 5)) == set(g.pids)
    assert_counts(b)
    assert_sentences(b, a)
    assert_sentences(b, g)


def test_abort_drops_what_was_written(make) -> None:
    b = make()
    a = records("a", "Văn bản thử nghiệm giữ nguyên trong kho.", "a.txt")
    publish(b, [a])
    for full in (False, True):
        w = b.begin(full=full)
        w.delete_file("a.txt")
        x = records("x", "Văn bản thử nghiệm bị hủy có từ khóa cam. Câu thử nghiệm thứ hai.", "x.txt")
        w.add(x)
        w._flush()
        w.abort()
        w.abort()
        assert b.refresh() is False and [x["doc_id"] for x in b.documents()] == ["a"]
        assert raw_count(b, "passages") == len(a.pids)
        assert raw_count(b, "sentences") == len(a.sentence_hashes) and b.sentences(x.pids) == {}
        assert b.cached_vectors(x.sentence_hashes) == {}
        assert_sentences(b, a)
    with pytest.raises(RuntimeError):
        w.add(a)


def test_full_rebuild_switches_collection_sets(make) -> None:
    b = make()
    a = records("a", "Văn bản thử nghiệm của lần lập chỉ mục đầu.", "a.txt")
    publish(b, [a])
    old = set(b._live().names.values())
    reader = MilvusBackend.open(b.index_dir, b.config)
    try:
        w = b.begin(full=True)
        x = records("x", "Văn bản thử nghiệm của lần lập lại toàn bộ có từ khóa ngọcbích.", "x.txt")
        w.add(x)
        w._flush()
        assert [d["doc_id"] for d in reader.documents()] == ["a"]
        w.publish({"model": "hash", "dimension": EMB.dimension})
        assert not old & set(b.session.client.list_collections())  # the previous set is dropped
        # A reader still on the dropped set recovers by itself: refresh and retry.
        assert set(reader.keyword("ngọcbích", 5)) == set(x.pids)
        assert [d["doc_id"] for d in reader.documents()] == ["x"] and reader.manifest["documents"] == 1
    finally:
        reader.close()


def test_update_of_many_files_collects_at_once(make, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past HIDDEN_GC_NOW replaced files the old rows go at publish, so readers' filters stay short."""
    import indexer.store.milvus as milvus

    monkeypatch.setattr(milvus.writer, "HIDDEN_GC_NOW", 2)
    b = make()
    first = [records(f"v{i}", f"Văn bản thử nghiệm số {i}, phiên bản đầu.", f"v{i}.txt") for i in range(4)]
    publish(b, first)
    second = [records(f"v{i}", f"Văn bản thử nghiệm số {i}, phiên bản sau.", f"v{i}.txt") for i in range(4)]
    publish(b, second, full=False)
    assert raw_count(b, "passages") == 4 and b._live().hidden == []
    assert raw_count(b, "sentences") == sum(len(r.sentence_hashes) for r in second)
    assert b.passages([second[0].pids[0]])[0]["text"] == second[0].passages[0].text
    assert_sentences(b, second[0])


def test_replaced_rows_past_their_share_go_at_publish_so_bm25_counts_only_the_rows_shown(make) -> None:
    """Milvus's BM25 statistics count every row in the collection, visible or not: a replaced file's old
    rows past HIDDEN_GC_SHARE of the passages are deleted at publish, and the scores are a fresh build's."""
    b, fresh = make(), make()
    keep = [records(f"k{i}", f"Văn bản thử nghiệm số {i} về kho dữ liệu giả định.", f"k{i}.txt") for i in range(3)]
    old = records("v", "Văn bản thử nghiệm cũ: kho kho kho dữ liệu cũ giả định.", "v.txt")
    new = records("v", "Văn bản thử nghiệm mới về quy hoạch giả định.", "v.txt")
    publish(b, [*keep, old])
    publish(b, [new], full=False)
    assert raw_count(b, "passages") == 4 and b._live().hidden == []
    publish(fresh, [*keep, new])
    for q in ("kho dữ liệu", "văn bản thử nghiệm", "quy hoạch"):
        assert b.keyword(q, 10) == pytest.approx(fresh.keyword(q, 10), rel=1e-4), q


def test_open_without_an_index(tmp_path: Path, lite: SimpleNamespace) -> None:
    from indexer.store.base import IndexNotFound

    with pytest.raises(IndexNotFound):
        MilvusBackend.open(tmp_path / "none", StoreConfig("milvus", None, "vn_none"))
    created = MilvusBackend.create(tmp_path / "empty", StoreConfig("milvus", lite.url))
    created.close()
    with pytest.raises(IndexNotFound):
        MilvusBackend.open(tmp_path / "empty", StoreConfig.read(tmp_path / "empty"))


def test_readers_survive_a_lite_server_restart(tmp_path: Path) -> None:
    folder = tmp_path / "restart"
    b = MilvusBackend.create(folder, StoreConfig("milvus", None))
    try:
        a = records("a", "Văn bản thử nghiệm về quy hoạch vùng giả định.", "a.txt")
        publish(b, [a])
        reader = open_backend(folder)
        first_url = reader.session.url
        assert stop_lite_server(folder)
        # The next call finds the server gone, starts it again (new port), loads and retries.
        assert set(reader.keyword("quy hoach vung", 5)) == set(a.pids)
        assert reader.session.url != first_url and reader.refresh() is False
        assert set(b.dense(EMB.embed_query("quy hoạch vùng"), 5)) == set(a.pids)
        reader.close()
    finally:
        b.close()
        stop_lite_server(folder)


def test_a_garbage_collection_cut_short_is_harmless(make) -> None:
    """A stray chunk of a cleared hidden list (a crash between clearing and deleting it) is ignored."""
    b = make()
    a = records("a", "Văn bản thử nghiệm về quy hoạch vùng giả định.", "a.txt")
    publish(b, [a])
    epoch = b.manifest["epoch"]
    b.session.client.insert(b.session.state_name, [{"rid": (epoch << 32) | 999, "born": epoch, "path": "",
                                                    "kind": "hidden", "chunk_no": 0, "data": json.dumps(["a.txt"]),
                                                    "_v": [1.0, 0.0]}])
    fresh = MilvusBackend.open(b.index_dir, b.config)
    try:
        assert fresh._live().hidden == [] and [d["doc_id"] for d in fresh.documents()] == ["a"]
        b.begin(full=False).abort()  # the next writer deletes the stray chunk
        assert b.session.count(b.session.state_name, 'kind == "hidden"') == 0
    finally:
        fresh.close()


def test_a_writer_killed_after_the_switch_is_finished_by_the_next(make, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed right after the pointer switch (no garbage collection): the new version is whole, the
    next writer drops the old collection set and the replaced rows."""
    import indexer.store.milvus as milvus

    b = make()
    publish(b, [records("a", "Văn bản thử nghiệm thứ nhất.", "a.txt")])
    old_set = set(b._live().names.values())
    with monkeypatch.context() as m:
        m.setattr(milvus.MilvusWriter, "_after_publish", lambda self, ptr, hidden: None)
        publish(b, [records("b", "Văn bản thử nghiệm thứ hai.", "b.txt")])  # full: a new set
        assert old_set <= set(b.session.client.list_collections())
        publish(b, [records("b", "Văn bản thử nghiệm thứ hai, sửa lại.", "b.txt")], full=False)
    assert [d["doc_id"] for d in b.documents()] == ["b"] and raw_count(b, "passages") == 2
    assert b._live().hidden == ["b.txt"]
    b.begin(full=False).abort()
    assert not old_set & set(b.session.client.list_collections()) and raw_count(b, "passages") == 1
    assert raw_count(b, "sentences") == 1
    assert b.doc_passages("b")[0]["text"] == "Văn bản thử nghiệm thứ hai, sửa lại."


# --- sentences ----------------------------------------------------------------------------------


def test_sentences_are_stored_and_read_back_exactly(make) -> None:
    b = make()
    recs = corpus()
    old = records("cu", "Văn bản thử nghiệm của một trình gọi cũ. Không có câu nào được lưu.", "cu.txt",
                  sentences=False)
    # A passage without sentences among passages with some: the pid is left out, the others read back.
    gap = records("gap", LAW, "gap.txt", title="Văn bản thử nghiệm có chỗ trống")
    cut = len(gap.sentences[0])
    gap.sentence_hashes, gap.sentence_vectors = gap.sentence_hashes[cut:], gap.sentence_vectors[cut:]
    gap.sentences = [[], *gap.sentences[1:]]
    publish(b, [*recs, old, gap])
    assert sum(len(r.sentence_hashes) for r in recs) > 900  # the long document: many rows per query

    for rec in [*recs, gap]:
        assert_sentences(b, rec)
    assert b.sentences(old.pids) == {} and b.sentences([]) == {} and b.sentences([12345]) == {}
    assert gap.pids[0] not in b.sentences(gap.pids)
    every = [p for r in [*recs, old, gap] for p in r.pids]
    assert set(b.sentences(every)) == {p for r in [*recs, gap] for p, s in zip(r.pids, r.sentences, strict=True) if s}
    law = recs[0]
    pid = law.pids[1]
    spans, _ = b.sentences([pid])[pid]
    text = law.passages[1].text
    assert [text[s:e] for s, e in spans] == [text[s:e] for s, e in law.sentences[1]]

    # The embedding cache finds sentence vectors too (the passages are asked first).
    h = law.sentence_hashes[2]
    cache = b.cached_vectors([h, law.embed_hashes[0], "0" * 64])
    assert set(cache) == {h, law.embed_hashes[0]}
    np.testing.assert_array_equal(cache[h], law.sentence_vectors[2])

    # Carrying a file over keeps its sentences whole.
    for rec in (law, recs[2], gap, old):
        (got,) = file_records(b, rec.doc.path)
        assert got.sentences == rec.sentences and got.sentence_hashes == rec.sentence_hashes
        if rec.sentence_vectors is None:
            assert got.sentence_vectors is None
        else:
            np.testing.assert_array_equal(got.sentence_vectors, rec.sentence_vectors)

    # A record whose sentences do not add up is refused before anything is written.
    bad = records("xau", "Văn bản thử nghiệm lỗi. Câu thứ hai.", "xau.txt")
    bad.sentence_vectors = bad.sentence_vectors[:1]
    w = b.begin(full=False)
    with pytest.raises(ValueError, match="sentence"):
        w.add(bad)
    w._flush()
    assert raw_count(b, "sentences", f"born == {w.epoch}") == 0 and raw_count(b, "passages", f"born == {w.epoch}") == 0
    w.abort()


def _with_an_old_caller(make) -> tuple:
    """The corpus published with one document stored without sentences (an old caller's), and every pid."""
    b = make()
    recs = corpus()
    old = records("cu", "Văn bản thử nghiệm của một trình gọi cũ. Không có câu nào được lưu.", "cu.txt",
                  sentences=False)
    publish(b, [*recs, old])
    return b, recs, old, [p for r in [*recs, old] for p in r.pids]


def test_sentence_scores_are_computed_inside_milvus(make, monkeypatch: pytest.MonkeyPatch) -> None:
    """`sentence_scores` is a filtered search on the sentences collection: no vector is read back, every
    sentence of every pid comes back (chunks that fill a search's limit are searched again, smaller)."""
    import indexer.store.milvus as milvus

    b, recs, old, every = _with_an_old_caller(make)
    with_sentences = {p for r in recs for p, s in zip(r.pids, r.sentences, strict=True) if s}
    assert len(every) > 40 and sum(len(r.sentence_hashes) for r in recs) > 900
    q = EMB.embed_query("Đoạn thử nghiệm số 7 ghi nhận nội dung")

    # No vector crosses the wire: neither a query nor a scan asks for one.
    reads: list[list[str]] = []
    for method in ("query", "query_iterator"):
        real = getattr(b.session.client, method)

        def spy(*args, _real=real, **kwargs):
            reads.append(list(kwargs.get("output_fields") or []))
            return _real(*args, **kwargs)

        monkeypatch.setattr(b.session.client, method, spy)
    expected = {p: (spans, vecs @ q) for p, (spans, vecs) in b.sentences(every).items()}
    reads.clear()
    got = b.sentence_scores(q, [*every, every[0], 12345])  # a duplicate and an unknown pid
    assert not any("dense" in fields for fields in reads)
    assert set(got) == set(expected) == with_sentences  # the old caller's pids (no sentences) are left out

    def same(got: dict, expected: dict) -> None:
        assert set(got) == set(expected)
        for p, (spans, scores) in expected.items():
            np.testing.assert_array_equal(got[p][0], spans)
            assert got[p][1].dtype == np.float32
            np.testing.assert_allclose(got[p][1], scores, atol=1e-4, rtol=0)

    same(got, expected)
    assert b.sentence_scores(q, []) == {} and b.sentence_scores(q, old.pids) == {}
    assert b.sentence_scores(q, [12345]) == {}

    # Chunks whose sentences fill the search limit are split until they fit; a single passage with that
    # many sentences is scored from its vectors, read by a scan (the only path that reads vectors).
    big = max(expected, key=lambda p: len(expected[p][0]))
    monkeypatch.setattr(milvus.sentences, "SENTENCE_SEARCH_PIDS", 7)
    monkeypatch.setattr(milvus.sentences, "SENTENCE_SEARCH_LIMIT", len(expected[big][0]))
    reads.clear()
    same(b.sentence_scores(q, every), expected)
    assert reads == [["pid", "born", "k", "start", "end", "dense"]] * sum(
        len(expected[p][0]) >= len(expected[big][0]) for p in expected)


def test_sentence_scores_of_a_batch_equal_each_query_s_own(make, monkeypatch: pytest.MonkeyPatch) -> None:
    """`sentence_scores_many` (a search per group of queries, over all the group's pids) gives each query
    exactly what `sentence_scores` gives it alone: the same pids, spans and scores, bit for bit."""
    import indexer.store.milvus as milvus

    b, recs, old, every = _with_an_old_caller(make)
    texts = ["Đoạn thử nghiệm số 7 ghi nhận nội dung", "văn bản thử nghiệm", "quy định số 3", "câu cuối"]
    vectors = [EMB.embed_query(t) for t in texts]
    asked = [every[::2], every[1::3], [*every[:5], 12345], old.pids, [], every]

    def check() -> list[int]:
        searches: list[int] = []
        real = b.session.client.search

        def spy(*args, **kwargs):
            searches.append(len(kwargs.get("data") or []))
            return real(*args, **kwargs)

        monkeypatch.setattr(b.session.client, "search", spy)
        vs = [vectors[i % len(vectors)] for i in range(len(asked))]
        got = b.sentence_scores_many(vs, asked)
        monkeypatch.setattr(b.session.client, "search", real)
        assert len(got) == len(asked)
        for v, pids, mine in zip(vs, asked, got, strict=True):
            alone = b.sentence_scores(v, pids)
            assert set(mine) == set(alone)
            for p, (spans, scores) in alone.items():
                np.testing.assert_array_equal(mine[p][0], spans)
                assert mine[p][1].dtype == np.float32
                np.testing.assert_array_equal(mine[p][1], scores)
        return searches

    monkeypatch.setattr(milvus.sentences, "SENTENCE_GROUP_ROWS", 100_000)
    assert check() == [4]  # one search: every query whose pids have sentences, in one group
    monkeypatch.setattr(milvus.sentences, "SENTENCE_GROUP_ROWS", 50)  # groups of fewer rows: several searches
    searches = check()
    assert len(searches) > 1 and sum(searches) == 4


def test_an_update_replaces_sentences(make, lazy_collection: None) -> None:
    b = make()
    v1 = records("u", "Câu thử nghiệm thứ nhất. Câu thử nghiệm thứ hai. Câu thử nghiệm thứ ba.", "u.txt")
    keep = records("k", "Văn bản thử nghiệm giữ nguyên. Nghị quyết số 999-NQ/TEST.", "k.txt")
    publish(b, [v1, keep])
    assert [len(s) for s in v1.sentences] == [3]
    assert_sentences(b, v1)

    v2 = records("u", "Câu thử nghiệm mới duy nhất.", "u.txt")  # the same pid, fewer sentences
    assert v2.pids == v1.pids
    publish(b, [v2], full=False)
    assert_sentences(b, v2)
    # The replaced rows are still stored (hidden) and never scored.
    assert raw_count(b, "sentences", "born >= 0") > len(v2.sentence_hashes) + len(keep.sentence_hashes)
    (scores,) = [s for _, s in b.sentence_scores(QUERY, v1.pids).values()]
    np.testing.assert_allclose(scores, v2.sentence_vectors @ QUERY, atol=1e-4, rtol=0)
    assert_sentences(b, keep)
    assert b.cached_vectors(v1.sentence_hashes) == {}  # the replaced sentences are gone from the cache too

    # Added twice by one writer without delete_file (a retry): the second version only.
    v3a = records("u", "Câu thử nghiệm lần ba, bản nháp. Còn một câu nháp.", "u.txt")
    v3b = records("u", "Câu thử nghiệm lần ba, bản cuối. Câu cuối thứ hai. Câu cuối thứ ba.", "u.txt")
    w = b.begin(full=False)
    w.add(v3a)
    w.add(v3b)
    w.publish({"model": "hash", "dimension": EMB.dimension})
    b.refresh()
    assert_counts(b)
    assert_sentences(b, v3b)

    # An unchanged file carried over into a new epoch keeps its sentences.
    (carried,) = file_records(b, "k.txt")
    publish(b, [carried], full=False)
    assert_sentences(b, keep)
    b.begin(full=False).abort()  # collects the replaced rows
    assert raw_count(b, "sentences") == len(v3b.sentence_hashes) + len(keep.sentence_hashes)

    w = b.begin(full=False)
    w.delete_file("u.txt")
    w.publish({"model": "hash", "dimension": EMB.dimension})
    b.refresh()
    assert b.sentences(v1.pids) == {} and b.cached_vectors(v3b.sentence_hashes) == {}
    assert_sentences(b, keep)


def test_a_set_without_sentences_is_read_as_empty_and_refused(make, monkeypatch: pytest.MonkeyPatch) -> None:
    """A set written before the sentences collection existed (format 1): readable enough to rebuild from
    (passage vectors), refused by `open` with a clear message, and given the collection by a writer."""
    import indexer.store.milvus as milvus
    from indexer.store.base import IndexFormatError

    b = make()
    a = records("a", "Văn bản thử nghiệm định dạng cũ. Nghị quyết số 999-NQ/TEST.", "a.txt")
    publish(b, [a])
    b.session.client.drop_collection(b._live().names["sentences"])
    old = MilvusBackend.create(b.index_dir, b.config)
    try:
        assert "sentences" not in old._live().names and old.sentences(a.pids) == {}
        assert old.sentence_scores(QUERY, a.pids) == {}
        assert set(old.cached_vectors(a.embed_hashes + a.sentence_hashes)) == set(a.embed_hashes)
        (got,) = file_records(old, "a.txt")
        assert got.sentences == [] and got.sentence_vectors is None and got.pids == a.pids
        with monkeypatch.context() as m:
            m.setattr(milvus.reader, "FORMAT_VERSION", 99)
            with pytest.raises(IndexFormatError, match="rebuild it with python -m indexer update"):
                MilvusBackend.open(b.index_dir, b.config)
        w = old.begin(full=False)  # recreates the missing collection in the live set
        w.add(a)
        w.publish({"model": "hash", "dimension": EMB.dimension})
        old.refresh()
        assert_sentences(old, a)
    finally:
        old.close()
