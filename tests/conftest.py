"""Shared fixtures. Most tests use the `hash` embedder: instant, deterministic, no model needed."""

from __future__ import annotations

import json
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


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def font_path() -> Path:
    for p in FONT_CANDIDATES:
        if p.exists():
            return p
    pytest.fail("no DejaVuSans.ttf: install the Debian package fonts-dejavu-core (.ci/run does)")


@pytest.fixture
def synthetic_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    write(corpus / "luat-thu-nghiem.txt", LAW_FIXTURE)
    write(corpus / "phong-van-thu-nghiem.txt", INTERVIEW_FIXTURE)
    write(corpus / "phong-van-thu-nghiem.txt.meta.json", json.dumps({
        "title": "Phỏng vấn thử nghiệm", "doc_type": "Phỏng vấn", "source": "Trang thử nghiệm",
        "date": "02/03/2099", "interviewee": "Nhân vật giả định, Trưởng ban thử nghiệm"}, ensure_ascii=False))
    write(corpus / "xss.html", "<html><head><title>Văn bản thử nghiệm &lt;b&gt;</title></head><body>"
          "<nav>Trang chủ | Đăng nhập</nav><article><h1>Văn bản thử nghiệm chứa mã</h1>"
          "<p>Đoạn thử nghiệm có chuỗi &lt;script&gt;alert(1)&lt;/script&gt; phải hiện ra như chữ.</p>"
          "<script>alert('x')</script></article></body></html>")
    return corpus


@pytest.fixture
def hash_index(synthetic_corpus: Path, tmp_path: Path) -> Path:
    from indexer.pipeline.build import build

    index = tmp_path / "index"
    report = build([synthetic_corpus], index, model="hash", progress=False)
    assert report.ok, report.summary()
    return index


@pytest.fixture
def shared() -> Path:
    if not (SHARED / "README.md").exists():
        pytest.skip(f"../shared is absent ({SHARED}); this test reads the real documents from it")
    return SHARED
