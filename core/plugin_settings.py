"""Reading settings declared as pydantic-settings classes: core's (:mod:`core.config`) and
each plugin's own (``load_plugin_settings(MySettings)``), with one error that names the bad
environment variable."""

from __future__ import annotations

import re
from typing import Any, TypeVar, get_args

from pydantic import SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

_URL_PASSWORD = re.compile(r"^(?P<head>\s*[\w+.-]+://[^:/]*):(?P<password>[^@]+)@")
HIDDEN = "**********"
"""What a configuration error shows for the value of a secret setting."""


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message names the variable."""


def is_secret(field: FieldInfo) -> bool:
    """Whether a settings field holds a secret: a ``SecretStr`` (``SecretStr | None`` too)
    or a field kept out of the repr (``Field(repr=False)``)."""
    return not field.repr or any(
        kind is SecretStr for kind in (field.annotation, *get_args(field.annotation))
    )


def masked_url(value: str) -> str:
    """``value`` with the password of the URL it is (``scheme://user:password@host...``, read
    as SQLAlchemy reads a database URL) replaced by ``***``; anything else as it is."""
    return _URL_PASSWORD.sub(r"\g<head>:***@", value, count=1)


def _shown(given: Any, secret: bool) -> Any:
    if isinstance(given, SecretStr):
        given = given.get_secret_value()
    if secret and given:
        return HIDDEN  # that one was given, not what
    return masked_url(given) if isinstance(given, str) else given


def config_error(
    exc: ValidationError, prefix: str, settings: type[BaseSettings] | None = None
) -> ConfigError:
    """The :class:`ConfigError` for settings read from variables named ``prefix`` + field:
    one line per bad variable, naming it, the value given and what is wrong. The value of a
    secret field of ``settings`` (:func:`is_secret`) is not shown, nor the password of a URL
    (:func:`masked_url`)."""
    hidden = {
        name
        for name, field in (settings.model_fields if settings else {}).items()
        if is_secret(field)
    }
    lines = []
    for error in exc.errors():
        name = prefix + ".".join(str(part) for part in error["loc"]).upper()
        secret = bool(error["loc"]) and error["loc"][0] in hidden
        given = _shown(error.get("input"), secret)
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
