"""Demo data: every module's, in one transaction (``crm demo``)."""

from __future__ import annotations

from collections.abc import Callable

from core.config import Settings
from core.db import Database
from core.host import CRMPluginManager, call_in_turn, module_callers


async def load_all(
    db: Database,
    pm: CRMPluginManager,
    settings: Settings,
    size: int,
    on_module: Callable[[str], None] | None = None,
) -> list[str]:
    """Load the demo data of core and every enabled module (core first) in one transaction.

    The database must be migrated and empty (``crm demo`` checks both). Returns the names of
    the modules that gave data; ``on_module`` hears each name before its data loads.
    """
    loaded = []
    async with db.transaction() as session:
        for name, caller in module_callers(pm, "crm_demo_data"):  # module order: core first
            if on_module is not None:
                on_module(name)
            await call_in_turn(caller, session=session, size=size, settings=settings)
            loaded.append(name)
    return loaded
