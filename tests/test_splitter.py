import re

from helpers import INTERVIEW_FIXTURE, LAW_FIXTURE

from indexer.split import split_document
from indexer.text.normalise import clean_text, word_count


def _split(text, **kw):
    text = clean_text(text)
    return text, split_document("doc", text, **kw)


def test_every_passage_is_a_verbatim_span():
    for fixture in (LAW_FIXTURE, INTERVIEW_FIXTURE):
        text, ps = _split(fixture)
        assert ps
        for p in ps:
            assert text[p.start : p.end] == p.text
        assert [p.ordinal for p in ps] == list(range(len(ps)))


def test_interview_question_travels_with_its_answer():
    text, ps = _split(INTERVIEW_FIXTURE)
    for p in ps:
        if p.text.startswith("BBT:") and "cảm ơn" not in p.text:
            assert "\n" in p.text, f"question alone: {p.text!r}"
    q = next(p for p in ps if "mục đích của kho" in p.text)
    assert "Kho văn bản thử nghiệm giúp kiểm tra" in q.text


def test_bullets_carry_their_heading():
    text, ps = _split(INTERVIEW_FIXTURE, min_words=5, max_words=30)
    second = next(p for p in ps if "Rà soát các lỗi" in p.text)
    # the path keeps the words, not the line's "*" and "BBT:" (issue 18)
    assert second.section[-1] == "Đối với nhóm thử nghiệm thứ hai"
    assert second.section[0].startswith("Các giải pháp")
    first = next(p for p in ps if "Ghi nhận kết quả" in p.text)
    assert first.section[-1] == "Đối với nhóm thử nghiệm thứ nhất"


def test_law_articles_and_clauses():
    text, ps = _split(LAW_FIXTURE)
    art2 = next(p for p in ps if "Kho thử nghiệm là nơi" in p.text)
    assert art2.section[:2] == ["Chương I. NHỮNG QUY ĐỊNH CHUNG", "Điều 2. Giải thích từ ngữ"]
    assert "Đoạn dài là đoạn" in art2.text  # small clauses of one article are packed together
    art3 = next(p for p in ps if "Cơ quan thử nghiệm có trách nhiệm" in p.text)
    assert art3.section == ["Chương II. TRÁCH NHIỆM", "Điều 3. Trách nhiệm của cơ quan thử nghiệm"]
    # never merged across an article
    assert all(not ("Điều 1." in p.text and "Điều 2." in p.text) for p in ps)


def test_long_sections_are_cut_between_sentences_into_bounded_passages():
    sentences = [f"Câu thử nghiệm số {i} nói về việc tách đoạn văn bản dài cho đúng ranh giới câu." for i in range(80)]
    text, ps = _split("Điều 9. Thử nghiệm\n" + " ".join(sentences))
    assert len(ps) > 1
    for p in ps:
        assert word_count(p.text) <= 250 * 1.15
        assert p.text.endswith(".")
        assert re.match(r"(Điều 9|Câu thử nghiệm)", p.text)
        assert p.section == ["Điều 9. Thử nghiệm"]


def test_pdf_pages_are_attached():
    from indexer.records import PageSpan

    text = "Trang một có một đoạn văn thử nghiệm đủ dài.\nTrang hai có đoạn khác."
    cut = text.index("Trang hai")
    ps = split_document("d", text, pages=[PageSpan(0, cut - 1, 1), PageSpan(cut, len(text), 2)],
                        min_words=1, max_words=10)
    assert [p.page for p in ps] == [1, 2]


def test_party_document_sub_numbering_with_a_dash_is_a_heading():
    text = clean_text(
        "**3- Triển khai các định hướng thử nghiệm chủ yếu**\n\n"
        "**3.1- Tăng cường nghiên cứu thử nghiệm**\n\n" + "Nội dung thử nghiệm thứ nhất của văn bản giả định. " * 12 +
        "\n\n**3.2- Ưu tiên phát triển công nghệ thử nghiệm**\n\n" + "Nội dung thử nghiệm thứ hai về công nghệ. " * 12)
    ps = split_document("d", text)
    second = next(p for p in ps if "thứ hai về công nghệ" in p.text)
    assert second.section[-1] == "3.2- Ưu tiên phát triển công nghệ thử nghiệm"
    assert second.text.startswith("**3.2- Ưu tiên")  # the heading travels with its content
    assert all("3.2- Ưu tiên" not in p.text for p in ps if "thứ nhất" in p.text)
