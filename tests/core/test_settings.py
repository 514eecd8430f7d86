"""Settings: every one is documented, and a bad one refuses to start, naming its variable."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from cityops.core.config import ENV_PREFIX, Environment, Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "configuration.md"
CLI = Path(sys.executable).with_name("cityops")
GOOD_SECRET = "a-long-enough-secret-for-tests"


def env_names(model: type[BaseModel] = Settings, prefix: str = ENV_PREFIX) -> Iterator[str]:
    """Yield the environment variable of every leaf setting, nested sections included."""
    for name, field in model.model_fields.items():
        var = f"{prefix}{name.upper()}"
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            yield from env_names(field.annotation, f"{var}__")
        else:
            yield var


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """An environment without CITYOPS_* variables, in a folder without a .env file."""
    for key in list(os.environ):
        if key.startswith(ENV_PREFIX):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_settings_are_found_with_their_nested_sections() -> None:
    names = set(env_names())
    assert {"CITYOPS_DATABASE_URL", "CITYOPS_AUTH__SESSION_HOURS"} <= names
    assert "CITYOPS_AUTH" not in names


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"`(CITYOPS_[A-Z0-9_]+)`", DOCS.read_text(encoding="utf-8")))
    missing = sorted(set(env_names()) - documented)
    assert not missing, f"add these settings to docs/configuration.md: {missing}"


def test_documentation_names_no_setting_that_does_not_exist() -> None:
    known = set(env_names())
    for doc in sorted(DOCS.parent.glob("configuration*.md")):
        text = doc.read_text(encoding="utf-8")
        named = set(re.findall(r"\b(CITYOPS_[A-Z0-9_]*[A-Z0-9])\b", text))
        stale = sorted(n for n in named if n not in known and not n.endswith("__"))
        assert not stale, f"{doc.name} documents settings that do not exist: {stale}"


def test_defaults_load_in_development(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("CITYOPS_ENV", "development")
    settings = load_settings()
    assert settings.env is Environment.development
    assert settings.is_sqlite


def test_nested_setting_is_read_from_its_variable(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("CITYOPS_ENV", "development")
    clean_env.setenv("CITYOPS_AUTH__SESSION_HOURS", "8")
    clean_env.setenv("CITYOPS_MODULES__DISABLED", '["traffic"]')
    settings = load_settings()
    assert settings.auth.session_hours == 8
    assert settings.modules.disabled == ["traffic"]


def test_plain_postgresql_url_is_read_as_psycopg(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("CITYOPS_ENV", "development")
    clean_env.setenv("CITYOPS_DATABASE_URL", "postgresql://u:p@db:5432/cityops")
    assert load_settings().database_url == "postgresql+psycopg://u:p@db:5432/cityops"


def test_production_with_a_real_secret_starts(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("CITYOPS_ENV", "production")
    clean_env.setenv("CITYOPS_SECRET_KEY", GOOD_SECRET)
    assert load_settings().env is Environment.production


BAD_SETTINGS = [
    pytest.param(
        {"CITYOPS_ENV": "development", "CITYOPS_DATABASE_URL": "mysql://x"},
        "CITYOPS_DATABASE_URL",
        id="unsupported-database",
    ),
    pytest.param(
        {"CITYOPS_ENV": "development", "CITYOPS_AUTH__SESSION_HOURS": "-1"},
        "CITYOPS_AUTH__SESSION_HOURS",
        id="negative-session-hours",
    ),
    pytest.param(
        {"CITYOPS_ENV": "production"},
        "CITYOPS_SECRET_KEY",
        id="default-secret-in-production",
    ),
    pytest.param(
        {"CITYOPS_ENV": "staging", "CITYOPS_SECRET_KEY": GOOD_SECRET},
        "CITYOPS_ENV",
        id="unknown-environment",
    ),
]


@pytest.mark.parametrize(("env", "variable"), BAD_SETTINGS)
def test_bad_setting_is_refused_naming_its_variable(
    clean_env: pytest.MonkeyPatch, env: dict[str, str], variable: str
) -> None:
    for key, value in env.items():
        clean_env.setenv(key, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert variable in str(err.value)


@pytest.mark.parametrize(("env", "variable"), BAD_SETTINGS)
def test_serve_refuses_to_start_with_a_bad_setting(
    tmp_path: Path, env: dict[str, str], variable: str
) -> None:
    assert CLI.exists(), f"the cityops command is not installed next to {sys.executable}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    clean["CITYOPS_DATA_DIR"] = str(tmp_path / "var")
    if "CITYOPS_DATABASE_URL" not in env:
        clean["CITYOPS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cityops.db'}"
    result = subprocess.run(
        [str(CLI), "serve", "--host", "127.0.0.1", "--port", "1"],
        env=clean | env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2, result.stderr
    assert variable in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
