"""Notifiable diseases, facility levels and outbreak-signal methods, with labels and colours."""

from __future__ import annotations

from enum import StrEnum

from cityops.core.choices import Choice, choice_set

# A selection of the infectious diseases reported under Circular 54/2015/TT-BYT, counted weekly.
DISEASES: dict[str, Choice] = choice_set(
    Choice("dengue", "Sốt xuất huyết Dengue", "Dengue fever", "#dc3545"),
    Choice("hfmd", "Tay chân miệng", "Hand, foot and mouth disease", "#fd7e14"),
    Choice("measles", "Sởi", "Measles", "#6f42c1"),
    Choice("influenza", "Cúm", "Influenza", "#0d6efd"),
    Choice("diarrhoea", "Tiêu chảy", "Diarrhoea", "#20c997"),
    Choice("rubella", "Rubella", "Rubella", "#d63384"),
    Choice("pertussis", "Ho gà", "Pertussis", "#6610f2"),
    Choice("chickenpox", "Thủy đậu", "Chickenpox", "#ffc107"),
)

# Fewest weekly cases in a commune that may raise an outbreak signal (CityOps' guard on top of
# EARS, whose statistics alone alarm on tiny counts): rare diseases alarm early.
MIN_CASES: dict[str, int] = {
    "dengue": 5,
    "hfmd": 5,
    "measles": 2,
    "influenza": 10,
    "diarrhoea": 10,
    "rubella": 2,
    "pertussis": 2,
    "chickenpox": 5,
}


class Level(StrEnum):
    """The level of a health facility."""

    hospital = "hospital"
    health_centre = "health_centre"
    station = "station"


LEVELS: dict[str, Choice] = choice_set(
    Choice(Level.hospital, "Bệnh viện", "Hospital", "#dc3545"),
    Choice(Level.health_centre, "Trung tâm y tế khu vực", "Regional health centre", "#0d6efd"),
    Choice(Level.station, "Trạm y tế xã, phường", "Commune health station", "#198754"),
)

METHODS: dict[str, Choice] = choice_set(
    Choice("C1", "EARS C1 (nền 7 tuần liền trước)", "EARS C1 (7-week baseline)", "#ffc107"),
    Choice("C2", "EARS C2 (nền 7 tuần, trễ 2 tuần)", "EARS C2 (7 weeks, 2-week lag)", "#fd7e14"),
    Choice("C3", "EARS C3 (tích lũy 3 tuần của C2)", "EARS C3 (C2 over 3 weeks)", "#dc3545"),
)

DEMO_SOURCE = "Số liệu minh họa (demo), không phải số liệu thống kê chính thức"
