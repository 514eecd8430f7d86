"""Settings: one class, read from CITYOPS_* environment variables, validated at start."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cityops.core.config_sections import (
    AlertsSettings,
    CapSettings,
    FieldReportsSettings,
    MqttSettings,
    NgsiLdSettings,
    NotifySettings,
    PublicServicesSettings,
    TemporalSettings,
    WebSettings,
)

__all__ = [
    "Settings",
    "SettingsError",
    "load_settings",
    "get_settings",
    "NgsiLdSettings",
    "TemporalSettings",
    "MqttSettings",
    "FieldReportsSettings",
    "PublicServicesSettings",
    "WebSettings",
    "NotifySettings",
    "CapSettings",
    "AlertsSettings",
]

DEFAULT_SECRET_KEY = "change-me-cityops-development-only"
ENV_PREFIX = "CITYOPS_"


class Environment(StrEnum):
    """Where this instance runs; only development, demo and test accept default secrets."""

    development = "development"
    demo = "demo"
    test = "test"
    production = "production"


class AuthSettings(BaseModel):
    """Sessions, tokens and login protection."""

    session_hours: float = Field(
        12.0, gt=0, description="Lifetime of a login session or bearer token, in hours."
    )
    cookie_name: str = Field(
        "cityops_session", min_length=1, description="Name of the web session cookie."
    )
    cookie_secure: bool = Field(
        False, description="Send the session cookie only over HTTPS (set true behind TLS)."
    )
    login_max_failures: int = Field(
        5,
        ge=1,
        description="Failed logins allowed per user name and per client address within the window.",
    )
    login_window_minutes: float = Field(
        15.0, gt=0, description="Window for counting failed logins, in minutes."
    )


class ModulesSettings(BaseModel):
    """Which sector modules run."""

    enabled: list[str] | None = Field(
        None,
        description="Names of modules to enable (JSON list); unset means every installed module.",
    )
    disabled: list[str] = Field(
        default_factory=list,
        description="Names of modules to disable (JSON list), applied after `enabled`.",
    )
    extra: list[str] = Field(
        default_factory=list,
        description="Import paths of third-party module packages to load (JSON list).",
    )


class UnitsSettings(BaseModel):
    """Administrative units."""

    root_code: str = Field(
        "68",
        min_length=1,
        description="Code of the root administrative unit of this deployment (68 = Lâm Đồng).",
    )


class Settings(BaseSettings):
    """All settings of a CityOps instance."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    env: Environment = Field(
        Environment.production,
        description="development, demo, test or production; production refuses default secrets.",
    )
    database_url: str = Field(
        "sqlite:///./var/cityops.db",
        description="SQLAlchemy URL: sqlite:///PATH (embedded) or postgresql+psycopg://USER:PASS@HOST:PORT/DB.",
    )
    sqlite_cache_mb: int = Field(
        64,
        ge=1,
        description=(
            "SQLite: page cache of each database connection, in MB. Filled only as pages are "
            "read; a larger cache keeps more of a big entity store in memory for queries."
        ),
    )
    secret_key: str = Field(
        DEFAULT_SECRET_KEY,
        min_length=16,
        description=(
            "Key for the digests of session tokens and API keys (16+ chars); required outside "
            "development/demo/test. Changing it logs everyone out and invalidates API keys."
        ),
    )
    data_dir: str = Field(
        "./var", description="Folder for files the instance writes (uploads, caches)."
    )
    log_level: str = Field("INFO", description="Log level: DEBUG, INFO, WARNING or ERROR.")
    log_json: bool = Field(
        True, description="Write logs as one JSON object per line (false: plain text)."
    )
    db_echo: bool = Field(False, description="Log every SQL statement (debugging only).")
    gc_threshold: int = Field(
        50_000,
        ge=0,
        description=(
            "`cityops serve`: allocations between young-generation garbage collections, after "
            "freezing what start-up built (0: Python's defaults)."
        ),
    )
    auth: AuthSettings = Field(default_factory=AuthSettings, description="See CITYOPS_AUTH__*.")
    modules: ModulesSettings = Field(
        default_factory=ModulesSettings, description="See CITYOPS_MODULES__*."
    )
    units: UnitsSettings = Field(default_factory=UnitsSettings, description="See CITYOPS_UNITS__*.")
    ngsi_ld: NgsiLdSettings = Field(
        default_factory=NgsiLdSettings, description="See CITYOPS_NGSI_LD__*."
    )
    mqtt: MqttSettings = Field(default_factory=MqttSettings, description="See CITYOPS_MQTT__*.")
    temporal: TemporalSettings = Field(
        default_factory=TemporalSettings, description="See CITYOPS_TEMPORAL__*."
    )
    field_reports: FieldReportsSettings = Field(
        default_factory=FieldReportsSettings, description="See CITYOPS_FIELD_REPORTS__*."
    )
    public_services: PublicServicesSettings = Field(
        default_factory=PublicServicesSettings, description="See CITYOPS_PUBLIC_SERVICES__*."
    )
    notify: NotifySettings = Field(
        default_factory=NotifySettings, description="See CITYOPS_NOTIFY__*."
    )
    cap: CapSettings = Field(default_factory=CapSettings, description="See CITYOPS_CAP__*.")
    alerts: AlertsSettings = Field(
        default_factory=AlertsSettings, description="See CITYOPS_ALERTS__*."
    )

    web: WebSettings = Field(default_factory=WebSettings, description="See CITYOPS_WEB__*.")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("must start with sqlite:// or postgresql+psycopg://")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        relaxed = {Environment.development, Environment.demo, Environment.test}
        if self.secret_key == DEFAULT_SECRET_KEY and self.env not in relaxed:
            raise ValueError(
                f"{ENV_PREFIX}SECRET_KEY is left at its default; set a random value of 16+ "
                f"characters (or {ENV_PREFIX}ENV=development for a local trial)"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        """Say whether the database is the embedded SQLite."""
        return self.database_url.startswith("sqlite")


class SettingsError(Exception):
    """A setting is invalid; the message names it by its environment variable."""


def describe_errors(err: ValidationError) -> str:
    """Turn a validation error into lines naming each bad setting by its variable."""
    lines = []
    for e in err.errors():
        path = [str(p) for p in e["loc"]]
        name = ENV_PREFIX + "__".join(p.upper() for p in path) if path else f"{ENV_PREFIX}*"
        if not path and "SECRET_KEY" in e["msg"]:
            name = f"{ENV_PREFIX}SECRET_KEY"
        lines.append(f"{name}: {e['msg']}")
    return "Invalid setting(s):\n  " + "\n  ".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment (and overrides); raise SettingsError naming bad ones."""
    try:
        return Settings(**overrides)
    except ValidationError as err:
        raise SettingsError(describe_errors(err)) from err


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return load_settings()
