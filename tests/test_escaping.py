"""One escaping rule per output format (search_app/core/escape.py), checked with arbitrary Unicode:
control characters, lone surrogates, Markdown/HTML/formula prefixes go into every export and view,
and each comes out as data — a file that opens, a cell that is not a formula, Markdown with no raw
HTML, a terminal line with no control character, a page label with nothing Streamlit would act on."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import xml.etree.ElementTree as ET

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search_app.core import follow
from search_app.core.escape import csv_cell, label_text, markdown_text, terminal_text
from search_app.core.hits import Hit
from search_app.core.implementation_table import to_csv as table_csv
from search_app.core.implementation_table import to_docx, to_xlsx
from search_app.page import export

FRAGMENTS = ["=HYPERLINK(\"http://127.0.0.1:9/\")", "+1", "-2", "@SUM(A1)", "\t=1", "<script>alert(1)</script>",
             "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", "![i](http://127.0.0.1:9/t.png)",
             ":red[đỏ]", "$$x^2$$", "# tiêu đề", "1. mục", "> trích", "**đậm**", "`mã`", "&lt;", "\x1b[31m",
             "\x00", "\x0b", "\r\n", "\u202e", "\ufffe", "x,=1", '"', "Văn bản thử nghiệm 999-NQ/TEST"]
hostile = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(FRAGMENTS), st.integers(0xD800, 0xDFFF).map(chr),
                             st.integers(0, 0x1F).map(chr)), max_size=8).map("".join)
FAST = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
ALLOWED_MD_TAGS = {"h1", "h2", "p", "em", "strong", "blockquote", "br", "code", "pre", "hr"}


def _hit(title: str, text: str, citation: str) -> Hit:
    return Hit(rank=1, score=0.5, doc_id=title, title=title, doc_number=title, doc_type=title, date=None,
               section=[title], page=None, text=text, start=0, end=len(text), citation=citation,
               answer=[{"start": 0, "end": len(text)}] if text else [], pid=1, ordinal=0)


def _table(title: str, text: str) -> dict:
    item = {"doc_id": "d", "doc_type": title, "doc_number": title, "title": title, "text": text, "item": title,
            "answer": [], "citation": title}
    return {"key": title, "by": ["d"], "tasks": [{"label": title, "heading": text, "items": [item]}],
            "unassigned": [item], "uncovered": [title]}


def _no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


@FAST
@given(title=hostile, text=hostile, query=hostile)
def test_search_exports_hold_any_text_as_data(title, text, query):
    hits = [_hit(title, text, title)]
    context = export.search_context(query)
    data = export.to_csv(hits, context)
    data.encode("utf-8")
    rows = list(csv.reader(io.StringIO(data.lstrip("\ufeff"))))
    assert rows[0][:4] == list(export.CSV_CONTEXT)  # a plain header row, the context as leading columns
    _no_formula(rows)
    md = export.to_markdown(query, hits, context)
    md.encode("utf-8")
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark", {"html": True}).render(md)
    assert set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", html)) <= ALLOWED_MD_TAGS
    assert not re.search(r"<(?!br />)[a-zA-Z][a-zA-Z0-9]*\s", html)  # no tag carries an attribute (href, src, on…)
    export.to_json(query, hits, context)  # JSON escapes everything itself


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)  # ~0.15 s each
@given(title=hostile, text=hostile)
def test_implementation_table_exports_always_open(title, text):
    import docx
    import openpyxl

    out = _table(title, text)
    docx.Document(io.BytesIO(to_docx(out)))
    ws = openpyxl.load_workbook(io.BytesIO(to_xlsx(out))).active
    assert all(c.data_type == "s" for r in ws.iter_rows() for c in r if c.value is not None)
    _no_formula(list(csv.reader(io.StringIO(table_csv(out)))))


@FAST
@given(target=hostile, citation=hostile, text=hostile)
def test_atom_feed_always_parses(target, citation, text):
    item = {"id": "abc", "target": target, "checked_at": "2099-01-01T00:00:00+00:00",
            "recent": [{"pid": 1, "citation": citation, "text": text, "found_at": "2099-01-01T00:00:00+00:00"}]}
    ET.fromstring(follow.feed_xml(item))


@FAST
@given(text=hostile)
def test_terminal_and_page_labels_act_on_nothing(text):
    line = terminal_text(text)
    line.encode("utf-8")
    assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in line)
    label = label_text(text)
    label.encode("utf-8")
    assert not re.search(r"[<>\[\]()*_`$:!#|~\\\n]", re.sub(r"&#\d+;", "", label))
    markdown_text(text).encode("utf-8")
    cell = csv_cell(text)
    assert isinstance(cell, str) and not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_the_csv_query_line_cannot_become_a_formula_cell():
    hit = _hit("t", "Văn bản thử nghiệm", "c")
    data = export.to_csv([hit], {"query": 'x,=HYPERLINK("http://127.0.0.1:9/")'})
    rows = list(csv.reader(io.StringIO(data.lstrip("\ufeff"))))
    assert rows[1][0] == 'x,=HYPERLINK("http://127.0.0.1:9/")'  # one cell: the comma does not start another
    data = export.to_csv([hit], {"query": '=HYPERLINK("http://127.0.0.1:9/")'})
    assert list(csv.reader(io.StringIO(data.lstrip("\ufeff"))))[1][0].startswith("'=")  # shown as text
    assert csv_cell("=1+1") == "'=1+1" and csv_cell(-3) == -3


def test_markdown_export_has_no_live_html_or_link():
    hits = [_hit("<img src=x onerror=alert(1)>", "Đoạn <script>alert(1)</script> [x](javascript:alert(1))", "c")]
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark", {"html": True}).render(export.to_markdown("q", hits))
    assert "<script>" not in html and "<img" not in html and "href=" not in html


def test_map_prints_document_text_escaped(capsys):
    from search_app.commands import print_map

    hit = {"text": "a) Mục\x1b[2J thử\x01 nghiệm", "answer": [{"start": 0, "end": 24}], "score": 0.5,
           "match": "structure", "citation": "Văn bản\x1b]0;x\x07 999-NQ/TEST, mục II.1.a", "doc_id": "d\x1b[31m",
           "title": "Văn bản thử nghiệm\x1b[31m"}
    print_map({"key": "999-NQ/TEST", "by": ["d\x1b[31m"], "uncovered": ["II.2"], "unassigned": [hit],
               "tasks": [{"label": "II.1", "heading": "Nhiệm vụ\x1b[31m\ud800", "items": [hit]}]})
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x01" not in out and "\x07" not in out and "\\x1b" in out
    out.encode("utf-8")


def test_batch_queries_stop_at_a_bad_line_in_words_after_answering_the_lines_before(hash_index, tmp_path, capsys):
    import json

    from search_app import cli

    good = "".join(json.dumps({"id": i, "query": "kiểm thử"}) + "\n" for i in range(70))  # more than one group
    cases = {"number.jsonl": good + '{"id": 70, "query": 123}\n',
             "bytes.jsonl": good.encode() + b'{"id": 70, "query": "\xff\xfe"}\n',
             "list.jsonl": good + "[1, 2]\n"}
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        assert cli.main(["search", "--queries", str(path), "--index", str(hash_index), "--top-k", "1"]) == 2
        out, err = capsys.readouterr()
        assert len(out.splitlines()) == 70 and f"{name}:71:" in err and "Traceback" not in err, (name, err)
    assert cli.main(["search", "--queries", str(tmp_path / "missing.jsonl"), "--index", str(hash_index)]) == 2
    assert "cannot read" in capsys.readouterr().err
    surrogate = tmp_path / "surrogate.jsonl"
    surrogate.write_text('{"id": "\\ud800", "query": "kiểm \\udfff thử"}\n', encoding="utf-8")
    assert cli.main(["search", "--queries", str(surrogate), "--index", str(hash_index), "--top-k", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == "\ufffd"
