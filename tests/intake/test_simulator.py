"""The demo-province simulator feeds the hub through the real intake paths (HTTP, MQTT)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from cityops.context.models import ContextEntity
from cityops.intake.simulator import Simulator
from cityops.intake.sinks import HttpSink, MqttSink, run
from cityops.intake.stations import STATIONS, by_key
from intake.support import wait_until

T0 = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # 07:00 in Lâm Đồng: morning rush hour
ENV = "https://smartdatamodels.org/dataModel.Environment/"
CA_TY = by_key("river-caty-phanthiet")


def clock(step: timedelta, start: datetime = T0):
    """A virtual clock: each call is `step` later than the last."""
    ticks = iter(range(10_000))
    return lambda: start + next(ticks) * step


def stored_types(db) -> dict[str, int]:
    """How many entities of each (short) type the store holds."""
    with db.session() as s:
        types = s.scalars(select(ContextEntity.type)).all()
    counts: dict[str, int] = {}
    for t in types:
        short = t.rsplit("/", 1)[-1]
        counts[short] = counts.get(short, 0) + 1
    return counts


def test_a_short_run_over_http_puts_every_station_and_device_in_the_store(client, factory):
    sink = HttpSink(client, factory.api_key("integrator"))
    sim = Simulator(seed=7, anomaly_rate=0)
    assert run(sim, sink, interval=0, ticks=3, clock=clock(timedelta(seconds=10))) == 3
    assert stored_types(factory.db) == {
        "AirQualityObserved": 6,
        "FloodMonitoring": 5,
        "WeatherObserved": 4,
        "TrafficFlowObserved": 6,
        "NoiseLevelObserved": 3,
        "Device": len(STATIONS),
    }
    device = client.get(f"/ngsi-ld/v1/entities/{CA_TY.device_id}", headers=sink.headers).json()
    assert device["https://smartdatamodels.org/dataModel.Device/deviceState"]["value"] == "online"


def test_the_flood_scenario_raises_ca_ty_above_its_alert_level(client, factory):
    sink = HttpSink(client, factory.api_key("integrator"))
    sim = Simulator(seed=7, anomaly_rate=0, scenarios=["flood"])
    levels = []
    for _ in range(16):  # half an hour, a tick every two minutes
        readings = sim.tick(T0 + len(levels) * timedelta(minutes=2))
        sink.send(readings)
        [caty] = [r for r in readings if r["entity_id"] == CA_TY.entity_id]
        levels.append(caty["attrs"]["currentLevel"])
    alert1, alert2, _ = CA_TY.alerts
    assert levels[0] < alert1 < levels[-1]
    entity = client.get(f"/ngsi-ld/v1/entities/{CA_TY.entity_id}", headers=sink.headers).json()
    assert entity[ENV + "currentLevel"]["value"] == levels[-1] > alert1
    assert entity[ENV + "floodLevelStatus"]["value"] in ("alert1", "alert2", "alert3")


def test_the_same_seed_gives_the_same_run_and_rush_hour_is_worse():
    def readings(seed: int, start: datetime) -> list[dict]:
        sim = Simulator(seed=seed, anomaly_rate=6)
        return [sim.tick(start + n * timedelta(seconds=10)) for n in range(60)]

    assert readings(3, T0) == readings(3, T0)
    assert readings(3, T0) != readings(4, T0)
    night = T0 + timedelta(hours=20)  # 03:00 local

    def pm25(batch: list[dict]) -> float:
        return sum(r["attrs"]["pm25"] for r in batch if "pm25" in r["attrs"])

    assert pm25(readings(3, T0)[0]) > 1.5 * pm25(readings(3, night)[0])


def test_a_silent_station_stops_reporting_for_a_while():
    sim = Simulator(seed=1, anomaly_rate=0)
    silence = sim.start("silence", T0)
    ids = {r["entity_id"] for r in sim.tick(T0 + timedelta(minutes=5))}
    assert f"lamdong-{silence.station}" not in " ".join(ids)
    later = {r["entity_id"] for r in sim.tick(T0 + timedelta(minutes=30))}
    assert any(silence.station in i for i in later)


def test_the_simulator_publishes_over_mqtt_as_a_device_would(mqtt_client_app, broker, factory):
    client, _ = mqtt_client_app
    key = factory.api_key("integrator")
    sink = MqttSink("127.0.0.1", broker.port, key)
    try:
        run(Simulator(seed=2, anomaly_rate=0), sink, interval=0, ticks=1)
    finally:
        sink.close()
    everything = 2 * len(STATIONS)  # an observation and a Device per station
    wait_until(lambda: sum(stored_types(factory.db).values()) == everything, what="the tick")
    assert stored_types(factory.db)["FloodMonitoring"] == 5
