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
    assert report.duplicates == [("ban-sao/luat-thu-nghiem.txt", "luat-thu-nghiem.txt")]
    r = EmbeddedBackend.open(index)
    try:  # not a second document under a made-up id ("luat-thu-nghiem.txt#luat-thu-nghiem.txt")
        assert sorted(d["doc_id"] for d in r.documents()) == ["luat-thu-nghiem.txt", "phong-van-thu-nghiem.txt",
                                                             "xss.html"]
    finally:
        r.close()
    again = build([synthetic_corpus, copies], index, model="hash", progress=False, incremental=True)
    assert again.up_to_date and len(again.duplicates) == 1


def test_two_files_under_one_name_in_two_folders_are_two_documents_and_an_update_sees_either(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    write(first / "x.txt", "Văn bản thử nghiệm số 997-NQ/TEST\n\nĐiều 1. Thử nghiệm trồng cây xanh đô thị.\n")
    write(second / "x.txt", "Văn bản thử nghiệm số 996-NQ/TEST\n\nĐiều 1. Thử nghiệm nuôi cá nước ngọt.\n")
    index = tmp_path / "index"
    report = build([first, second], index, model="hash", progress=False)
    assert report.ok and sorted(report.file_hashes) == ["b/x.txt", "x.txt"]

    def docs_saying(words: str) -> set[str]:
        return {h.doc_id for h in Searcher(index).search(words, top_k=5, method="keyword") if words in h.text}

    assert docs_saying("nuôi cá nước ngọt") == {"b/x.txt"} and docs_saying("trồng cây xanh") == {"x.txt"}
    for folder, words in ((first, "bảo tồn rừng ngập mặn"), (second, "phòng chống sạt lở")):
        write(folder / "x.txt", f"Văn bản thử nghiệm số 995-NQ/TEST\n\nĐiều 1. Thử nghiệm {words}.\n")
        name = "x.txt" if folder == first else "b/x.txt"
        again = build([first, second], index, model="hash", progress=False, incremental=True)
        assert again.read_now() == ([], [name])  # before, one manifest entry for both: a change to one was missed
        assert docs_saying(words) == {name}
    assert build([first, second], index, model="hash", progress=False, incremental=True).up_to_date


def test_a_clashing_name_takes_as_few_folders_as_make_it_new():
    from pathlib import Path

    from indexer.pipeline.build import _qualified

    path = Path("/data/shared/documents/x.txt")
    assert _qualified(path, "x.txt", {"x.txt"}) == "documents/x.txt"
    assert _qualified(path, "x.txt", {"x.txt", "documents/x.txt"}) == "shared/documents/x.txt"
    taken = {"x.txt", "documents/x.txt", "shared/documents/x.txt", "data/shared/documents/x.txt"}
    assert _qualified(path, "x.txt", taken) == "documents-2/x.txt"


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
