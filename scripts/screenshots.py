"""Retake the screenshots in docs/ from the demo corpus, in Debian's Chromium at 1400 px wide.

    .venv/bin/python -m indexer build corpus --index /tmp/demo-index     # the default model, as make run
    .venv/bin/python scripts/screenshots.py --index /tmp/demo-index

Writes docs/screenshot-search.png, -document.png, -references.png (1400×1000) and -relations.png
(1400×1800). The page is started as the browser tests start it (tests/test_browser.py's run_page).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_browser import CHROMIUM, FLAGS, run_page  # noqa: E402 - tests/ is put on the path above

DOCS = ROOT / "docs"


def _page(browser, url: str, height: int = 1000):
    page = browser.new_page(viewport={"width": 1400, "height": height})
    page.set_default_timeout(120_000)
    page.goto(url)
    page.get_by_role("heading", name="Tra cứu văn bản chính trị").wait_for()
    return page


def take(url: str, browser) -> None:
    page = _page(browser, url + "/?q=tam+nhin+den+nam+2045+ve+khoa+hoc+cong+nghe")
    page.locator(".hit-text").first.wait_for()
    time.sleep(2)
    page.screenshot(path=str(DOCS / "screenshot-search.png"))
    page.close()

    page = _page(browser, url + "/?doc=nghi-quyet-57-NQ-TW-2024.md&p=12")
    page.locator(".doc-view #hit").wait_for()
    page.evaluate("document.getElementById('hit').scrollIntoView({block: 'center'})")
    time.sleep(2)
    page.screenshot(path=str(DOCS / "screenshot-document.png"))
    page.close()

    page = _page(browser, url + "/?ref=11-NQ%2FTW")
    page.get_by_text("chưa có trong kho").first.wait_for()
    time.sleep(2)
    page.screenshot(path=str(DOCS / "screenshot-references.png"))
    page.close()

    page = _page(browser, url + "/?ref=57-NQ%2FTW", height=1800)
    page.locator(".impl-cite").first.wait_for()
    time.sleep(3)
    page.screenshot(path=str(DOCS / "screenshot-relations.png"))
    page.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, required=True, help="an index of corpus/")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, run_page(Path(tmp), ROOT / "corpus", args.index.resolve()) as url, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        take(url, browser)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
