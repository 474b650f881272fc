"""Typed relations, effective dates, validity, identity cards and official citations (issue #10).

Three layers:
- sentences: `indexer.text.relations` on visibly synthetic text ("Văn bản thử nghiệm", numbers such as
  991/2023/QH99 and 998-NQ/TEST), one fixture per relation type and per trap (amending laws listed
  inside a repeal, exceptions, quoted text, licences that expire, a law named without its number);
- an index of synthetic documents (`relations_index`, parametrised by backend: both by
  default; VNSEARCH_RELATION_BACKENDS=embedded runs one):
  validity, relations both ways, identity, citations, the in-force filter, the CLI and the page;
- the real texts of ../shared (skipped when absent): laws that repeal laws, amending laws listed
  inside repeal sentences, partial repeals, 03/NQ-CP implementing 57-NQ/TW, the interview's
  identity cards for 11-NQ/TW and 1288/QĐ-TTg. The cases marked HELD-OUT were picked at random
  and checked once by reading; no rule was changed after looking at them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import BACKEND_PARAMS, ROOT, backend_uri, page_text, shared_dir, write

from indexer.load.metadata import detect_header
from indexer.pipeline.build import build
from indexer.records import Filters
from indexer.text.docnumbers import number_key
from indexer.text.identity import mention_identity
from indexer.text.normalise import clean_text
from indexer.text.references import find_references
from indexer.text.relations import analyse_document, effective_date
from indexer.text.sentences import line_sentence_spans as sentences
from search_app.core.citation import format_citation
from search_app.core.searcher import HIT_FIELDS, Searcher
from search_app.page.chain_graph import chain_dot, dot_escape

BACKENDS = [p for p in BACKEND_PARAMS
            if getattr(p, "values", (p,))[0] in os.environ.get("VNSEARCH_RELATION_BACKENDS", "embedded,milvus")]
LAWS = "datasets/vietnamese-laws"

# --- the synthetic corpus: every relation type, visibly made up -------------------------------

OLD_LAW = """QUỐC HỘI THỬ NGHIỆM
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Luật số: 990/2020/QH99
Hà Nội, ngày 01 tháng 06 năm 2020
LUẬT
KHO VĂN BẢN THỬ NGHIỆM
Căn cứ Nghị quyết số 998-NQ/TEST ngày 02 tháng 02 năm 2019 của Ban Thử nghiệm Trung ương về phát triển kho văn bản thử nghiệm;
Quốc hội thử nghiệm ban hành Luật Kho văn bản thử nghiệm.
Chương I
QUY ĐỊNH CHUNG
Điều 1. Phạm vi điều chỉnh
Luật này quy định về việc lưu giữ văn bản thử nghiệm trong kho giả định dùng cho kiểm thử phần mềm.
Điều 2. Lưu giữ văn bản thử nghiệm
Văn bản thử nghiệm cũ được lưu giữ trong kho giả định theo quy định tại Điều 1 của Luật này.
Điều 3. Hiệu lực thi hành
Luật này có hiệu lực thi hành từ ngày 01 tháng 01 năm 2021.
"""  # noqa: E501 - one sentence a line, as in the sources

NEW_LAW = """QUỐC HỘI THỬ NGHIỆM
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Luật số: 991/2023/QH99
Hà Nội, ngày 10 tháng 06 năm 2023
LUẬT
KHO VĂN BẢN THỬ NGHIỆM
Căn cứ Nghị quyết số 998-NQ/TEST ngày 02 tháng 02 năm 2019 của Ban Thử nghiệm Trung ương về phát triển kho văn bản thử nghiệm;
Quốc hội thử nghiệm ban hành Luật Kho văn bản thử nghiệm.
Chương I
QUY ĐỊNH CHUNG
Điều 1. Phạm vi điều chỉnh
Luật này quy định về kho văn bản thử nghiệm thế hệ mới dùng cho kiểm thử phần mềm.
Điều 2. Trách nhiệm thi hành
Cơ quan thử nghiệm tổ chức thực hiện theo quy định của Luật Mẫu thử nghiệm số 987/2018/QH99.
Chương II
ĐIỀU KHOẢN THI HÀNH
Điều 3. Sửa đổi, bổ sung, bãi bỏ một số điều của luật khác
1. Sửa đổi, bổ sung Điều 4 của Luật Tra cứu thử nghiệm số 989/2019/QH99 đã được sửa đổi, bổ sung một số điều theo Luật số 988/2021/QH99 như sau:
“Điều 4. Nội dung thử nghiệm
Luật số 986/2017/QH99 hết hiệu lực kể từ ngày 01 tháng 01 năm 2022.”
2. Bãi bỏ khoản 2 Điều 5 của Luật Lưu trữ thử nghiệm số 985/2016/QH99.
Điều 4. Hiệu lực thi hành
1. Luật này có hiệu lực thi hành từ ngày 01 tháng 01 năm 2024.
2. Luật Kho văn bản thử nghiệm số 990/2020/QH99 đã được sửa đổi, bổ sung một số điều theo Luật số 984/2021/QH99 hết hiệu lực kể từ ngày Luật này có hiệu lực thi hành, trừ trường hợp quy định tại Điều 5 của Luật này.
3. Các pháp lệnh sau đây hết hiệu lực kể từ ngày Luật này có hiệu lực thi hành:
a) Pháp lệnh Kho thử nghiệm số 01/2015/PL-UBTVQH99;
b) Pháp lệnh Mẫu thử nghiệm số 02/2015/PL-UBTVQH99.
4. Luật Lưu trữ tạm thử nghiệm số 980/2019/QH99 hết hiệu lực kể từ ngày 01 tháng 01 năm 2099.
Điều 5. Quy định chuyển tiếp
1. Hồ sơ thử nghiệm đã tiếp nhận trước ngày Luật này có hiệu lực thi hành thì tiếp tục thực hiện theo quy định của Luật Kho văn bản thử nghiệm số 990/2020/QH99 đến hết ngày 31 tháng 12 năm 2024.
2. Giấy phép thử nghiệm cấp theo Luật số 983/2015/QH99 hết hiệu lực kể từ ngày hết thời hạn ghi trong giấy phép.
"""  # noqa: E501 - one sentence a line, as in the sources

DECREE = """BAN THỬ NGHIỆM TRUNG ƯƠNG
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Số: 994/2023/NĐ-TEST
Hà Nội, ngày 15 tháng 07 năm 2023
NGHỊ ĐỊNH
QUY ĐỊNH CHI TIẾT MỘT SỐ ĐIỀU CỦA LUẬT KHO VĂN BẢN THỬ NGHIỆM
Căn cứ Luật Kho văn bản thử nghiệm số 991/2023/QH99;
Điều 1. Phạm vi điều chỉnh
Nghị định này quy định chi tiết một số điều của Luật Kho văn bản thử nghiệm số 991/2023/QH99.
Điều 2. Hiệu lực thi hành
Nghị định này có hiệu lực thi hành kể từ ngày ký ban hành.
Nghị định này thay thế Nghị định số 993/2020/NĐ-TEST.
"""

RESOLUTION = """BAN THỬ NGHIỆM TRUNG ƯƠNG
Số: 998-NQ/TEST
Hà Nội, ngày 02 tháng 02 năm 2019
NGHỊ QUYẾT
VỀ PHÁT TRIỂN KHO VĂN BẢN THỬ NGHIỆM
I. MỤC TIÊU
1. Xây dựng kho văn bản thử nghiệm đầy đủ, dễ tra cứu, phục vụ việc kiểm thử phần mềm giả định.
2. Mọi văn bản thử nghiệm đều có số hiệu giả định và trích yếu rõ ràng.
II. TỔ CHỨC THỰC HIỆN
Các ban thử nghiệm xây dựng chương trình hành động thực hiện Nghị quyết này.
"""

PROGRAMME = """BAN THỬ NGHIỆM TỈNH
Số: 997/NQ-TEST
Hà Nội, ngày 01 tháng 03 năm 2019
NGHỊ QUYẾT
Ban hành Chương trình hành động thực hiện Nghị quyết số 998-NQ/TEST ngày 02 tháng 02 năm 2019 của Ban Thử nghiệm Trung ương về phát triển kho văn bản thử nghiệm
Điều 1. Ban hành kèm theo Nghị quyết này Chương trình hành động của Ban Thử nghiệm tỉnh.
Điều 2. Nghị quyết này có hiệu lực thi hành kể từ ngày ký ban hành.
"""  # noqa: E501 - one sentence a line, as in the sources

PLAN = """BAN THỬ NGHIỆM HUYỆN
Số: 996/KH-TEST
Hà Nội, ngày 01 tháng 04 năm 2019
KẾ HOẠCH
TRIỂN KHAI CHƯƠNG TRÌNH HÀNH ĐỘNG THỬ NGHIỆM
I. MỤC ĐÍCH
Kế hoạch này nhằm triển khai thực hiện Nghị quyết số 997/NQ-TEST của Ban Thử nghiệm tỉnh tại cấp huyện.
"""

ARTICLE = """Văn bản thử nghiệm: bài viết giả định về kho văn bản

Bài viết thử nghiệm này do ban biên tập giả định viết để kiểm thử phần mềm.

Các ban thử nghiệm đã tổ chức học tập trong tháng vừa qua.

Việc học tập được tổ chức ở mọi cấp thử nghiệm.

Kết quả học tập được báo cáo về ban thử nghiệm.

Ban biên tập giả định tổng hợp các ý kiến.

Bài viết tóm tắt việc học tập Nghị quyết số 998-NQ/TEST trong các ban thử nghiệm.

Các ban thử nghiệm gắn chương trình công tác với Nghị quyết số 992-NQ/TEST ngày 10/02/2022 của Ban Thử nghiệm Trung ương về phương hướng phát triển vùng thử nghiệm đến năm 2030 và Quy hoạch vùng thử nghiệm thời kỳ 2021-2030 tại Quyết định số 9999/QĐ-TEST, ngày 03/11/2023.

Kết luận số 995-KL/TEST ngày 11/01/2024 của Ban Thử nghiệm Trung ương về tiếp tục thực hiện Nghị quyết số 998-NQ/TEST đã được phổ biến.

Luật Kho văn bản thử nghiệm năm 2020 hết hiệu lực kể từ ngày 01 tháng 01 năm 2024.
"""  # noqa: E501 - one sentence a line, as in the sources


def relations_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    write(corpus / "luat-kho-thu-nghiem-2020.txt", OLD_LAW)
    write(corpus / "luat-kho-thu-nghiem-2023.txt", NEW_LAW)
    write(corpus / "nghi-dinh-thu-nghiem.txt", DECREE)
    write(corpus / "nghi-quyet-998-thu-nghiem.txt", RESOLUTION)
    write(corpus / "nghi-quyet-998-thu-nghiem.txt.meta.json",
          json.dumps({"issuer": "Ban Thử nghiệm Trung ương"}, ensure_ascii=False))
    write(corpus / "chuong-trinh-997-thu-nghiem.txt", PROGRAMME)
    write(corpus / "ke-hoach-996-thu-nghiem.txt", PLAN)
    # a title with characters DOT and HTML would act on
    write(corpus / "ke-hoach-996-thu-nghiem.txt.meta.json",
          json.dumps({"title": 'Kế hoạch "thử" <b>nghiệm</b> \\N'}, ensure_ascii=False))
    write(corpus / "bai-viet-thu-nghiem.txt", ARTICLE)
    write(corpus / "bai-viet-thu-nghiem.txt.meta.json", json.dumps(
        {"title": "Bài viết thử nghiệm", "doc_type": "Bài viết", "source": "Trang thử nghiệm", "date": "05/05/2024"},
        ensure_ascii=False))
    return corpus


# --- sentence level ---------------------------------------------------------------------------


def analyse(text: str, own: str | None = None, section: list[str] | None = None):
    """The relations stated in `text`, read as one passage (pid 0) with its references found as
    the indexer finds them (its own number left out)."""
    refs = [{"key": r.key, "label": r.label, "kind": r.kind, "start": r.start, "end": r.end}
            for r in find_references(text, own_key=own)]
    return analyse_document([{"pid": 0, "ordinal": 0, "text": text, "section": section or []}], {0: refs})


def typed(rels, types=None) -> set[tuple]:
    return {(r.type, r.key, r.subject) for r in rels if types is None or r.type in types}


STATUS = ("repeals", "repeals_part", "replaces", "amends")


def test_sentences_keep_list_markers_with_their_sentence():
    text = "1. Luật này có hiệu lực từ ngày 01 tháng 01 năm 2024. Luật số 990/2020/QH99 hết hiệu lực.\na) Mục một"
    got = [text[s:e] for s, e in sentences(text)]
    assert got == ["1. Luật này có hiệu lực từ ngày 01 tháng 01 năm 2024.", "Luật số 990/2020/QH99 hết hiệu lực.",
                   "a) Mục một"]


def test_basis_and_cites():
    rels = analyse("Căn cứ Nghị quyết số 998-NQ/TEST ngày 02 tháng 02 năm 2019 của Ban Thử nghiệm Trung ương;")
    assert typed(rels) == {("basis", "998-NQ/TEST@2019", None)}  # the reference's date is part of its key
    # the same words inside an article are not the document's basis
    rels = analyse("Căn cứ vào quy định của Luật Mẫu thử nghiệm số 987/2018/QH99, cơ quan thử nghiệm quyết định.",
                   section=["Điều 5. Quyết định"])
    assert typed(rels) == {("cites", "987/2018/QH99", None)}
    rels = analyse("Cơ quan thử nghiệm tổ chức thực hiện theo quy định của Luật Mẫu thử nghiệm số 987/2018/QH99.")
    assert typed(rels) == {("cites", "987/2018/QH99", None)}


def test_implements_only_when_the_document_itself_implements():
    rels = analyse("Ban hành Chương trình hành động thực hiện Nghị quyết số 998-NQ/TEST ngày 02 tháng 02 năm 2019.")
    assert typed(rels) == {("implements", "998-NQ/TEST@2019", None)}
    assert typed(analyse("Kế hoạch này nhằm triển khai thực hiện Nghị quyết số 997/NQ-TEST.")) == {
        ("implements", "997/NQ-TEST", None)}
    # reviewing an implementation, or another programme's, is a citation
    assert typed(analyse("Sau 10 năm thực hiện Nghị quyết số 998-NQ/TEST, kho đã đầy đủ.")) == {
        ("cites", "998-NQ/TEST", None)}
    assert typed(analyse("Tập trung thực hiện nhiệm vụ theo Chương trình hành động thực hiện Nghị quyết số "
                         "998-NQ/TEST.")) == {("cites", "998-NQ/TEST", None)}
    # a third document named in the sentence is the one that implements
    rels = analyse("Kết luận số 995-KL/TEST ngày 11/01/2024 của Ban Thử nghiệm Trung ương về tiếp tục thực hiện "
                   "Nghị quyết số 998-NQ/TEST đã được phổ biến.")
    assert ("implements", "998-NQ/TEST", "995-KL/TEST@2024") in typed(rels)


def test_guides_and_replaces():
    rels = analyse(DECREE, own="994/2023/ND-TEST")
    assert ("guides", "991/2023/QH99", None) in typed(rels)
    assert ("replaces", "993/2020/ND-TEST", None) in typed(rels)
    assert ("basis", "991/2023/QH99", None) in typed(rels)


def test_amends_and_the_laws_that_amended_it_before():
    rels = analyse("1. Sửa đổi, bổ sung Điều 4 của Luật Tra cứu thử nghiệm số 989/2019/QH99 đã được sửa đổi, bổ sung "
                   "một số điều theo Luật số 988/2021/QH99 như sau:")
    assert typed(rels) == {("amends", "989/2019/QH99", None), ("amends", "989/2019/QH99", "988/2021/QH99")}
    rels = analyse("Thay thế cụm từ “kho cũ” bằng cụm từ “kho mới” tại Điều 2 của Luật Mẫu thử nghiệm số "
                   "987/2018/QH99.")
    assert typed(rels) == {("amends", "987/2018/QH99", None)}


def test_repeal_names_the_repealed_law_not_the_laws_that_amended_it():
    rels = analyse("2. Luật Kho văn bản thử nghiệm số 990/2020/QH99 đã được sửa đổi, bổ sung một số điều theo Luật số "
                   "984/2021/QH99 và Luật số 979/2022/QH99 hết hiệu lực kể từ ngày Luật này có hiệu lực thi hành, trừ "
                   "trường hợp quy định tại Điều 5 của Luật này.")
    assert typed(rels, STATUS) == {("repeals", "990/2020/QH99", None), ("amends", "990/2020/QH99", "984/2021/QH99"),
                                   ("amends", "990/2020/QH99", "979/2022/QH99")}
    repeal = next(r for r in rels if r.type == "repeals")
    assert repeal.when == "effective" and repeal.exceptions == ("trừ trường hợp quy định tại Điều 5 của Luật này",)
    # …but an amending law named as a subject is repealed with the law it amended
    rels = analyse("Luật Mẫu thử nghiệm số 982/2010/QH99 và Luật số 981/2012/QH99 sửa đổi, bổ sung một số điều của "
                   "Luật Mẫu thử nghiệm hết hiệu lực kể từ ngày Luật này có hiệu lực.")
    assert typed(rels, STATUS) == {("repeals", "982/2010/QH99", None), ("repeals", "981/2012/QH99", None)}


def test_partial_repeals():
    assert typed(analyse("2. Bãi bỏ khoản 2 Điều 5 của Luật Lưu trữ thử nghiệm số 985/2016/QH99."), STATUS) == {
        ("repeals_part", "985/2016/QH99", None)}
    # "Mục 1 Chương VI Luật …" without "của", then a whole amending law's article
    rels = analyse("3. Bãi bỏ Mục 1 Chương VI Luật Lưu trữ thử nghiệm số 985/2016/QH99 và Điều 2 Luật sửa đổi, bổ sung "
                   "một số điều của các luật thử nghiệm số 978/2009/QH99.")
    assert typed(rels, STATUS) == {("repeals_part", "985/2016/QH99", None), ("repeals_part", "978/2009/QH99", None)}
    rels = analyse("2. Các quy định về phí thử nghiệm tại Pháp lệnh Phí thử nghiệm số 03/2001/PL-UBTVQH99 hết hiệu lực "
                   "kể từ ngày Luật này có hiệu lực.")
    assert typed(rels, STATUS) == {("repeals_part", "03/2001/PL-UBTVQH99", None)}


def test_a_list_of_repealed_documents_and_a_list_of_exceptions():
    text = ("3. Các pháp lệnh sau đây hết hiệu lực kể từ ngày Luật này có hiệu lực thi hành:\n"
            "a) Pháp lệnh Kho thử nghiệm số 01/2015/PL-UBTVQH99;\n"
            "b) Pháp lệnh Mẫu thử nghiệm số 02/2015/PL-UBTVQH99.\n"
            "4. Bãi bỏ các văn bản, quy định sau đây:\n"
            "a) Quy định về phí thử nghiệm theo quy định của Luật Mẫu thử nghiệm số 987/2018/QH99;")
    assert typed(analyse(text), STATUS) == {("repeals", "01/2015/PL-UBTVQH99", None),
                                            ("repeals", "02/2015/PL-UBTVQH99", None),
                                            ("repeals_part", "987/2018/QH99", None)}
    text = ("2. Luật Mẫu thử nghiệm số 982/2010/QH99 hết hiệu lực kể từ ngày Luật này có hiệu lực thi hành, trừ "
            "trường hợp sau đây:\n"
            "a) Các điều 7 và 8 của Luật Mẫu thử nghiệm số 982/2010/QH99 có hiệu lực đến hết ngày 31 tháng 12 "
            "năm 2099;\n"
            "b) Khoản 1 Điều 9 của Luật này.\n"
            "3. Luật Tra cứu thử nghiệm số 989/2019/QH99 hết hiệu lực kể từ ngày Luật này có hiệu lực thi hành.")
    rels = analyse(text)
    assert typed(rels, STATUS) == {("repeals", "982/2010/QH99", None), ("repeals", "989/2019/QH99", None)}
    repeal = next(r for r in rels if r.key == "982/2010/QH99" and r.type == "repeals")
    assert len(repeal.exceptions) == 3 and "đến hết ngày 31 tháng 12 năm 2099" in repeal.exceptions[1]


def test_what_is_not_a_repeal():
    # quoted text is the amended law's new wording, not this law speaking
    rels = analyse("“Điều 4. Nội dung thử nghiệm\nLuật số 986/2017/QH99 hết hiệu lực kể từ ngày 01 tháng 01 năm 2022.”")
    assert not typed(rels, STATUS)
    # a licence expires; a transitional clause keeps applying the old law
    assert not typed(analyse("2. Giấy phép thử nghiệm cấp theo Luật số 983/2015/QH99 hết hiệu lực kể từ ngày hết thời "
                             "hạn ghi trong giấy phép."), STATUS)
    assert not typed(analyse("Hồ sơ đã tiếp nhận thì tiếp tục thực hiện theo quy định của Luật Kho văn bản thử "
                             "nghiệm số 990/2020/QH99 đến hết ngày 31 tháng 12 năm 2024."), STATUS)
    assert not typed(analyse("Trường hợp Luật số 983/2015/QH99 hết hiệu lực thì áp dụng quy định mới."), STATUS)
    # a law named without its number names every version of it: no status from that
    assert not typed(analyse("Luật Kho văn bản thử nghiệm năm 2020 hết hiệu lực kể từ ngày 01 tháng 01 năm 2024."),
                     STATUS)


def test_effective_dates():
    assert effective_date("1. Luật này có hiệu lực thi hành từ ngày 01 tháng 01 năm 2024.")[0] == "2024-01-01"
    assert effective_date("Bộ luật này có hiệu lực thi hành từ ngày 1 tháng 7 năm 2016, trừ …")[0] == "2016-07-01"
    assert effective_date("Nghị quyết này có hiệu lực kể từ ngày 05/06/2099.")[0] == "2099-06-05"
    assert effective_date("Nghị định này có hiệu lực thi hành kể từ ngày ký ban hành.", "2023-07-15")[0] == "2023-07-15"
    assert effective_date("Luật này có hiệu lực thi hành từ năm ngân sách 2099.")[0] == "2099-01-01"
    # another document's, or a part's, effective date is not this document's
    assert effective_date("Khoản 3 Điều 86 của Luật này có hiệu lực thi hành từ ngày 01 tháng 01 năm 2099.")[0] is None
    assert effective_date("Giấy phép có hiệu lực từ ngày cấp.")[0] is None


def test_identity_from_a_citing_sentence():
    i = ARTICLE.index("992-NQ/TEST")
    ident = mention_identity(ARTICLE, i, i + len("992-NQ/TEST"), "992-NQ/TEST")
    assert ident == {"doc_type": "Nghị quyết", "date": "2022-02-10", "issuer": "Ban Thử nghiệm Trung ương",
                     "subject": "phương hướng phát triển vùng thử nghiệm đến năm 2030"}
    i = ARTICLE.index("9999/QĐ-TEST")
    ident = mention_identity(ARTICLE, i, i + len("9999/QĐ-TEST"), number_key("9999/QĐ-TEST"))
    assert ident == {"doc_type": "Quyết định", "date": "2023-11-03",
                     "subject": "Quy hoạch vùng thử nghiệm thời kỳ 2021-2030"}


def test_official_citation_form_and_section_without_list_marker():
    doc = {"doc_id": "x", "title": "Nghị quyết về phát triển kho văn bản thử nghiệm", "doc_number": "998-NQ/TEST",
           "doc_type": "Nghị quyết", "issuer": "Ban Thử nghiệm Trung ương", "date": "2019-02-02"}
    assert format_citation(doc, ["I. MỤC TIÊU", "1. Xây dựng kho …"], None,
                           subject="phát triển kho văn bản thử nghiệm") == (
        "Nghị quyết số 998-NQ/TEST ngày 02/02/2019 của Ban Thử nghiệm Trung ương về phát triển kho văn bản thử "
        "nghiệm, mục I.1")
    assert format_citation(doc, [], None, subject="Ban hành Chương trình hành động").endswith(
        "Trung ương ban hành Chương trình hành động")
    assert format_citation({"title": "Bài"}, ["BBT: Hỏi?", "* Đối với nhóm thử nghiệm"], None).endswith(
        "phần “Đối với nhóm thử nghiệm”")
    assert format_citation(doc, [], None, note="(đã hết hiệu lực từ 01/01/2024)").endswith(
        " (đã hết hiệu lực từ 01/01/2024)")


def test_dot_labels_are_escaped():
    assert dot_escape('a "b" \\N\nc') == 'a \\"b\\" \\\\N c'


# --- index level (every backend) --------------------------------------------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def relations_index(request, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp(f"relations-{request.param}")
    uri = backend_uri(request, request.param)
    index = root / "index"
    report = build([relations_corpus(root)], index, model="hash", progress=False, backend=request.param,
                   milvus_uri=uri)
    assert report.ok and report.documents == 7, report.summary()
    return index


@pytest.fixture(scope="module")
def searcher(relations_index) -> Searcher:
    s = Searcher(relations_index)
    yield s
    s.close()


def test_validity_of_a_repealed_indexed_law(searcher):
    v = searcher.relations().validity("990/2020/QH99")
    assert v["status"] == "repealed" and v["since"] == "2024-01-01"
    assert [a["key"] for a in v["by"]] == ["991/2023/QH99"] and v["by"][0]["doc_id"] == "luat-kho-thu-nghiem-2023.txt"
    assert v["evidence"][0]["doc_id"] == "luat-kho-thu-nghiem-2023.txt"
    assert v["evidence"][0]["text"].startswith("2. Luật Kho văn bản thử nghiệm số 990/2020/QH99")
    assert v["exceptions"] == ["trừ trường hợp quy định tại Điều 5 của Luật này"]
    assert v["source"] == "theo các văn bản trong kho"


def test_statuses_of_cited_documents(searcher):
    g = searcher.relations()
    assert g.validity("991/2023/QH99")["status"] == "in_force"
    assert g.validity("991/2023/QH99")["since"] == "2024-01-01"
    # the amending law listed in the repeal sentence stays in force: nothing is known against it
    assert g.validity("984/2021/QH99")["status"] == "unknown"
    assert g.validity("989/2019/QH99")["status"] == "amended"
    assert {a["key"] for a in g.validity("989/2019/QH99")["by"]} == {"991/2023/QH99", "988/2021/QH99"}
    assert g.validity("985/2016/QH99")["status"] == "partly_repealed"
    assert g.validity("01/2015/PL-UBTVQH99")["status"] == "repealed"
    # replaced by a decree that takes effect on the day it is signed
    assert g.validity("993/2020/ND-TEST") | {} == g.validity("993/2020/ND-TEST")
    assert g.validity("993/2020/ND-TEST")["status"] == "repealed"
    assert g.validity("993/2020/ND-TEST")["since"] == "2023-07-15"
    # quoted text, licences, transitional clauses and a law named without its number change nothing
    assert g.validity("986/2017/QH99")["status"] == "unknown"
    assert g.validity("983/2015/QH99")["status"] == "unknown"
    assert g.validity("LUAT KHO VAN BAN THU NGHIEM")["status"] != "repealed"
    # a repeal the corpus schedules for later
    v = g.validity("980/2019/QH99")
    assert v["status"] == "unknown" and v["until"] == "2099-01-01"
    assert g.validity("980/2019/QH99", today="2099-06-01")["status"] == "repealed"


def test_hits_carry_validity_and_the_citation_warns(searcher):
    hits = searcher.search("Văn bản thử nghiệm cũ được lưu giữ trong kho giả định", top_k=3)
    old = next(h for h in hits if h.doc_id == "luat-kho-thu-nghiem-2020.txt")
    assert list(old.to_dict()) == list(HIT_FIELDS) and "validity" in HIT_FIELDS
    assert old.validity == {"status": "repealed", "since": "2024-01-01",
                            "by": [{"key": "991/2023/QH99", "label": "Luật số 991/2023/QH99",
                                    "doc_id": "luat-kho-thu-nghiem-2023.txt"}]}
    assert old.citation == ("Luật số 990/2020/QH99 ngày 01/06/2020 của Quốc hội về kho văn bản thử nghiệm, Điều 2 "
                            "(đã hết hiệu lực từ 01/01/2024, thay thế bởi Luật số 991/2023/QH99; có quy định ngoại lệ, "
                            "xem văn bản đó)")
    new = searcher.search("kho văn bản thử nghiệm thế hệ mới", top_k=1)[0]
    assert new.doc_id == "luat-kho-thu-nghiem-2023.txt" and new.validity["status"] == "in_force"
    assert "hết hiệu lực" not in new.citation


def test_in_force_filter_leaves_out_repealed_documents(searcher):
    f = searcher.in_force()
    assert f.exclude_doc == {"luat-kho-thu-nghiem-2020.txt"}
    assert not Filters(exclude_doc={"a"}).accepts({"doc_id": "a"}) and Filters(exclude_doc={"a"}).accepts(
        {"doc_id": "b"})
    hits = searcher.search("Văn bản thử nghiệm cũ được lưu giữ trong kho giả định", top_k=10, filters=f)
    assert hits and all(h.doc_id != "luat-kho-thu-nghiem-2020.txt" for h in hits)
    # a number in the query does not bring the repealed document back
    hits = searcher.search("990/2020/QH99", top_k=10, filters=f)
    assert all(h.doc_id != "luat-kho-thu-nghiem-2020.txt" for h in hits)


def test_relations_in_both_directions(searcher):
    rels = searcher.relations().relations("998-NQ/TEST")
    inward = {(r["type"], r["key"]) for r in rels if r["direction"] == "in"}
    assert {("basis", "990/2020/QH99"), ("basis", "991/2023/QH99"), ("implements", "997/NQ-TEST"),
            ("implements", "995-KL/TEST"), ("cites", None)} <= inward
    article = next(r for r in rels if r["key"] is None)
    assert article["doc_id"] == "bai-viet-thu-nghiem.txt" and article["label"] == "Bài viết thử nghiệm"
    for r in rels:
        assert {"type", "direction", "key", "label", "doc_id", "pid"} <= set(r)
    out = {(r["type"], r["key"]) for r in searcher.relations().relations("991/2023/QH99") if r["direction"] == "out"}
    assert {("repeals", "990/2020/QH99"), ("amends", "989/2019/QH99"), ("repeals_part", "985/2016/QH99"),
            ("cites", "987/2018/QH99"), ("basis", "998-NQ/TEST")} <= out
    assert ("repeals", "984/2021/QH99") not in out


def test_identity_cards(searcher):
    g = searcher.relations()
    own = g.identity("998-NQ/TEST")
    assert own["indexed"] and own["subject"] == "phát triển kho văn bản thử nghiệm"
    assert own["issuer"] == "Ban Thử nghiệm Trung ương" and own["date"] == "2019-02-02"
    cited = g.identity("992-NQ/TEST")
    assert not cited["indexed"] and cited["date"] == "2022-02-10" and cited["issuer"] == "Ban Thử nghiệm Trung ương"
    assert cited["subject"] == "phương hướng phát triển vùng thử nghiệm đến năm 2030"
    assert cited["sources"] and cited["sources"][0]["doc_id"] == "bai-viet-thu-nghiem.txt"
    passage = searcher.backend.passages([cited["sources"][0]["pid"]])[0]
    assert "992-NQ/TEST ngày 10/02/2022" in passage["text"]


def test_official_citation_of_a_resolution(searcher):
    hit = searcher.search("Xây dựng kho văn bản thử nghiệm đầy đủ, dễ tra cứu", top_k=1)[0]
    assert hit.citation == ("Nghị quyết số 998-NQ/TEST ngày 02/02/2019 của Ban Thử nghiệm Trung ương về phát triển "
                            "kho văn bản thử nghiệm, mục I")


def test_implementation_chain_as_dot(searcher):
    g = searcher.relations()
    nodes, edges = g.chain("998-NQ/TEST")
    ids = {n["key"] or n["id"]: n["id"] for n in nodes}
    assert {"997/NQ-TEST", "996/KH-TEST", "995-KL/TEST"} <= set(ids)
    assert {"from": ids["998-NQ/TEST"], "to": ids["997/NQ-TEST"], "type": "implements"} in edges
    assert {"from": ids["997/NQ-TEST"], "to": ids["996/KH-TEST"], "type": "implements"} in edges
    dot = chain_dot(g, "998-NQ/TEST")
    assert dot.startswith("digraph chain {") and dot.rstrip().endswith("}")
    # the plan's title has quotes, markup and a backslash: escaped for DOT
    assert 'Kế hoạch \\"thử\\" <b>nghiệm</b> \\\\N' in dot
    assert not re.search(r'(?<!\\)"thử', dot)


def test_graph_is_computed_once_per_generation(searcher):
    assert searcher.relations() is searcher.relations()
    assert searcher.relations().generation == searcher.manifest["generation"]


@pytest.mark.slow
def test_refs_json_has_validity_relations_and_identity(relations_index):
    out = subprocess.run([sys.executable, "-m", "search_app", "refs", "990/2020/QH99", "--index", str(relations_index),
                          "--json"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120)
    res = json.loads(out.stdout)
    assert res["validity"]["status"] == "repealed" and res["validity"]["since"] == "2024-01-01"
    assert {"type": "repeals", "direction": "in", "key": "991/2023/QH99"}.items() <= next(
        r for r in res["relations"] if r["type"] == "repeals").items()
    assert set(res["identity"]) >= {"doc_type", "number", "date", "issuer", "subject", "sources"}
    assert res["identity"]["date"] == "2020-06-01"
    out = subprocess.run([sys.executable, "-m", "search_app", "search", "Văn bản thử nghiệm cũ được lưu giữ",
                          "--index", str(relations_index), "--json", "--in-force"], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=120)
    hits = json.loads(out.stdout)["results"]
    assert hits and all(h["doc_id"] != "luat-kho-thu-nghiem-2020.txt" for h in hits)
    assert all(set(h["validity"]) == {"status", "since", "by"} for h in hits)


# --- the page ---------------------------------------------------------------------------------


@pytest.fixture
def app_at(relations_index, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("VNSEARCH_INDEX", str(relations_index))
    yield lambda: AppTest.from_file(str(ROOT / "search_app" / "page" / "app.py"), default_timeout=60)
    import streamlit as st

    st.cache_resource.clear()


def _md(at) -> str:
    return page_text(at)


def test_page_badges_and_in_force_filter(app_at):
    at = app_at()
    at.run()
    at.text_input(key="q").input("Văn bản thử nghiệm cũ được lưu giữ trong kho giả định").run()
    assert not at.exception
    assert '<span class="badge badge-repealed"' in _md(at)
    assert "hết hiệu lực" in _md(at).split('<div class="citation">')[1]
    at.checkbox(key="f_in_force").check().run()
    assert '<span class="badge badge-repealed"' not in _md(at) and '<span class="badge badge-in_force"' in _md(at)


def test_page_relationship_view(app_at):
    at = app_at()
    at.query_params["key"] = "998-NQ/TEST"
    at.run()
    assert not at.exception
    md = _md(at)
    assert "Lược đồ văn bản" in md and "Chuỗi triển khai" in md and "Thông tin văn bản" in md
    labels = {e.label for e in at.expander}
    assert any(label.startswith("Được thực hiện, triển khai bởi") for label in labels)
    charts = at.get("graphviz_chart")
    assert charts and "997/NQ-TEST" in charts[0].proto.spec
    # a document not in the corpus: its identity card, from the sentences that cite it
    at = app_at()
    at.query_params["key"] = "992-NQ/TEST"
    at.run()
    assert not at.exception and "chưa có trong kho" in at.warning[0].value
    md = _md(at)
    assert "theo các đoạn văn dẫn chiếu" in md and "phương hướng phát triển vùng thử nghiệm" in md
    # the repealed law's page says so, with the evidence
    at = app_at()
    at.query_params["key"] = "990/2020/QH99"
    at.run()
    assert at.error and "Hết hiệu lực" in at.error[0].value and "991/2023/QH99" in at.error[0].value


def test_page_document_view_badge(app_at):
    at = app_at()
    at.query_params["doc"] = "luat-kho-thu-nghiem-2020.txt"
    at.run()
    assert not at.exception and '<span class="badge badge-repealed"' in _md(at)
    assert at.warning and "đã hết hiệu lực từ 01/01/2024" in at.warning[0].value


# --- the real texts in ../shared ----------------------------------------------------------------


def _law(shared: Path, name: str):
    text = clean_text((shared / LAWS / name).read_text(encoding="utf-8"))
    own = detect_header(text).get("doc_number")
    return analyse(text, own=number_key(own) if own else None), text


@pytest.mark.slow
def test_real_law_repeals_the_law_it_replaces(shared):
    rels, text = _law(shared, "Luat-Doanh-nghiep-so-59-2020-QH14-427301.txt")
    assert ("repeals", "68/2014/QH13", None) in typed(rels)
    assert effective_date(text)[0] == "2021-01-01"
    # its article that changes words in other laws amends them; it repeals none of them
    assert {("amends", "83/2015/QH13", None), ("amends", "08/2017/QH14", None)} <= typed(rels)
    assert {k for t, k, _ in typed(rels, ("repeals", "replaces"))} == {"68/2014/QH13"}


@pytest.mark.slow
def test_real_amending_laws_listed_in_a_repeal_stay_in_force(shared):
    rels, _ = _law(shared, "Luat-68-2020-QH14-cu-tru-435315.txt")
    assert ("repeals", "81/2006/QH11", None) in typed(rels)
    assert ("amends", "81/2006/QH11", "36/2013/QH13") in typed(rels)
    assert not any(r.key == "36/2013/QH13" and r.type in STATUS for r in rels)
    assert ("repeals_part", "28/2009/QH12", None) in typed(rels)  # "Bãi bỏ điểm b khoản 1 Điều 45 của Luật …"
    rels, _ = _law(shared, "Luat-Kinh-doanh-bao-hiem-2022-465916.txt")
    repeal = next(r for r in rels if r.type == "repeals" and r.key == "24/2000/QH10")
    assert any("có hiệu lực đến hết ngày 31 tháng 12 năm 2027" in x for x in repeal.exceptions)
    assert not any(r.key in ("61/2010/QH12", "42/2019/QH14") and r.type in ("repeals", "repeals_part") for r in rels)


@pytest.mark.slow
def test_real_lists_and_partial_repeals(shared):
    rels, _ = _law(shared, "Luat-Quan-ly-ngoai-thuong-2017-322219.txt")
    assert {("repeals", "42/2002/PL-UBTVQH10", None), ("repeals", "20/2004/PL-UBTVQH11", None),
            ("repeals", "22/2004/PL-UBTVQH11", None), ("repeals_part", "36/2005/QH11", None)} <= typed(rels)
    rels, _ = _law(shared, "Luat-dau-thau-2013-215838.txt")
    assert ("repeals_part", "16/2003/QH11", None) in typed(rels)  # "Bãi bỏ Mục 1 Chương VI Luật xây dựng số …"
    assert ("repeals", "61/2005/QH11", None) in typed(rels)


# HELD-OUT: drawn at random (seed 7) from amendments in laws whose amendment sentences were never
# read while writing the rules; checked once by reading, no rule changed afterwards.
HELD_OUT = [
    ("Luat-quy-hoach-322935.txt", ("amends", "67/2006/QH11", None)),
    ("Luat-nuoi-con-nuoi-2010-108082.txt", ("amends", "22/2000/QH10", None)),
    ("Luat-so-72-2020-QH14-Bao-ve-moi-truong-2020-431147.txt", ("amends", "39/2019/QH14", "64/2020/QH14")),
    ("Luat-giao-duc-2019-367665.txt", ("amends", "74/2014/QH13", "97/2015/QH13")),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "relation"), HELD_OUT, ids=[n for n, _ in HELD_OUT])
def test_held_out_real_amendments(shared, name, relation):
    rels, _ = _law(shared, name)
    assert relation in typed(rels)


@pytest.fixture(scope="module")
def real_pair_index(tmp_path_factory) -> Path:
    shared = shared_dir()
    if not (shared / LAWS).exists():
        pytest.skip(f"../shared is absent ({shared}); this test reads the real laws from it")
    corpus = tmp_path_factory.mktemp("pair") / "laws"
    corpus.mkdir()
    for name in ("Luat-Doanh-nghiep-2014-259730.txt", "Luat-Doanh-nghiep-so-59-2020-QH14-427301.txt"):
        shutil.copy(shared / LAWS / name, corpus / name)
    index = corpus.parent / "index"
    assert build([corpus], index, model="hash", progress=False).ok
    return index


@pytest.mark.slow
def test_real_pair_status_and_citation(real_pair_index):
    s = Searcher(real_pair_index)
    g = s.relations()
    v = g.validity(doc_id="Luat-Doanh-nghiep-2014-259730.txt")
    assert v["status"] == "repealed" and v["since"] == "2021-01-01"
    assert [a["label"] for a in v["by"]] == ["Luật số 59/2020/QH14"]
    assert g.validity(doc_id="Luat-Doanh-nghiep-so-59-2020-QH14-427301.txt")["status"] == "in_force"
    hit = next(h for h in s.search("Hợp đồng trước đăng ký doanh nghiệp", top_k=5)
               if h.doc_id == "Luat-Doanh-nghiep-2014-259730.txt")
    assert hit.citation.endswith("(đã hết hiệu lực từ 01/01/2021, thay thế bởi Luật số 59/2020/QH14)")


@pytest.fixture(scope="module")
def documents_index(tmp_path_factory) -> Path:
    index = tmp_path_factory.mktemp("docs") / "index"
    assert build([ROOT / "corpus"], index, model="hash", progress=False).ok  # the demo corpus holds them
    return index


@pytest.mark.slow
def test_real_government_programme_implements_the_resolution(documents_index):
    s = Searcher(documents_index)
    rels = s.relations().relations("57-NQ/TW")
    assert any(r["type"] == "implements" and r["direction"] == "in" and r["key"] == "03/NQ-CP"
               and r["doc_id"] == "nghi-quyet-03-NQ-CP-2025.md" for r in rels)
    assert any(r["type"] == "basis" and r["key"] == "03/NQ-CP" for r in rels)
    nodes, _ = s.relations().chain("57-NQ/TW")
    assert "03/NQ-CP" in {n["key"] for n in nodes}
    hit = next(h for h in s.search("kinh phí chi cho nghiên cứu phát triển đạt 2% GDP", top_k=10)
               if h.doc_id == "nghi-quyet-57-NQ-TW-2024.md")
    assert hit.citation.startswith("Nghị quyết số 57-NQ/TW ngày 22/12/2024 của Bộ Chính trị về đột phá phát triển "
                                   "khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số quốc gia")


@pytest.mark.slow
def test_real_identity_of_documents_the_corpus_does_not_hold(documents_index):
    g = Searcher(documents_index).relations()
    nq11 = g.identity("11-NQ/TW")
    assert nq11["indexed"] is False and nq11["doc_type"] == "Nghị quyết" and nq11["date"] == "2022-02-10"
    assert nq11["issuer"] == "Bộ Chính trị"
    assert nq11["subject"] == ("phương hướng phát triển kinh tế – xã hội, đảm bảo quốc phòng, an ninh vùng Trung du và "
                               "miền núi Bắc Bộ đến năm 2030, tầm nhìn đến 2045")
    assert nq11["sources"][0]["doc_id"] == "phong-van-trach-nhiem-cap-uy-2024.txt"
    qd = g.identity("1288/QD-TTG")
    assert qd["doc_type"] == "Quyết định" and qd["date"] == "2023-11-03" and qd["issuer"] == "Thủ tướng Chính phủ"
    assert g.validity("11-NQ/TW")["status"] == "unknown"


@pytest.mark.slow
def test_real_interview_citation_has_no_list_marker(documents_index):
    s = Searcher(documents_index)
    hit = s.search("Đối với cấp ủy các cấp", top_k=10)
    cites = [h.citation for h in hit if h.doc_id == "phong-van-trach-nhiem-cap-uy-2024.txt" and "phần" in h.citation]
    assert cites and not any("“*" in c or "“-" in c for c in cites)


# --- citations that paste as they are (issue 18, item 6) -------------------------------------------


def test_citation_of_an_annex_names_it_and_never_quotes_a_cut_or_repeated_label():
    doc = {"doc_id": "x", "title": "Nghị quyết ban hành Chương trình thử nghiệm", "doc_number": "997/NQ-TEST",
           "doc_type": "Nghị quyết", "issuer": "Ban Thử nghiệm", "date": "2099-01-09"}
    subject = "Ban hành Chương trình hành động thử nghiệm thực hiện Nghị quyết số 999-NQ/TEST"
    assert format_citation(doc, ["CHƯƠNG TRÌNH HÀNH ĐỘNG THỬ NGHIỆM", "II. NHIỆM VỤ", "6. Thúc đẩy thử …"], None,
                           subject=subject) == ("Chương trình hành động ban hành kèm theo Nghị quyết số 997/NQ-TEST "
                                                "ngày 09/01/2099 của Ban Thử nghiệm, mục II.6")
    # the trích yếu cut short, a header line, the document's own number: no "phần “…”"
    for section in (["NGHỊ QUYẾT", "Ban hành Chương trình hành động thử nghiệm thực hiện Nghị …"],
                    ["CHÍNH PHỦ CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"], ["Nghị quyết số 997/NQ-TEST"],
                    ["Nghị quyết 997 - 2099"]):
        c = format_citation(doc, section, None, subject=subject)
        assert "phần" not in c and "…" not in c, c
    assert format_citation({"title": "Bài thử nghiệm"}, ["BBT: Xin cho biết vì sao kho thử nghiệm …"], None) == (
        "“Bài thử nghiệm”")


def test_real_citations_on_the_first_page_paste_as_they_are(documents_index):
    s = Searcher(documents_index)
    hits = s.search("Thúc đẩy mạnh mẽ hoạt động khoa học công nghệ trong doanh nghiệp", top_k=10)
    for h in hits:
        assert "…" not in h.citation, h.citation
        assert "phần “Nghị quyết" not in h.citation and "phần “CHÍNH PHỦ" not in h.citation
    programme = [h for h in hits if h.doc_id == "nghi-quyet-03-NQ-CP-2025.md" and "mục II" in h.citation]
    assert programme and programme[0].citation.startswith(
        "Chương trình hành động ban hành kèm theo Nghị quyết số 03/NQ-CP ngày 09/01/2025 của Chính phủ, mục II.")


def test_a_document_named_by_type_and_number_is_evidence_of_an_answer(searcher):
    # "Nghị quyết 998" names the indexed 998-NQ/TEST as people say it once the full number is known
    graph = searcher.relations()
    assert graph.docs_named("NQ", 998) == graph.key_docs["998-NQ/TEST"]
    assert graph.docs_named("KL", 998) == [] and graph.docs_named("NQ", 990) == []
    for query, known in [("Nghị quyết 998 nói gì về bánh chưng", True), ("Does Resolution No. 998 cover cooking", True),
                         ("Nghị quyết 990 nói gì về bánh chưng", False), ("Kết luận 998 nói gì về bánh chưng", False)]:
        assert searcher.search(query, 5).evidence["number_known"] is known, query
