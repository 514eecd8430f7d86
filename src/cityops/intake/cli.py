"""`cityops intake ...`: import historic readings from CSV, run the demo simulator."""

from __future__ import annotations

import socket
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated

import typer

from cityops.core.config import Settings

if TYPE_CHECKING:
    from cityops.intake.sinks import Sink

app = typer.Typer(help="Feed the context hub: CSV import, simulator.", no_args_is_help=True)
MAX_SHOWN = 50
KEY_FILE = "simulator.key"


def _main() -> ModuleType:
    from cityops import cli  # imported late: cityops.cli imports this module

    return cli


@app.command("csv")
def import_csv(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV file.")],
    entity_type: Annotated[
        str | None,
        typer.Option("--type", help="Entity type of rows without a `type` column."),
    ] = None,
    context: Annotated[
        str | None, typer.Option(help="@context URL (default: the type's Smart Data Model).")
    ] = None,
    tenant: Annotated[str, typer.Option(help="NGSI-LD tenant (default: none).")] = "",
    batch_size: Annotated[int, typer.Option(min=1, help="Rows per transaction.")] = 500,
) -> None:
    """Import historic readings (wide or long CSV); every row is filed in the history."""
    from rich.console import Console
    from rich.progress import Progress

    from cityops.core.policy import system_principal
    from cityops.intake.csv_import import CsvImport, CsvLayoutError, count_rows

    main = _main()
    settings = main._settings()
    job = CsvImport(
        main._db(settings),
        system_principal(main._actor()),
        entity_type,
        context,
        tenant,
        batch_size,
    )
    try:
        with Progress(console=Console(stderr=True)) as progress:
            task = progress.add_task(f"Importing {file.name}", total=count_rows(file))
            report = job.run(file, lambda n: progress.advance(task, n))
    except CsvLayoutError as err:
        main._fail(f"{file.name}: {err}")
    for line, detail in report.errors[:MAX_SHOWN]:
        typer.echo(f"row {line}: {detail}", err=True)
    if len(report.errors) > MAX_SHOWN:
        typer.echo(f"... and {len(report.errors) - MAX_SHOWN} more failed rows", err=True)
    typer.echo(
        f"Imported {report.landed} of {report.rows} rows ({report.created} new entities); "
        f"{len(report.errors)} rows failed."
    )
    if report.errors:
        raise typer.Exit(1)


class Via(StrEnum):
    """How the simulator reaches CityOps."""

    auto = "auto"
    http = "http"
    mqtt = "mqtt"


def simulator_key(settings: Settings) -> str:
    """Reuse the simulator's API key kept in the data folder, or make one (integrator role)."""
    from sqlalchemy.exc import SQLAlchemyError

    main = _main()
    path = Path(settings.data_dir) / KEY_FILE
    try:
        return _key_from_db(settings, path)
    except SQLAlchemyError as err:
        reason = str(err).splitlines()[0]
        main._fail(f"cannot keep the simulator's API key in the database ({reason}); use --api-key")
        raise


def _key_from_db(settings: Settings, path: Path) -> str:
    from cityops.core.auth import people
    from cityops.core.auth.schemas import ApiKeyCreate
    from cityops.core.auth.service import resolve_token
    from cityops.core.errors import CityOpsError
    from cityops.core.policy import Role, system_principal

    main = _main()
    with main._db(settings).session() as session:
        if path.exists():
            key = path.read_text(encoding="utf-8").strip()
            try:
                resolve_token(session, key)
                return key
            except CityOpsError:
                pass
        created = people.issue_api_key(  # audited, like every key an admin issues
            session,
            system_principal(main._actor()),
            ApiKeyCreate(name="simulator (cityops simulate)", role=Role.integrator),
        )
        key = created.key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(key + "\n", encoding="utf-8")
    path.chmod(0o600)
    return key


def _broker_answers(settings: Settings) -> bool:
    try:
        socket.create_connection((settings.mqtt.host, settings.mqtt.port), timeout=1).close()
        return True
    except OSError:
        return False


def _sink(settings: Settings, via: Via, url: str, key: str, tenant: str) -> Sink:
    import httpx

    from cityops.intake.sinks import HttpSink, MqttSink

    if via is Via.auto:
        on = settings.mqtt.enabled and _broker_answers(settings)
        via = Via.mqtt if on else Via.http
    cfg = settings.mqtt
    if via is Via.mqtt:
        typer.echo(f"Simulator: via MQTT {cfg.host}:{cfg.port} (user {key.split('_')[1]})")
        prefix, tls = cfg.topic_prefix, cfg.tls
        try:
            return MqttSink(cfg.host, cfg.port, key, topic_prefix=prefix, tenant=tenant, tls=tls)
        except OSError as err:
            _main()._fail(f"cannot reach the MQTT broker {cfg.host}:{cfg.port}: {err}")
            raise
    typer.echo(f"Simulator: via HTTP {url}/api/intake/readings")
    return HttpSink(httpx.Client(timeout=30), key, url, tenant)


@app.command("simulate")
def simulate(
    url: Annotated[str, typer.Option(help="CityOps server (HTTP intake).")] = (
        "http://127.0.0.1:8000"
    ),
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="CITYOPS_SIMULATOR_API_KEY",
            help="API key to send with (default: one the simulator keeps in the data folder).",
        ),
    ] = None,
    via: Annotated[Via, typer.Option(help="auto: MQTT when enabled and reachable.")] = Via.auto,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between ticks.")] = 10.0,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same run).")] = 2026,
    anomaly_rate: Annotated[float, typer.Option(min=0, help="Anomalies per hour.")] = 1.0,
    scenario: Annotated[
        list[str] | None, typer.Option(help="Start at once: flood, pollution or silence.")
    ] = None,
    ticks: Annotated[int, typer.Option(min=0, help="Stop after this many ticks (0: never).")] = 0,
    tenant: Annotated[str, typer.Option(help="NGSI-LD tenant (default: none).")] = "",
) -> None:
    """Feed the demo province's stations to CityOps, like real devices (MQTT or HTTP)."""
    from cityops.intake.simulator import SCENARIOS, Simulator
    from cityops.intake.sinks import run

    bad = [s for s in scenario or [] if s not in SCENARIOS]
    if bad:
        _main()._fail(f"unknown scenario(s) {bad}; choose from {list(SCENARIOS)}")
    settings = _main()._settings()
    key = api_key or simulator_key(settings)
    sim = Simulator(seed=seed, anomaly_rate=anomaly_rate, scenarios=scenario or [])
    sink = _sink(settings, via, url, key, tenant)
    rate = len(sim.stations) / interval
    typer.echo(f"Simulating {len(sim.stations)} stations every {interval:g} s ({rate:.1f}/s).")
    seen: set[int] = set()

    def report(done: int, sent: int) -> None:
        """Say when an anomaly starts."""
        for a in sim.anomalies:
            if id(a) not in seen:
                seen.add(id(a))
                typer.echo(f"tick {done}: anomaly '{a.kind}' at {a.station}")

    try:
        run(sim, sink, interval=interval, ticks=ticks, on_tick=report)
    except KeyboardInterrupt:
        typer.echo("Simulator stopped.")
    finally:
        sink.close()
