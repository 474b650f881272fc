"""What tests share besides fixtures: paths, the synthetic documents, small helpers.

Fixtures live in conftest.py; tests import these names from here (`from helpers import write`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("VNSEARCH_SHARED", ROOT.parent / "shared"))
FONT_CANDIDATES = [
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
]

# Visibly synthetic documents: fictional numbers and bodies, no real text.
LAW_FIXTURE = """QUỐC HỘI THỬ NGHIỆM
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Luật số: 999/2099/QH99
Hà Nội, ngày 05 tháng 06 năm 2099
LUẬT
THỬ NGHIỆM TRA CỨU
Chương I
NHỮNG QUY ĐỊNH CHUNG
Điều 1. Phạm vi điều chỉnh
Văn bản thử nghiệm này quy định về việc tra cứu văn bản thử nghiệm trong kho dữ liệu giả định.
Điều 2. Giải thích từ ngữ
Trong văn bản thử nghiệm này, các từ ngữ dưới đây được hiểu như sau:
1. Kho thử nghiệm là nơi lưu giữ các văn bản giả định phục vụ kiểm thử phần mềm.
2. Đoạn thử nghiệm là một phần của văn bản giả định.
a) Đoạn ngắn là đoạn có ít chữ.
b) Đoạn dài là đoạn có nhiều chữ.
Chương II
TRÁCH NHIỆM
Điều 3. Trách nhiệm của cơ quan thử nghiệm
Cơ quan thử nghiệm có trách nhiệm thực hiện Nghị quyết số 999-NQ/TEST và Quyết định số 9999/QĐ-TEST.
"""

INTERVIEW_FIXTURE = """Văn bản thử nghiệm: phỏng vấn giả định

Ban biên tập thử nghiệm phỏng vấn một nhân vật giả định về kho văn bản thử nghiệm.

BBT: Xin cho biết mục đích của kho văn bản thử nghiệm là gì?

Nhân vật giả định: Kho văn bản thử nghiệm giúp kiểm tra việc tách đoạn. Mỗi câu hỏi phải đi cùng câu trả lời của nó.

BBT: Các giải pháp thử nghiệm gồm những gì?

Nhân vật giả định:

* Đối với nhóm thử nghiệm thứ nhất

– Thực hiện việc kiểm thử tự động đối với mọi thay đổi của phần mềm giả định.

– Ghi nhận kết quả kiểm thử vào sổ thử nghiệm theo Nghị quyết số 999-NQ/TEST.

* Đối với nhóm thử nghiệm thứ hai

– Rà soát các lỗi còn tồn tại và báo cáo định kỳ về ban thử nghiệm.

BBT: Xin cảm ơn!
"""


def backend_uri(request: pytest.FixtureRequest, backend: str) -> str | None:
    """The Milvus URI a test of `backend` builds against: the session's `milvus_uri` (None if embedded)."""
    return request.getfixturevalue("milvus_uri") if backend == "milvus" else None


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


APP = str(ROOT / "search_app" / "page" / "app.py")  # the Streamlit page, for AppTest


def shared_dir() -> Path:
    """../shared (or VNSEARCH_SHARED), or a skip with the reason when it is absent."""
    if not (SHARED / "README.md").exists():
        pytest.skip(f"../shared is absent ({SHARED}); this test reads the real documents from it")
    return SHARED


# The two backends, for parametrised tests: the Milvus one starts a server, hence slow.
BACKEND_PARAMS = ["embedded", pytest.param("milvus", marks=[pytest.mark.milvus, pytest.mark.slow])]


def unpublished_write(index: Path) -> bool:
    """True when a writer of `index` began writing and never published: what a kill mid-write leaves
    (embedded: its temporary generation folder; Milvus: an epoch claimed in the pointer but not published)."""
    return bool(write_claims(index))


def write_claims(index: Path) -> frozenset:
    """The writes of `index` begun and not yet published or cleaned up: a new write adds one
    (embedded: its temporary generation folder's name; Milvus: the epoch it claimed in the pointer)."""
    from indexer.store import open_backend
    from indexer.store.base import read_config

    if read_config(index).get("backend") == "milvus":
        backend = open_backend(index)
        try:
            ptr = backend._pointer()
        finally:
            backend.close()
        return frozenset() if ptr is None or ptr.claimed <= ptr.epoch else frozenset([ptr.claimed])
    return frozenset(p.name for p in index.glob(".tmp-gen-*"))


def page_text(at) -> str:
    """Every Markdown and HTML element of an AppTest run (or of a block of it), joined: hits are HTML
    elements (st.html), the rest Markdown. The page's own fixed script (citation_box.page_script, no
    document text in it) is left out, so that a test can say no document put a <script> on the page."""
    from search_app.page.citation_box import page_script

    return "\n".join([m.value for m in at.markdown] + [h.value for h in at.get("html") if h.value != page_script()])


def page_values(node) -> list[str]:
    """The Markdown and HTML values of an AppTest tree in page order (cards, hits, …)."""
    out: list[str] = []
    for child in getattr(node, "children", {}).values():
        if getattr(child, "type", None) in ("markdown", "html"):
            out.append(child.value)
        out.extend(page_values(child))
    return out
