import csv
import io
import json

import pytest

from search_app.core.searcher import Searcher
from search_app.page import export
from search_app.page.uploads import UploadError, check_content, safe_name, save_upload


def test_exports_carry_text_and_citation(hash_index):
    hits = Searcher(hash_index).search("kiểm thử tự động", top_k=2)
    md = export.to_markdown("kiểm thử tự động", hits)
    assert md.startswith("# Kết quả tra cứu: kiểm thử tự động")
    assert hits[0].citation in md and "> " in md
    rows = list(csv.DictReader(io.StringIO(export.to_csv(hits).lstrip("\ufeff"))))
    assert len(rows) == 2 and list(rows[0]) == list(export.CSV_FIELDS) and rows[0]["citation"] == hits[0].citation
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
    filters = Filters(type={"Luật"}, year_from=2099)
    hits = s.search("trách nhiệm của cơ quan thử nghiệm", top_k=2, filters=filters)
    ctx = export.search_context("trách nhiệm", filters, "Kết hợp", True, in_force=True, index=s.status())
    assert ctx["filters"] == "Loại văn bản: Luật; Năm: 2099–…; Chỉ văn bản còn hiệu lực" and ctx["searched_at"]
    assert ctx["index_generation"] == s.status()["generation"]
    js = json.loads(export.to_json("trách nhiệm", hits, ctx))
    assert js["filters"] == ctx["filters"] and js["searched_at"] == ctx["searched_at"] and js["answerable"] is True
    assert js["in_force_only"] is True and js["index_generation"] == ctx["index_generation"]
    md = export.to_markdown("trách nhiệm", hits, ctx)
    assert "*Bộ lọc:* Loại văn bản: Luật; Năm: 2099–…; Chỉ văn bản còn hiệu lực" in md
    assert f"*Thời điểm:* {export.vn_time(ctx['searched_at'])}" in md and f"thế hệ {ctx['index_generation']}" in md
    text = export.to_csv(hits, ctx).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))  # the first line is the header row, nothing before it
    assert list(rows[0])[:4] == list(export.CSV_CONTEXT)
    assert all(r["query"] == "trách nhiệm" and r["filters"] == ctx["filters"]
               and r["index_generation"] == ctx["index_generation"] for r in rows)
    assert rows and all(r["validity"] in ("Còn hiệu lực", "Không áp dụng") or r["validity"].startswith(("Hết", "Chưa"))
                        for r in rows)
    assert export.validity_text({"status": "repealed", "since": "2021-01-01", "by": [{"label": "Luật số 1/TEST"}]}) \
        == "Hết hiệu lực từ 01/01/2021 — Luật số 1/TEST"


def test_the_in_force_filter_is_named_even_when_it_leaves_nothing_out():
    assert export.filters_text(None) == "Không lọc"
    assert export.filters_text(None, in_force=True) == "Chỉ văn bản còn hiệu lực"


def test_an_interview_is_not_applicable_in_every_export(hash_index):
    s = Searcher(hash_index)
    hits = [h for h in s.search("phỏng vấn thử nghiệm", top_k=10) if h.doc_id == "phong-van-thu-nghiem.txt"]
    # the core itself says so (every door: JSON of the CLI, the API and MCP too)
    assert hits and not hits[0].doc_number and hits[0].validity.get("status") == "not_applicable"
    js = json.loads(export.to_json("q", hits[:1]))["results"][0]
    assert js["validity"] == {"status": "not_applicable"} and js["validity_label"] == "Không áp dụng"
    row = next(csv.DictReader(io.StringIO(export.to_csv(hits[:1]).lstrip("\ufeff"))))
    assert row["validity"] == "Không áp dụng"
    assert "*Hiệu lực:* Không áp dụng" in export.to_markdown("q", hits[:1])
    assert "Còn hiệu lực" not in export.to_markdown("q", hits[:1])
