"""The `cityops` command: serve, demo, migrate, create-user, create-api-key, units import."""

from __future__ import annotations

import gc
import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cityops.core.config import Environment, Settings, SettingsError, load_settings
from cityops.core.db import Database
from cityops.core.policy import Role, system_principal
from cityops.intake import cli as intake_cli

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = typer.Typer(help="CityOps: open intelligent operations center.", no_args_is_help=True)
units_app = typer.Typer(help="Administrative units.", no_args_is_help=True)
app.add_typer(units_app, name="units")
app.add_typer(intake_cli.app, name="intake")


def _settings(**overrides: object) -> Settings:
    from cityops.core.auth import passwords

    try:
        settings = load_settings(**overrides)
    except SettingsError as err:
        typer.echo(str(err), err=True)
        raise typer.Exit(2) from err
    passwords.configure(settings.secret_key)
    return settings


def _db(settings: Settings) -> Database:
    return Database(
        settings.database_url, echo=settings.db_echo, sqlite_cache_mb=settings.sqlite_cache_mb
    )


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(1)


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    from cityops.core.schema import migrate as run

    settings = _settings()
    run(_db(settings))
    typer.echo("Database schema is up to date.")


def tune_gc(threshold: int) -> None:
    """Freeze what start-up built and collect the young generation less often (0: leave
    Python's defaults). Without it, the collector rescans the whole application (SQLAlchemy,
    FastAPI, pydantic: millions of objects) while a batch of readings allocates, which cost a
    third of the ingest time."""
    if threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _, second, third = gc.get_threshold()
    gc.set_threshold(threshold, second, third)


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from cityops.app import create_app
    from cityops.core.schema import current_revision, head_revision

    db = _db(settings)
    if not db.ping():
        _fail(f"Cannot reach the database at CITYOPS_DATABASE_URL ({db.engine.url!r}).")
    if current_revision(db) != head_revision():
        _fail("The database schema is not up to date: run `cityops migrate` first.")
    try:
        application = create_app(settings, db=db)
    except ValueError as err:
        _fail(str(err))
    tune_gc(settings.gc_threshold)
    # CityOps writes its own access lines (with request ids); uvicorn's would repeat them.
    uvicorn.run(
        application, host=host, port=port, log_config=None, proxy_headers=True, access_log=False
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve CityOps over HTTP."""
    _serve(_settings(), host, port)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Only migrate and seed.")] = False,
) -> None:
    """Migrate, load the demo province (Lâm Đồng) with users, and serve."""
    from cityops.alerts.incidents.sop import seed_templates
    from cityops.core import demo as demo_data
    from cityops.core.modules import enabled_manifests
    from cityops.core.schema import migrate as run

    os.environ.setdefault("CITYOPS_ENV", Environment.demo.value)
    settings = _settings()
    db = _db(settings)
    run(db)
    with db.session() as session:
        created = demo_data.seed(session, system_principal(_actor()), enabled_manifests(settings))
        _seed_alert_rules(session, settings)
        seed_templates(session)  # SOP templates: flood, landslide, forest fire, air, traffic
    typer.echo("Demo data loaded." if created else "Demo data already present.")
    typer.echo(demo_data.login_help(f"http://{host}:{port}"))
    if not no_serve:
        _serve(settings, host, port)


def _seed_alert_rules(session: Session, settings: Settings) -> None:
    """Add the demo alert rules that are missing (flood levels, PM2.5, offline devices, ...)."""
    from cityops.alerts.demo import seed_demo_rules
    from cityops.context.jsonld import ContextResolver

    cfg = settings.ngsi_ld
    seed_demo_rules(session, ContextResolver(cfg.allow_remote_contexts, cfg.context_timeout_s))


@app.command("create-user")
def create_user(
    username: Annotated[str, typer.Option(help="Login name.")],
    role: Annotated[Role, typer.Option(help="Role.")],
    unit: Annotated[
        str | None, typer.Option(help="Scope: unit code (omit for the whole tree).")
    ] = None,
    agency: Annotated[str | None, typer.Option(help="Agency code (agency_staff).")] = None,
    full_name: Annotated[str, typer.Option(help="Full name.")] = "",
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    password: Annotated[str | None, typer.Option(help="Password (asked for when omitted).")] = None,
) -> None:
    """Create a user with a role and a scope."""
    from pydantic import ValidationError

    from cityops.core.auth import people
    from cityops.core.auth import schemas as s
    from cityops.core.errors import CityOpsError

    settings = _settings()
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        data = s.UserCreate(
            username=username,
            role=role,
            unit_code=unit,
            agency_code=agency,
            full_name=full_name,
            email=email,
            password=password,
        )
        with _db(settings).session() as session:
            user = people.create_user(session, system_principal(_actor()), data)
    except ValidationError as err:
        _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()))
    except CityOpsError as err:
        _fail(f"{err.code}: {err.detail}")
    typer.echo(f"Created user {user.username} ({role.value}, scope {unit or 'all units'}).")


@app.command("create-api-key")
def create_api_key(
    name: Annotated[str, typer.Option(help="What the key is for.")],
    role: Annotated[Role, typer.Option(help="Role of the key.")] = Role.integrator,
    unit: Annotated[
        str | None, typer.Option(help="Scope: unit code (omit for the whole tree).")
    ] = None,
    agency: Annotated[str | None, typer.Option(help="Agency code.")] = None,
    expires_days: Annotated[float | None, typer.Option(help="Expire after this many days.")] = None,
) -> None:
    """Print a new API key for a role and scope (stored hashed; shown only now)."""
    from cityops.core.auth import people
    from cityops.core.auth import schemas as s
    from cityops.core.errors import CityOpsError

    settings = _settings()
    try:
        data = s.ApiKeyCreate(
            name=name, role=role, unit_code=unit, agency_code=agency, expires_days=expires_days
        )
        with _db(settings).session() as session:
            created = people.issue_api_key(session, system_principal(_actor()), data)
    except CityOpsError as err:
        _fail(f"{err.code}: {err.detail}")
    typer.echo(created.key)
    typer.echo(
        f"(API key #{created.id} '{name}', role {role.value}; send it as X-API-Key)", err=True
    )


@units_app.command("import")
def units_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="GeoJSON or CSV file.")],
    parent: Annotated[
        str | None, typer.Option(help="Code of the unit that root rows of the file hang under.")
    ] = None,
) -> None:
    """Import administrative units from a GeoJSON or CSV file (all or nothing)."""
    from cityops.core.errors import CityOpsError
    from cityops.core.units.loaders import import_file

    settings = _settings()
    try:
        with _db(settings).session() as session:
            result = import_file(session, file, system_principal(_actor()), parent_code=parent)
    except CityOpsError as err:
        typer.echo(f"{err.code}: {err.detail}", err=True)
        for problem in err.extra.get("errors", []):
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(1) from err
    typer.echo(f"Imported {file.name}: {result}")


@units_app.command("load-vietnam")
def units_load_vietnam(
    province: Annotated[
        list[str] | None, typer.Option(help="Province code(s); all 34 when omitted.")
    ] = None,
) -> None:
    """Load provinces and communes/wards (2025 reform) from the vietnam-provinces package."""
    from cityops.core.units.loaders import import_vietnam_provinces

    settings = _settings()
    with _db(settings).session() as session:
        result = import_vietnam_provinces(session, system_principal(_actor()), province)
    typer.echo(f"Loaded: {result}")


app.command("simulate", help="Alias of `cityops intake simulate`.")(intake_cli.simulate)


def main() -> None:
    """Run the command line."""
    app(sys.argv[1:])
