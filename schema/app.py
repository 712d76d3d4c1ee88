"""Wire settings, plugin host, database and schema into the ASGI app.

``uvicorn --factory schema.app:create_app`` serves it; ``crm serve`` does the same.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from typing import Any

from starlette.applications import Starlette

from core import app as core_app
from core.config import Settings, load_settings
from core.db import Database
from core.host import CRMPluginManager
from core.logs import configure_logging
from schema.builder import build_schema
from schema.modules import build_plugin_manager


def plugin_manager(
    settings: Settings, *, extra_plugins: Mapping[str, Any] | None = None
) -> CRMPluginManager:
    return build_plugin_manager(settings.enabled_plugins, extra_plugins=extra_plugins)


def create_app(
    settings: Settings | None = None, *, extra_plugins: Mapping[str, Any] | None = None
) -> Starlette:
    settings = settings or load_settings()
    configure_logging(debug=settings.debug)
    pm = plugin_manager(settings, extra_plugins=extra_plugins)
    db = Database.from_settings(settings, echo=settings.sql_echo)
    schema = build_schema(pm, settings)
    app = core_app.assemble_app(settings=settings, pm=pm, db=db, schema=schema)
    settle_heap()
    return app


COLLECTOR_THRESHOLDS = (50_000, 10, 10)
"""The collector's thresholds in a serving process: its youngest generation is collected
after 50,000 net allocations rather than Python's 700."""


def settle_heap() -> None:
    """Collect what startup left behind, exempt every object alive now (modules, the
    schema, the models' metadata: about 200,000 objects) from the garbage collector, and
    let it run less often (:data:`COLLECTOR_THRESHOLDS`).

    A large response allocates thousands of objects, so the collector runs many times per
    request, and each full collection would otherwise walk the whole long-lived heap again:
    about a fifth of a large query's CPU time. A response's objects are freed by their
    reference counts when it is sent, not by the collector, yet a response of 6,000 fields
    set it off dozens of times while it was being built (at Python's threshold of 700), each
    time walking the response so far to find nothing to free. At 50,000 it seldom runs
    during a response: side by side, 20,000 still cost 4 ms of a 23 ms request, and 50,000,
    100,000 and no collector at all cost the same; the lowest of those keeps the least
    cyclic garbage (a failure's traceback and what its frames hold) waiting to be collected.
    Done once per process, after the app is built and before it serves (each uvicorn worker
    builds its own).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
