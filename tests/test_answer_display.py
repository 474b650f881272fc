"""The answering sentence, marked: HTML highlighting and the Markdown/CSV/JSON exports.

Hits are built by hand so that these tests do not depend on how the search core picks the answer.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from search_app.core.searcher import HIT_FIELDS, Hit
from search_app.page import export
from search_app.page.render import answer_spans, highlight, split_answer

FIRST = "Văn bản thử nghiệm số 999-NQ/TEST quy định việc kiểm thử."
SECOND = "Câu trả lời thử nghiệm: kiểm thử tự động mỗi ngày."
TEXT = f"{FIRST} {SECOND}"
OPEN = '<span class="answer" title="Câu trả lời">'


def _span(text: str, sentence: str) -> dict[str, int]:
    start = text.index(sentence)
    return {"start": start, "end": start + len(sentence)}


def _hit(text: str = TEXT, answer: list[dict[str, int]] | None = None) -> Hit:
    return Hit(rank=1, score=1.0, doc_id="thu-nghiem", title="Văn bản thử nghiệm", doc_number="999-NQ/TEST",
               doc_type="Nghị quyết", date="2099-01-01", section=["Mục thử nghiệm"], page=None, text=text,
               start=0, end=len(text), citation="Nghị quyết số 999-NQ/TEST (thử nghiệm)",
               answer=[_span(text, SECOND)] if answer is None else answer)


def _well_formed(html: str) -> bool:
    """Every <span>/<mark> closed in order (the only tags highlight writes besides <br>)."""
    stack = []
    for closing, tag in re.findall(r"<(/?)(span|mark)\b", html):
        if not closing:
            stack.append(tag)
        elif not stack or stack.pop() != tag:
            return False
    return not stack


# --- highlight --------------------------------------------------------------------------------

def test_answer_is_wrapped_with_marks_inside():
    html = highlight(TEXT, "kiểm thử tự động", [_span(TEXT, SECOND)])
    assert html.count(OPEN) == 1 and _well_formed(html)
    answer = html[html.index(OPEN):]
    assert "<mark>kiểm</mark> <mark>thử</mark> <mark>tự</mark> <mark>động</mark>" in answer
    assert "<mark>kiểm</mark> <mark>thử</mark>" in html[: html.index(OPEN)]  # words outside are marked too


def test_without_answer_the_output_is_unchanged():
    assert highlight(TEXT, "kiểm thử") == highlight(TEXT, "kiểm thử", []) == highlight(TEXT, "kiểm thử", None)
    assert "answer" not in highlight(TEXT, "kiểm thử")


def test_markup_inside_the_answer_stays_text():
    text = "Đoạn thử nghiệm. Câu <script>alert(1)</script> **đậm** thử nghiệm."
    html = highlight(text, "thử nghiệm", [_span(text, "Câu <script>alert(1)</script> **đậm** thử nghiệm.")])
    assert "<script" not in html and "**" not in html
    inside = html[html.index(OPEN):]
    assert "&#60;script&#62;alert&#40;1&#41;&#60;/script&#62;" in inside and "&#42;&#42;đậm&#42;&#42;" in inside
    assert _well_formed(html)


def test_answer_across_a_line_break_and_mid_word():
    text = "Dòng thử nghiệm một\nDòng thử nghiệm hai"
    start = text.index("nghiệm một") + 3  # inside the word "nghiệm", a marked word
    end = text.index("hai")
    html = highlight(text, "thử nghiệm", [{"start": start, "end": end}])
    assert _well_formed(html) and "\n" not in html
    # the mark on the cut word is closed before the answer opens and reopened inside it
    assert f"<mark>ngh</mark>{OPEN}<mark>iệm</mark> một<br>Dòng <mark>thử</mark> <mark>nghiệm</mark> </span>hai" in html


@pytest.mark.parametrize("answer", [
    [{"start": -1, "end": 5}], [{"start": 10, "end": 10_000}], [{"start": 7, "end": 7}], [{"start": 9, "end": 3}],
    [{"start": "0", "end": 5}], [{"begin": 0}], [None], [{"start": 10_000, "end": 10_001}],
])
def test_unusable_spans_are_ignored(answer):
    assert answer_spans(TEXT, answer) == []
    assert highlight(TEXT, "kiểm thử", answer) == highlight(TEXT, "kiểm thử")


def test_overlapping_spans_are_merged_and_order_does_not_matter():
    spans = [{"start": 20, "end": 30}, {"start": 0, "end": 5}, {"start": 25, "end": 40}]
    assert answer_spans(TEXT, spans) == [(0, 5), (20, 40)]
    pieces = split_answer(TEXT, spans)
    assert "".join(p for p, _ in pieces) == TEXT and [a for _, a in pieces] == [True, False, True, False]
    assert highlight(TEXT, "x", spans).count(OPEN) == 2


def test_answer_covering_the_whole_text():
    html = highlight("Câu thử nghiệm", "thử", [{"start": 0, "end": 14}])
    assert html == f"{OPEN}Câu <mark>thử</mark> nghiệm</span>"


# --- exports ----------------------------------------------------------------------------------

def test_markdown_bolds_the_answer_inside_the_quote():
    md = export.to_markdown("câu hỏi thử nghiệm", [_hit()])
    assert f"> {FIRST} **{SECOND}**" in md


def test_markdown_bold_is_closed_and_reopened_on_each_line():
    text = "Mở đầu thử nghiệm. Câu trả lời\n\nqua hai dòng thử nghiệm. Phần sau."
    lines = export.quote_with_answer(text, [_span(text, "Câu trả lời\n\nqua hai dòng thử nghiệm.")])
    assert lines == ["> Mở đầu thử nghiệm. **Câu trả lời**", ">", "> **qua hai dòng thử nghiệm.** Phần sau."]


def test_markdown_escapes_what_would_break_the_bold():
    sentence = "Câu *thử* nghiệm có 2 * 3 = 6, tên_biến, `mã` và \\ gạch."
    text = f"Mở đầu. {sentence}"
    lines = export.quote_with_answer(text, [_span(text, sentence)])
    assert lines == [r"> Mở đầu. **Câu \*thử\* nghiệm có 2 \* 3 = 6, tên\_biến, \`mã\` và \\ gạch.**"]
    markdown_it = pytest.importorskip("markdown_it")
    html = markdown_it.MarkdownIt("commonmark").render("\n".join(lines))
    assert "<strong>Câu *thử* nghiệm có 2 * 3 = 6, tên_biến, `mã` và \\ gạch.</strong>" in html
    assert "<em>" not in html and "<code>" not in html


def test_markdown_without_answer_is_the_plain_quote():
    text = "Dòng *một* thử nghiệm\n\nDòng hai"
    # the document's asterisks are its text, not emphasis: escaped like everything a document says
    assert export.quote_with_answer(text, []) == ["> Dòng \\*một\\* thử nghiệm", ">", "> Dòng hai"]
    assert export.quote_with_answer(text, [{"start": 0, "end": 999}]) == export.quote_with_answer(text, None)


def test_csv_carries_offsets_and_the_sentence():
    span = _span(TEXT, SECOND)
    hits = [_hit(answer=[{"start": 0, "end": 4}, span]), _hit(answer=[])]
    rows = list(csv.DictReader(io.StringIO(export.to_csv(hits).lstrip("\ufeff"))))
    assert list(rows[0]) == [*(f for f in HIT_FIELDS if f != "section"), "answer_text"]
    assert rows[0]["section_label"] == "Mục thử nghiệm"  # the heading path as one line; no list in a cell
    assert rows[0]["answer"] == f"0-4;{span['start']}-{span['end']}"
    assert rows[0]["answer_text"] == f"Văn … {SECOND}"  # each piece trimmed, joined by " … "
    assert rows[1]["answer"] == "" and rows[1]["answer_text"] == ""


def test_json_carries_the_offsets():
    span = _span(TEXT, SECOND)
    result = json.loads(export.to_json("q", [_hit()]))["results"][0]
    assert result["answer"] == [span] and result["text"][span["start"]:span["end"]] == SECOND


# --- number queries (issue 18, item 5) ------------------------------------------------------------


def test_a_number_query_is_not_accented_and_its_date_digits_are_not_marked():
    from search_app.core.accents import restore
    from search_app.page.render import highlight

    assert restore("999-NQ/TEST", ["Nghị quyết số 999-NQ/TEST ngày 03/11/2099"]) == "999-NQ/TEST"
    assert restore("nghi quyet 999-NQ/TEST", ["Nghị quyết số 999-NQ/TEST"]) == "nghị quyết 999-NQ/TEST"
    html = highlight("Nghị quyết số 999-NQ/TEST ngày 03/11/2099; 11 văn bản thử nghiệm", "11-NQ/TEST")
    assert "<mark>" not in html  # another number: neither it nor the "11" of the date is a match
    html = highlight("Theo Nghị quyết 11-NQ/TEST ngày 03/11/2099 của Ban thử nghiệm", "11-NQ/TEST")
    assert html.count("<mark>") == 1 and "<mark>11&#45;NQ/TEST</mark>" in html
    assert "03/11/2099" in html


@pytest.mark.slow
def test_a_number_query_shows_the_document_card_first(hash_index, monkeypatch):
    from helpers import ROOT, page_values
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("VNSEARCH_INDEX", str(hash_index))
    at = AppTest.from_file(str(ROOT / "search_app" / "page" / "app.py"), default_timeout=60)
    at.run()
    try:
        at.text_input(key="q").input("999-NQ/TEST").run()
        assert not at.exception
        md = page_values(at.main)
        card = next(i for i, m in enumerate(md) if "Được dẫn chiếu trong" in m)
        first_hit = next(i for i, m in enumerate(md) if m.startswith('<div class="hit-title">'))
        assert card < first_hit and "999&#45;NQ/TEST" in md[card]
        assert not any("Hiểu câu hỏi là" in c.value for c in at.caption)
        assert any(b.label.startswith("Xem quan hệ") for b in at.button)
    finally:
        import streamlit as st

        st.cache_resource.clear()


def test_the_copy_button_carries_the_citation_safely():
    from search_app.page.citation_box import COPY_LABEL, citation_html, page_script

    citation = 'Nghị quyết số 999-NQ/TEST</script><script>alert(1)</script> "thử" <img src=x onerror=alert(2)>'
    html = citation_html(citation)
    assert COPY_LABEL in html and "<script>" not in html and "<img" not in html
    # the attribute holds the citation escaped: nothing in it can close the quote or open a tag
    attr = html.split('data-copy="')[1].split('"')[0]
    assert "<" not in attr and ">" not in attr and "&#34;thử&#34;" in attr
    script = page_script()
    assert script.count("<script>") == 1 and script.count("</script>") == 1 and "999" not in script
    assert 'lang = "vi"' in script
