"""The demo's categories (with Open311 codes), places and report texts, in Vietnamese."""

from __future__ import annotations

import random
from typing import Any


def _list(code: str, text: str, *values: tuple[str, str], required: bool = True) -> dict[str, Any]:
    return {
        "code": code,
        "datatype": "singlevaluelist",
        "required": required,
        "variable": True,
        "description": text,
        "values": [{"key": k, "name": n} for k, n in values],
    }


CATEGORIES: list[dict[str, Any]] = [
    {
        "code": "PA-DUONG",
        "name": "Hư hỏng đường sá",
        "name_en": "Damaged roads",
        "group": "Giao thông",
        "group_en": "Transport",
        "keywords": "ổ gà, sụt lún, bong tróc mặt đường",
        "description": "Mặt đường bị ổ gà, sụt lún, bong tróc, nắp cống hỏng.",
        "sla_hours": 37.5,
        "sort_order": 1,
        "weight": 26,
        "default_agency": "SXD-LD",
        "handlers": [],
        "attributes": [
            _list("SIZE", "Mức độ hư hỏng", ("small", "Nhỏ"), ("medium", "Vừa"), ("large", "Lớn"))
        ],
    },
    {
        "code": "PA-RAC",
        "name": "Rác thải, vệ sinh môi trường",
        "name_en": "Waste and sanitation",
        "group": "Môi trường",
        "group_en": "Environment",
        "keywords": "rác, xả thải, vệ sinh",
        "description": "Rác không được thu gom, đổ rác, xả thải sai quy định.",
        "sla_hours": 15,
        "sort_order": 2,
        "weight": 24,
        "default_agency": "SNNMT-LD",
        "handlers": ["UBND-MUINE"],
        "attributes": [],
    },
    {
        "code": "PA-NGAP",
        "name": "Ngập úng",
        "name_en": "Flooding",
        "group": "Hạ tầng đô thị",
        "group_en": "Urban infrastructure",
        "keywords": "ngập, úng, thoát nước",
        "description": "Đường, khu dân cư bị ngập sau mưa; cống thoát nước tắc.",
        "sla_hours": 7.5,
        "sort_order": 3,
        "weight": 10,
        "default_agency": "SXD-LD",
        "handlers": [],
        "attributes": [
            _list(
                "DEPTH",
                "Độ sâu ngập",
                ("ankle", "Dưới mắt cá"),
                ("knee", "Tới đầu gối"),
                ("deep", "Sâu hơn đầu gối"),
            )
        ],
    },
    {
        "code": "PA-DEN",
        "name": "Đèn chiếu sáng công cộng",
        "name_en": "Street lighting",
        "group": "Hạ tầng đô thị",
        "group_en": "Urban infrastructure",
        "keywords": "đèn đường, chiếu sáng",
        "description": "Đèn đường không sáng, nhấp nháy hoặc sáng cả ban ngày.",
        "sla_hours": 22.5,
        "sort_order": 4,
        "weight": 14,
        "default_agency": "SXD-LD",
        "handlers": [],
        "attributes": [
            {
                "code": "POLE_ID",
                "datatype": "string",
                "required": False,
                "variable": True,
                "description": "Số hiệu cột đèn (nếu thấy)",
            },
            _list(
                "FAULT",
                "Tình trạng đèn",
                ("off", "Không sáng"),
                ("flicker", "Nhấp nháy"),
                ("day", "Sáng cả ban ngày"),
            ),
        ],
    },
    {
        "code": "PA-XAYDUNG",
        "name": "Xây dựng trái phép",
        "name_en": "Illegal construction",
        "group": "Trật tự xây dựng",
        "group_en": "Building control",
        "keywords": "xây dựng, lấn chiếm, không phép",
        "description": "Công trình xây dựng không phép, sai phép, lấn chiếm đất công.",
        "sla_hours": 75,
        "sort_order": 5,
        "weight": 8,
        "default_agency": "SXD-LD",
        "handlers": ["UBND-MUINE"],
        "attributes": [],
    },
    {
        "code": "PA-TIENGON",
        "name": "Tiếng ồn",
        "name_en": "Noise",
        "group": "An ninh trật tự",
        "group_en": "Public order",
        "keywords": "karaoke, ồn ào, loa",
        "description": "Tiếng ồn từ karaoke, loa kẹo kéo, công trình ban đêm.",
        "sla_hours": 7.5,
        "sort_order": 6,
        "weight": 9,
        "default_agency": "CA-LD",
        "handlers": [],
        "attributes": [],
    },
    {
        "code": "PA-TTDT",
        "name": "Trật tự đô thị, lấn chiếm vỉa hè",
        "name_en": "Urban order, occupied sidewalks",
        "group": "Trật tự đô thị",
        "group_en": "Urban order",
        "keywords": "vỉa hè, lấn chiếm, buôn bán",
        "description": "Lấn chiếm vỉa hè, lòng đường; buôn bán, đậu xe sai quy định.",
        "sla_hours": 15,
        "sort_order": 7,
        "weight": 12,
        "default_agency": "CA-LD",
        "handlers": ["UBND-MUINE"],
        "attributes": [],
    },
]

PLACES: list[dict[str, Any]] = [
    {
        "name": "phường Phan Thiết",
        "lat": 10.9330,
        "lon": 108.1000,
        "streets": ["Trần Hưng Đạo", "Nguyễn Tất Thành", "Thủ Khoa Huân", "Lê Hồng Phong"],
    },
    {
        "name": "phường Mũi Né",
        "lat": 10.9480,
        "lon": 108.2400,
        "streets": ["Nguyễn Đình Chiểu", "Huỳnh Thúc Kháng", "Võ Nguyên Giáp"],
    },
    {
        "name": "phường Xuân Hương - Đà Lạt",
        "lat": 11.9420,
        "lon": 108.4380,
        "streets": ["Trần Phú", "Phan Đình Phùng", "Bùi Thị Xuân", "3 Tháng 2", "Hùng Vương"],
    },
    {
        "name": "phường Lâm Viên - Đà Lạt",
        "lat": 11.9560,
        "lon": 108.4450,
        "streets": ["Phù Đổng Thiên Vương", "Mai Anh Đào", "Xô Viết Nghệ Tĩnh"],
    },
    {
        "name": "phường 1 Bảo Lộc",
        "lat": 11.5480,
        "lon": 107.8070,
        "streets": ["Trần Phú", "Lê Thị Pha", "Nguyễn Văn Cừ", "Hà Giang"],
    },
]

TEXTS: dict[str, list[str]] = {
    "PA-DUONG": [
        "Ổ gà lớn giữa đường {street}, xe máy đi qua rất nguy hiểm.",
        "Mặt đường {street} bị sụt lún sau mưa, đề nghị sửa chữa.",
        "Nắp hố ga trên đường {street} bị vỡ, có nguy cơ gây tai nạn.",
    ],
    "PA-RAC": [
        "Rác tồn đọng nhiều ngày tại góc đường {street}, bốc mùi hôi.",
        "Có người đổ xà bần, rác thải xây dựng ven đường {street}.",
        "Điểm tập kết rác trên đường {street} chưa được thu gom.",
    ],
    "PA-NGAP": [
        "Đường {street} ngập sâu sau cơn mưa chiều, xe chết máy nhiều.",
        "Cống thoát nước trên đường {street} bị tắc, nước tràn vào nhà dân.",
    ],
    "PA-DEN": [
        "Cả dãy đèn đường trên đường {street} không sáng mấy đêm nay.",
        "Đèn đường trước nhà trên đường {street} nhấp nháy liên tục.",
    ],
    "PA-XAYDUNG": [
        "Công trình trên đường {street} xây thêm tầng, nghi không có giấy phép.",
        "Hộ dân lấn chiếm hành lang, xây tường rào ra sát đường {street}.",
    ],
    "PA-TIENGON": [
        "Karaoke trên đường {street} hát đến khuya, ảnh hưởng giấc ngủ người dân.",
        "Công trình trên đường {street} thi công ồn ào sau 22 giờ.",
    ],
    "PA-TTDT": [
        "Quán ăn lấn chiếm toàn bộ vỉa hè đường {street}, người đi bộ phải xuống lòng đường.",
        "Xe ô tô đậu dàn hàng trên đường {street} gây ùn tắc giờ cao điểm.",
    ],
}

_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Phan", "Huỳnh", "Đặng", "Bùi"]
_MIDDLE = ["Văn", "Thị", "Minh", "Thanh", "Ngọc", "Quốc", "Hữu", "Thu"]
_GIVEN = ["An", "Bình", "Cường", "Dung", "Hà", "Hải", "Lan", "Long", "Mai", "Nam", "Tâm", "Vy"]


def people(rng: random.Random) -> tuple[str, str]:
    """A made-up reporter: a plausible Vietnamese name and a mobile number."""
    name = f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"
    phone = "09" + "".join(str(rng.randint(0, 9)) for _ in range(8))
    return name, phone
