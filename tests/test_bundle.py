"""Several documents in one file (indexer/load/bundle.py): each its own document."""

from __future__ import annotations

import pytest
from helpers import write

from indexer.load.base import RawDocument
from indexer.load.bundle import split_bundle
from indexer.pipeline.build import build
from indexer.records import PageSpan
from search_app.core.searcher import Searcher

BUNDLE = """# Nghị quyết số 999-NQ/TEST

Văn bản thử nghiệm: Nghị quyết số 999-NQ/TEST ngày 01/02/2099 của Ban Thử nghiệm về kho văn bản giả định.

I. MỤC TIÊU THỬ NGHIỆM

Kho văn bản giả định được dùng để kiểm tra phần mềm tra cứu thử nghiệm trong mọi trường hợp.

# Kết luận số 998-KL/TEST

Kết luận số 998-KL/TEST ngày 03/04/2098 của Ban Thử nghiệm về tiếp tục thực hiện Nghị quyết số 997-NQ/TEST.

1. Tiếp tục thực hiện Nghị quyết số 997-NQ/TEST về kiểm thử giả định trong toàn ban thử nghiệm.
"""


def test_a_heading_with_its_own_number_and_date_starts_a_new_document():
    text = BUNDLE.replace("# ", "")
    at = text.index("Kết luận số 998")
    raw = RawDocument(text, headings={0: 1, at: 1}, pages=[PageSpan(0, at + 10, 1), PageSpan(at + 10, len(text), 2)])
    first, second = split_bundle(raw)
    assert first.text.startswith("Nghị quyết số 999-NQ/TEST") and "998-KL" not in first.text
    assert second.text.startswith("Kết luận số 998-KL/TEST") and second.headings == {0: 1}
    assert second.hints == {"title": "Kết luận số 998-KL/TEST"}
    assert [(p.start, p.end, p.page) for p in second.pages] == [(0, 10, 1), (10, len(text) - at - 1, 2)]
    assert second.text == text[at:].rstrip()


def test_a_document_citing_another_number_is_not_split():
    text = ("Nghị quyết số 999-NQ/TEST\n" + "Đoạn thử nghiệm dài. " * 20
            + "\nTheo Kết luận số 998-KL/TEST ngày 03/04/2098.")
    assert len(split_bundle(RawDocument(text))) == 1


def test_each_document_of_a_file_has_its_own_id_metadata_and_relations(tmp_path):
    write(tmp_path / "c" / "tap-hop.md", BUNDLE)
    report = build([tmp_path / "c"], tmp_path / "ix", model="hash", progress=False)
    assert report.documents == 2
    s = Searcher(tmp_path / "ix")
    docs = {d["doc_id"]: d for d in s.documents()}
    assert set(docs) == {"tap-hop.md", "tap-hop.md#998-KL-TEST"}
    kl = docs["tap-hop.md#998-KL-TEST"]
    assert (kl["doc_number"], kl["doc_type"], kl["date"]) == ("998-KL/TEST", "Kết luận", "2098-04-03")
    assert docs["tap-hop.md"]["doc_number"] == "999-NQ/TEST"
    graph = s.relations()
    implements = [r for r in graph.relations("997-NQ/TEST") if r["type"] == "implements"]
    assert implements and {r.get("doc_id") for r in implements} == {"tap-hop.md#998-KL-TEST"}
    hit = s.search("tiếp tục thực hiện kiểm thử giả định", 1)[0]
    assert hit.doc_id == "tap-hop.md#998-KL-TEST" and hit.citation.startswith("Kết luận số 998-KL/TEST ngày 03/04/2098")


@pytest.mark.slow
def test_the_real_57_file_holds_kl_69(shared, tmp_path):
    src = shared / "documents" / "nghi-quyet-57-NQ-TW-2024.md"
    write(tmp_path / "c" / src.name, src.read_bytes())
    build([tmp_path / "c"], tmp_path / "ix", model="hash", progress=False)
    s = Searcher(tmp_path / "ix")
    docs = {d["doc_id"]: d for d in s.documents()}
    kl = docs[f"{src.name}#69-KL-TW"]
    assert (kl["doc_number"], kl["date"], kl["issuer"]) == ("69-KL/TW", "2024-01-11", "Bộ Chính trị")
    assert docs[src.name]["doc_number"] == "57-NQ/TW"
    implementing = {r.get("doc_id") for r in s.relations().relations("20-NQ/TW") if r["type"] == "implements"}
    assert f"{src.name}#69-KL-TW" in implementing and src.name not in implementing
    assert s.references("69-KL/TW")["document"]["doc_id"] == f"{src.name}#69-KL-TW"
