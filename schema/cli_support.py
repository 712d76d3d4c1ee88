"""What core's ``crm`` commands share: the console and ``fail`` (those of the command runner
plugins get), the settings, running async work."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from core.config import ConfigError, Settings, load_settings
from core.host import PluginError
from schema.builder import SchemaConflictError
from schema.runner import console, fail, local, say

__all__ = ["console", "fail", "local", "run_async", "say", "settings_or_fail"]

T = TypeVar("T")


def settings_or_fail() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc))


def run_async(coroutine_factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a command's async work; a bad setting or plugin ends it with a message."""
    try:
        return asyncio.run(coroutine_factory())
    except (ConfigError, PluginError, SchemaConflictError) as exc:
        fail(str(exc))
