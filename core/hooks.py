"""The kernel's own contributions: core's migration branch and the root fields every
deployment has (``node``, ``nodes``, ``system``). Registered first, as module ``core``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.extension import Migrations
from core.hookspecs import hookimpl
from core.queries import CoreQuery

MIGRATIONS_DIR = Path(__file__).parent / "migrations" / "versions"


@hookimpl
def crm_migrations() -> Migrations:
    # One branch for the kernel and core's domains: their tables were created together.
    return Migrations(branch="core", directory=MIGRATIONS_DIR, package="core")


@hookimpl
def crm_graphql_query() -> type[Any]:
    return CoreQuery
