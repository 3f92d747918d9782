"""P2 timings: near-duplicate petitions at scale (nlp.similarity, nlp.grouping).

Run by hand: ``.venv/bin/python -m benchmarks.petition_grouping [--petitions 100000]``. Prints;
asserts nothing.

Petitions are synthetic but built the way residents write: an issue is a problem at a street
(or, for paperwork, a problem with no place); each petition about it picks one of several
wordings of the problem, one of several ways to name the place, optional details, greeting and
closing, and is sometimes typed without diacritics, in lower case, or with typos. How often an
issue is raised follows a long tail (a few issues come back hundreds of times). Because every
petition knows its issue, the grouping's pairwise precision and recall are printed as well.

Timed: reading the petitions (segmentation, the slow part, on one core), the whole index build
(segmentation on all cores), a rebuild with the segmentation cached, a full regrouping
(``groups()``), ``similar()`` for 100 new petitions, and those petitions joining their nearest
group one by one without a regrouping (``add`` and ``nearest_groups``): median and p95; with
``--agreement``, whether each joined the group a full regrouping with them gives it. Wall-clock
times and, where the machine may be shared, CPU times.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import time
from collections import Counter
from collections.abc import Sequence

from nlp.grouping import Membership
from nlp.similarity import PetitionIndex, Reading, analyse
from nlp.text import strip_diacritics

STREETS = (
    "Lê Lợi", "Hàm Nghi", "Nguyễn Huệ", "Pasteur", "Lý Tự Trọng", "Trần Hưng Đạo",
    "Nguyễn Thị Minh Khai", "Cống Quỳnh", "Bùi Viện", "Tôn Đức Thắng", "Cô Giang", "Đề Thám",
    "Nguyễn Trãi", "Lê Thánh Tôn", "Hai Bà Trưng", "Điện Biên Phủ", "Võ Văn Tần",
    "Cách Mạng Tháng Tám", "Nam Kỳ Khởi Nghĩa", "Nguyễn Đình Chiểu", "Trương Định", "Lê Duẩn",
    "Đinh Tiên Hoàng", "Nguyễn Văn Cừ", "Trần Quang Khải", "Trần Khắc Chân", "Phạm Ngũ Lão",
    "Nguyễn Cư Trinh", "Nguyễn Công Trứ", "Ký Con", "Calmette", "Yersin", "Phó Đức Chính",
    "Hồ Tùng Mậu", "Mạc Đĩnh Chi", "Thái Văn Lung", "Lê Lai", "Nguyễn An Ninh",
    "Phan Bội Châu", "Phan Chu Trinh", "Lê Văn Sỹ", "Huỳnh Văn Bánh", "Phan Xích Long",
    "Hoàng Văn Thụ", "Cộng Hòa", "Trường Chinh", "Âu Cơ", "Lạc Long Quân", "Lý Thường Kiệt",
    "Ba Tháng Hai", "Sư Vạn Hạnh", "Tô Hiến Thành", "Thành Thái", "Nguyễn Tri Phương",
    "Hùng Vương", "An Dương Vương", "Trần Phú", "Nguyễn Chí Thanh", "Hải Thượng Lãn Ông",
    "Châu Văn Liêm", "Tản Đà", "Lê Hồng Phong", "Ngô Gia Tự", "Ngô Quyền", "Vĩnh Viễn",
    "Bà Hạt", "Nguyễn Kim", "Lý Thái Tổ", "Bàn Cờ", "Cao Thắng", "Nguyễn Thiện Thuật",
    "Bàu Cát", "Trương Công Định", "Nguyễn Hồng Đào", "Bạch Đằng", "Phan Đăng Lưu",
    "Nơ Trang Long", "Lê Quang Định", "Nguyễn Văn Đậu", "Phan Văn Trị", "Quang Trung",
    "Nguyễn Oanh", "Lê Đức Thọ", "Phạm Văn Đồng", "Kha Vạn Cân", "Võ Văn Ngân", "Đặng Văn Bi",
    "Lê Văn Việt", "Đỗ Xuân Hợp", "Nguyễn Duy Trinh", "Huỳnh Tấn Phát", "Nguyễn Thị Thập",
    "Lê Văn Lương", "Nguyễn Hữu Thọ", "Tân Kỳ Tân Quý", "Lũy Bán Bích", "Tân Hương",
    "Kinh Dương Vương", "Hậu Giang", "Hồng Bàng", "Minh Phụng", "Lãnh Binh Thăng",
    "Tôn Thất Thuyết", "Khánh Hội", "Hoàng Diệu", "Xóm Chiếu", "Bến Vân Đồn",
)  # fmt: skip

# A problem at a place: wordings of it ({p}: how the place is named) and details that may follow.
PLACED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ngập nước": (
        (
            "Mỗi khi mưa lớn {p} lại ngập sâu, nước tràn vào nhà dân.",
            "Cứ mưa xuống là {p} biến thành sông, xe máy chết máy hàng loạt.",
            "Tình trạng ngập nước ở {p} kéo dài nhiều năm chưa được khắc phục.",
            "Đề nghị chống ngập cho {p}, mưa chừng nửa tiếng là nước ngập tới đầu gối.",
            "Cống thoát nước ở {p} bị tắc nên trời mưa là ngập lênh láng.",
        ),
        (
            "Đề nghị nạo vét cống thoát nước.",
            "Hàng quán phải đóng cửa, học sinh không đi học được.",
            "Nhiều người bị té ngã khi lội nước.",
        ),
    ),
    "đèn chiếu sáng": (
        (
            "Đèn chiếu sáng trên {p} bị hư đã hơn một tháng, buổi tối tối om.",
            "Mấy cột đèn đường ở {p} không sáng nữa, tối đi về rất sợ.",
            "Dãy đèn đường dọc {p} tắt suốt hai tuần nay.",
            "Đề nghị sửa đèn chiếu sáng {p}.",
        ),
        (
            "Rất dễ xảy ra tai nạn và trộm cắp.",
            "Mong phường báo điện lực sửa sớm.",
            "Người già và trẻ em đi lại buổi tối rất nguy hiểm.",
        ),
    ),
    "vỉa hè": (
        (
            "Các quán cà phê trên {p} bày bàn ghế ra hết vỉa hè.",
            "Vỉa hè {p} bị hàng quán chiếm dụng để buôn bán và giữ xe.",
            "Đề nghị xử lý tình trạng lấn chiếm vỉa hè trên {p}.",
            "Quán xá lấn chiếm vỉa hè {p}, người đi bộ phải đi dưới lòng đường.",
        ),
        (
            "Người đi bộ phải đi xuống lòng đường rất nguy hiểm.",
            "Lực lượng trật tự đô thị nhắc nhở xong đâu lại vào đấy.",
            "Đề nghị trả lại vỉa hè cho người đi bộ.",
        ),
    ),
    "rác thải": (
        (
            "Ở {p} thường xuyên có người đổ rác bừa bãi, rác tồn đọng nhiều ngày.",
            "Bãi rác tự phát ở {p} ngày càng lớn, xe thu gom không đến lấy.",
            "Rác thải ở {p} không được thu gom, bốc mùi hôi thối.",
            "Đề nghị dọn bãi rác ở {p}.",
        ),
        (
            "Ruồi nhặng bu đầy, bà con sống gần đó phải chịu mùi hôi.",
            "Đề nghị bố trí thùng rác và xử phạt người đổ rác.",
            "Mùa mưa rác trôi xuống cống gây tắc nghẽn.",
        ),
    ),
    "karaoke": (
        (
            "Nhà dân ở {p} hát karaoke bằng loa kéo công suất lớn đến nửa đêm.",
            "Hàng xóm ở {p} mở loa kẹo kéo hát hò ầm ĩ ngày nào cũng vậy.",
            "Tiếng ồn karaoke ở {p} quá lớn, đề nghị xử lý.",
            "Karaoke loa kéo ở {p} hát suốt ngày đêm, ồn ào khủng khiếp.",
        ),
        (
            "Người già và trẻ nhỏ không nghỉ ngơi được.",
            "Đã báo tổ trưởng nhiều lần mà không được.",
            "Đến 11 giờ đêm vẫn chưa dừng.",
        ),
    ),
    "ổ gà": (
        (
            "Mặt đường {p} xuống cấp nghiêm trọng, nhiều ổ gà ổ voi.",
            "{p} hư hỏng, lồi lõm, đề nghị sớm trải nhựa lại.",
            "Ổ gà trên {p} rất nguy hiểm, đã có người té ngã.",
            "Mặt đường ở {p} bị lún sụt, bong tróc nhiều chỗ.",
        ),
        (
            "Trời mưa đọng nước, xe máy sụp ổ gà té ngã liên tục.",
            "Đề nghị sớm sửa chữa, nâng cấp mặt đường.",
            "Ban đêm không nhìn thấy ổ gà rất dễ xảy ra tai nạn.",
        ),
    ),
    "cây xanh": (
        (
            "Cây xanh lớn trên {p} bị nghiêng hẳn ra đường, có nguy cơ ngã đổ.",
            "Đề nghị cắt tỉa, gia cố cây xanh bị nghiêng ở {p}.",
            "Cây dầu trên {p} mục gốc, cành khô rơi xuống đường.",
        ),
        (
            "Mùa mưa bão rất dễ ngã đổ gây nguy hiểm.",
            "Rễ cây trồi lên làm nứt vỉa hè.",
            "Đã có cành cây rơi trúng người đi đường.",
        ),
    ),
    "thi công ban đêm": (
        (
            "Công trình xây dựng trên {p} thi công xuyên đêm, máy khoan chạy ầm ầm.",
            "Đề nghị kiểm tra công trình trên {p} đổ bê tông ban đêm gây ồn, bụi.",
            "Công trường ở {p} làm việc đến 2 giờ sáng, xe bồn ra vào liên tục.",
        ),
        (
            "Người dân xung quanh mất ngủ nhiều đêm liền.",
            "Bụi xi măng bay vào nhà dân.",
            "Đề nghị yêu cầu chủ đầu tư tuân thủ giờ thi công.",
        ),
    ),
    "đậu xe": (
        (
            "Ô tô đậu hai bên {p} cả ngày, có xe đậu chắn trước cửa nhà dân.",
            "Tình trạng đỗ xe ô tô trái phép trên {p} kéo dài.",
            "Bãi giữ xe tự phát ở {p} chiếm hết lòng đường.",
        ),
        (
            "Gây kẹt xe vào giờ cao điểm.",
            "Đề nghị lực lượng chức năng xử lý.",
            "Xe cứu thương, xe cứu hỏa không vào được.",
        ),
    ),
    "mất nước": (
        (
            "Khu vực {p} nước máy rất yếu, có ngày mất nước hoàn toàn.",
            "Nhà tôi ở {p} thường xuyên bị cúp nước, áp lực nước thấp.",
            "Mất nước sinh hoạt thường xuyên ở {p}.",
        ),
        (
            "Bà con phải mua nước bình để sinh hoạt.",
            "Nước không lên được bồn.",
            "Đề nghị công ty cấp nước kiểm tra đường ống.",
        ),
    ),
    "nước đục": (
        (
            "Nước máy ở {p} có màu vàng đục và mùi clo nồng.",
            "Người dân {p} phản ánh nước sinh hoạt bị đục, có cặn.",
            "Nước máy khu vực {p} có mùi hôi, không dùng nấu ăn được.",
        ),
        (
            "Đề nghị kiểm tra chất lượng nước.",
            "Nhiều người bị ngứa sau khi tắm.",
            "Gia đình phải lắp máy lọc nước.",
        ),
    ),
    "mất điện": (
        (
            "Khu vực {p} thường xuyên bị cắt điện đột xuất không báo trước.",
            "Điện ở {p} chập chờn, cúp liên tục.",
            "Mất điện nhiều lần trong tuần ở {p}.",
        ),
        (
            "Đồ điện trong nhà hư hỏng.",
            "Đề nghị điện lực kiểm tra lại đường dây.",
            "Trời nóng mất điện người già không chịu nổi.",
        ),
    ),
    "dây điện": (
        (
            "Dây điện, cáp viễn thông trên các cột điện dọc {p} chằng chịt.",
            "Đề nghị chỉnh trang, bó gọn dây cáp treo lơ lửng trên {p}.",
            "Cáp viễn thông ở {p} võng xuống thấp, xe tải đi qua làm đứt.",
        ),
        (
            "Có nguy cơ chập cháy.",
            "Mất mỹ quan đô thị.",
            "Nhiều sợi cáp bỏ không, không ai thu hồi.",
        ),
    ),
    "trộm cắp": (
        (
            "Thời gian gần đây ở {p} liên tiếp xảy ra trộm xe máy.",
            "Ở {p} mất trộm xe liên tục, đề nghị tăng cường tuần tra.",
            "Kẻ gian bẻ khóa lấy xe ngay trước cửa nhà ở {p}.",
        ),
        (
            "Người dân rất hoang mang.",
            "Đề nghị công an phường tăng cường tuần tra ban đêm.",
            "Camera đã ghi được hình ảnh nhưng chưa bắt được.",
        ),
    ),
    "chó thả rông": (
        (
            "Ở {p} nhiều hộ nuôi chó nhưng thả rông ra đường, không rọ mõm.",
            "Tình trạng chó thả rông, phóng uế bừa bãi ở {p} ngày càng nhiều.",
            "Chó thả rông ở {p} cắn người đi đường.",
        ),
        (
            "Trẻ con không dám ra ngõ.",
            "Đề nghị xử phạt các chủ nuôi.",
            "Đã có cháu nhỏ bị chó cắn phải đi tiêm phòng dại.",
        ),
    ),
    "muỗi": (
        (
            "Bãi đất trống ở {p} cỏ mọc um tùm, nước đọng, muỗi sinh sôi.",
            "Đề nghị phun thuốc diệt muỗi và phát quang bãi đất trống ở {p}.",
            "Muỗi nhiều quá, bãi đất hoang ở {p} không ai dọn.",
        ),
        (
            "Trong khu đã có mấy cháu bị sốt xuất huyết.",
            "Dịch sốt xuất huyết đang tăng.",
            "Chủ đất bỏ hoang nhiều năm.",
        ),
    ),
    "mùi hôi cống": (
        (
            "Hố ga trên {p} bốc mùi hôi nồng nặc.",
            "Mùi hôi từ cống thoát nước ở {p} rất khó chịu.",
            "Nắp cống ở {p} bị vỡ, mùi hôi bốc lên cả ngày.",
        ),
        (
            "Các quán ăn ven đường phải đóng cửa.",
            "Đề nghị kiểm tra, nạo vét cống.",
            "Nhất là khi trời nắng mùi càng nặng.",
        ),
    ),
    "kẹt xe": (
        (
            "Giờ cao điểm chiều {p} kẹt xe kéo dài.",
            "Ùn tắc giao thông ở {p} ngày càng nghiêm trọng.",
            "Giờ tan học phụ huynh dừng đỗ xe tràn ra {p} gây ùn tắc.",
        ),
        (
            "Đề nghị bố trí lực lượng điều tiết giao thông.",
            "Đèn tín hiệu không hợp lý.",
            "Xe máy leo lên vỉa hè để đi.",
        ),
    ),
    "xây dựng trái phép": (
        (
            "Công trình nhà ở {p} xây vượt tầng, lấn sang phần đất nhà bên cạnh.",
            "Căn nhà đang xây ở {p} đã lên 6 tầng trong khi giấy phép chỉ cho 4 tầng.",
            "Đề nghị kiểm tra công trình xây dựng không phép ở {p}.",
        ),
        (
            "Không thấy cơ quan chức năng kiểm tra.",
            "Đề nghị xử lý sai phạm.",
            "Nhà bên cạnh bị nứt tường.",
        ),
    ),
    "quán nhậu": (
        (
            "Quán nhậu ở {p} hoạt động đến khuya, khách la hét ồn ào.",
            "Các quán bar trên {p} mở nhạc cực lớn đến 2-3 giờ sáng.",
            "Tiếng nhạc xập xình từ các quán ở {p} kéo dài suốt đêm.",
        ),
        (
            "Người dân sống xung quanh mất ngủ triền miên.",
            "Đề nghị quản lý giờ giấc và âm lượng.",
            "Khách say xỉn gây gổ đánh nhau.",
        ),
    ),
    "bán hàng rong": (
        (
            "Người bán hàng rong ở {p} bày hàng tràn ra cả lòng đường.",
            "Hàng rong lấn chiếm hết vỉa hè ở {p}.",
            "Đề nghị dẹp chợ tự phát ở {p}.",
        ),
        (
            "Gây ùn tắc và mất mỹ quan.",
            "Rác thải vứt bừa bãi sau mỗi buổi chợ.",
            "Người mua dừng xe giữa đường.",
        ),
    ),
    "đào đường": (
        (
            "{p} bị đào lên để lắp ống cấp nước nhưng hơn hai tháng chưa tái lập mặt đường.",
            "Công trình đào đường trên {p} để lại hố sâu không rào chắn.",
            "Mặt đường {p} sau khi đào xong trả lại lồi lõm, đất đá ngổn ngang.",
        ),
        (
            "Bụi mù mịt khi trời nắng, lầy lội khi trời mưa.",
            "Đề nghị đơn vị thi công hoàn trả mặt đường.",
            "Ban đêm không có đèn cảnh báo.",
        ),
    ),
    "đua xe": (
        (
            "Đêm nào cũng có nhóm thanh niên tụ tập đua xe trên {p}.",
            "Tình trạng đua xe, nẹt pô ở {p} vào ban đêm rất nguy hiểm.",
            "Thanh niên rú ga, lạng lách trên {p} lúc nửa đêm.",
        ),
        (
            "Người dân không dám ra đường.",
            "Đề nghị công an chốt chặn xử lý.",
            "Tiếng pô xe làm trẻ nhỏ giật mình thức giấc.",
        ),
    ),
    "quảng cáo": (
        (
            "Quảng cáo rao vặt dán tràn lan trên tường nhà, cột điện ở {p}.",
            "Băng rôn quảng cáo treo bừa bãi trên {p}.",
            "Tờ rơi khoan cắt bê tông, cho vay tiền dán khắp {p}.",
        ),
        (
            "Mất mỹ quan đô thị.",
            "Đề nghị xử phạt các số điện thoại quảng cáo.",
            "Người dân cạo đi hôm trước hôm sau lại dán.",
        ),
    ),
}

# Paperwork and services: problems without a place.
PLACELESS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "sổ hồng": (
        (
            "Hồ sơ cấp giấy chứng nhận quyền sử dụng đất của gia đình tôi nộp hơn một năm vẫn "
            "chưa được cấp.",
            "Xin hỏi vì sao hồ sơ xin cấp sổ hồng của nhiều hộ dân nộp lâu vẫn chưa có kết quả?",
            "Thủ tục cấp giấy chứng nhận quyền sử dụng đất quá chậm, người dân chờ đợi mỏi mòn.",
        ),
        (
            "Cán bộ chỉ hẹn lên hẹn xuống.",
            "Đề nghị công khai tiến độ giải quyết hồ sơ.",
            "Không thể thế chấp vay vốn làm ăn.",
        ),
    ),
    "giấy phép xây dựng": (
        (
            "Tôi nộp hồ sơ xin giấy phép xây dựng nhà ở riêng lẻ đã quá thời hạn nhưng vẫn chưa "
            "được cấp phép.",
            "Thời gian cấp phép xây dựng sửa chữa nhà quá lâu, hồ sơ bị trả về nhiều lần.",
            "Đề nghị rút ngắn thời gian cấp giấy phép xây dựng.",
        ),
        (
            "Mỗi lần một yêu cầu bổ sung giấy tờ khác nhau.",
            "Nhà xuống cấp mà không được sửa.",
            "Không được giải thích lý do.",
        ),
    ),
    "trợ cấp người cao tuổi": (
        (
            "Trợ cấp xã hội hằng tháng cho người cao tuổi chi trả chậm hai ba tháng.",
            "Mẹ tôi hơn 80 tuổi mà mấy tháng nay chưa nhận được tiền trợ cấp người cao tuổi.",
            "Đề nghị chi trả trợ cấp cho người cao tuổi đúng hạn.",
        ),
        (
            "Các cụ phải đi lại hỏi nhiều lần.",
            "Nhiều cụ sống một mình rất khó khăn.",
            "Đề nghị chi trả tại nhà cho các cụ yếu.",
        ),
    ),
    "bảo hiểm y tế": (
        (
            "Thẻ bảo hiểm y tế cho trẻ dưới 6 tuổi làm đã lâu vẫn chưa nhận được.",
            "Con tôi chưa có thẻ bảo hiểm y tế dù đã đăng ký từ đầu năm.",
            "Cấp thẻ bảo hiểm y tế cho trẻ em quá chậm.",
        ),
        (
            "Cháu đi khám bệnh phải trả tiền.",
            "Đề nghị cấp thẻ bảo hiểm y tế điện tử.",
            "Hỏi nhiều nơi mà không ai trả lời.",
        ),
    ),
    "trường mầm non": (
        (
            "Phường thiếu trường mầm non công lập, nhiều cháu không xin được chỗ học.",
            "Đề nghị xây thêm trường mầm non công lập vì con em trong phường không đủ chỗ học.",
            "Con tôi đến tuổi đi học mẫu giáo mà trường công lập hết chỗ.",
        ),
        (
            "Phải gửi nhóm trẻ tư thục chi phí cao.",
            "Nhiều gia đình công nhân không đủ tiền gửi trẻ.",
            "Đề nghị quy hoạch đất xây trường.",
        ),
    ),
    "dịch vụ công trực tuyến": (
        (
            "Cổng dịch vụ công trực tuyến thường xuyên bị lỗi, không nộp được hồ sơ.",
            "Nộp hồ sơ trực tuyến xong vẫn phải lên phường nộp bản giấy.",
            "Trang dịch vụ công báo lỗi khi tải giấy tờ lên.",
        ),
        (
            "Người lớn tuổi không biết sử dụng.",
            "Đề nghị có cán bộ hướng dẫn tại bộ phận một cửa.",
            "Mất nhiều thời gian đi lại.",
        ),
    ),
    "căn cước": (
        (
            "Làm thẻ căn cước cho con đã ba tháng vẫn chưa nhận được.",
            "Tài khoản định danh điện tử không kích hoạt được.",
            "Đề nghị hướng dẫn làm căn cước và định danh điện tử cho người già.",
        ),
        (
            "Lên công an phường nhiều lần mà chưa được giải quyết.",
            "Không có thẻ nên không làm được thủ tục ngân hàng.",
            "Ứng dụng báo lỗi liên tục.",
        ),
    ),
    "hộ nghèo": (
        (
            "Gia đình tôi khó khăn nhưng không được xét hộ cận nghèo.",
            "Việc bình xét hộ nghèo ở khu phố chưa công khai, minh bạch.",
            "Đề nghị xem xét hỗ trợ cho các hộ khó khăn chưa được công nhận hộ nghèo.",
        ),
        (
            "Chồng tôi bệnh nặng không đi làm được.",
            "Có hộ khá giả vẫn được hỗ trợ.",
            "Đề nghị công bố danh sách trước khi xét.",
        ),
    ),
}

INTRODUCTIONS = (
    "Kính gửi lãnh đạo phường.",
    "Tôi là người dân sống lâu năm ở đây.",
    "Tôi xin phản ánh một việc.",
    "Thưa lãnh đạo,",
)
CLOSINGS = (
    "Rất mong được quan tâm giải quyết.",
    "Bà con đã phản ánh nhiều lần nhưng chưa được giải quyết dứt điểm.",
    "Xin cảm ơn.",
    "Mong phường sớm có phản hồi.",
)
#: What makes two petitions on the same issue rarely identical: when, where exactly, how long.
SPECIFICS = (
    "Nhà tôi ở số {n}.",
    "Tình trạng này kéo dài từ tháng {m} năm {y}.",
    "Đã {k} tháng nay rồi.",
    "Sáng ngày {d}/{m} vừa rồi lại xảy ra.",
    "Gia đình tôi sống ở đây {k} năm.",
    "Tôi đã gọi đường dây nóng ngày {d}/{m}.",
)
ALLEYS = (12, 24, 42, 58, 73, 120, 135, 207)

#: Share of petitions about paperwork (no place).
PLACELESS_SHARE = 0.12
#: How often an issue comes back: the issue of rank r is drawn with weight 1 / r ** SKEW.
SKEW = 0.8


def _typo(word: str, rng: random.Random) -> str:
    """One slip of the finger: a mark lost, two letters swapped, or a letter doubled."""
    if len(word) < 3:
        return word
    kind = rng.randrange(3)
    if kind == 0:
        return strip_diacritics(word)
    i = rng.randrange(len(word) - 1)
    if kind == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[: i + 1] + word[i] + word[i + 1 :]


def _typed(text: str, rng: random.Random) -> str:
    """How a resident may type it: without diacritics, in lower case, with typos, or as is."""
    roll = rng.random()
    if roll < 0.07:
        return strip_diacritics(text)
    if roll < 0.12:
        return strip_diacritics(text).lower()
    if roll < 0.15:
        return text.lower()
    if roll < 0.25:
        words = text.split(" ")
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(words))
            words[i] = _typo(words[i], rng)
        return " ".join(words)
    return text


class Generator:
    """Issues (a problem at a place, or a problem with no place) and petitions about them."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        placed = [(topic, street) for topic in PLACED for street in STREETS]
        self.rng.shuffle(placed)
        self.issues: list[tuple[str, str | None]] = [*placed, *((t, None) for t in PLACELESS)]
        self.alley = {issue: self.rng.choice((None, None, *ALLEYS)) for issue in placed}
        ranks = list(range(1, len(placed) + 1))
        self.weights = [1.0 / rank**SKEW for rank in ranks]

    def issue(self) -> int:
        if self.rng.random() < PLACELESS_SHARE:
            return len(self.issues) - 1 - self.rng.randrange(len(PLACELESS))
        return self.rng.choices(range(len(self.weights)), self.weights)[0]

    def petition(self, issue: int) -> str:
        rng = self.rng
        topic, street = self.issues[issue]
        if street is None:
            wordings, details = PLACELESS[topic]
            body = rng.choice(wordings)
        else:
            wordings, details = PLACED[topic]
            alley = self.alley[(topic, street)]
            names = [f"đường {street}", f"đường {street}", street]
            if alley is not None:
                names = [f"hẻm {alley} {street}", f"hẻm {alley} đường {street}"]
            body = rng.choice(wordings).replace("{p}", rng.choice(names))
            body = body[0].upper() + body[1:]
        parts = [body, *rng.sample(details, rng.randint(0, 2))]
        if rng.random() < 0.8:
            specific = rng.choice(SPECIFICS).format(
                n=rng.randint(1, 300),
                m=rng.randint(1, 12),
                y=rng.randint(2018, 2025),
                k=rng.randint(2, 11),
                d=rng.randint(1, 28),
            )
            parts.insert(rng.randint(1, len(parts)), specific)
        if rng.random() < 0.3:
            parts.insert(0, rng.choice(INTRODUCTIONS))
        if rng.random() < 0.3:
            parts.append(rng.choice(CLOSINGS))
        return _typed(" ".join(parts), rng)

    def petitions(self, count: int) -> tuple[list[str], list[int]]:
        issues = [self.issue() for _ in range(count)]
        return [self.petition(issue) for issue in issues], issues


def pairwise(groups: Sequence[Sequence[int]], issues: Sequence[int]) -> tuple[float, float]:
    """Pairwise precision and recall of groups against the issues (via a contingency table)."""

    def pairs(n: int) -> int:
        return n * (n - 1) // 2

    label = {doc: g for g, group in enumerate(groups) for doc in group}
    cells = Counter((label.get(doc, -doc - 1), issue) for doc, issue in enumerate(issues))
    together = sum(pairs(len(group)) for group in groups)
    same = sum(pairs(n) for n in Counter(issues).values())
    both = sum(pairs(n) for n in cells.values())
    return both / (together or 1), both / (same or 1)


def resident_megabytes() -> float:
    """Resident memory of this process now (MB; Linux), 0 where unknown."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_megabytes() -> tuple[float, float]:
    """Peak resident memory of this process and of its finished worker processes (MB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--petitions", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--skip-rebuild", action="store_true")
    parser.add_argument(
        "--agreement",
        action="store_true",
        help="regroup everything again with the new petitions and compare with their joins",
    )
    arguments = parser.parse_args()

    generator = Generator()
    texts, issues = generator.petitions(arguments.petitions)
    queries, query_issues = generator.petitions(arguments.queries)
    sizes = Counter(issues)
    print(
        f"petitions                    {len(texts):,} about {len(sizes):,} issues "
        f"(largest {max(sizes.values())}, {sum(n == 1 for n in sizes.values())} raised once)"
    )
    print(
        f"mean length                  {statistics.fmean(len(t) for t in texts):.0f} characters, "
        f"{len(set(texts)):,} distinct texts"
    )

    sample = texts[:2000]
    analyse(sample[0])  # loads underthesea and the word lists: not part of the rate
    start = time.perf_counter()
    for text in sample:
        analyse(text)
    per = (time.perf_counter() - start) / len(sample)
    print(
        f"reading (segmentation etc.)  {per * 1000:.2f} ms per petition on one core "
        f"({per * len(texts):.0f} s for all on one core)"
    )

    cache: dict[str, Reading] = {}
    start, cpu = time.perf_counter(), time.process_time()
    index = PetitionIndex(enumerate(texts), workers=arguments.workers, cache=cache)
    built, built_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"build index                  {built:.1f} s ({built_cpu:.1f} s of CPU in this process; "
        f"{arguments.workers} workers, "
        f"{len(cache):,} distinct problem texts segmented)"
    )
    if not arguments.skip_rebuild:
        del index
        start, cpu = time.perf_counter(), time.process_time()
        index = PetitionIndex(enumerate(texts), cache=cache)
        print(
            f"rebuild, segmentation cached {time.perf_counter() - start:.1f} s "
            f"({time.process_time() - cpu:.1f} s of CPU; one core: places, vectors, indexes)"
        )
    del cache
    print(f"resident after build         {resident_megabytes():.0f} MB")

    start, cpu = time.perf_counter(), time.process_time()
    groups = index.groups()
    grouped, grouped_cpu = time.perf_counter() - start, time.process_time() - cpu
    members = sum(len(g) for g in groups)
    print(
        f"full regrouping (groups())   {grouped:.1f} s ({grouped_cpu:.1f} s of CPU): "
        f"{len(groups):,} groups of 2 or more holding {members:,} petitions "
        f"(largest {len(groups[0]) if groups else 0})"
    )
    precision, recall = pairwise(groups, issues)
    print(f"pairwise precision / recall  {precision:.3f} / {recall:.3f} (synthetic issues)")

    timings, cpu_timings = [], []
    hits = 0
    for query, issue in zip(queries, query_issues, strict=True):
        start, cpu = time.perf_counter(), time.process_time()
        found = index.similar(query)
        timings.append((time.perf_counter() - start) * 1000)
        cpu_timings.append((time.process_time() - cpu) * 1000)
        hits += bool(found) and issues[found[0][0]] == issue
    print(
        f"similar() per query          {_percentiles(timings)}; best match on the same issue: "
        f"{hits}/{len(timings)}"
    )
    print(f"  CPU per query              {_percentiles(cpu_timings)}")

    # A new petition joins its nearest group (no regrouping): added to the index, its
    # neighbours' groups scored by their mean (nlp.similarity.PetitionIndex.nearest_groups).
    membership = Membership(groups)
    timings, cpu_timings = [], []
    joined = 0
    index.position(0)  # the positions by id: made once, on first use
    for number, query in enumerate(queries):
        pid = len(texts) + number
        start, cpu = time.perf_counter(), time.process_time()
        index.add(pid, query)
        found_groups = index.nearest_groups(pid, membership.members_of)
        membership.join(pid, found_groups[0][0] if found_groups else None)
        timings.append((time.perf_counter() - start) * 1000)
        cpu_timings.append((time.process_time() - cpu) * 1000)
        joined += bool(found_groups)
    print(
        f"incremental join per petition {_percentiles(timings)}; {joined}/{len(queries)} "
        "joined a group"
    )
    print(f"  CPU per join               {_percentiles(cpu_timings)}")
    right = sum(
        issues[membership.group_of[len(texts) + n]] == issue
        for n, issue in enumerate(query_issues)
        if membership.group_of.get(len(texts) + n, len(texts) + n) < len(texts)
    )
    print(f"  joined the group of their own issue: {right}/{joined}")
    if arguments.agreement:
        start = time.perf_counter()
        everything = PetitionIndex(enumerate(texts + queries), workers=arguments.workers)
        full = everything.groups()
        print(f"full regrouping with them    {time.perf_counter() - start:.1f} s (build included)")
        of = {member: set(group) for group in full for member in group}
        new = set(range(len(texts), len(texts) + len(queries)))
        same = most = 0
        for pid in new:
            mine, theirs = set(membership.members_of(pid)) - new, of.get(pid, {pid}) - new
            same += mine == theirs
            most += mine == theirs or 2 * len(mine & theirs) > len(theirs)
        print(
            f"  incremental join = full regrouping for {same}/{len(new)} new petitions (the "
            f"same earlier members); joined the group holding most of them: {most}/{len(new)}"
        )
        unchanged = {frozenset(g) for g in groups} & {frozenset(set(g) - new) for g in full}
        print(
            f"  (the new petitions changed the full regrouping itself: {len(unchanged):,} of "
            f"{len(groups):,} earlier groups unchanged)"
        )
    own, children = peak_megabytes()
    print(f"peak memory (RSS)            {own:.0f} MB (workers: {children:.0f} MB each at most)")


def _percentiles(timings: list[float]) -> str:
    timings = sorted(timings)
    return (
        f"median {statistics.median(timings):.1f} ms, "
        f"p95 {timings[min(len(timings) - 1, int(len(timings) * 0.95))]:.1f} ms, "
        f"max {timings[-1]:.1f} ms (n={len(timings)})"
    )


if __name__ == "__main__":
    main()
