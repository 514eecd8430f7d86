"""Simulated stations of the demo province (Lâm Đồng, former Bình Thuận coast and highlands).

Coordinates are APPROXIMATE (placed by hand near the named place, not surveyed sites), and the
river alert levels (báo động I/II/III) are illustrative, not the official thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

REGION = "Lâm Đồng"


@dataclass(frozen=True)
class Station:
    """One simulated station: what it measures, where, and its typical level."""

    key: str  # short id, used in entity ids: urn:ngsi-ld:<Type>:lamdong-<key>
    kind: str  # air | river | rain | traffic | noise
    name: str
    locality: str
    lon: float
    lat: float
    base: float  # typical level: pm2.5 µg/m³, water level m, vehicles/h, dB(A)
    alerts: tuple[float, float, float] | None = None  # river alert levels I, II, III (m)
    tidal: bool = False  # coastal river: the tide moves the level
    battery: bool = False  # solar/battery powered (reports batteryLevel)

    @property
    def entity_type(self) -> str:
        """The Smart Data Models type of the station's observations."""
        return KINDS[self.kind][0]

    @property
    def entity_id(self) -> str:
        """The id of the observation entity."""
        return f"urn:ngsi-ld:{self.entity_type}:lamdong-{self.key}"

    @property
    def device_id(self) -> str:
        """The id of the station's Device entity."""
        return f"urn:ngsi-ld:Device:lamdong-{self.key}"


# kind -> (entity type, Device.controlledProperty)
KINDS: dict[str, tuple[str, list[str]]] = {
    "air": ("AirQualityObserved", ["airPollution"]),
    "river": ("FloodMonitoring", ["waterLevel"]),
    "rain": ("WeatherObserved", ["precipitation", "temperature", "humidity"]),
    "traffic": ("TrafficFlowObserved", ["trafficFlow"]),
    "noise": ("NoiseLevelObserved", ["noiseLevel"]),
}

STATIONS: tuple[Station, ...] = (
    # Air quality (pm2.5 base, µg/m³)
    Station("aq-phanthiet", "air", "Trạm quan trắc không khí Phan Thiết (Trần Hưng Đạo)",
            "Phan Thiết", 108.1017, 10.9289, 24.0),
    Station("aq-muine", "air", "Trạm quan trắc không khí Mũi Né", "Mũi Né",
            108.2830, 10.9470, 14.0),
    Station("aq-lagi", "air", "Trạm quan trắc không khí La Gi", "La Gi", 107.7700, 10.6600, 18.0),
    Station("aq-dalat", "air", "Trạm quan trắc không khí Đà Lạt (Hồ Xuân Hương)", "Đà Lạt",
            108.4420, 11.9410, 12.0),
    Station("aq-baoloc", "air", "Trạm quan trắc không khí Bảo Lộc", "Bảo Lộc",
            107.8070, 11.5480, 20.0),
    Station("aq-gianghia", "air", "Trạm quan trắc không khí Gia Nghĩa", "Gia Nghĩa",
            107.6900, 12.0000, 16.0),
    # River water level (m) with alert levels I, II, III
    Station("river-caty-phanthiet", "river", "Trạm thủy văn sông Cà Ty – Phan Thiết",
            "Phan Thiết", 108.0990, 10.9330, 0.9, (1.8, 2.3, 2.8), tidal=True, battery=True),
    Station("river-caty-hamthuanbac", "river", "Trạm thủy văn sông Cà Ty – Hàm Thuận Bắc",
            "Hàm Thuận Bắc", 108.0700, 10.9950, 1.3, (2.6, 3.2, 3.8), battery=True),
    Station("river-dinh-lagi", "river", "Trạm thủy văn sông Dinh – La Gi", "La Gi",
            107.7650, 10.6750, 0.8, (1.7, 2.2, 2.7), tidal=True, battery=True),
    Station("river-luy-bacbinh", "river", "Trạm thủy văn sông Lũy – Chợ Lầu (Bắc Bình)",
            "Bắc Bình", 108.5000, 11.2200, 1.5, (3.0, 3.8, 4.5), battery=True),
    Station("river-langa-tanhlinh", "river", "Trạm thủy văn sông La Ngà – Tà Pao (Tánh Linh)",
            "Tánh Linh", 107.6300, 11.1200, 2.0, (4.0, 5.0, 6.0), battery=True),
    # Rain gauges (base: mean rain rate while raining, mm/h)
    Station("rain-phanthiet", "rain", "Trạm đo mưa Phan Thiết", "Phan Thiết",
            108.0900, 10.9500, 8.0, battery=True),
    Station("rain-malam", "rain", "Trạm đo mưa Ma Lâm (Hàm Thuận Bắc)", "Hàm Thuận Bắc",
            108.1270, 11.0830, 10.0, battery=True),
    Station("rain-cholau", "rain", "Trạm đo mưa Chợ Lầu (Bắc Bình)", "Bắc Bình",
            108.5030, 11.2230, 9.0, battery=True),
    Station("rain-lagi", "rain", "Trạm đo mưa La Gi", "La Gi", 107.7750, 10.6800, 8.0,
            battery=True),
    # Traffic counters on main roads (base: peak vehicles/h)
    Station("traffic-ql1a-phanthiet", "traffic", "Điểm đếm xe QL1A – tránh Phan Thiết",
            "Phan Thiết", 108.0600, 10.9950, 1400.0),
    Station("traffic-ql1a-bacbinh", "traffic", "Điểm đếm xe QL1A – Lương Sơn (Bắc Bình)",
            "Bắc Bình", 108.3800, 11.1700, 900.0),
    Station("traffic-ql28-phanthiet", "traffic", "Điểm đếm xe QL28 – Phan Thiết", "Phan Thiết",
            108.0650, 10.9700, 700.0),
    Station("traffic-dt706b-muine", "traffic", "Điểm đếm xe ĐT706B – Phan Thiết đi Mũi Né",
            "Mũi Né", 108.1900, 10.9350, 1100.0),
    Station("traffic-ql55-lagi", "traffic", "Điểm đếm xe QL55 – La Gi", "La Gi",
            107.7600, 10.6700, 600.0),
    Station("traffic-ql20-baoloc", "traffic", "Điểm đếm xe QL20 – Bảo Lộc", "Bảo Lộc",
            107.8000, 11.5500, 1200.0),
    # Noise (base: daytime LAeq, dB(A))
    Station("noise-phanthiet", "noise", "Trạm đo tiếng ồn Phan Thiết (Nguyễn Tất Thành)",
            "Phan Thiết", 108.1100, 10.9270, 66.0),
    Station("noise-muine", "noise", "Trạm đo tiếng ồn Mũi Né (Nguyễn Đình Chiểu)", "Mũi Né",
            108.2900, 10.9500, 62.0),
    Station("noise-dalat", "noise", "Trạm đo tiếng ồn Đà Lạt (chợ Đà Lạt)", "Đà Lạt",
            108.4370, 11.9430, 64.0),
)  # fmt: skip

FLOOD_STATION = "river-caty-phanthiet"
FLOOD_RAIN = ("rain-phanthiet", "rain-malam")


def by_key(key: str) -> Station:
    """Return the station with this key."""
    for station in STATIONS:
        if station.key == key:
            return station
    raise KeyError(key)
