"""The page as a department uses it, in Debian's Chromium: exports opened and compared with the page,
Vietnamese everywhere (Streamlit's own uploader included), one typeface whose tone marks stack,
state shown as it is, and no deprecated Streamlit API in the server's log.

The demo corpus (corpus/: the interview and the three resolutions) indexed with the hash model, so
that the page starts in seconds; screenshots go to test-artifacts/.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import time
from pathlib import Path

import pytest
from helpers import ROOT, write
from test_browser import _search, _shot, require_chromium, run_page

from indexer.pipeline.build import build

pytestmark = [pytest.mark.browser, pytest.mark.slow]
IN_FORCE = "Chỉ văn bản còn hiệu lực"
INTERVIEW = "phong-van-trach-nhiem-cap-uy-2024.txt"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    require_chromium()
    work = tmp_path_factory.mktemp("demo")
    corpus = work / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    index = work / "index"
    assert build([corpus], index, model="hash", progress=False).ok
    with run_page(work, corpus, index) as url:
        yield url, corpus, index, work


def _open(browser, url: str, **kw):
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True, **kw)
    page.set_default_timeout(90_000)
    page.goto(url)
    page.get_by_role("heading", name="Tra cứu văn bản chính trị").wait_for()
    return page


def _download(page, label: str) -> Path:
    with page.expect_download() as dl:
        page.get_by_role("button", name=label).click()
    return Path(dl.value.path())


def _page_citations(page) -> list[str]:
    """The citations of the results shown, once all of them are drawn ("10 kết quả")."""
    caption = page.get_by_text(re.compile(r"^\d+ kết quả$")).first
    caption.wait_for()
    n = int(caption.inner_text().split()[0])
    deadline = time.time() + 60
    while page.locator(".citation").count() < n and time.time() < deadline:
        time.sleep(0.3)
    return [c.removeprefix("Trích dẫn:").strip() for c in page.locator(".citation").all_inner_texts()]


def test_exports_round_trip_with_the_in_force_filter(demo, browser):
    url, *_ = demo
    page = _open(browser, url)
    page.get_by_text(IN_FORCE).click()  # the sidebar's checkbox
    _search(page, "trách nhiệm của cấp ủy các cấp trong học tập và làm theo tư tưởng Hồ Chí Minh")
    page.locator(".citation").first.wait_for()
    shown = _page_citations(page)
    assert shown
    data = json.loads(_download(page, "Tải JSON").read_text(encoding="utf-8"))
    assert [r["citation"] for r in data["results"]] == shown
    assert IN_FORCE in data["filters"] and data["in_force_only"] is True and data["index_generation"]
    interview = [r for r in data["results"] if r["doc_id"] == INTERVIEW]
    assert interview and all(r["validity"] == {"status": "not_applicable"} and r["validity_label"] == "Không áp dụng"
                             for r in interview)
    text = _download(page, "Tải CSV").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))  # the first line is the header row a spreadsheet expects
    assert list(rows[0])[:4] == ["query", "filters", "searched_at", "index_generation"]
    assert [r["citation"] for r in rows] == shown and all(IN_FORCE in r["filters"] for r in rows)
    assert all(r["validity"] == "Không áp dụng" for r in rows if r["doc_id"] == INTERVIEW)
    assert not any(r["validity"] == "Còn hiệu lực" for r in rows if not r["doc_number"])
    md = _download(page, "Tải Markdown").read_text(encoding="utf-8")
    assert f"*Bộ lọc:* {IN_FORCE}" in md and all(c in md for c in shown)
    # no Markdown residue where a reader sees it: the file rendered as a viewer renders it (the escapes that
    # keep a document's "- " or "1." from starting a list are Markdown's own, and render as the characters)
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark").render(md)
    assert "**" not in rendered and "\\-" not in rendered
    assert re.search(r"\*Thời điểm:\* \d{2}/\d{2}/\d{4} ", md)
    _shot(page, "page-1-exports")
    page.close()


def _platform_fonts(page, selector: str) -> set[str]:
    """The fonts Chromium really drew `selector`'s text with (DevTools CSS.getPlatformFontsForNode)."""
    page.locator(selector).first.wait_for()
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    assert node, selector
    fonts: set[str] = set()
    for n in [node, *cdp.send("DOM.querySelectorAll", {"nodeId": node, "selector": "*"})["nodeIds"]]:
        fonts |= {f["familyName"] for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": n})["fonts"]}
    cdp.detach()
    return fonts


# Each Vietnamese letter with stacked marks against its base letter: drawn as one precomposed glyph,
# it advances as far as its base (a mark drawn apart, "sô´", adds an advance of its own).
STACKED = {"ố": "o", "ế": "e", "ệ": "e", "ữ": "ư", "ẫ": "a", "ờ": "ơ", "ặ": "a", "ỗ": "o"}
_MEASURE = """([sel, pairs]) => {
  const el = document.querySelector(sel);
  const probe = document.createElement('span');
  probe.style.cssText = 'position:absolute;visibility:hidden;white-space:pre;font-size:40px';
  el.appendChild(probe);
  const width = (t) => { probe.textContent = t; return probe.getBoundingClientRect().width; };
  const out = pairs.map(([s, b]) => [s, width(s), width(b)]);
  probe.remove();
  return out;
}"""


def test_citations_map_and_buttons_use_one_typeface_whose_tone_marks_stack(demo, browser):
    url, *_ = demo
    page = _open(browser, f"{url}/?key=57-NQ/TW")
    page.get_by_text("Bảng đối chiếu triển khai").first.wait_for()
    page.locator(".impl-cite").first.wait_for()
    assert "số 03/NQ-CP" in page.locator(".impl-cite").first.inner_text()
    page.wait_for_load_state("networkidle")
    for selector in (".impl-table", ".citation", "button.copy", "h1", ".st-key-follow_key button",
                     "[data-testid='stSidebar'] [data-testid='stExpander']"):
        # Streamlit's icons (an expander's arrow) keep their icon font; every letter is DejaVu Sans
        assert _platform_fonts(page, selector) - {"Material Symbols Rounded"} == {"DejaVu Sans"}, selector
    for selector in (".impl-cite", ".citation"):
        for letter, stacked, base in page.evaluate(_MEASURE, [selector, list(STACKED.items())]):
            assert abs(stacked - base) < 0.5, (selector, letter, stacked, base)
    _shot(page, "page-2-typeface")
    page.close()


def test_the_implementation_map_exports_one_row_per_item_with_its_context(demo, browser):
    import openpyxl

    url, *_ = demo
    page = _open(browser, f"{url}/?key=57-NQ/TW")
    page.locator(".impl-cite").first.wait_for()
    cited = page.locator(".impl-cite").all_inner_texts()
    body = page.inner_text("body")
    assert "22/12/2024" in body and "2024-12-22" not in body  # the reference view's dates
    wb = openpyxl.load_workbook(io.BytesIO(_download(page, "Tải XLSX").read_bytes()))
    items = [r for r in wb.worksheets[0].iter_rows(min_row=2, values_only=True) if r[5]]
    assert sorted(r[5] for r in items) == sorted(cited)  # one row per item, each with the page's citation
    info = {r[0].value: r[1].value for r in wb.worksheets[1].iter_rows()}
    assert info["Văn bản được đối chiếu"] == "57-NQ/TW" and info["Thế hệ chỉ mục"]
    table = list(csv.reader(io.StringIO(_download(page, "Tải CSV").read_text(encoding="utf-8-sig"))))
    assert table[0][:2] == ["Văn bản được đối chiếu", "Thời điểm lập bảng"]
    assert len(table) == wb.worksheets[0].max_row  # the same rows, under a plain header row
    page.close()


def test_a_follow_shows_at_once_and_nothing_internal_is_shown(demo, browser):
    url, *_ = demo
    page = _open(browser, f"{url}/?key=57-NQ/TW")
    page.get_by_role("button", name="Theo dõi văn bản này").click()
    page.get_by_text("Đã theo dõi").wait_for()
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Theo dõi — Mới kể từ lần cập nhật trước").wait_for(timeout=10_000)  # no reload
    body = page.inner_text("body")
    assert "VNSEARCH" not in body and not re.search(r"\b[\w-]+\.(md|txt)\b", body)
    assert "(structure)" not in body and not re.search(r"\b\d{4}-\d{2}-\d{2}\b", body)
    _shot(page, "page-3-follow")
    page.close()


def test_the_uploader_speaks_vietnamese_with_the_apps_limit(demo, browser):
    url, *_ = demo
    page = _open(browser, url)
    page.get_by_test_id("stExpander").get_by_text("Thêm văn bản vào kho").click()
    uploader = page.get_by_test_id("stFileUploader").first
    uploader.get_by_text("Chọn tệp").wait_for()  # ("Kéo thả tệp vào đây" too, where the widget is wide enough)
    text = uploader.inner_text()
    assert "Tối đa 50 MB mỗi tệp" in text and "Chọn tệp" in text, text
    assert not re.search(r"Drag|Upload|per file|200MB", text), text
    _shot(page, "page-4-uploader")
    page.close()


def test_start_page_questions_and_counts_refreshed_on_the_first_reload(demo, browser):
    url, corpus, index, _ = demo
    page = _open(browser, url)
    page.locator("[class*='st-key-example-5'] button").wait_for()
    examples = [t.strip() for t in page.locator("[class*='st-key-example-'] button").all_inner_texts()]
    assert len(examples) >= 4 and all(q.endswith("?") for q in examples), examples
    before = page.get_by_text(re.compile(r"Kho đang có")).first.inner_text()
    write(corpus / "them" / "van-ban-thu-nghiem.txt", "Văn bản thử nghiệm bổ sung\n\nĐoạn thử nghiệm về kho giả định.")
    assert build([corpus], index, model="hash", progress=False, incremental=True).ok
    page.reload()
    after = page.get_by_text(re.compile(r"Kho đang có")).first
    after.wait_for()
    assert "Kho đang có 5 văn bản" in before
    assert "Kho đang có 6 văn bản" in after.inner_text(), after.inner_text()
    page.close()


def test_the_document_view_marks_the_passage_without_a_deprecated_component(demo, browser):
    url, _, _, work = demo
    page = _open(browser, f"{url}/?doc={INTERVIEW}&p=5")
    hit = page.locator(".doc-view #hit")
    hit.wait_for()
    time.sleep(1)
    view, box = page.locator(".doc-view").bounding_box(), hit.bounding_box()
    assert view["y"] <= box["y"] <= view["y"] + view["height"]  # scrolled into its frame's view
    assert page.locator("iframe").count() == 0
    log = (work / "streamlit.log").read_text(encoding="utf-8")
    assert "deprecat" not in log.lower() and "will be removed" not in log, log[-2000:]
    page.close()
