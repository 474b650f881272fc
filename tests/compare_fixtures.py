"""Two visibly synthetic laws (fictional numbers, invented test wording) that differ in known ways:
Điều 1 kept; Điều 2 changed in one clause (a figure: 100% → trên 50%); old Điều 3 re-titled and
renumbered to Điều 4 and changed; old Điều 4 dropped; new Điều 3 new; old Điều 5 kept as Điều 5;
old Điều 6 moved to Điều 7 unchanged; new Điều 6 and
Điều 8 (which repeals the old law) new."""

from __future__ import annotations

from pathlib import Path

from helpers import write

OLD = """QUỐC HỘI THỬ NGHIỆM
Luật số: 998/2098/QH98
Hà Nội, ngày 05 tháng 06 năm 2098
LUẬT
THỬ NGHIỆM KHO DỮ LIỆU
Chương I
NHỮNG QUY ĐỊNH CHUNG
Điều 1. Phạm vi điều chỉnh
Văn bản thử nghiệm này quy định về việc quản lý kho dữ liệu giả định dùng để kiểm thử phần mềm tra cứu.
Điều 2. Giải thích từ ngữ
Trong văn bản thử nghiệm này, các từ ngữ dưới đây được hiểu như sau:
1. Kho thử nghiệm là nơi lưu giữ các văn bản giả định phục vụ kiểm thử phần mềm.
2. Đơn vị thử nghiệm nhà nước là đơn vị do Nhà nước nắm giữ 100% vốn điều lệ.
3. Đoạn thử nghiệm là một phần của văn bản giả định.
Điều 3. Con dấu của đơn vị thử nghiệm
1. Đơn vị thử nghiệm có quyền quyết định về hình thức, số lượng và nội dung con dấu của đơn vị thử nghiệm.
2. Trước khi sử dụng, đơn vị thử nghiệm có nghĩa vụ thông báo mẫu con dấu với cơ quan thử nghiệm.
3. Việc quản lý, sử dụng và lưu giữ con dấu thực hiện theo quy chế thử nghiệm.
Điều 4. Báo cáo định kỳ về thiết bị đo
Đơn vị thử nghiệm gửi báo cáo về thiết bị đo nhiệt độ và độ ẩm cho cơ quan thử nghiệm trong thời hạn 10 ngày.
Điều 5. Trách nhiệm của cơ quan thử nghiệm
Cơ quan thử nghiệm có trách nhiệm theo dõi, kiểm tra việc thực hiện văn bản thử nghiệm này.
Điều 6. Hiệu lực thi hành
Văn bản thử nghiệm này có hiệu lực thi hành kể từ ngày 01 tháng 7 năm 2098.
"""

NEW = """QUỐC HỘI THỬ NGHIỆM
Luật số: 999/2099/QH99
Hà Nội, ngày 05 tháng 06 năm 2099
LUẬT
THỬ NGHIỆM KHO DỮ LIỆU
Chương I
NHỮNG QUY ĐỊNH CHUNG
Điều 1. Phạm vi điều chỉnh
Văn bản thử nghiệm này quy định về việc quản lý kho dữ liệu giả định dùng để kiểm thử phần mềm tra cứu.
Điều 2. Giải thích từ ngữ
Trong văn bản thử nghiệm này, các từ ngữ dưới đây được hiểu như sau:
1. Kho thử nghiệm là nơi lưu giữ các văn bản giả định phục vụ kiểm thử phần mềm.
2. Đơn vị thử nghiệm nhà nước là đơn vị do Nhà nước nắm giữ trên 50% vốn điều lệ.
3. Đoạn thử nghiệm là một phần của văn bản giả định.
Điều 3. Lưu trữ bản sao điện tử
Mọi bản sao điện tử của kho được sao lưu hằng tuần vào hai máy chủ đặt ở hai tỉnh khác nhau.
Điều 4. Dấu của đơn vị thử nghiệm
1. Dấu bao gồm dấu khắc hoặc dấu dưới hình thức chữ ký số.
2. Đơn vị thử nghiệm quyết định loại dấu, số lượng, hình thức và nội dung dấu của đơn vị thử nghiệm.
3. Việc quản lý và lưu giữ dấu thực hiện theo quy chế thử nghiệm.
Điều 5. Trách nhiệm của cơ quan thử nghiệm
Cơ quan thử nghiệm có trách nhiệm theo dõi, kiểm tra việc thực hiện văn bản thử nghiệm này.
Điều 6. Khen thưởng người phát hiện lỗi
Người phát hiện lỗi nghiêm trọng của phần mềm được thưởng một khoản tiền theo quy chế riêng.
Điều 7. Hiệu lực thi hành
Văn bản thử nghiệm này có hiệu lực thi hành kể từ ngày 01 tháng 7 năm 2098.
Điều 8. Điều khoản thi hành
Luật số 998/2098/QH98 hết hiệu lực kể từ ngày Luật này có hiệu lực thi hành.
"""

UNRELATED = """HỘI ĐỒNG THỬ NGHIỆM
Luật số: 997/2097/QH97
Hà Nội, ngày 05 tháng 06 năm 2097
LUẬT
THỬ NGHIỆM NUÔI ONG
Điều 1. Giống ong giả định
Giống ong mật giả định được nuôi trong thùng gỗ ở vùng đồi núi phía bắc.
Điều 2. Mùa hoa
Mùa hoa nhãn và hoa vải cho mật nhiều nhất vào tháng tư hằng năm.
Điều 3. Thu hoạch mật
Người nuôi quay mật bằng máy ly tâm khi mật đã vít nắp sáp.
"""

OLD_KEY, NEW_KEY, UNRELATED_KEY = "998/2098/QH98", "999/2099/QH99", "997/2097/QH97"


def compare_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    write(corpus / "luat-cu-thu-nghiem.txt", OLD)
    write(corpus / "luat-moi-thu-nghiem.txt", NEW)
    write(corpus / "luat-nuoi-ong-thu-nghiem.txt", UNRELATED)
    return corpus
