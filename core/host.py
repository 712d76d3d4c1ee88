"""The plugin host: discovers plugins, selects the enabled ones, checks and calls their hooks.

Core's own domains (identity, customers) plug in through the same host as every plugin: the
composition root hands them in as ``builtin`` modules, so the host imports none of them.

Call order. pluggy calls the most recently registered module first, so the host registers
modules last to first: every hook is then called in *module order*, core's kernel, then
core's domains, then the plugins in the order they were enabled (``CRM_PLUGINS``, or the
order of discovery). ``tryfirst``/``trylast`` move an implementation as pluggy documents.
"""

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
        self.module_order: list[str] = []
        self.builtin: frozenset[str] = frozenset()

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
            if entry_point.name == CORE_PLUGIN_NAME or entry_point.name.startswith("core."):
                raise PluginError(f"a plugin may not be named {entry_point.name!r}")
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
    builtin: Mapping[str, Any] | None = None,
) -> CRMPluginManager:
    """Build a fresh plugin manager with core and the enabled plugins registered.

    :param enabled: plugin names to enable; ``None`` enables every installed plugin, an
        empty sequence none (core only). An unknown name raises :class:`PluginError`
        listing the installed ones.
    :param load_entrypoints: discover plugins of the ``crm.plugins`` entry-point group.
    :param extra_plugins: plugins handed in by name (tests), installed alongside.
    :param builtin: core's domains by name (``core.identity``), always enabled, registered
        right after the kernel's own hooks. The composition root passes them.
    """
    from core import hooks as kernel_hooks  # the kernel's own root fields (they read the host)

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
    modules: list[tuple[str, Any]] = [(CORE_PLUGIN_NAME, kernel_hooks)]
    modules += list((builtin or {}).items())
    modules += [(name, available[name].plugin) for name in names]
    # Last to first: pluggy calls the newest first, so hooks run in module order.
    for name, plugin in reversed(modules):
        try:
            hash(plugin)
        except TypeError:
            raise PluginError(
                f"plugin {name!r} must be hashable: a module, a class or an instance of one"
            ) from None
        try:
            pm.register(plugin, name=name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            raise PluginError(f"plugin {name!r} cannot be registered: {exc}") from exc
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {exc.plugin!r}: {exc}") from exc
    _refuse_wrappers_of_awaited_hooks(pm)
    pm.installed = available
    pm.module_order = [name for name, _ in modules]
    pm.builtin = frozenset([CORE_PLUGIN_NAME, *(builtin or {})])
    return pm


def _awaited(caller: pluggy.HookCaller) -> bool:
    """Whether the hook's specification says its implementations may return awaitables."""
    spec = caller.spec
    if spec is None:
        return False
    returns = spec.function.__annotations__.get("return", "")
    return "Awaitable" in str(returns)


def _refuse_wrappers_of_awaited_hooks(pm: pluggy.PluginManager) -> None:
    # A wrapper around a hook whose results are awaited later would finish before the
    # implementations it wraps have run: refused at startup rather than silently useless.
    for name in dir(pm.hook):
        caller = getattr(pm.hook, name)
        if not isinstance(caller, pluggy.HookCaller) or not _awaited(caller):
            continue
        for impl in caller.get_hookimpls():
            if impl.wrapper or impl.hookwrapper:
                raise PluginError(
                    f"plugin {impl.plugin_name!r}: {name} is awaited, so it cannot take a "
                    "wrapper implementation; implement it as an ordinary (async) hook"
                )


def enabled_plugin_names(pm: pluggy.PluginManager) -> list[str]:
    """Names of the enabled plugins, core's modules excluded, in module order."""
    if isinstance(pm, CRMPluginManager):
        return [name for name in pm.module_order if name not in pm.builtin]
    return [name for name, _ in pm.list_name_plugin() if name != CORE_PLUGIN_NAME]


def module_label(pm: pluggy.PluginManager, plugin_name: str) -> str:
    """The module name shown to users: ``core`` for the kernel and core's domains."""
    if isinstance(pm, CRMPluginManager) and plugin_name in pm.builtin:
        return CORE_PLUGIN_NAME
    return plugin_name


def module_callers(pm: pluggy.PluginManager, hook_name: str) -> list[tuple[str, pluggy.HookCaller]]:
    """A hook caller per module that implements ``hook_name``, with its name, in module order.

    Each calls the hook through pluggy for that module alone, so its hook options and
    wrappers apply to its own answer.
    """
    caller: pluggy.HookCaller = getattr(pm.hook, hook_name)
    implementers = {id(impl.plugin): impl.plugin for impl in caller.get_hookimpls()}
    # Registration runs last to first, so module order is registration order reversed (not
    # the order of get_hookimpls(), which puts wrappers and tryfirst implementations apart).
    in_order = [(n, p) for n, p in reversed(pm.list_name_plugin()) if id(p) in implementers]
    return [
        (
            name,
            pm.subset_hook_caller(
                hook_name, remove_plugins=[p for p in implementers.values() if p is not plugin]
            ),
        )
        for name, plugin in in_order
    ]


def contributions(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """Each module's answer to a declaration hook, with the module's name, in module order.

    For hooks whose answers must be told apart by module (schema parts, permissions, access
    policies). ``None`` answers are left out.
    """
    found: list[tuple[str, Any]] = []
    for name, caller in module_callers(pm, hook_name):
        results = caller(**kwargs)
        answers = results if isinstance(results, list) else [results]
        found.extend((name, answer) for answer in answers if answer is not None)
    return found


def declared(pm: pluggy.PluginManager, hook_name: str, what: str) -> dict[str, Any]:
    """The named entries every module declares through ``hook_name`` (each answer a mapping
    of name to entry), merged in module order.

    :raises PluginError: two modules declare the same name (both named in the message).
    """
    found: dict[str, Any] = {}
    owners: dict[str, str] = {}
    for module, answer in contributions(pm, hook_name):
        for name, entry in answer.items():
            if name in found:
                raise PluginError(
                    f"{what} {name!r} is declared by two modules: {owners[name]} and {module}"
                )
            found[name] = entry
            owners[name] = module
    return found


REGISTRIES: Mapping[str, str] = {
    "crm_job_handlers": "the background job kind",
    "crm_outbox_channels": "the outbox channel",
    "crm_notification_kinds": "the notification kind",
    "crm_webhook_event_types": "the webhook event type",
    "crm_mail_templates": "the mail template namespace",
}
"""The hooks through which modules declare named entries, and what each entry is called."""


def check_declarations(pm: pluggy.PluginManager) -> None:
    """Refuse, at startup, a name two modules declare through any of :data:`REGISTRIES`
    (rather than at the first request that needs it).

    :raises PluginError: naming the entry and both modules.
    """
    for hook_name, what in REGISTRIES.items():
        if hasattr(pm.hook, hook_name):
            declared(pm, hook_name, what)


async def call_in_turn(
    caller: pluggy.HookCaller, *, reverse: bool = False, **kwargs: Any
) -> list[Any]:
    """Call a hook whose implementations may be coroutine functions, through pluggy.

    Every implementation is called in module order; the awaitables they return are awaited
    one after another in that order (``reverse=True`` awaits them the other way round, as
    shutdown should), each finishing before the next starts. A plain function runs when
    the hook is called, so work that depends on another module's belongs in an ``async
    def``. ``None`` results are dropped. If one raises, the rest are not run.
    """
    results: list[Any] = caller(**kwargs)
    if reverse:
        results = list(reversed(results))
    answers: list[Any] = []
    for index, result in enumerate(results):
        if inspect.isawaitable(result):
            try:
                result = await result
            except BaseException:
                _close(results[index + 1 :])
                raise
        if result is not None:
            answers.append(result)
    return answers


def _close(pending: Sequence[Any]) -> None:
    """Close coroutines that will not be awaited (no "never awaited" warnings)."""
    for result in pending:
        if inspect.iscoroutine(result):
            result.close()
