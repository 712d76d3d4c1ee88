"""Core's own contributions, registered through the same hooks as every plugin's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.extension import Migrations
from core.hookspecs import hookimpl
from core.queries import CoreQuery

MIGRATIONS_DIR = Path(__file__).parent / "migrations" / "versions"


@hookimpl
def crm_migrations() -> Migrations:
    return Migrations(branch="core", directory=MIGRATIONS_DIR, package="core")


@hookimpl
def crm_graphql_query() -> type[Any]:
    return CoreQuery
