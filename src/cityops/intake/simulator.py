"""The demo-province simulator: readings with daily cycles, now and then an anomaly.

`Simulator.tick(now)` returns keyValues readings (the shape of POST /api/intake/readings) for
every station, and every DEVICE_EVERY ticks the stations' Device entities. Values follow local
time (UTC+7): air pollution, traffic and noise peak in the rush hours, ozone in the afternoon
sun, coastal rivers move with the tide, rain comes in afternoon showers. Anomalies: a flood on
the Cà Ty river in Phan Thiết (rises past alert level II in about 25 minutes, with heavy rain
upstream), a pollution spike at one air station, a station going silent for 25 minutes. Every
random draw comes from one generator seeded with `seed`, so a run is repeatable.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from cityops.context.entities import iso
from cityops.intake.stations import FLOOD_RAIN, FLOOD_STATION, KINDS, REGION, STATIONS, Station

LOCAL = timezone(timedelta(hours=7))
DEVICE_EVERY = 30  # ticks between Device updates (5 minutes at the default 10 s)
SCENARIOS = ("flood", "pollution", "silence")
# kind -> minutes of rise, hold and fall
SHAPES = {"flood": (25, 15, 60), "pollution": (10, 15, 15), "silence": (0, 25, 0)}
WEIGHTS = {"flood": 0.25, "pollution": 0.4, "silence": 0.35}


def _bump(hour: float, centre: float, width: float) -> float:
    return math.exp(-(((hour - centre) / width) ** 2))


def rush(hour: float) -> float:
    """Rush-hour activity, 0..1: peaks around 07:30 and 17:30."""
    return max(_bump(hour, 7.5, 1.2), _bump(hour, 17.5, 1.4))


def daylight(hour: float) -> float:
    """Sunshine, 0..1: 0 at night, 1 at noon."""
    return max(0.0, math.sin(math.pi * (hour - 6) / 12))


def activity(hour: float) -> float:
    """Daytime activity, 0..1: low at night, high from morning to evening."""
    return 0.15 + 0.85 * (_bump(hour, 13, 5.5) if 5 <= hour <= 22 else 0.1)


@dataclass
class Anomaly:
    """An unusual episode at one station: rises, holds, falls."""

    kind: str
    station: str
    start: datetime

    def envelope(self, now: datetime) -> float:
        """How strong the anomaly is now, 0..1."""
        rise, hold, fall = (timedelta(minutes=m) for m in SHAPES[self.kind])
        t = now - self.start
        if t < timedelta(0) or t > rise + hold + fall:
            return 0.0
        if t < rise:
            return t / rise
        if t <= rise + hold:
            return 1.0
        return 1.0 - (t - rise - hold) / fall

    def over(self, now: datetime) -> bool:
        """Say whether the anomaly has ended."""
        return now - self.start > timedelta(minutes=sum(SHAPES[self.kind]))


class Simulator:
    """Makes the readings of every station, tick by tick, from one seeded generator."""

    def __init__(
        self,
        seed: int = 2026,
        anomaly_rate: float = 1.0,
        scenarios: Iterable[str] = (),
        stations: Sequence[Station] = STATIONS,
    ) -> None:
        self.rng = random.Random(seed)
        self.anomaly_rate = anomaly_rate  # anomalies started per hour, on average
        self.stations = tuple(stations)
        self.anomalies: list[Anomaly] = []
        self.pending = [s for s in scenarios if s in SCENARIOS]
        self.rain_until: dict[str, tuple[datetime, float]] = {}
        self.ticks = 0
        self._last: datetime | None = None

    # --- anomalies -------------------------------------------------------------------------

    def start(self, kind: str, now: datetime) -> Anomaly:
        """Start an anomaly of this kind now (flood: at the Cà Ty river in Phan Thiết)."""
        if kind == "flood":
            key = FLOOD_STATION
        else:
            kinds = ("air",) if kind == "pollution" else ("air", "rain", "traffic", "noise")
            key = self.rng.choice([s.key for s in self.stations if s.kind in kinds])
        anomaly = Anomaly(kind, key, now)
        self.anomalies.append(anomaly)
        return anomaly

    def _schedule(self, now: datetime, dt_s: float) -> None:
        self.anomalies = [a for a in self.anomalies if not a.over(now)]
        while self.pending:
            self.start(self.pending.pop(0), now)
        if self.rng.random() < self.anomaly_rate * dt_s / 3600:
            kind = self.rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
            if not any(a.kind == kind for a in self.anomalies):
                self.start(kind, now)

    def strength(self, kind: str, key: str, now: datetime) -> float:
        """Return how strongly an anomaly of this kind affects a station now, 0..1."""
        found = [a.envelope(now) for a in self.anomalies if a.kind == kind and a.station == key]
        return max(found, default=0.0)

    def silent(self, key: str, now: datetime) -> bool:
        """Say whether a station is silent now."""
        return self.strength("silence", key, now) > 0

    # --- ticks -----------------------------------------------------------------------------

    def tick(self, now: datetime) -> list[dict[str, Any]]:
        """Return the readings of every station that speaks at `now` (keyValues).

        Names, places and Device entities go out on the first tick and every DEVICE_EVERY.
        """
        dt_s = (now - self._last).total_seconds() if self._last else 10.0
        self._schedule(now, max(dt_s, 0.0))
        hour = now.astimezone(LOCAL).hour + now.astimezone(LOCAL).minute / 60
        out: list[dict[str, Any]] = []
        devices = self.ticks % DEVICE_EVERY == 0
        for station in self.stations:
            values = self.values(station, now, hour, dt_s)  # always draw: runs stay repeatable
            if self.silent(station.key, now):
                continue
            if devices:
                out.append(self.device(station, now, hour))
            out.append(self.observation(station, now, values, describe=devices))
        self.ticks += 1
        self._last = now
        return out

    def values(self, s: Station, now: datetime, hour: float, dt_s: float) -> dict[str, Any]:
        """Return the measured values of one station."""
        if s.kind == "air":
            return self._air(s, now, hour)
        if s.kind == "river":
            return self._river(s, now)
        if s.kind == "rain":
            return self._rain(s, now, hour, dt_s)
        if s.kind == "traffic":
            return self._traffic(s, hour)
        return self._noise(s, hour)

    def _noise_factor(self, spread: float) -> float:
        return 1 + self.rng.uniform(-spread, spread)

    def _air(self, s: Station, now: datetime, hour: float) -> dict[str, Any]:
        spike = 1 + 4 * self.strength("pollution", s.key, now)
        pm25 = s.base * (0.6 + 0.9 * rush(hour)) * spike * self._noise_factor(0.08)
        pm10 = pm25 * 1.7 * self._noise_factor(0.05)
        no2 = (12 + 30 * rush(hour)) * self._noise_factor(0.1)
        o3 = (18 + 55 * daylight(hour) ** 2) * self._noise_factor(0.08)
        return {
            "pm25": round(pm25, 1),
            "pm10": round(pm10, 1),
            "no2": round(no2, 1),
            "o3": round(o3, 1),
        }

    def _river(self, s: Station, now: datetime) -> dict[str, Any]:
        alerts = s.alerts or (9.0, 9.5, 10.0)
        hours = now.timestamp() / 3600
        level = s.base + (0.35 * math.sin(2 * math.pi * hours / 12.42) if s.tidal else 0.0)
        flood = self.strength("flood", s.key, now)
        level += 0.012 * self._rain_rate(_nearest_rain(s, self.stations), now) * (1 - flood)
        level += (alerts[1] + 0.2 - s.base) * flood
        level = max(0.0, level + self.rng.uniform(-0.01, 0.01))
        status = "normal"
        for name, threshold in zip(("alert1", "alert2", "alert3"), alerts, strict=True):
            status = name if level >= threshold else status
        return {
            "currentLevel": round(level, 2),
            "referenceLevel": s.base,
            "alertLevel1": alerts[0],
            "alertLevel2": alerts[1],
            "alertLevel3": alerts[2],
            "floodLevelStatus": status,
        }

    def _rain_rate(self, key: str | None, now: datetime) -> float:
        if key is None:
            return 0.0
        until, rate = self.rain_until.get(key, (now, 0.0))
        flood = self.strength("flood", FLOOD_STATION, now) if key in FLOOD_RAIN else 0.0
        return max(rate if until > now else 0.0, 45.0 * flood)

    def _rain(self, s: Station, now: datetime, hour: float, dt_s: float) -> dict[str, Any]:
        per_hour = 0.25 if 13 <= hour <= 19 else 0.04
        showers = self.rng.random() < per_hour * dt_s / 3600
        length, strength = self.rng.uniform(20, 90), self.rng.uniform(0.4, 2.2)
        if showers and self.rain_until.get(s.key, (now, 0.0))[0] <= now:
            self.rain_until[s.key] = (now + timedelta(minutes=length), s.base * strength)
        rate = self._rain_rate(s.key, now)
        temperature = 24 + 7 * daylight(hour) - (3 if rate > 0 else 0) + self.rng.uniform(-0.3, 0.3)
        humidity = min(1.0, 0.62 + 0.2 * (1 - daylight(hour)) + (0.15 if rate > 0 else 0.0))
        return {
            "precipitation": round(rate, 1),
            "temperature": round(temperature, 1),
            "relativeHumidity": round(humidity, 2),
        }

    def _traffic(self, s: Station, hour: float) -> dict[str, Any]:
        intensity = s.base * (0.12 + 0.55 * activity(hour) + 0.45 * rush(hour))
        intensity *= self._noise_factor(0.1)
        occupancy = min(0.98, intensity / (s.base * 1.25))
        speed = 62 * (1 - 0.6 * max(0.0, occupancy - 0.4)) * self._noise_factor(0.05)
        return {
            "intensity": round(intensity),
            "averageVehicleSpeed": round(speed, 1),
            "occupancy": round(occupancy, 2),
            "congested": occupancy > 0.75,
        }

    def _noise(self, s: Station, hour: float) -> dict[str, Any]:
        laeq = s.base - 18 * (1 - activity(hour)) + 4 * rush(hour) + self.rng.uniform(-1.5, 1.5)
        return {"LAeq": round(laeq, 1), "LAmax": round(laeq + self.rng.uniform(8, 18), 1)}

    # --- payloads --------------------------------------------------------------------------

    def observation(
        self, s: Station, now: datetime, values: dict[str, Any], *, describe: bool = True
    ) -> dict[str, Any]:
        """Return one station's reading (name, place and address only when `describe`)."""
        attrs = (_place(s) if describe else {}) | {"refDevice": s.device_id} | values
        return {
            "entity_id": s.entity_id,
            "type": s.entity_type,
            "observed_at": iso(now),
            "attrs": attrs,
        }

    def device(self, s: Station, now: datetime, hour: float) -> dict[str, Any]:
        """Return one station's Device entity (battery stations report their charge)."""
        attrs = _place(s) | {
            "category": ["sensor"],
            "controlledProperty": KINDS[s.kind][1],
            "serialNumber": f"LD-{s.key.upper()}",
            "description": f"Thiết bị mô phỏng của {s.name}",
        }
        if s.battery:
            charge = 0.55 + 0.4 * daylight(hour) + self.rng.uniform(-0.02, 0.02)
            attrs["batteryLevel"] = round(min(1.0, charge), 2)
        return {"entity_id": s.device_id, "type": "Device", "observed_at": iso(now), "attrs": attrs}


def _place(s: Station) -> dict[str, Any]:
    return {
        "name": s.name,
        "location": {"type": "Point", "coordinates": [s.lon, s.lat]},
        "address": {"addressLocality": s.locality, "addressRegion": REGION, "addressCountry": "VN"},
    }


def _nearest_rain(s: Station, stations: Sequence[Station]) -> str | None:
    gauges = [g for g in stations if g.kind == "rain"]
    if not gauges:
        return None
    return min(gauges, key=lambda g: (g.lon - s.lon) ** 2 + (g.lat - s.lat) ** 2).key
