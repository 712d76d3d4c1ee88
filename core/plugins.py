"""The plugin host: discovers plugins, selects the enabled ones, checks their hooks."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pluggy

import core
from core import hookspecs

ENTRY_POINT_GROUP = "crm.plugins"
CORE_PLUGIN_NAME = "core"


class PluginError(Exception):
    """A plugin cannot be loaded or enabled; the message says which and why."""


@dataclass(frozen=True)
class InstalledPlugin:
    """A plugin that can be enabled: found by entry point or handed in directly."""

    name: str
    version: str
    plugin: Any


class CRMPluginManager(pluggy.PluginManager):
    """A plugin manager that treats every ``crm_``-prefixed function as a hook.

    Marking with ``@hookimpl`` is still the way to pass options; an unmarked ``crm_*``
    function counts too, so a misspelt hook name is caught by ``check_pending()``.
    """

    def __init__(self, project_name: str) -> None:
        super().__init__(project_name)
        self.installed: dict[str, InstalledPlugin] = {}

    def parse_hookimpl_opts(self, plugin: object, name: str) -> Any:
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith("crm_"):
            method = getattr(plugin, name, None)
            if inspect.isroutine(method):
                return {}
        return opts


def installed_plugins(
    *, load_entrypoints: bool = True, extra: Mapping[str, Any] | None = None
) -> dict[str, InstalledPlugin]:
    """Every plugin that could be enabled, by name (entry points plus ``extra``)."""
    found: dict[str, InstalledPlugin] = {}
    if load_entrypoints:
        for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if entry_point.name == CORE_PLUGIN_NAME:
                raise PluginError(f"a plugin may not be named {CORE_PLUGIN_NAME!r}")
            try:
                plugin = entry_point.load()
            except Exception as exc:
                raise PluginError(
                    f"plugin {entry_point.name!r} ({entry_point.value}) failed to import: {exc}"
                ) from exc
            dist = entry_point.dist
            version = dist.version if dist is not None else "unknown"
            found[entry_point.name] = InstalledPlugin(entry_point.name, version, plugin)
    for name, plugin in (extra or {}).items():
        version = str(getattr(plugin, "__version__", core.__version__))
        found[name] = InstalledPlugin(name, version, plugin)
    return found


def build_plugin_manager(
    enabled: Sequence[str] | None = None,
    *,
    load_entrypoints: bool = True,
    extra_plugins: Mapping[str, Any] | None = None,
) -> CRMPluginManager:
    """Build a fresh plugin manager with core and the enabled plugins registered.

    :param enabled: plugin names to enable; ``None`` enables every installed plugin, an
        empty sequence none (core only). An unknown name raises :class:`PluginError`
        listing the installed ones.
    :param load_entrypoints: discover plugins of the ``crm.plugins`` entry-point group.
    :param extra_plugins: plugins handed in by name (tests), installed alongside.
    """
    from core import hooks as core_hooks

    available = installed_plugins(load_entrypoints=load_entrypoints, extra=extra_plugins)
    if enabled is None:
        names = list(available)
    else:
        names = list(dict.fromkeys(enabled))
        unknown = [name for name in names if name not in available]
        if unknown:
            listing = ", ".join(sorted(available)) or "none"
            raise PluginError(
                f"CRM_PLUGINS names plugins that are not installed: {', '.join(unknown)} "
                f"(installed: {listing})"
            )

    pm = CRMPluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    pm.hook.crm_add_hookspecs.call_historic(kwargs={"pm": pm})
    pm.register(core_hooks, name=CORE_PLUGIN_NAME)
    for name in names:
        try:
            pm.register(available[name].plugin, name=name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            raise PluginError(f"plugin {name!r} cannot be registered: {exc}") from exc
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {exc.plugin!r}: {exc}") from exc
    pm.installed = available
    return pm


def enabled_plugin_names(pm: pluggy.PluginManager) -> list[str]:
    """Names of the enabled plugins, core excluded, in registration order."""
    return [name for name, _ in pm.list_name_plugin() if name != CORE_PLUGIN_NAME]


async def maybe_await(value: Any) -> Any:
    """Await ``value`` if a hook returned an awaitable."""
    if inspect.isawaitable(value):
        return await value
    return value


async def call_async_hook(
    caller: pluggy.HookCaller, *, reverse: bool = False, **kwargs: Any
) -> list[Any]:
    """Call a hook whose implementations may be coroutines, one after the other.

    Implementations run in registration order (core first, then plugins in the order
    they were enabled), each finishing before the next starts; ``reverse=True`` runs
    them the other way round, as shutdown should. ``None`` results are dropped, as
    pluggy does.
    """
    impls = caller.get_hookimpls()
    if reverse:
        impls = list(reversed(impls))
    results: list[Any] = []
    for impl in impls:
        args = {name: kwargs[name] for name in impl.argnames}
        result = await maybe_await(impl.function(**args))
        if result is not None:
            results.append(result)
    return results
