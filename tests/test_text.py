import unicodedata

from indexer.text.normalise import clean_text, fold, syllables


def test_clean_removes_web_crumbs_but_keeps_sentences():
    raw = "Sign In\n\nTiêu đề\nTag:\nFile đính kèm\nBài có chữ Tag: ở giữa câu.\n\n\n\nHết"
    out = clean_text(raw)
    assert "Sign In" not in out and "File đính kèm" not in out
    assert "Bài có chữ Tag: ở giữa câu." in out
    assert "\n\n\n" not in out


def test_clean_is_nfc_and_collapses_spaces():
    nfd = unicodedata.normalize("NFD", "Nghị  quyết\u00a0số")
    out = clean_text(nfd)
    assert out == "Nghị quyết số"
    assert unicodedata.is_normalized("NFC", out)


def test_fold_strips_tones_and_d_for_nfc_and_nfd():
    for form in ("NFC", "NFD"):
        s = unicodedata.normalize(form, "Đảng bộ tỉnh Bắc Kạn quyết định")
        assert fold(s) == "dang bo tinh bac kan quyet dinh"


def test_syllables_keep_one_letter_words():
    assert syllables("Ở đây, ý kiến và 2 đề xuất") == ["ở", "đây", "ý", "kiến", "và", "2", "đề", "xuất"]


def test_highlight_escapes_then_marks():
    from search_app.page.render import highlight

    html = highlight("Quy hoạch tỉnh <b>Bắc Kạn</b> và tinh thần", "quy hoach tinh bac kan")
    assert "<b>" not in html and "&#60;b&#62;" in html
    assert "<mark>Quy</mark> <mark>hoạch</mark> <mark>tỉnh</mark>" in html
    assert "<mark>Bắc</mark> <mark>Kạn</mark>" in html
    assert "<mark>tinh</mark>" not in html  # a lone folded match ("tinh thần") is not marked
