"""The kernel of the CRM: configuration, database, plugin host, GraphQL plumbing."""

from core.extension import Migrations, TypeFields
from core.hookspecs import hookimpl, hookspec

__all__ = ["Migrations", "TypeFields", "hookimpl", "hookspec"]
__version__ = "0.1.0"
