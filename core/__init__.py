"""The kernel of the CRM: configuration, database, plugin host, GraphQL plumbing."""

from core.extension import AccessPolicy, Grant, Migrations, Permission, Scope, TypeFields
from core.hookspecs import hookimpl, hookspec

__all__ = [
    "AccessPolicy",
    "Grant",
    "Migrations",
    "Permission",
    "Scope",
    "TypeFields",
    "hookimpl",
    "hookspec",
]
__version__ = "0.1.0"
