"""Reading settings declared as pydantic-settings classes: core's (:mod:`core.config`) and
each plugin's own (``load_plugin_settings(MySettings)``), with one error that names the bad
environment variable."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message names the variable."""


def config_error(
    exc: ValidationError, prefix: str, settings: type[BaseSettings] | None = None
) -> ConfigError:
    """The :class:`ConfigError` for settings read from variables named ``prefix`` + field:
    one line per bad variable, naming it, the value given and what is wrong. The value of a
    secret field of ``settings`` (a ``SecretStr``) is not shown."""
    hidden = {
        name
        for name, field in (settings.model_fields if settings else {}).items()
        if field.annotation is SecretStr
    }
    lines = []
    for error in exc.errors():
        name = prefix + ".".join(str(part) for part in error["loc"]).upper()
        given: Any = error.get("input")
        if isinstance(given, SecretStr):
            given = given.get_secret_value()
        if error["loc"] and error["loc"][0] in hidden and given:
            given = "**********"  # that one was given, not what
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{name}={given!r}: {message}")
    return ConfigError("invalid configuration:\n  " + "\n  ".join(lines))


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def load_plugin_settings(cls: type[SettingsT]) -> SettingsT:
    """A plugin's own settings (a pydantic-settings class with an ``env_prefix`` such as
    ``CRM_SALES_``), read from the environment; a bad value is a :class:`ConfigError` that
    names its variable, as core's settings do."""
    try:
        return cls()
    except ValidationError as exc:
        raise config_error(exc, str(cls.model_config.get("env_prefix", "")), cls) from None
