"""Settings: defaults, validation messages that name the variable, the kept secret key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.config import ConfigError, load_plugin_settings, load_settings


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    settings = load_settings()

    assert settings.resolved_database_url == (
        f"sqlite+aiosqlite:///{(tmp_path / 'var' / 'crm.sqlite3').resolve()}"
    )
    assert settings.enabled_plugins is None
    assert settings.max_page_size == 100
    assert settings.db_pool_size == 20
    assert not settings.graphiql_enabled
    assert settings.cors_origin_list == []


@pytest.mark.parametrize(
    ("env", "value", "named"),
    [
        ("CRM_MAX_QUERY_DEPTH", "deep", "CRM_MAX_QUERY_DEPTH"),
        ("CRM_MAX_PAGE_SIZE", "500", "CRM_MAX_PAGE_SIZE"),
        ("CRM_DB_POOL_SIZE", "0", "CRM_DB_POOL_SIZE"),
        ("CRM_DB_POOL_SIZE", "1001", "CRM_DB_POOL_SIZE"),
        ("CRM_DB_POOL_SIZE", "many", "CRM_DB_POOL_SIZE"),
        ("CRM_DEBUG", "perhaps", "CRM_DEBUG"),
        ("CRM_DATABASE_URL", "mysql://localhost/crm", "CRM_DATABASE_URL"),
        ("CRM_RECORD_URL", "https://crm.example.com/{kind}/{id}", "CRM_RECORD_URL"),
        ("CRM_RECORD_URL", "ftp://crm.example.com/{type}/{id}", "CRM_RECORD_URL"),
        ("CRM_RECORD_URL", "https://crm.example.com/{type}", "CRM_RECORD_URL"),
        ("CRM_OUTBOX_MAX_ATTEMPTS", "0", "CRM_OUTBOX_MAX_ATTEMPTS"),
        ("CRM_NOTIFICATION_RETENTION_DAYS", "0", "CRM_NOTIFICATION_RETENTION_DAYS"),
    ],
)
def test_bad_values_name_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: str, value: str, named: str
) -> None:
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(env, value)

    with pytest.raises(ConfigError) as raised:
        load_settings()

    assert f"{named}={value!r}" in str(raised.value)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_database_url_gets_the_async_driver(tmp_path: Path, given: str, expected: str) -> None:
    assert load_settings(data_dir=tmp_path, database_url=given).resolved_database_url == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", []), ("tickets", ["tickets"]), (" a , b,,a ", ["a", "b", "a"])],
)
def test_plugin_selection(tmp_path: Path, value: str | None, expected: list[str] | None) -> None:
    assert load_settings(data_dir=tmp_path, plugins=value).enabled_plugins == expected


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_settings(data_dir=tmp_path / "data").secret_key
    second = load_settings(data_dir=tmp_path / "data").secret_key

    assert first == second
    assert len(first) >= 32
    key_file = tmp_path / "data" / "secret_key"
    assert key_file.stat().st_mode & 0o077 == 0
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["secret_key"]


def test_explicit_secret_key_wins(tmp_path: Path) -> None:
    key = "k" * 40

    settings = load_settings(data_dir=tmp_path, secret_key=key)

    assert settings.secret_key == key
    assert not (tmp_path / "secret_key").exists()


def test_unusable_stored_secret_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("tiny\n")

    with pytest.raises(ConfigError, match="no usable secret key"):
        load_settings(data_dir=tmp_path)


def test_cors_and_graphiql(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path, cors_origins="https://a.example, https://b.example", debug=True
    )

    assert settings.cors_origin_list == ["https://a.example", "https://b.example"]
    assert settings.graphiql_enabled


class _PluginSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_EXAMPLE_", extra="ignore", frozen=True)

    days: int = Field(default=7, ge=1)
    code: str = "A"

    @field_validator("code")
    @classmethod
    def _upper(cls, value: str) -> str:
        if value != value.upper():
            raise ValueError("must be upper case")
        return value


def test_a_plugins_bad_settings_name_each_variable_as_cores_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRM_EXAMPLE_DAYS", "0")
    monkeypatch.setenv("CRM_EXAMPLE_CODE", "abc")

    with pytest.raises(ConfigError) as raised:
        load_plugin_settings(_PluginSettings)

    lines = str(raised.value).splitlines()
    assert lines[0] == "invalid configuration:"
    assert lines[1].strip().startswith("CRM_EXAMPLE_DAYS='0': Input should be greater than")
    assert lines[2].strip() == "CRM_EXAMPLE_CODE='abc': must be upper case"


def test_a_plugins_settings_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_EXAMPLE_DAYS", "30")

    assert load_plugin_settings(_PluginSettings).days == 30
