import pytest
from helpers import write

from indexer.pipeline.build import build
from indexer.store.embedded import EmbeddedBackend, current_generation
from search_app.core.searcher import Filters, ModelMismatch, Searcher


def test_round_trip_documents_passages_and_manifest(hash_index):
    m = EmbeddedBackend.open(hash_index).manifest
    assert m["model"] == "hash" and m["dimension"] == 384
    assert m["documents"] == 3 and m["passages"] > 3
    assert set(m["files"]) == {"luat-thu-nghiem.txt", "phong-van-thu-nghiem.txt", "xss.html"}
    r = EmbeddedBackend.open(hash_index)
    doc = r.document("phong-van-thu-nghiem.txt", with_text=True)
    assert doc["title"] == "Phỏng vấn thử nghiệm" and doc["date"] == "2099-03-02"
    assert doc["extra"]["interviewee"].startswith("Nhân vật giả định")
    for p in r.doc_passages("phong-van-thu-nghiem.txt"):
        assert doc["text"][p["start"] : p["end"]] == p["text"]
    assert len(r.vectors_matrix()) == m["passages"]
    assert sum(len(r.doc_passages(d["doc_id"])) for d in r.documents()) == m["passages"]


def test_search_returns_citable_hits(hash_index):
    s = Searcher(hash_index)
    hits = s.search("kiểm thử tự động", top_k=3)
    assert hits and "kiểm thử tự động" in hits[0].text
    h = hits[0]
    assert h.doc_id == "phong-van-thu-nghiem.txt"
    assert "Nhân vật giả định" in h.citation and "02/03/2099" in h.citation
    assert h.section_label.startswith("Các giải pháp thử nghiệm")  # the section keeps the words, not "BBT:"


def test_law_citation_names_article(hash_index):
    hit = Searcher(hash_index).search("Kho thử nghiệm là nơi lưu giữ các văn bản giả định", top_k=1)[0]
    assert hit.citation.startswith("Luật số 999/2099/QH99 ngày 05/06/2099 của Quốc hội")
    assert "Điều 2" in hit.citation


def test_rebuild_embeds_only_what_changed(synthetic_corpus, hash_index):
    again = build([synthetic_corpus], hash_index, model="hash", progress=False)
    assert again.embedded == 0 and again.reused == again.passages
    write(synthetic_corpus / "moi.txt", "Văn bản thử nghiệm mới thêm vào kho để kiểm tra việc cập nhật.")
    third = build([synthetic_corpus], hash_index, model="hash", progress=False)
    assert third.embedded == 1 and third.documents == 4


def test_bad_files_are_skipped_and_the_rest_indexed(synthetic_corpus, tmp_path):
    write(synthetic_corpus / "empty.txt", "")
    write(synthetic_corpus / "broken.pdf", b"%PDF-1.7 garbage")
    write(synthetic_corpus / "image.png", b"\x89PNG....")
    report = build([synthetic_corpus], tmp_path / "ix", model="hash", progress=False)
    assert report.documents == 3
    reasons = dict(report.skipped)
    assert "empty" in reasons["empty.txt"]
    assert "PDF" in reasons["broken.pdf"]
    assert any("unsupported" in why for f, why in report.skipped if f.endswith("image.png"))
    assert "Files skipped: 3" in report.summary()


def test_failed_build_keeps_previous_index(synthetic_corpus, hash_index, tmp_path):
    before = current_generation(hash_index)
    empty = tmp_path / "nothing"
    write(empty / "empty.txt", "")
    report = build([empty], hash_index, model="hash", progress=False)
    assert not report.ok
    assert current_generation(hash_index) == before
    assert Searcher(hash_index).search("kiểm thử", top_k=1)


def test_searching_with_another_model_is_an_error(hash_index):
    with pytest.raises(ModelMismatch, match="built with 'hash'"):
        Searcher(hash_index, model="e5-small")


def test_filters_apply_inside_the_search(hash_index):
    s = Searcher(hash_index)
    only_law = s.search("thử nghiệm", top_k=50, filters=Filters(type={"Luật"}))
    assert only_law and {h.doc_id for h in only_law} == {"luat-thu-nghiem.txt"}
    # the filter is applied before the top-k cut: asking for 1 still yields a law passage
    one = s.search("kiểm thử tự động phỏng vấn", top_k=1, filters=Filters(type={"Luật"}))
    assert len(one) == 1 and one[0].doc_id == "luat-thu-nghiem.txt"
    assert not s.search("thử nghiệm", filters=Filters(year_from=2100))


def test_refresh_switches_to_a_newer_index(synthetic_corpus, hash_index):
    s = Searcher(hash_index)
    assert not s.search("zyxwv", top_k=1, method="keyword")
    write(synthetic_corpus / "moi.txt", "Văn bản thử nghiệm bổ sung có từ zyxwv.")
    build([synthetic_corpus], hash_index, model="hash", progress=False)
    assert s.refresh()
    assert s.search("zyxwv", top_k=1, method="keyword")[0].doc_id == "moi.txt"
