"""Hook specifications: the plugin author's manual.

A plugin is a module (or object) with functions named after these hooks and marked with
``@hookimpl`` (``from core import hookimpl``). Hooks are called through pluggy: every
enabled plugin's implementation runs and the results come back as a list, newest plugin
first. Any function of a plugin whose name starts with ``crm_`` is taken as a hook
implementation, so a misspelt name stops startup instead of being ignored; to listen to a
hook another, optional plugin declares, mark it ``@hookimpl(optionalhook=True)``.

Hooks that may do I/O (``crm_startup``, ``crm_shutdown``, event hooks) may return an
awaitable; the host awaits it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import typer
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.config import Settings
    from core.db import Database
    from core.extension import Migrations, TypeFields

PROJECT_NAME = "crm"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# -------------------------------------------------------------------------
# Plugin host
# -------------------------------------------------------------------------


@hookspec(historic=True)
def crm_add_hookspecs(pm: pluggy.PluginManager) -> None:
    """Add hook specifications of a plugin's own, for other plugins to implement.

    Called once per plugin as it is registered, before the host checks that every hook
    implementation has a specification.

    :param pm: the plugin manager; call ``pm.add_hookspecs(module)``.

    Hooks a plugin declares are named ``crm_<plugin>_<event>`` and documented like these.
    """


# -------------------------------------------------------------------------
# Database
# -------------------------------------------------------------------------


@hookspec
def crm_migrations() -> Migrations | None:
    """Declare the module's Alembic version folder and branch.

    Called when migrations run (``crm migrate``), when readiness is checked, and by the
    test that compares models with migrations.

    :return: a :class:`core.extension.Migrations`, or ``None`` for a module without tables.

    A plugin's first revision has ``branch_labels = ("<branch>",)`` and
    ``depends_on`` the core revision whose tables it references.
    """


# -------------------------------------------------------------------------
# GraphQL schema
# -------------------------------------------------------------------------


@hookspec
def crm_graphql_query() -> type[Any] | None:
    """Contribute root query fields.

    Called once per schema build.

    :return: a ``@strawberry.type`` whose fields join ``Query``, or ``None``. A field name
        that another module also contributes stops startup with both modules named.
    """


@hookspec
def crm_graphql_mutation() -> type[Any] | None:
    """Contribute root mutation fields, as :func:`crm_graphql_query` does for queries.

    Mutations follow the API conventions: one ``input`` argument, a payload with
    ``errors: [UserError!]!``, one transaction per mutation.
    """


@hookspec
def crm_graphql_subscription() -> type[Any] | None:
    """Contribute root subscription fields, as :func:`crm_graphql_query` does."""


@hookspec
def crm_graphql_types() -> Sequence[type[Any]]:
    """Contribute types the schema must include though no field returns them directly.

    Typically the module's ``relay.Node`` types, so ``node(id:)`` can resolve them.

    :return: a sequence of Strawberry types (may be empty).
    """


@hookspec
def crm_graphql_type_fields() -> Sequence[TypeFields]:
    """Add fields to object types that other modules own (for example ``Customer.tickets``).

    Called once per schema build; the builder composes each type from its own fields plus
    every contribution, without changing the type for other schemas.

    :return: a sequence of :class:`core.extension.TypeFields` (may be empty).
    """


# -------------------------------------------------------------------------
# Lifecycle
# -------------------------------------------------------------------------


@hookspec
def crm_startup(settings: Settings, db: Database) -> Awaitable[None] | None:
    """Run start-up work when the HTTP app starts, before it takes requests.

    :param settings: the validated settings.
    :param db: the process's database (engine and sessions).
    """


@hookspec
def crm_shutdown(settings: Settings, db: Database) -> Awaitable[None] | None:
    """Release what :func:`crm_startup` acquired, when the HTTP app stops."""


# -------------------------------------------------------------------------
# Command line
# -------------------------------------------------------------------------


@hookspec
def crm_cli_commands(cli: typer.Typer) -> None:
    """Add commands to the ``crm`` command line.

    :param cli: the root ``typer.Typer``; add commands or sub-groups
        (``cli.add_typer(group, name="tickets")``). Names must not clash with core's.
    """


@hookspec
def crm_demo_data(session: AsyncSession, size: int) -> Awaitable[None] | None:
    """Add the module's demo records inside ``crm demo``'s transaction.

    Called after core's demo data exists (core runs first), in one transaction.

    :param session: the session of the demo transaction; flush, do not commit.
    :param size: how many primary records (customers) the demo makes; scale to it.
    """
