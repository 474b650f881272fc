"""Incremental updates: only new or changed files are read and embedded; deletions and duplicates."""

from helpers import write

import indexer.pipeline.stages as pipeline
from indexer.pipeline.build import build
from indexer.store.embedded import EmbeddedBackend, current_generation
from search_app.core.searcher import Searcher


def _update(corpus, index):
    return build([corpus], index, model="hash", progress=False, incremental=True)


def test_nothing_changed_writes_no_new_generation(synthetic_corpus, hash_index):
    gen = current_generation(hash_index)
    report = _update(synthetic_corpus, hash_index)
    assert report.up_to_date and report.embedded == 0
    assert current_generation(hash_index) == gen


def test_only_changed_files_are_read(synthetic_corpus, hash_index, monkeypatch):
    write(synthetic_corpus / "luat-thu-nghiem.txt",
          (synthetic_corpus / "luat-thu-nghiem.txt").read_text(encoding="utf-8") + "\nĐiều 4. Điều khoản mới thêm\n"
          "Văn bản thử nghiệm bổ sung một điều khoản mới để kiểm tra cập nhật.\n")
    read = []
    real = pipeline.load_file
    monkeypatch.setattr(pipeline, "load_file", lambda p: read.append(p.name) or real(p))
    report = _update(synthetic_corpus, hash_index)
    assert read == ["luat-thu-nghiem.txt"]
    assert sorted(report.unchanged) == ["phong-van-thu-nghiem.txt", "xss.html"]
    assert 0 < report.embedded < report.passages  # unchanged passages of the law kept their vectors
    hit = Searcher(hash_index).search("điều khoản mới thêm", top_k=1, method="keyword")[0]
    assert "Điều 4" in hit.section_label


def test_deleted_files_leave_the_index(synthetic_corpus, hash_index):
    (synthetic_corpus / "xss.html").unlink()
    report = _update(synthetic_corpus, hash_index)
    assert report.removed == ["xss.html"]
    r = EmbeddedBackend.open(hash_index)
    assert {d["doc_id"] for d in r.documents()} == {"luat-thu-nghiem.txt", "phong-van-thu-nghiem.txt"}
    assert r.doc_passages("xss.html") == [] and r.document("xss.html") is None


def test_identical_files_are_indexed_once(synthetic_corpus, hash_index):
    write(synthetic_corpus / "ban-sao" / "luat-copy.txt", (synthetic_corpus / "luat-thu-nghiem.txt").read_bytes())
    report = _update(synthetic_corpus, hash_index)
    # the file already in the index stays; the new copy is reported as its duplicate
    assert report.duplicates == [("ban-sao/luat-copy.txt", "luat-thu-nghiem.txt")]
    assert report.documents == 3
    assert "same content as" in report.summary()


def test_the_same_file_under_the_same_name_in_two_folders_is_one_document(synthetic_corpus, tmp_path):
    copies = tmp_path / "ban-sao"  # a copy of part of the corpus, given beside it (`update corpus documents`)
    write(copies / "luat-thu-nghiem.txt", (synthetic_corpus / "luat-thu-nghiem.txt").read_bytes())
    index = tmp_path / "index-two-folders"
    report = build([synthetic_corpus, copies], index, model="hash", progress=False)
    assert report.ok and len(report.duplicates) == 1
    dup, kept = report.duplicates[0]
    assert dup.endswith("ban-sao/luat-thu-nghiem.txt") and kept == str(synthetic_corpus / "luat-thu-nghiem.txt")
    r = EmbeddedBackend.open(index)
    try:  # not a second document under a made-up id ("luat-thu-nghiem.txt#luat-thu-nghiem.txt")
        assert sorted(d["doc_id"] for d in r.documents()) == ["luat-thu-nghiem.txt", "phong-van-thu-nghiem.txt",
                                                             "xss.html"]
    finally:
        r.close()
    again = build([synthetic_corpus, copies], index, model="hash", progress=False, incremental=True)
    assert again.up_to_date and len(again.duplicates) == 1


def test_an_index_of_an_older_format_is_refused_then_rebuilt_without_re_embedding(synthetic_corpus, hash_index):
    import json

    import pytest

    from indexer.store.base import IndexFormatError

    manifest = current_generation(hash_index) / "manifest.json"
    m = json.loads(manifest.read_text())
    m["format_version"] = 1
    manifest.write_text(json.dumps(m))
    with pytest.raises(IndexFormatError, match="rebuild"):
        Searcher(hash_index)
    report = _update(synthetic_corpus, hash_index)
    assert not report.unchanged and report.embedded == 0 and report.reused == report.passages
    assert Searcher(hash_index).search("kiểm thử", top_k=1)


def test_an_update_that_embeds_nothing_keeps_the_engine_that_made_the_vectors(synthetic_corpus, hash_index):
    """The manifest's embed_engine says what computed the vectors: a deletion embeds nothing, so the
    engine recorded before stays (a no-op update used to record whichever engine it had loaded)."""
    import json

    manifest = hash_index / current_generation(hash_index) / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["embed_engine"] = "engine-of-the-first-build"  # as a build on another engine would leave it
    manifest.write_text(json.dumps(data), encoding="utf-8")
    (synthetic_corpus / "xss.html").unlink()
    report = _update(synthetic_corpus, hash_index)
    assert report.removed == ["xss.html"] and report.embedded == 0
    assert EmbeddedBackend.open(hash_index).manifest["embed_engine"] == "engine-of-the-first-build"
