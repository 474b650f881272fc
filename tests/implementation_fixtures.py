"""Visibly synthetic documents for the implementation map and follows: a resolution 999-NQ/TEST
with three tasks, and a programme that mirrors its numbering (every word invented for the test)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import write

RESOLUTION = """NGHỊ QUYẾT THỬ NGHIỆM
Văn bản thử nghiệm về kho dữ liệu giả định.
I. QUAN ĐIỂM
1. Kho thử nghiệm là nền tảng của mọi hoạt động giả định.
II. NHIỆM VỤ, GIẢI PHÁP
1. Nâng cấp máy chủ thử nghiệm
Mua sắm máy chủ thử nghiệm mới, lắp đặt ổ đĩa máy chủ và nâng cấp mạng máy chủ cho kho thử nghiệm.
2. Đào tạo kiểm thử viên
Mở lớp đào tạo kiểm thử viên, bồi dưỡng giảng viên kiểm thử và cấp chứng chỉ kiểm thử viên giả định.
3. Hợp tác với đối tác giả định
Ký thỏa thuận hợp tác với đối tác giả định nước ngoài, trao đổi chuyên gia hợp tác và hội thảo đối tác.
III. TỔ CHỨC THỰC HIỆN
Các cơ quan thử nghiệm tổ chức thực hiện Nghị quyết này.
"""

# The programme: item by item under II.k, as the real programmes follow their resolution.
PROGRAMME_ITEMS = {
    1: ["a) Mua sắm máy chủ thử nghiệm mới cho kho thử nghiệm trong năm giả định.",
        "b) Lắp đặt ổ đĩa máy chủ và nâng cấp mạng máy chủ của kho thử nghiệm."],
    2: ["a) Mở lớp đào tạo kiểm thử viên giả định hằng năm.",
        "b) Bồi dưỡng giảng viên kiểm thử và cấp chứng chỉ kiểm thử viên."],
    3: ["a) Ký thỏa thuận hợp tác với đối tác giả định nước ngoài.",
        "b) Trao đổi chuyên gia hợp tác và tổ chức hội thảo đối tác giả định."],
}
TASK_TITLES = {1: "Nâng cấp máy chủ thử nghiệm", 2: "Đào tạo kiểm thử viên", 3: "Hợp tác với đối tác giả định"}


def programme(tasks: tuple[int, ...] = (1, 2, 3), number: str = "999/NQ-TEST") -> str:
    lines = ["CƠ QUAN THỬ NGHIỆM", f"Số: {number}",
             "Ban hành Chương trình hành động của Cơ quan thử nghiệm thực hiện Nghị quyết số 999-NQ/TEST.",
             "I. MỤC TIÊU", "Thực hiện đầy đủ Văn bản thử nghiệm.", "II. NHIỆM VỤ CỤ THỂ"]
    for k in tasks:
        lines.append(f"{k}. {TASK_TITLES[k]}")
        lines += PROGRAMME_ITEMS[k]
    lines += ["III. TỔ CHỨC THỰC HIỆN", "Các đơn vị thử nghiệm báo cáo kết quả thực hiện."]
    return "\n".join(lines) + "\n"


def resolution_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    write(corpus / "nghi-quyet-thu-nghiem.txt", RESOLUTION)
    write(corpus / "nghi-quyet-thu-nghiem.txt.meta.json", json.dumps({
        "title": "Văn bản thử nghiệm về kho dữ liệu giả định", "doc_number": "999-NQ/TEST",
        "doc_type": "Nghị quyết", "issuer": "Ban thử nghiệm", "date": "01/02/2099"}, ensure_ascii=False))
    write(corpus / "chuong-trinh-thu-nghiem.txt", programme())
    write(corpus / "chuong-trinh-thu-nghiem.txt.meta.json", json.dumps({
        "title": "Chương trình hành động thử nghiệm", "doc_number": "999/NQ-TEST", "doc_type": "Nghị quyết",
        "issuer": "Cơ quan thử nghiệm", "date": "03/04/2099"}, ensure_ascii=False))
    return corpus
