"""Core root query fields."""

from __future__ import annotations

import strawberry
from strawberry import relay

import core
from core.context import Info
from core.errors import bad_argument
from core.host import CORE_PLUGIN_NAME, enabled_plugin_names
from core.i18n import _
from core.node import resolve_global_ids
from core.types import Module, System

MAX_NODES = 100


@strawberry.type
class CoreQuery:
    @strawberry.field(description="Fetch any record by its global id; null if not visible.")
    async def node(self, info: Info, id: relay.GlobalID) -> relay.Node | None:
        (found,) = await resolve_global_ids(info, [id])
        return found  # type: ignore[no-any-return]

    @strawberry.field(description="Fetch up to 100 records by global id, in the order given.")
    async def nodes(self, info: Info, ids: list[relay.GlobalID]) -> list[relay.Node | None] | None:
        if len(ids) > MAX_NODES:
            raise bad_argument("ids", _("at most {max} ids at a time", max=MAX_NODES))
        return await resolve_global_ids(info, ids)

    @strawberry.field(description="This deployment: version and enabled modules.")
    def system(self, info: Info) -> System | None:
        pm = info.context.pm
        modules = [Module(name=CORE_PLUGIN_NAME, version=core.__version__)]
        modules += [
            Module(name=name, version=pm.installed[name].version)
            for name in enabled_plugin_names(pm)
        ]
        return System(version=core.__version__, modules=modules)
