"""Secrets stay out of configuration errors and reprs, while the errors still name the
variable: the secret key, the password of the database URL, plugins' secret settings."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.config import ConfigError, load_plugin_settings, load_settings
from core.plugin_settings import masked_url

SECRET_KEY = "tooShortSecret"
PASSWORD = "hunter2-db-password"


def _error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> str:
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    return str(raised.value)


def test_a_bad_secret_key_is_named_but_not_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _error(monkeypatch, tmp_path, CRM_SECRET_KEY=SECRET_KEY)

    assert "CRM_SECRET_KEY='**********': must be at least 32 characters" in message
    assert SECRET_KEY not in message


def test_the_secret_key_is_not_in_the_repr(tmp_path: Path) -> None:
    key = "a-long-enough-secret-signing-key-0123456789"
    settings = load_settings(data_dir=tmp_path, secret_key=key)

    assert settings.secret_key == key  # still a plain string to whoever signs with it
    assert key not in repr(settings)
    assert key not in str(settings)
    generated = load_settings(data_dir=tmp_path / "generated")
    assert generated.secret_key not in repr(generated)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"mysql://crm:{PASSWORD}@db.example/crm", "mysql://crm:***@db.example/crm"),
        (f"oracle://crm:{PASSWORD}@db.example:1521", "oracle://crm:***@db.example:1521"),
    ],
)
def test_a_bad_database_url_is_shown_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, shown: str
) -> None:
    message = _error(monkeypatch, tmp_path, CRM_DATABASE_URL=url)

    assert f"CRM_DATABASE_URL={shown!r}: must start with sqlite://" in message
    assert PASSWORD not in message


def test_the_database_password_is_not_in_the_repr(tmp_path: Path) -> None:
    url = f"postgresql://crm:{PASSWORD}@db.example:5432/crm"
    settings = load_settings(data_dir=tmp_path, database_url=url)

    assert settings.resolved_database_url == url.replace("postgresql", "postgresql+asyncpg")
    assert PASSWORD not in repr(settings)
    assert "database_url='postgresql+asyncpg://crm:***@db.example:5432/crm'" in repr(settings)


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("postgresql+asyncpg://u:p%40ss@h/db?ssl=1", "postgresql+asyncpg://u:***@h/db?ssl=1"),
        ("postgresql://u:pa/ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("sqlite+aiosqlite:////var/crm.db", "sqlite+aiosqlite:////var/crm.db"),
        ("https://crm.example:8443/x", "https://crm.example:8443/x"),
        ("not a url", "not a url"),
    ],
)
def test_only_the_password_of_a_url_is_masked(given: str, shown: str) -> None:
    assert masked_url(given) == shown


class _SecretPluginSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_VAULT_", extra="ignore", frozen=True)

    token: SecretStr | None = None
    legacy_token: Optional[SecretStr] = None  # noqa: UP045 (the spelling under test)
    signing_key: str = Field(default="", repr=False)
    endpoint: str = ""

    @field_validator("token", "legacy_token", "signing_key", mode="before")
    @classmethod
    def _long(cls, value: object) -> object:
        if isinstance(value, str) and len(value) < 20:
            raise ValueError("must be at least 20 characters")
        return value

    @field_validator("endpoint")
    @classmethod
    def _without_credentials(cls, value: str) -> str:
        if "@" in value:
            raise ValueError("must not carry credentials")
        return value


def test_a_plugins_secrets_are_named_but_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_VAULT_TOKEN", "token-secret-1")
    monkeypatch.setenv("CRM_VAULT_LEGACY_TOKEN", "legacy-secret-2")
    monkeypatch.setenv("CRM_VAULT_SIGNING_KEY", "signing-secret-3")
    monkeypatch.setenv("CRM_VAULT_ENDPOINT", f"https://u:{PASSWORD}@v")

    with pytest.raises(ConfigError) as raised:
        load_plugin_settings(_SecretPluginSettings)

    lines = [line.strip() for line in str(raised.value).splitlines()[1:]]
    assert lines == [
        "CRM_VAULT_TOKEN='**********': must be at least 20 characters",
        "CRM_VAULT_LEGACY_TOKEN='**********': must be at least 20 characters",
        "CRM_VAULT_SIGNING_KEY='**********': must be at least 20 characters",
        "CRM_VAULT_ENDPOINT='https://u:***@v': must not carry credentials",
    ]
    for secret in ("token-secret-1", "legacy-secret-2", "signing-secret-3", PASSWORD):
        assert secret not in str(raised.value)
