"""Which modules make up the service: the kernel, core's domains, and the enabled plugins.

The composition root is the one place that names core's domains; the kernel's plugin host
registers them like any plugin (:func:`core.host.build_plugin_manager`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.attachments import hooks as attachments_hooks
from core.customers import hooks as customers_hooks
from core.host import CRMPluginManager
from core.host import build_plugin_manager as build_host
from core.identity import hooks as identity_hooks
from core.notifications import hooks as notifications_hooks
from core.webhooks import events as webhook_events
from core.webhooks import hooks as webhooks_hooks

CORE_MODULES: Mapping[str, Any] = {
    "core.identity": identity_hooks,
    "core.notifications": notifications_hooks,
    "core.customers": customers_hooks,
    "core.attachments": attachments_hooks,
    "core.webhooks": webhooks_hooks,
}
"""Core's domains in module order: identity first (customers are owned by its users), then
notifications (users' inboxes, which customers' reminders fill), attachments (files on
customers' records); webhooks last (it hears of
customers' changes)."""


def build_plugin_manager(
    enabled: Sequence[str] | None = None,
    *,
    load_entrypoints: bool = True,
    extra_plugins: Mapping[str, Any] | None = None,
) -> CRMPluginManager:
    """A fresh plugin manager with the kernel, core's domains and the enabled plugins.

    See :func:`core.host.build_plugin_manager` for the arguments.

    :raises PluginError: as that does, and when two modules declare one webhook event type.
    """
    pm = build_host(
        enabled,
        load_entrypoints=load_entrypoints,
        extra_plugins=extra_plugins,
        builtin=CORE_MODULES,
    )
    # Declarations read later, outside startup, are checked now: a webhook event type two
    # modules declare stops every command (serve, worker...) here, naming both.
    webhook_events.event_types(pm)
    return pm
