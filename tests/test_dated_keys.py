"""Reference identity with the date (issue 18.3): a reference that gives a date keeps its year in
its key at index time, so two documents sharing a number stay apart in the graph, the cards,
validity and the reference list, on both backends. Fixtures are visibly synthetic
("Văn bản thử nghiệm", 999-NQ/TEST); the real case is 69-KL/TW citing 20-NQ/TW of 2012."""

from __future__ import annotations

import pytest
from helpers import BACKEND_PARAMS, backend_uri, shared_dir, write

from indexer.pipeline.build import build
from indexer.text.docnumbers import date_year_after, dated_key, document_key, split_key
from indexer.text.references import Reference, date_within_document, find_references, reference_key
from search_app.core.searcher import Searcher

HEADER = """BAN THỬ NGHIỆM TRUNG ƯƠNG
Số: 999-NQ/TEST
Hà Nội, ngày {date}
NGHỊ QUYẾT
VỀ {subject}
I. MỤC TIÊU
Văn bản thử nghiệm này bàn về {body}.
"""
OLD = HEADER.format(date="01 tháng 11 năm 2012", subject="KHO VĂN BẢN THỬ NGHIỆM CŨ", body="kho giả định thứ nhất")
NEW = HEADER.format(date="25 tháng 10 năm 2017", subject="KHO VĂN BẢN THỬ NGHIỆM MỚI", body="kho giả định thứ hai")
REPEALER = """BAN THỬ NGHIỆM TRUNG ƯƠNG
Số: 998-NQ/TEST
Hà Nội, ngày 02 tháng 02 năm 2019
NGHỊ QUYẾT
VỀ THAY ĐỔI KHO VĂN BẢN THỬ NGHIỆM
I. NỘI DUNG
1. Ban hành Chương trình hành động thực hiện Nghị quyết số 999-NQ/TEST ngày 25/10/2017 của Ban Thử nghiệm
Trung ương về kho văn bản thử nghiệm mới.
2. Bãi bỏ Nghị quyết số 999-NQ/TEST ngày 25/10/2017 của Ban Thử nghiệm Trung ương.
"""
BARE = """Bài viết thử nghiệm
Văn bản thử nghiệm này nhắc đến Nghị quyết số 999-NQ/TEST mà không nói năm nào.
"""


def test_a_reference_keeps_the_year_it_gives():
    keys = [r.key for r in find_references(
        "Nghị quyết số 999-NQ/TEST ngày 25/10/2017, Nghị quyết 999-NQ/TEST (2012), Kết luận số 997-KL/TEST ngày 11 "
        "tháng 01 năm 2099, Nghị quyết 999-NQ/TEST năm 2012, Luật số 990/2020/QH99 ngày 01/01/2021, "
        "Quyết định 996/QĐ-TEST, 2021–2030 và Nghị quyết 999-NQ/TEST năm 2021 - 2030")]
    assert keys == ["999-NQ/TEST@2017", "999-NQ/TEST@2012", "997-KL/TEST@2099", "999-NQ/TEST@2012",
                    "990/2020/QH99", "996/QD-TEST", "999-NQ/TEST"]
    assert date_year_after("999-NQ/TEST, 2021", len("999-NQ/TEST")) is None  # a period, not a date
    assert split_key("999-NQ/TEST@2017") == ("999-NQ/TEST", "2017")
    assert split_key("LUAT DAT DAI") == ("LUAT DAT DAI", None)
    assert dated_key("990/2020/QH99", "2021") == "990/2020/QH99" and document_key("999-NQ/TEST", None) == "999-NQ/TEST"
    assert reference_key("999-NQ/TEST@2017") == "999-NQ/TEST@2017"
    assert reference_key("Nghị quyết 999-NQ/TEST ngày 01/11/2012") == "999-NQ/TEST@2012"


def test_a_document_that_dates_a_number_once_dates_its_bare_mentions():
    def ref(key: str) -> Reference:
        return Reference(key, key, "number", 0, 1)

    once = date_within_document([[ref("999-NQ/TEST@2017")], [ref("999-NQ/TEST"), ref("997-KL/TEST")]])
    assert [r.key for p in once for r in p] == ["999-NQ/TEST@2017", "999-NQ/TEST@2017", "997-KL/TEST"]
    twice = date_within_document([[ref("999-NQ/TEST@2017"), ref("999-NQ/TEST@2012"), ref("999-NQ/TEST")]])
    assert [r.key for r in twice[0]] == ["999-NQ/TEST@2017", "999-NQ/TEST@2012", "999-NQ/TEST"]


@pytest.fixture(scope="module", params=BACKEND_PARAMS)
def shared_number(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"dated-{request.param}")
    uri = backend_uri(request, request.param)
    for name, text in (("nq-2012.txt", OLD), ("nq-2017.txt", NEW), ("nq-998.txt", REPEALER), ("bai-viet.txt", BARE)):
        write(root / "c" / name, text)
    report = build([root / "c"], root / "ix", model="hash", progress=False, backend=request.param, milvus_uri=uri)
    assert report.ok and report.documents == 4, report.summary()
    s = Searcher(root / "ix")
    yield s
    s.close()


def test_a_dated_citation_attaches_to_that_years_document_only(shared_number):
    s = shared_number
    g = s.relations()
    assert g.canonical("999-NQ/TEST@2017") == "999-NQ/TEST@2017" and g.key_docs["999-NQ/TEST@2017"] == ["nq-2017.txt"]
    assert g.ambiguous["999-NQ/TEST"] == ["nq-2012.txt", "nq-2017.txt"]
    # the repeal and the implementation name the 2017 resolution: its validity, not the 2012 one's
    assert g.validity(doc_id="nq-2017.txt")["status"] == "repealed"
    assert g.validity(doc_id="nq-2012.txt")["status"] == "in_force"
    assert s.search("kho giả định thứ nhất", top_k=1)[0].validity["status"] == "in_force"
    assert s.in_force().exclude_doc == {"nq-2017.txt"}
    implementing = {(r["type"], r["doc_id"]) for r in g.relations("999-NQ/TEST@2017") if r["direction"] == "in"}
    assert ("implements", "nq-998.txt") in implementing
    assert not [r for r in g.relations("999-NQ/TEST@2012") if r["direction"] == "in"]
    # the bare mention (the article) names neither: it stays on the ambiguous number
    bare_in = {r["doc_id"] for r in g.relations("999-NQ/TEST") if r["direction"] == "in"}
    assert bare_in == {"bai-viet.txt"}
    # each document's card, labelled with its year; the bare number's card says it is ambiguous
    dated = s.references("Nghị quyết 999-NQ/TEST ngày 25/10/2017")
    assert dated["document"]["doc_id"] == "nq-2017.txt" and dated["validity"]["status"] == "repealed"
    assert {h.doc_id for h in dated["cited_by"]} == {"nq-998.txt"}
    old = s.references("999-NQ/TEST năm 2012")
    assert old["document"]["doc_id"] == "nq-2012.txt" and old["validity"]["status"] == "in_force"
    assert old["cited_by"] == [] and old["key"] == "999-NQ/TEST@2012"
    bare = s.references("999-NQ/TEST")
    assert bare["document"] is None and len(bare["ambiguous"]) == 2 and bare["validity"]["status"] == "unknown"
    assert g.display_label("999-NQ/TEST@2017") == "Nghị quyết số 999-NQ/TEST (2017)"
    listed = {it["key"]: it for it in s.reference_list()}
    assert listed["999-NQ/TEST@2017"]["doc_ids"] == ["nq-2017.txt"] and listed["999-NQ/TEST@2017"]["citing_passages"]
    assert listed["999-NQ/TEST@2012"]["label"] == "999-NQ/TEST (2012)"


@pytest.mark.slow
def test_69_kl_tw_cites_the_2012_resolution(tmp_path):
    """The real documents: 69-KL/TW cites "Nghị quyết số 20-NQ/TW, ngày 01/11/2012"; the indexed 20-NQ/TW
    is the 2012 one, so the citation attaches to it, and its card and list entry are one."""
    docs = shared_dir() / "documents"
    report = build([docs], tmp_path / "ix", model="hash", progress=False)
    assert report.ok, report.summary()
    s = Searcher(tmp_path / "ix")
    try:
        g = s.relations()
        kl = "nghi-quyet-57-NQ-TW-2024.md#69-KL-TW"
        nq20 = g.key_docs["20-NQ/TW"][0]
        assert g.docs[nq20]["date"].startswith("2012") and g.key_docs["20-NQ/TW@2012"] == [nq20]
        refs = {r["key"] for rs in s.backend.refs_of(s.backend.pids_citing("20-NQ/TW@2012")).values() for r in rs}
        assert "20-NQ/TW@2012" in refs
        implementing = {r["doc_id"] for r in g.relations("20-NQ/TW") if r["type"] == "implements"}
        assert kl in implementing
        assert s.references("20-NQ/TW ngày 01/11/2012")["document"]["doc_id"] == nq20
        # a 20-NQ/TW of 2017 (another resolution) is not the indexed one
        other = s.references("Nghị quyết 20-NQ/TW ngày 25/10/2017")
        assert other["document"] is None and other["validity"]["status"] == "unknown"
        listed = [it for it in s.reference_list() if it["key"].startswith("20-NQ/TW")]
        assert [it["key"] for it in listed] == ["20-NQ/TW"] and listed[0]["doc_ids"] == [nq20]
    finally:
        s.close()
