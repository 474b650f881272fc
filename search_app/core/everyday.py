"""Everyday text from outside any document collection: the background a query is compared with.

A question whose best match in the index is no closer than its best match here is not about the
index (see answerable.py). These sentences were written for this purpose, in Vietnamese only (the
documents' language: answerable.py says why), over everyday subjects — food, sport, weather,
travel, health, homes, animals, entertainment, shopping, money, vehicles, computers, greetings —
and deliberately nothing about government, law, the Party or science policy, which are what the
indexed documents are about.

NEAR_DOMAIN is a second background, for the questions everyday text cannot tell apart: short generic
sentences naming the subjects of public administration, law and policy a corpus of this kind could
be about (taxes, land, traffic, health insurance, exams, labour, energy, elections, Party
discipline, provinces…), one or two per field of the State's work, written for this purpose. They
quote no document and state no fact about one: each only names a subject in the words an official
text would use. A question on a subject the corpus does not cover comes about as close to one of
them as to any passage of the corpus; a question the corpus answers comes closer to its passage,
which says something specific, than to a sentence that only names the subject (answerable.py weighs
`best − near_domain` as a signal of its own). The fields the three measured corpora cover are in
the list too (science and technology, residence, drugs, cybersecurity…): a corpus on them must
still answer its own questions, and the measurement says it does (docs/evaluation.md).
"""

from __future__ import annotations

EVERYDAY: tuple[str, ...] = (
    # Vietnamese
    "Món ăn này cần thịt, rau thơm, nước mắm và một chút đường, nấu lửa nhỏ khoảng ba mươi phút.",
    "Cho bột vào tô, đánh đều với trứng và sữa rồi nướng trong lò ở 180 độ.",
    "Quán phở đầu ngõ mở cửa từ sáu giờ sáng, nước dùng ninh từ xương bò.",
    "Trà sữa trân châu và cà phê muối đang là đồ uống được giới trẻ ưa chuộng.",
    "Trận đấu kết thúc với tỉ số hai một, tiền đạo ghi bàn ở phút bù giờ.",
    "Câu lạc bộ vừa chiêu mộ một thủ môn mới trước mùa giải.",
    "Vận động viên về nhất cuộc chạy marathon với thời gian hai giờ mười phút.",
    "Ngày mai trời nhiều mây, có mưa rào và dông rải rác, nhiệt độ từ 24 đến 30 độ.",
    "Không khí lạnh tràn về khiến nhiệt độ vùng núi giảm mạnh, có nơi có băng giá.",
    "Cơn bão mạnh cấp mười hai đang di chuyển theo hướng tây bắc, gây mưa lớn ven biển.",
    "Mùa hè nên đi biển, mùa thu lên núi ngắm lúa chín, nhớ đặt phòng khách sạn sớm.",
    "Vé máy bay khứ hồi dịp lễ tăng giá, hành khách nên mua trước vài tuần.",
    "Uống đủ nước, ngủ đủ giấc và tập thể dục đều đặn giúp cơ thể khỏe mạnh.",
    "Khi bị sốt cao hoặc đau đầu kéo dài, nên đi khám bác sĩ thay vì tự mua thuốc.",
    "Da khô nên dùng kem dưỡng ẩm, da dầu nên rửa mặt hai lần mỗi ngày.",
    "Chó cần được dắt đi dạo mỗi ngày và tiêm phòng dại định kỳ.",
    "Mèo thích ngủ ở chỗ ấm, thức ăn cho mèo con nên mềm và dễ tiêu.",
    "Cây cà chua cần nhiều nắng, tưới nước vào buổi sáng và bón phân mỗi tháng.",
    "Căn hộ hai phòng ngủ có ban công hướng đông, gần chợ và trường học.",
    "Máy giặt kêu to khi vắt có thể do đặt lệch hoặc chân máy không cân bằng.",
    "Bộ phim mới ra rạp thu hút đông khán giả nhờ kỹ xảo đẹp và diễn viên nổi tiếng.",
    "Ca sĩ vừa phát hành bài hát mới, video ca nhạc đạt hàng triệu lượt xem.",
    "Học đàn guitar nên bắt đầu từ các hợp âm cơ bản và tập mỗi ngày mười lăm phút.",
    "Cửa hàng giảm giá điện thoại, tai nghe và máy tính bảng trong dịp cuối tuần.",
    "Giá vàng và tỉ giá đô la hôm nay tăng nhẹ so với hôm qua.",
    "Nên thay dầu xe máy sau khoảng một nghìn rưỡi đến hai nghìn ki-lô-mét.",
    "Ô tô điện sạc đầy pin có thể đi được khoảng bốn trăm ki-lô-mét.",
    "Lỗi này xảy ra khi biến chưa được gán giá trị; hãy kiểm tra lại hàm và vòng lặp.",
    "Cài đặt gói phần mềm bằng trình quản lý gói rồi khởi động lại máy tính.",
    "Trò chơi điện tử này có chế độ nhiều người chơi và cập nhật bản đồ mới.",
    "Xin chào, hôm nay bạn thế nào? Cảm ơn, mình vẫn khỏe.",
    "Chúc mừng sinh nhật, chúc bạn tuổi mới nhiều niềm vui.",
    "Cô dâu chú rể tổ chức tiệc cưới ở nhà hàng ven hồ.",
    "Trẻ nhỏ nên được đọc truyện trước khi ngủ và hạn chế xem điện thoại.",
    "Chợ hoa ngày Tết bán đào, quất, mai và các loại bánh kẹo.",
    "Mặc áo khoác và mang ô khi ra ngoài vào những ngày mưa gió.",
    # subjects most often asked about in English (code, sport, films…), written in Vietnamese
    "Làm nóng lò, trộn bột với bơ và đường rồi nướng trong hai mươi phút.",
    "Luộc mì Ý trong nước muối, sau đó trộn với sốt cà chua và phô mai bào.",
    "Nhà hàng phục vụ hải sản tươi, gà nướng và món tráng miệng tự làm.",
    "Đội chủ nhà thắng hai một nhờ bàn thắng muộn ở phút bù giờ.",
    "Cô ấy về đích với thời gian kỷ lục và giành huy chương vàng.",
    "Trận chung kết giải đấu sẽ được truyền hình trực tiếp vào tối chủ nhật.",
    "Buổi sáng có mưa rào, sau đó trời nắng, nhiệt độ cao nhất khoảng 25 độ.",
    "Cảnh báo bão cho vùng ven biển, gió mạnh và mưa lớn.",
    "Cuối tuần này vùng núi có tuyết rơi, lái xe cẩn thận.",
    "Đặt vé máy bay sớm, mang hành lý gọn nhẹ và xem chính sách hủy phòng của khách sạn.",
    "Bãi biển vắng vào sáng sớm và hoàng hôn ở đây rất đẹp.",
    "Uống nhiều nước, ngủ đủ và tập thể dục vài lần mỗi tuần.",
    "Đi khám bác sĩ nếu sốt quá ba ngày hoặc đau đầu nặng hơn.",
    "Chó cần được dắt đi dạo hằng ngày, còn mèo không bao giờ được ăn sô-cô-la.",
    "Tưới cây vào buổi sáng và đặt chậu ở chỗ có nắng.",
    "Căn hộ có hai phòng ngủ, một bếp nhỏ và một ban công.",
    "Bộ phim giành nhiều giải thưởng nhờ âm nhạc, diễn xuất và hiệu ứng hình ảnh.",
    "Ban nhạc phát hành album mới và công bố chuyến lưu diễn vòng quanh thế giới.",
    "Tập các hợp âm cơ bản mười lăm phút mỗi ngày để học đàn guitar.",
    "Cửa hàng giảm giá điện thoại, máy tính xách tay và tai nghe vào cuối tuần này.",
    "Giá vàng và tỉ giá hối đoái hôm nay tăng nhẹ.",
    "Thay dầu động cơ sau mỗi tám nghìn ki-lô-mét và kiểm tra áp suất lốp.",
    "Để sửa lỗi, hãy kiểm tra biến đã được khai báo trước khi vòng lặp chạy.",
    "Cài gói bằng trình quản lý gói rồi khởi động lại máy chủ.",
    "Dùng list khi các phần tử thay đổi, dùng tuple khi chúng giữ nguyên.",
    "Trò chơi có chế độ nhiều người chơi và mỗi mùa lại có bản đồ mới.",
    "Chào bạn, hôm nay bạn khỏe không? Mình khỏe, cảm ơn.",
    "Chúc mừng sinh nhật, chúc bạn một ngày tuyệt vời bên gia đình và bạn bè.",
    "Bấm nút để đăng nhập rồi nhập mật khẩu.",
)


# Subjects a corpus of official texts could be about (see the module docstring): generic, Vietnamese.
NEAR_DOMAIN: tuple[str, ...] = (
    "Người nộp thuế phải kê khai và nộp thuế thu nhập cá nhân theo quy định của pháp luật về thuế.",
    "Doanh nghiệp được hoàn thuế giá trị gia tăng khi đáp ứng các điều kiện theo quy định.",
    "Ngân sách nhà nước được lập, chấp hành và quyết toán hằng năm theo quy định.",
    "Ngân hàng Nhà nước điều hành chính sách tiền tệ, lãi suất và tỷ giá.",
    "Người sử dụng đất được cấp giấy chứng nhận quyền sử dụng đất khi đủ điều kiện.",
    "Nhà nước thu hồi đất, bồi thường và hỗ trợ tái định cư cho người có đất bị thu hồi.",
    "Người điều khiển phương tiện vi phạm quy tắc giao thông đường bộ bị xử phạt hành chính.",
    "Xây dựng đường cao tốc, cảng biển và sân bay theo quy hoạch mạng lưới giao thông.",
    "Người tham gia bảo hiểm y tế được quỹ thanh toán chi phí khám bệnh, chữa bệnh.",
    "Cơ sở khám bệnh, chữa bệnh phải có giấy phép hoạt động và người hành nghề có chứng chỉ.",
    "Phòng, chống dịch bệnh truyền nhiễm và tiêm chủng mở rộng cho trẻ em.",
    "Kỳ thi tốt nghiệp trung học phổ thông được tổ chức hằng năm để xét công nhận tốt nghiệp.",
    "Chương trình giáo dục phổ thông, sách giáo khoa và tuyển sinh đại học.",
    "Người lao động được hưởng tiền lương, thời giờ làm việc và nghỉ ngơi theo hợp đồng lao động.",
    "Người lao động đóng bảo hiểm xã hội để hưởng chế độ ốm đau, thai sản và lương hưu.",
    "Tổ chức, cá nhân xây dựng công trình phải có giấy phép xây dựng.",
    "Phát triển nhà ở xã hội cho người thu nhập thấp và kinh doanh bất động sản.",
    "Phát triển nguồn điện, lưới điện và năng lượng tái tạo bảo đảm an ninh năng lượng.",
    "Thương nhân kinh doanh xăng dầu và hàng hóa phải tuân thủ quy định về thương mại.",
    "Bảo vệ quyền lợi người tiêu dùng và chống hàng giả, gian lận thương mại.",
    "Phát triển nông nghiệp, nông thôn mới và hỗ trợ nông dân tiêu thụ nông sản.",
    "Bảo vệ và phát triển rừng, nuôi trồng và khai thác thủy sản.",
    "Bảo vệ môi trường, xử lý chất thải và ứng phó với biến đổi khí hậu.",
    "Quản lý, khai thác và bảo vệ tài nguyên nước, khoáng sản.",
    "Công dân thực hiện nghĩa vụ quân sự và xây dựng nền quốc phòng toàn dân.",
    "Giữ gìn an ninh quốc gia và bảo đảm trật tự, an toàn xã hội.",
    "Phòng cháy, chữa cháy và cứu nạn, cứu hộ tại khu dân cư và cơ sở sản xuất.",
    "Đăng ký khai sinh, kết hôn, khai tử và các việc hộ tịch khác.",
    "Công chứng hợp đồng, giao dịch và chứng thực bản sao giấy tờ.",
    "Quyền và nghĩa vụ của vợ chồng, cha mẹ và con trong hôn nhân và gia đình.",
    "Người để lại di sản thừa kế theo di chúc hoặc theo pháp luật.",
    "Tội phạm và hình phạt được quy định trong Bộ luật Hình sự.",
    "Trình tự, thủ tục giải quyết vụ án dân sự và hành chính tại Tòa án.",
    "Thanh tra, giải quyết khiếu nại, tố cáo của công dân.",
    "Phòng, chống tham nhũng, lãng phí và kê khai tài sản, thu nhập.",
    "Tuyển dụng, sử dụng và quản lý cán bộ, công chức, viên chức.",
    "Sắp xếp tổ chức bộ máy, sáp nhập đơn vị hành chính cấp tỉnh và cấp xã.",
    "Tổ chức chính quyền địa phương ở tỉnh, thành phố trực thuộc trung ương.",
    "Bầu cử đại biểu Quốc hội và đại biểu Hội đồng nhân dân các cấp.",
    "Quốc hội ban hành luật, quyết định ngân sách và giám sát hoạt động của Chính phủ.",
    "Kỷ luật đảng viên vi phạm và công tác kiểm tra, giám sát của Đảng.",
    "Đại hội đại biểu Đảng bộ các cấp và công tác nhân sự cấp ủy.",
    "Mở rộng quan hệ đối ngoại và hội nhập kinh tế quốc tế.",
    "Thu hút đầu tư nước ngoài, thành lập doanh nghiệp và phát triển kinh tế tư nhân.",
    "Xuất khẩu, nhập khẩu hàng hóa và thủ tục hải quan.",
    "Đầu tư công, dự án đầu tư theo phương thức đối tác công tư.",
    "Chính sách đối với đồng bào dân tộc thiểu số và vùng đặc biệt khó khăn.",
    "Tự do tín ngưỡng, tôn giáo và hoạt động của các tổ chức tôn giáo.",
    "Bảo tồn di sản văn hóa, phát triển du lịch và thể dục, thể thao.",
    "Hoạt động báo chí, xuất bản và quản lý thông tin trên mạng.",
    "Chuyển đổi số, chính phủ điện tử và dịch vụ công trực tuyến.",
    "Phát triển khoa học, công nghệ và đổi mới sáng tạo.",
    "Chính sách người có công, bảo trợ xã hội và giảm nghèo bền vững.",
    "Bảo vệ, chăm sóc trẻ em, bình đẳng giới và phòng chống bạo lực gia đình.",
    "Cư trú, căn cước và quản lý xuất cảnh, nhập cảnh của công dân.",
    "Phòng, chống ma túy và cai nghiện ma túy.",
    "Bảo đảm an ninh mạng và an toàn thông tin.",
    "Phát triển kinh tế - xã hội các vùng và quy hoạch tỉnh.",
)
