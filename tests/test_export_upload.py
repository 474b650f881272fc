import csv
import io
import json

import pytest

from search_app.core.searcher import HIT_FIELDS, Searcher
from search_app.page import export
from search_app.page.uploads import UploadError, check_content, safe_name, save_upload


def test_exports_carry_text_and_citation(hash_index):
    hits = Searcher(hash_index).search("kiểm thử tự động", top_k=2)
    md = export.to_markdown("kiểm thử tự động", hits)
    assert md.startswith("# Kết quả tra cứu: kiểm thử tự động")
    assert hits[0].citation in md and "> " in md
    rows = list(csv.DictReader(io.StringIO(export.to_csv(hits).lstrip("\ufeff"))))
    assert len(rows) == 2 and list(rows[0]) == [*HIT_FIELDS, "answer_text"] and rows[0]["citation"] == hits[0].citation
    js = json.loads(export.to_json("q", hits))
    assert js["query"] == "q" and js["results"][0]["text"] == hits[0].text


@pytest.mark.parametrize("client,expected", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("/abs/path/Nghị quyết.pdf", "Nghị-quyết.pdf"),
    ("C:\\Users\\x\\bao cao.DOCX", "bao-cao.docx"),
    ("..", "tai-lieu"),
    ("\u202eevil\u0000.txt", "evil.txt"),
    ("a/../../b.md", "b.md"),
])
def test_safe_name_never_leaves_the_folder(client, expected):
    assert safe_name(client) == expected


def test_content_must_match_the_extension():
    with pytest.raises(UploadError, match="PDF"):
        check_content("a.pdf", b"hello")
    with pytest.raises(UploadError, match="DOCX"):
        check_content("a.docx", b"%PDF-1.4")
    with pytest.raises(UploadError, match="không khớp"):
        check_content("a.txt", b"%PDF-1.4 ...")
    with pytest.raises(UploadError, match="hỗ trợ"):
        check_content("a.exe", b"MZ")
    with pytest.raises(UploadError, match="rỗng"):
        check_content("a.txt", b"")
    check_content("a.txt", "Văn bản thử nghiệm".encode())


def test_save_upload_stays_inside_the_corpus_and_does_not_overwrite(tmp_path):
    corpus = tmp_path / "corpus"
    a = save_upload("../../x.txt", "Văn bản thử nghiệm một".encode(), corpus)
    b = save_upload("x.txt", "Văn bản thử nghiệm hai".encode(), corpus)
    assert a.parent == b.parent == (corpus / "uploads").resolve()
    assert a.name == "x.txt" and b.name == "x-1.txt"
    assert not (tmp_path / "x.txt").exists()


def test_exports_record_query_filters_and_time_and_speak_vietnamese(hash_index):
    from search_app.core.searcher import Filters

    s = Searcher(hash_index)
    filters = Filters(doc_types={"Luật"}, year_from=2099)
    hits = s.search("trách nhiệm của cơ quan thử nghiệm", top_k=2, filters=filters)
    ctx = export.search_context("trách nhiệm", filters, "Kết hợp", True)
    assert ctx["filters"] == "Loại văn bản: Luật; Năm: 2099–…" and ctx["searched_at"]
    js = json.loads(export.to_json("trách nhiệm", hits, ctx))
    assert js["filters"] == ctx["filters"] and js["searched_at"] == ctx["searched_at"] and js["answerable"] is True
    md = export.to_markdown("trách nhiệm", hits, ctx)
    assert "*Bộ lọc:* Loại văn bản: Luật; Năm: 2099–…" in md and ctx["searched_at"] in md
    text = export.to_csv(hits, ctx).lstrip("\ufeff")
    assert text.startswith("# query: trách nhiệm | filters: Loại văn bản: Luật")
    rows = list(csv.DictReader(io.StringIO(text.split("\n", 1)[1])))
    assert rows and all(r["validity"] in ("", "Còn hiệu lực") or r["validity"].startswith(("Hết", "Chưa", "Còn"))
                        for r in rows)
    assert not any("in_force" in r["validity"] for r in rows)
    assert export.validity_text({"status": "repealed", "since": "2021-01-01", "by": [{"label": "Luật số 1/TEST"}]}) \
        == "Hết hiệu lực từ 2021-01-01, Luật số 1/TEST"
