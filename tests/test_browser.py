"""The page in a real browser: Debian's Chromium driven by Playwright against `streamlit run`.

Screenshots go to test-artifacts/ (not committed). Needs /usr/bin/chromium (.ci/run installs it).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import ROOT

from indexer.pipeline.build import build

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def run_page(work: Path, corpus: Path, index: Path):
    """`streamlit run` of the page over `index` (uploads into `corpus` on, no token); yields its URL.
    The server's output goes to work/streamlit.log."""
    port = _free_port()
    env = {**os.environ, "VNSEARCH_INDEX": str(index), "VNSEARCH_CORPUS": str(corpus),
           "VNSEARCH_UPLOADS": "1", "VNSEARCH_UPLOAD_TOKEN": "", "VNSEARCH_AUDIT_LOG": "",  # uploads on, no token
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    log = open(work / "streamlit.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "search_app" / "page" / "app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
         "--client.toolbarMode", "minimal"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("streamlit did not start: " + (work / "streamlit.log").read_text())
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    work = tmp_path_factory.mktemp("browser")
    corpus = work / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    index = work / "index"
    assert build([corpus], index, progress=False).ok
    with run_page(work, corpus, index) as url:
        yield url, corpus


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def _frame_with(page, selector: str, timeout: float = 60):
    """The frame of the page that holds `selector` (components each have their own iframe)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for f in page.frames:
            try:
                if f.locator(selector).count():
                    return f
            except Exception:  # noqa: BLE001 - a frame detached while looking
                continue
        time.sleep(0.3)
    raise AssertionError(f"no frame holds {selector}")


def _settled(page) -> None:
    """Wait until Streamlit has finished the run a click started: while it runs, elements of the
    previous screen stay in the page (marked stale) and a locator can read one of them."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid^=\"stStatusWidgetRunning\"]')"
        " && !document.querySelector('[data-stale=\"true\"]')")


def _search(page, query: str) -> None:
    box = page.get_by_label("Câu hỏi hoặc từ khóa (có thể gõ không dấu)")
    box.fill(query)
    box.press("Enter")


def test_search_context_references_export_upload(server, browser, tmp_path):
    url, corpus = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_role("heading", name="Tra cứu văn bản chính trị").wait_for()

    # 1. a query typed without diacritics finds the right passage first
    _search(page, "quy hoach tinh bac kan tam nhin 2050")
    first = page.locator(".hit-text").first
    first.wait_for()
    assert "Quy hoạch tỉnh Bắc Kạn thời kỳ 2021-2030" in first.inner_text()
    assert "q=quy+hoach" in page.url or "q=quy%20hoach" in page.url
    # the answering sentence is marked inside the first passage: a part of it, never all of it
    answer = first.locator(".answer").first
    answer.wait_for()
    said, whole = answer.inner_text().strip(), first.inner_text()
    assert said and said in whole and len(said) < len(whole)
    assert answer.locator("mark").count() >= 1  # the query's words stay highlighted inside it
    _shot(page, "1-search")

    # 2. its context: the neighbouring passages
    page.get_by_text("Ngữ cảnh: đoạn trước và sau").first.click()
    page.locator(".ctx").first.wait_for()
    assert page.locator(".ctx").count() >= 2
    _shot(page, "2-context")

    # 3. the whole document, the hit marked and scrolled into view
    page.get_by_role("button", name="Xem toàn văn").first.click()
    page.wait_for_url(lambda u: "doc=" in u)
    frame = _frame_with(page, "#hit")  # the document's frame
    assert "Quy hoạch tỉnh Bắc Kạn" in frame.locator("#hit").inner_text()
    assert frame.locator("nav a").count() >= 5  # the outline
    _shot(page, "2b-document")
    page.get_by_role("button", name="← Quay lại").click()
    page.wait_for_url(lambda u: "doc=" not in u)
    page.locator(".hit-text").first.wait_for()

    # 4. an export of the results
    with page.expect_download() as dl:
        page.get_by_role("button", name="Tải JSON").click()
    data = json.loads(Path(dl.value.path()).read_text(encoding="utf-8"))
    assert data["results"][0]["citation"].startswith("Trần Thị Lộc")

    # 5. the reference view of a document the hit cites
    page.get_by_role("button", name="1288/QĐ-TTg").first.click()
    page.get_by_text("Văn bản dẫn chiếu").first.wait_for()
    page.get_by_text("chưa có trong kho").first.wait_for()
    page.get_by_text("Được dẫn chiếu trong").first.wait_for()
    _settled(page)
    assert "key=1288" in page.url
    assert "Quyết định số 1288/QĐ-TTg" in page.locator(".hit-text").first.inner_text()
    _shot(page, "3-references")
    page.get_by_role("button", name="← Quay lại tìm kiếm").click()
    page.wait_for_url(lambda u: "key=" not in u)
    page.locator(".hit-text").first.wait_for()

    # 6. upload a small file and find it right away
    sample = tmp_path / "van-ban-thu-nghiem.txt"
    sample.write_text("Văn bản thử nghiệm tải lên\n\nĐoạn thử nghiệm về chương trình zyxwvu kiểm thử tải lên "
                      "trong trình duyệt, theo Nghị quyết số 999-NQ/TEST.", encoding="utf-8")
    page.get_by_test_id("stExpander").get_by_text("Thêm văn bản vào kho").click()
    page.locator("input[type=file]").set_input_files(str(sample))
    page.get_by_role("button", name="Thêm và lập chỉ mục").click()
    page.get_by_text("Đã thêm van-ban-thu-nghiem.txt").wait_for()
    assert (corpus / "uploads" / "van-ban-thu-nghiem.txt").exists()
    audit = [json.loads(line) for line in (corpus / ".upload-audit.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["stored_name"], r["result"]) for r in audit] == [("uploads/van-ban-thu-nghiem.txt", "indexed")]
    _search(page, "zyxwvu")
    page.get_by_text("Văn bản thử nghiệm tải lên").first.wait_for()
    assert "zyxwvu" in page.locator(".hit-text").first.inner_text()
    _shot(page, "4-upload")
    page.close()


def test_no_answer_and_a_citation_that_copies(server, browser):
    url, _ = server
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000},
                              permissions=["clipboard-read", "clipboard-write"])
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_role("heading", name="Tra cứu văn bản chính trị").wait_for()
    _search(page, "Công thức làm bánh chưng ngày Tết")
    page.get_by_text("Không tìm thấy đoạn văn trả lời câu hỏi này trong kho").wait_for()
    assert page.locator(".answer").count() == 0
    _search(page, "Dĩ công vi thượng")
    box = page.locator(".citation").first
    box.wait_for()
    assert "Trần Thị Lộc" in box.inner_text()
    assert page.evaluate("document.documentElement.lang") == "vi"
    # the copy button sits below the citation, not over its text, and copies the citation as shown
    button = page.get_by_role("button", name="Sao chép trích dẫn").first
    b1, b2 = box.bounding_box(), button.bounding_box()
    assert b2["y"] >= b1["y"] + b1["height"] - 1
    button.click()
    page.get_by_role("button", name="Đã sao chép").first.wait_for()
    shown = box.inner_text().removeprefix("Trích dẫn:").strip()
    assert page.evaluate("navigator.clipboard.readText()").strip() == shown
    ctx.close()
