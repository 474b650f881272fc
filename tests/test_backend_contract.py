"""The storage contract (indexer/store/base.py), run on every backend (as txtai's testdense.runTests): the
embedded index, Milvus (the local Milvus engine, slow) and the in-memory fake the core's unit tests use.

Each backend gets the same synthetic documents through its own `Writer`, then every role is checked
against what was written: retrieval (batched and single), rows, references, the embedding cache and the
life cycle (a reader keeps its version until `refresh`; an abort changes nothing).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fake_backend import DOCS, EMBEDDER, LAW, FakeBackend, make_records
from helpers import ROOT

from indexer.records import DocumentRecords, DocumentRow, Filters, PassageRow
from indexer.store import backend_class, create_backend, index_exists
from indexer.store.base import Backend, IndexFormatError, StoreConfig, check_index_type

PARAMS = ["embedded", "fake", pytest.param("milvus", marks=[pytest.mark.milvus, pytest.mark.slow])]


def _open(kind: str, index: Path, request: pytest.FixtureRequest) -> Backend:
    """A backend to write `index` with, of `kind`."""
    if kind == "fake":
        return FakeBackend.create(index)
    uri = request.getfixturevalue("milvus_uri") if kind == "milvus" else None
    return create_backend(index, StoreConfig(kind, uri))


def _publish(store: Backend, recs: list[DocumentRecords], full: bool = True, delete: tuple[str, ...] = ()) -> None:
    w = store.begin(full=full)
    for path in delete:
        w.delete_file(path)
    for r in recs:
        w.add(r)
    w.publish({"model": EMBEDDER.name, "dimension": EMBEDDER.dimension, "index_type": "auto"})


@pytest.fixture(scope="module")
def records() -> dict[str, DocumentRecords]:
    return {d.doc_id: make_records(d) for d in DOCS}


def _published(kind: str, index: Path, request: pytest.FixtureRequest,
               records: dict[str, DocumentRecords]) -> Backend:
    """A reader of `index` after the synthetic documents were written and published there."""
    writer_side = _open(kind, index, request)
    _publish(writer_side, list(records.values()))
    writer_side.close()
    return FakeBackend.open(index) if kind == "fake" else backend_class(kind).open(index)


@pytest.fixture(scope="module", params=PARAMS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          records: dict[str, DocumentRecords]) -> Iterator[Backend]:
    """One index a backend for the tests that only read it."""
    reader = _published(request.param, tmp_path_factory.mktemp("contract") / request.param, request, records)
    yield reader
    reader.close()


@pytest.fixture(params=PARAMS)
def fresh_store(request: pytest.FixtureRequest, tmp_path: Path,
                records: dict[str, DocumentRecords]) -> Iterator[Backend]:
    """An index of its own, for a test that writes."""
    reader = _published(request.param, tmp_path / request.param, request, records)
    yield reader
    reader.close()


def _pids(records: dict[str, DocumentRecords]) -> list[int]:
    return [p for r in records.values() for p in r.pids]


# --- life cycle ---------------------------------------------------------------------------------------


def test_a_published_index_describes_itself(store: Backend, records: dict[str, DocumentRecords]) -> None:
    m = store.manifest
    assert m["documents"] == len(DOCS) and m["passages"] == len(_pids(records))
    assert store.readable and m["generation"] and store.published_generation() == m["generation"]
    assert store.refresh() is False  # nothing newer
    status = store.status()
    assert set(status) == {"backend", "uri", "where"} and status["backend"] == store.kind
    assert "auto" in store.index_types and "flat" in store.index_types
    if store.kind != "fake":
        assert index_exists(store.index_dir) and not index_exists(store.index_dir / "none")


def test_a_reader_keeps_its_version_until_refresh_and_an_abort_changes_nothing(
        fresh_store: Backend, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    store = fresh_store
    if store.kind == "milvus":
        # Milvus deletes replaced rows at publish past HIDDEN_GC_SHARE of the passages (its BM25 counts
        # every row; docs/scaling.md): in this tiny index any deletion is past it, so the share is lifted
        # to test what holds below it.
        import indexer.store.milvus as milvus

        monkeypatch.setattr(milvus.writer, "HIDDEN_GC_SHARE", 1.0)
    before = store.manifest["generation"]
    writer_side = _open(store.kind, store.index_dir, request)
    w = writer_side.begin(full=False)
    w.delete_file("luat.txt")
    w.abort()
    assert writer_side.published_generation() == before
    _publish(writer_side, [], full=False, delete=("pv.txt",))
    writer_side.close()
    assert store.document("phong-van") is not None  # the reader's version, until it refreshes
    assert store.published_generation() not in (None, before)
    warmed: list[str | None] = []
    assert store.refresh(warm=lambda newer: warmed.append(newer.manifest.get("generation")))
    assert warmed == [store.manifest["generation"]] != [before]
    assert store.document("phong-van") is None and store.document("luat-999") is not None
    assert store.manifest["documents"] == len(DOCS) - 1


# --- retrieval -------------------------------------------------------------------------------------


def test_dense_finds_a_passage_by_its_own_vector_with_inner_product_scores(
        store: Backend, records: dict[str, DocumentRecords]) -> None:
    rec = records["nq-999"]
    vectors = [rec.vectors[i] for i in range(len(rec.pids))]
    many = store.dense_many(vectors, 3)
    assert many == [store.dense(v, 3) for v in vectors]  # one query is a batch of one
    for pid, v, found in zip(rec.pids, vectors, many, strict=True):
        assert len(found) == 3 and max(found, key=lambda p: found[p]) == pid
        assert found[pid] == pytest.approx(float(v @ v), abs=1e-4)
    assert store.dense_many([], 3) == []


def test_filters_hold_inside_every_retriever(store: Backend, records: dict[str, DocumentRecords]) -> None:
    law = set(records["luat-999"].pids)
    q = records["nq-999"].vectors[0]
    for f in (Filters(type={"Luật"}), Filters(doc={"luat-999"}), Filters(issuer={"Quốc hội"}),
              Filters(year_from=2099, year_to=2099), Filters(exclude_doc={"nq-999", "phong-van"})):
        dense = store.dense(q, 50, f)
        assert dense and set(dense) <= law, f
        assert store.dense_many([q, records["luat-999"].vectors[0]], 50, f) == [
            dense, store.dense(records["luat-999"].vectors[0], 50, f)], f  # a batch: each its own
        keyword = store.keyword("văn bản thử nghiệm", 50, f)
        assert keyword and set(keyword) <= law, f
    assert store.dense(q, 5, Filters(year_from=2200)) == {}
    assert store.keyword("thử nghiệm", 5, Filters(type={'Luật" or doc_id != "'})) == {}


def test_keyword_scores_are_positive_bm25_best_first(store: Backend, records: dict[str, DocumentRecords]) -> None:
    found = store.keyword("zyxwv", 10)
    assert list(found) and set(found) <= set(records["nq-999"].pids) and all(s > 0 for s in found.values())
    many = store.keyword_many(["zyxwv", "kho văn bản giả định", "qqqqkhongco"], 2)
    assert many == [store.keyword(q, 2) for q in ("zyxwv", "kho văn bản giả định", "qqqqkhongco")]
    assert len(many[1]) == 2 and many[2] == {}
    scores = list(many[1].values())
    assert scores == sorted(scores, reverse=True)


def test_sentence_scores_are_the_stored_vectors_inner_products(
        store: Backend, records: dict[str, DocumentRecords]) -> None:
    rec = records["luat-999"]
    stored = store.sentences(rec.pids)
    assert set(stored) == {p for p, spans in zip(rec.pids, rec.sentences, strict=True) if spans}
    j = 0
    for pid, spans in zip(rec.pids, rec.sentences, strict=True):
        if spans:
            np.testing.assert_array_equal(stored[pid][0], np.array(spans).reshape(-1, 2))
            # the embedded index keeps sentence vectors as float16 (they only rank)
            np.testing.assert_allclose(stored[pid][1], rec.sentence_vectors[j : j + len(spans)], atol=1e-3)
            j += len(spans)
    q = EMBEDDER.embed_query("Trách nhiệm của cơ quan thử nghiệm")
    pid_lists = [rec.pids, [*records["phong-van"].pids, 12345], []]
    many = store.sentence_scores_many([q, q, q], pid_lists)
    assert many[2] == {} and 12345 not in many[1]
    for got, pids in zip(many, pid_lists, strict=True):
        alone = store.sentence_scores(q, pids)
        assert set(got) == set(alone)
        for pid, (spans, scores) in got.items():
            np.testing.assert_array_equal(spans, alone[pid][0])
            np.testing.assert_allclose(scores, store.sentences([pid])[pid][1] @ q, atol=1e-4)


# --- rows --------------------------------------------------------------------------------------------


def test_passages_come_in_the_order_asked_with_the_row_fields(
        store: Backend, records: dict[str, DocumentRecords]) -> None:
    pids = list(reversed(_pids(records)))
    rows = store.passages([*pids, 12345])
    assert [r["pid"] for r in rows] == pids
    assert all(set(r) == set(PassageRow.__annotations__) for r in rows)
    text = {d.doc_id: d.text for d in DOCS}
    assert all(text[r["doc_id"]][r["start"] : r["end"]] == r["text"] for r in rows)
    assert store.passages([]) == []
    law = store.doc_passages("luat-999")
    assert [r["ordinal"] for r in law] == sorted(p.ordinal for p in records["luat-999"].passages)
    assert law[0]["section"] and isinstance(law[0]["section"], list) and store.doc_passages("none") == []


def test_doc_ids_are_the_documents_of_the_rows(store: Backend, records: dict[str, DocumentRecords]) -> None:
    pids = list(reversed(_pids(records)))
    assert store.doc_ids([*pids, 12345]) == {r["pid"]: r["doc_id"] for r in store.passages(pids)}
    assert set(store.doc_ids(pids)) == set(pids) and store.doc_ids([]) == {}
    # pids as numpy gives them (a ranking's arrays): the same answer, keyed by plain ints (JSON)
    as_numpy = store.doc_ids(list(np.asarray(pids, dtype=np.int64)))
    assert as_numpy == store.doc_ids(pids) and all(type(p) is int for p in as_numpy)


def test_neighbours_of_many_places_in_one_read(store: Backend) -> None:
    law = store.doc_passages("luat-999")
    places = [("luat-999", law[1]["ordinal"]), ("luat-999", law[0]["ordinal"]), ("none", 0)]
    got = store.neighbours_of(places, radius=1)
    assert [[r["ordinal"] for r in rows] for rows in got] == [
        [r["ordinal"] for r in law[0:3]], [r["ordinal"] for r in law[0:2]], []]
    assert got[0] == store.neighbours("luat-999", law[1]["ordinal"])
    assert store.neighbours_of([]) == []


def test_documents_and_their_text(store: Backend) -> None:
    docs = store.documents()
    assert [d["doc_id"] for d in docs] == sorted(d.doc_id for d in DOCS)
    assert all(set(d) <= set(DocumentRow.__annotations__) and "text" not in d for d in docs)
    assert [d["doc_id"] for d in store.documents(["phong-van", "none", "luat-999"])] == ["luat-999", "phong-van"]
    law = store.document("luat-999", with_text=True)
    assert law is not None and law["text"] == LAW and law["doc_number"] == "999/2099/QH99"
    assert law["date"] == "2099-06-05" and law["path"] == "luat.txt"
    interview = store.document("phong-van")
    assert interview is not None and interview["extra"] == {"interviewee": "Nhân vật giả định"}
    assert "text" not in interview and store.document("none") is None
    assert sorted(g["doc_id"] for g in store.graph_rows()) == sorted(d.doc_id for d in DOCS)


# --- references ----------------------------------------------------------------------------------------


def test_references_by_key(store: Backend, records: dict[str, DocumentRecords]) -> None:
    citing = store.pids_citing("999-NQ/TEST")
    expected = sorted({p for r in records.values() for p, refs in zip(r.pids, r.refs, strict=True)
                       if any(x.key == "999-NQ/TEST" for x in refs)})
    assert citing == expected and len(citing) == 2
    refs = store.refs_of([*citing, 12345])
    assert refs[12345] == [] and all(x["key"] == "999-NQ/TEST" and x["pid"] == p for p in citing for x in refs[p])
    assert store.docs_with_key("999-NQ/TEST") == ["nq-999"]
    assert store.key_label("999-NQ/TEST") == "999-NQ/TEST" and store.key_label("khong-co") is None
    counts = {c["key"]: c for c in store.reference_counts()}
    assert counts["999-NQ/TEST"]["citing_passages"] == 2 and counts["999-NQ/TEST"]["doc_ids"] == ["nq-999"]


# --- writing -------------------------------------------------------------------------------------------


def test_the_embedding_cache_gives_back_the_stored_vectors(
        store: Backend, records: dict[str, DocumentRecords]) -> None:
    rec = records["luat-999"]
    cached = store.cached_vectors([*rec.embed_hashes, *rec.sentence_hashes[:2], "khong-co"])
    assert set(cached) == {*rec.embed_hashes, *rec.sentence_hashes[:2]}
    np.testing.assert_allclose(cached[rec.embed_hashes[0]], rec.vectors[0], atol=1e-6)


def test_a_backend_refuses_an_index_type_it_cannot_build(store: Backend) -> None:
    check_index_type(store, "auto")
    with pytest.raises(IndexFormatError, match=f"the {store.kind} backend cannot build a 'annoy'"):
        check_index_type(store, "annoy")
    if store.kind == "milvus":
        with pytest.raises(IndexFormatError, match="cannot build a 'ivf'"):
            check_index_type(store, "ivf")


def test_a_build_asking_milvus_for_ivf_is_refused_before_anything_is_made(tmp_path: Path, capsys) -> None:
    from indexer.cli import main

    index = tmp_path / "ix"
    assert main(["build", str(ROOT / "corpus"), "--index", str(index), "--backend", "milvus", "--index-type", "ivf",
                 "--model", "hash", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "the milvus backend cannot build a 'ivf' vector index; choose one of auto, flat, hnsw" in err
    assert not index.exists()  # no config written, no server started
