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


# --- official headers, in plain text, PDF and DOCX -------------------------------------------------

def _header(issuer: str, number: str, date: str, kind: str, title: str) -> str:
    return (f"{issuer} -------\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc ---------\n"
            f"Luật số: {number}\nHà Nội, ngày {date}\n{kind}\n{title}\n")


SYNTHETIC_PAIR = [
    _header("QUỐC HỘI THỬ NGHIỆM", "998/2098/QH98", "05 tháng 06 năm 2098", "LUẬT", "KIỂM THỬ THỨ NHẤT")
    + "Điều 1. Phạm vi thử nghiệm\nLuật thử nghiệm này quy định việc kiểm thử giả định của kho văn bản thứ nhất.\n"
    + "Điều 2. Trách nhiệm\nCơ quan thử nghiệm chịu trách nhiệm ghi sổ kiểm thử hằng ngày theo quy định.\n",
    _header("QUỐC HỘI THỬ NGHIỆM", "999/2099/QH99", "07 tháng 08 năm 2099", "LUẬT", "KIỂM THỬ THỨ HAI")
    + "Điều 1. Phạm vi thử nghiệm\nLuật thử nghiệm này quy định việc lưu trữ zyxwv giả định của kho thứ hai.\n"
    + "Điều 2. Hiệu lực\nLuật thử nghiệm này có hiệu lực từ ngày 01 tháng 01 năm 2100.\n",
]


def _pdf_pair(path, font) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("DejaVu", "", str(font))
    pdf.set_font("DejaVu", size=11)
    for text in SYNTHETIC_PAIR:  # each law on a page of its own
        pdf.add_page()
        pdf.multi_cell(0, 7, text)
    write(path, bytes(pdf.output()))


def _docx_pair(path) -> None:
    import docx

    d = docx.Document()
    for text in SYNTHETIC_PAIR:
        for line in text.splitlines():
            d.add_paragraph(line)
    path.parent.mkdir(parents=True, exist_ok=True)
    d.save(str(path))


def _two_laws(index, name: str) -> tuple[dict, dict]:
    s = Searcher(index)
    docs = {d["doc_id"]: d for d in s.documents()}
    assert set(docs) == {name, f"{name}#999-2099-QH99"}, set(docs)
    return docs[name], docs[f"{name}#999-2099-QH99"]


@pytest.mark.parametrize("kind", ["txt", "pdf", "docx"])
def test_official_headers_split_a_file_of_any_format(tmp_path, kind):
    from helpers import FONT_CANDIDATES

    name = f"hai-luat.{kind}"
    path = tmp_path / "c" / name
    if kind == "txt":
        write(path, "".join(SYNTHETIC_PAIR))
    elif kind == "docx":
        _docx_pair(path)
    else:
        font = next((f for f in FONT_CANDIDATES if f.exists()), None)
        if font is None:
            pytest.skip("no DejaVu font to write a Vietnamese PDF (fonts-dejavu-core)")
        _pdf_pair(path, font)
    assert build([tmp_path / "c"], tmp_path / "ix", model="hash", progress=False).documents == 2
    first, second = _two_laws(tmp_path / "ix", name)
    assert (first["doc_number"], first["date"]) == ("998/2098/QH98", "2098-06-05")
    assert (second["doc_number"], second["date"]) == ("999/2099/QH99", "2099-08-07")
    if kind != "pdf":  # a PDF's header reads as one joined line: its type line is not a line of its own
        assert first["doc_type"] == second["doc_type"] == "Luật"
    s = Searcher(tmp_path / "ix")
    passages = s.doc_passages(second["doc_id"])
    assert passages[0]["text"].startswith("QUỐC HỘI THỬ NGHIỆM")
    assert "998/2098" not in " ".join(p["text"] for p in passages)
    hit = s.search("lưu trữ zyxwv giả định", top_k=1)[0]
    assert hit.doc_id == second["doc_id"] and "999/2099/QH99" in hit.citation and "998/2098" not in hit.citation
    if kind == "pdf":
        assert hit.page == 2  # the page of the file, kept for the second law


@pytest.mark.slow
def test_two_real_laws_in_one_text_file_are_two_documents(shared, tmp_path):
    laws = shared / "datasets" / "vietnamese-laws"
    a = (laws / "Luat-thue-tieu-thu-dac-biet-2008-26-2008-QH12-82198.txt").read_text(encoding="utf-8")
    b = (laws / "Luat-thue-bao-ve-moi-truong-2010-115247.txt").read_text(encoding="utf-8")
    write(tmp_path / "c" / "hai-luat.txt", a.rstrip() + "\n" + b)  # concatenated here, never stored
    assert build([tmp_path / "c"], tmp_path / "ix", model="hash", progress=False).documents == 2
    s = Searcher(tmp_path / "ix")
    docs = {d["doc_id"]: d for d in s.documents()}
    second = docs["hai-luat.txt#57-2010-QH12"]
    assert docs["hai-luat.txt"]["doc_number"] == "27/2008/QH12" and docs["hai-luat.txt"]["date"] == "2008-11-14"
    assert (second["doc_number"], second["date"], second["doc_type"]) == ("57/2010/QH12", "2010-11-15", "Luật")
    assert s.doc_passages(second["doc_id"])[0]["text"].startswith("QUỐC HỘI")
    hit = next(h for h in s.search("thuế bảo vệ môi trường đối với xăng dầu", top_k=10) if h.doc_id == second["doc_id"])
    assert "57/2010/QH12" in hit.citation and "27/2008/QH12" not in hit.citation
    assert s.references("57/2010/QH12")["document"]["doc_id"] == second["doc_id"]
