"""Demo SOP templates for Lâm Đồng (highlands + the coast of former Bình Thuận).

Agency codes are the demo agencies of core/demo.py; a step whose agency is missing keeps
its role as owner. Illustrative procedures, not official ones.
"""

from __future__ import annotations

from typing import Any


def _step(
    vi: str,
    en: str,
    minutes: int,
    *,
    role: str | None = None,
    agency: str | None = None,
    checklist: tuple[tuple[str, str], ...] = (),
) -> dict[str, Any]:
    return {
        "title_vi": vi,
        "title_en": en,
        "owner_role": role,
        "owner_agency_code": agency,
        "due_minutes": minutes,
        "checklist": [{"vi": v, "en": e} for v, e in checklist],
    }


FLOOD = {
    "code": "SOP-NGAP-LUT",
    "name_vi": "Ứng phó ngập lụt",
    "name_en": "Flood response",
    "hazard": "flood",
    "description_vi": "Mưa lớn, lũ sông Cà Ty, Lũy, La Ngà; ngập đô thị Phan Thiết, Bảo Lộc.",
    "description_en": "Heavy rain, river floods; urban flooding in Phan Thiết and Bảo Lộc.",
    "steps": [
        _step(
            "Xác minh mực nước, cảnh báo UBND xã/phường",
            "Verify water levels and warn the commune/ward",
            15,
            role="operator",
            checklist=(
                ("Đối chiếu trạm đo và camera", "Cross-check gauges and cameras"),
                ("Gọi điện trực ban xã/phường", "Phone the commune duty officer"),
            ),
        ),
        _step(
            "Điều lực lượng cứu hộ, cứu nạn",
            "Dispatch rescue teams",
            30,
            agency="CA-LD",
            checklist=(
                ("Xuồng, áo phao", "Boats and life jackets"),
                ("Chốt chặn đường ngập", "Close flooded roads"),
            ),
        ),
        _step(
            "Mở điểm sơ tán, trú tránh",
            "Open evacuation shelters",
            60,
            role="unit_operator",
            checklist=(
                ("Nước uống, lương thực", "Water and food"),
                ("Danh sách hộ sơ tán", "List of evacuated households"),
            ),
        ),
        _step(
            "Thông báo cho người dân (loa, Zalo, SMS)",
            "Notify citizens (loudspeakers, Zalo, SMS)",
            30,
            role="operator",
        ),
        _step(
            "Bảo đảm y tế, phòng dịch sau lũ",
            "Health care and disease prevention after the flood",
            24 * 60,
            agency="SYT-LD",
        ),
        _step(
            "Thống kê thiệt hại, báo cáo", "Count the damage and report", 48 * 60, agency="SNNMT-LD"
        ),
    ],
}

LANDSLIDE = {
    "code": "SOP-SAT-LO",
    "name_vi": "Ứng phó sạt lở đất",
    "name_en": "Landslide response",
    "hazard": "landslide",
    "description_vi": "Sạt lở taluy, đèo Prenn, Mimosa, Bảo Lộc; vùng núi Đắk Nông cũ.",
    "description_en": "Slope failures on mountain passes (Prenn, Mimosa, Bảo Lộc) and uplands.",
    "steps": [
        _step(
            "Cảnh báo, cấm đường đoạn nguy hiểm",
            "Warn and close the dangerous road section",
            15,
            agency="SXD-LD",
        ),
        _step(
            "Sơ tán hộ dân vùng nguy cơ", "Evacuate households at risk", 60, role="unit_operator"
        ),
        _step(
            "Tìm kiếm cứu nạn (nếu có người mắc kẹt)",
            "Search and rescue (if anyone is trapped)",
            30,
            agency="CA-LD",
        ),
        _step(
            "Khảo sát địa chất, phương án khắc phục",
            "Geological survey and repair plan",
            24 * 60,
            agency="SXD-LD",
        ),
    ],
}

FOREST_FIRE = {
    "code": "SOP-CHAY-RUNG",
    "name_vi": "Ứng phó cháy rừng",
    "name_en": "Forest fire response",
    "hazard": "forest_fire",
    "description_vi": "Rừng thông Đà Lạt, Lâm Hà; mùa khô tháng 1-4.",
    "description_en": "Pine forests of Đà Lạt and Lâm Hà; dry season January-April.",
    "steps": [
        _step(
            "Xác minh điểm cháy (tháp canh, vệ tinh)",
            "Confirm the fire (watchtowers, satellite hotspots)",
            15,
            role="operator",
        ),
        _step(
            "Huy động kiểm lâm, lực lượng chữa cháy",
            "Mobilise forest rangers and firefighters",
            30,
            agency="SNNMT-LD",
        ),
        _step(
            "Cảnh sát PCCC hỗ trợ, chốt chặn", "Fire police support and cordons", 45, agency="CA-LD"
        ),
        _step(
            "Sơ tán dân cư gần đám cháy",
            "Evacuate residents near the fire",
            60,
            role="unit_operator",
        ),
        _step("Canh giữ, chống cháy lại", "Guard against rekindling", 24 * 60, agency="SNNMT-LD"),
    ],
}

AIR = {
    "code": "SOP-O-NHIEM-KK",
    "name_vi": "Ứng phó đợt ô nhiễm không khí",
    "name_en": "Air pollution episode response",
    "hazard": "air_pollution",
    "description_vi": "PM2.5 vượt quy chuẩn kéo dài (đốt đồng, sương mù, công trình).",
    "description_en": "Sustained PM2.5 above the national standard (burning, fog, construction).",
    "steps": [
        _step(
            "Kiểm tra trạm quan trắc, loại trừ lỗi thiết bị",
            "Check the monitoring stations, rule out faulty sensors",
            30,
            role="operator",
        ),
        _step(
            "Khuyến cáo người dân hạn chế ra ngoài",
            "Advise citizens to limit time outdoors",
            60,
            agency="SYT-LD",
        ),
        _step(
            "Kiểm tra nguồn thải, đốt lộ thiên",
            "Inspect emission sources and open burning",
            4 * 60,
            agency="SNNMT-LD",
        ),
    ],
}

TRAFFIC = {
    "code": "SOP-TNGT",
    "name_vi": "Ứng phó tai nạn giao thông nghiêm trọng",
    "name_en": "Severe traffic accident response",
    "hazard": "traffic_accident",
    "description_vi": "Quốc lộ 1A, 20, 28, cao tốc Phan Thiết - Dầu Giây.",
    "description_en": "National roads 1A, 20, 28 and the Phan Thiết - Dầu Giây expressway.",
    "steps": [
        _step("Điều cấp cứu 115", "Dispatch emergency ambulances (115)", 10, agency="SYT-LD"),
        _step(
            "CSGT phân luồng, bảo vệ hiện trường",
            "Traffic police divert traffic and secure the scene",
            15,
            agency="CA-LD",
        ),
        _step(
            "Thông báo phân luồng cho người dân",
            "Tell road users about diversions",
            30,
            role="operator",
        ),
        _step(
            "Giải phóng hiện trường, thông xe",
            "Clear the scene and reopen the road",
            3 * 60,
            agency="SXD-LD",
        ),
    ],
}

DEMO_TEMPLATES: tuple[dict[str, Any], ...] = (FLOOD, LANDSLIDE, FOREST_FIRE, AIR, TRAFFIC)
