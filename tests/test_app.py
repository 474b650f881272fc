import html

from helpers import APP, page_text
from streamlit.testing.v1 import AppTest


def _markdown(at):
    return page_text(at)


def test_query_renders_result_and_citation(app):
    app.text_input(key="q").input("kiem thu tu dong").run()
    assert not app.exception
    md = _markdown(app)
    assert '<div class="hit-title">1. Phỏng vấn thử nghiệm</div>' in md
    assert "<mark>kiểm</mark> <mark>thử</mark> <mark>tự</mark> <mark>động</mark>" in md
    assert '<div class="citation">' in md and "Nhân vật giả định" in md.split('<div class="citation">')[1]
    assert '<details class="context"><summary>Ngữ cảnh' in md  # folded in the hit's own element
    assert "Văn bản: **3**" in app.sidebar.markdown[0].value


def test_document_markup_is_shown_as_text(app):
    app.text_input(key="q").input("script alert").run()
    md = _markdown(app)
    # shown as the characters "<script>alert(1)</script>", never as a tag
    unmarked = md.replace("<mark>", "").replace("</mark>", "")
    assert "&#60;script&#62;alert&#40;1&#41;&#60;/script&#62;" in unmarked
    assert "<script" not in md


def test_empty_query_shows_nothing_and_no_result_says_so(app):
    assert '<div class="citation">' not in _markdown(app) and '<div class="hit-title">' not in _markdown(app)
    # dense retrieval always has nearest neighbours; keyword retrieval can find nothing
    app.radio(key="method").set_value("keyword").run()
    app.text_input(key="q").input("zzzz qqqq").run()
    assert any("Không tìm thấy" in i.value for i in app.info)


def test_missing_index_explains_how_to_build(tmp_path, monkeypatch):
    monkeypatch.setenv("VNSEARCH_INDEX", str(tmp_path / "none"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert at.warning and "make index" in at.warning[0].value


def test_hit_shows_the_documents_it_cites_and_opens_the_reference_view(app):
    app.text_input(key="q").input("Ghi nhận kết quả kiểm thử vào sổ thử nghiệm").run()
    ref_buttons = [b for b in app.button if b.key and b.key.startswith("ref-")]
    # labels carry document text as entities (escape.label_text); the browser shows them decoded
    assert any(html.unescape(b.label) == "999-NQ/TEST" for b in ref_buttons)
    next(b for b in ref_buttons if html.unescape(b.label) == "999-NQ/TEST").click().run()
    assert app.query_params["key"] == "999-NQ/TEST"
    md = page_text(app)
    assert "Được dẫn chiếu trong 2 đoạn văn" in md  # the interview and the law both cite it
    assert app.warning and "chưa có trong kho" in app.warning[0].value


def test_links_with_the_earlier_parameter_names_still_open(hash_index, monkeypatch):
    """`?ref=` and `?p=` (before `key` and `ordinal` were the one name) open the same views, the URL
    rewritten to today's names."""
    monkeypatch.setenv("VNSEARCH_INDEX", str(hash_index))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["ref"] = "999/2099/QH99"
    at.run()
    assert not at.exception and "**Số hiệu:** 999/2099/QH99" in page_text(at)
    assert at.query_params["key"] == "999/2099/QH99" and "ref" not in at.query_params


def test_reference_view_of_an_indexed_document_from_the_url(hash_index, monkeypatch):
    monkeypatch.setenv("VNSEARCH_INDEX", str(hash_index))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["key"] = "999/2099/QH99"
    at.run()
    assert not at.exception
    md = page_text(at)
    assert "### Luật Thử nghiệm tra cứu" in md and "**Số hiệu:** 999/2099/QH99" in md


def test_downloads_are_offered_for_results(app):
    app.text_input(key="q").input("kiểm thử").run()
    labels = {b.proto.label for b in app.get("download_button")}
    assert labels == {"Tải Markdown", "Tải CSV", "Tải JSON"}


def test_markup_in_titles_metadata_and_queries_renders_as_text(tmp_path, monkeypatch):
    import json

    from helpers import write

    from indexer.pipeline.build import build

    corpus = tmp_path / "c"
    write(corpus / "x.txt", "Văn bản thử nghiệm về mã độc trong tiêu đề và siêu dữ liệu.")
    write(corpus / "x.txt.meta.json", json.dumps({
        "title": "<img src=x onerror=alert(1)> **đậm** [liên kết](javascript:alert(1))",
        "doc_type": "<b>Loại</b>", "source": "<script>alert(2)</script>", "date": "01/01/2099"}))
    build([corpus], tmp_path / "ix", model="hash", progress=False)
    monkeypatch.setenv("VNSEARCH_INDEX", str(tmp_path / "ix"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.text_input(key="q").input("<i>mã độc</i> " + "x" * 1200).run()
    assert not at.exception
    md = _markdown(at)
    assert "<img" not in md and "<b>Loại" not in md and "<script" not in md
    assert "&#60;img src&#61;x onerror&#61;alert&#40;1&#41;&#62;" in md
    assert "&#42;&#42;đậm&#42;&#42;" in md and "&#91;liên kết&#93;" in md
    assert any("quá dài" in i.value for i in at.info)
    # the citation is escaped like every document text: the characters are shown, never run
    assert "&#60;script&#62;alert&#40;2&#41;&#60;/script&#62;" in md.split('<div class="citation">')[1]


def test_the_answering_sentence_is_marked_in_the_hit_and_its_context(hash_index, monkeypatch):
    # The answer is set here rather than by the search core, so that this checks the page alone.
    from search_app.core.searcher import Searcher

    search = Searcher.search

    def search_with_answer(self, *args, **kwargs):
        hits = search(self, *args, **kwargs)
        hits.answerable = True  # this test is about how an answer is shown
        for h in hits:
            start = h.text.index("kiểm thử tự động") if "kiểm thử tự động" in h.text else 0
            h.answer = [{"start": start, "end": min(start + 40, len(h.text))}]
        return hits

    monkeypatch.setattr(Searcher, "search", search_with_answer)
    monkeypatch.setenv("VNSEARCH_INDEX", str(hash_index))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    try:
        at.text_input(key="q").input("kiem thu tu dong").run()
        assert not at.exception
        md = _markdown(at)
        opening = '<span class="answer" title="Câu trả lời">'
        hit = next(h.value for h in at.get("html") if '<div class="hit-text">' in h.value)
        first = hit.split('<div class="hit-text">')[1].split("</div>")[0]
        assert opening + "<mark>kiểm</mark> <mark>thử</mark> <mark>tự</mark> <mark>động</mark>" in first
        assert "Phần gạch chân là câu trả lời" in md
        current = hit.split('<div class="ctx ctx-current">')[1:]
        assert current and opening in current[0]  # the passage marked again in its context
        assert ".answer {" in md  # its style is on the page
    finally:
        import streamlit as st

        st.cache_resource.clear()


def test_a_query_typed_without_diacritics_says_how_it_was_read(app):
    app.text_input(key="q").input("kiem thu tu dong").run()
    assert not app.exception
    captions = [c.value for c in app.caption]
    assert any("Hiểu câu hỏi là: `kiểm thử tự động`" in c for c in captions), captions
    app.text_input(key="q").input("kiểm thử tự động").run()  # typed with accents: nothing to say
    assert not any("Hiểu câu hỏi là" in c.value for c in app.caption)
