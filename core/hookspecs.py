"""Hook specifications: the plugin author's manual.

A plugin is a module (or object) with functions named after these hooks and marked with
``@hookimpl`` (``from core.plugin_api import hookimpl``). Every hook is called through
pluggy, in module order: core's kernel, core's domains (identity, customers), then the
enabled plugins in the order they were enabled; results come back as a list in that order.
Any function of a plugin whose name starts with ``crm_`` is taken as a hook implementation,
so a misspelt name stops startup instead of being ignored; to listen to a hook another,
optional plugin declares, mark it ``@hookimpl(optionalhook=True)``.

Hooks whose specification returns ``Awaitable[...] | None`` (``crm_startup``,
``crm_shutdown``, ``crm_demo_data``, event hooks) may be ``async def``:
the host awaits each result in module order before the next (:func:`core.host.call_in_turn`),
and refuses wrapper implementations of them at startup. Declaration hooks (schema,
permissions, CLI) are called once per module (:func:`core.host.contributions`) so that the
host knows which module gave what.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from pathlib import Path

    import typer
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.routing import BaseRoute

    from core.background import JobHandler
    from core.config import Settings
    from core.db import Database
    from core.extension import (
        AccessPolicy,
        CommandRunner,
        CustomerFilterField,
        Grant,
        Identity,
        Migrations,
        Permission,
        TypeFields,
    )
    from core.notifications.service import NotificationKind
    from core.outbox import Deliverer
    from core.schedule import PeriodicJob

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


@hookspec
def crm_customer_filter_fields() -> Sequence[CustomerFilterField]:
    """Add fields to the ``filter`` of the ``customers`` list (core's ``CustomerFilter``).

    Called once per plugin manager (at the schema build, which adds the fields to that
    schema's ``CustomerFilter`` only). The ``customers`` list and the customers export
    (``/export/customers.csv`` and ``.xlsx``) apply each field the filter sets through its
    ``apply``, with ``AND``, beside core's own filters. A name core's filter or another
    module already has stops startup with a :class:`core.host.PluginError`.

    :return: a sequence of :class:`core.extension.CustomerFilterField` (may be empty).
    """


# -------------------------------------------------------------------------
# Identity and access
# -------------------------------------------------------------------------


@hookspec(firstresult=True)
def crm_identity() -> Identity | None:
    """Give the kernel the identity module: how a bearer token becomes a caller, and who is
    in a team.

    Called once per plugin manager, when the permission catalogue is built. ``firstresult``:
    the first module (in module order) that answers wins; core's identity module answers.
    Without one, every request is anonymous.

    :return: a :class:`core.extension.Identity`, or ``None``.
    """


@hookspec
def crm_permissions() -> Sequence[Permission]:
    """Declare the module's permissions, named ``resource:action``.

    Called once per plugin manager, when its permission catalogue is built. The ``permissions``
    query lists every declared permission with its description and the declaring module.
    A name two modules declare stops startup.

    :return: a sequence of :class:`core.extension.Permission`.
    """


@hookspec
def crm_role_grants() -> Mapping[str, Sequence[Grant]]:
    """Give built-in roles the module's permissions (least privilege).

    Called with :func:`crm_permissions`. The keys are built-in role keys
    (``SALES_REPRESENTATIVE``, ``CUSTOMER_MANAGER``, ``SUPPORT_REPRESENTATIVE``, ``FINANCE``,
    ``SYSTEM_ADMINISTRATOR``); ``ADMINISTRATOR`` holds every permission at ALL scope
    without being named. Grants apply while the module is enabled and are not stored, so
    disabling the module withdraws them.

    :return: role key -> sequence of :class:`core.extension.Grant` of declared permissions.
    """


@hookspec
def crm_access_policies() -> Sequence[AccessPolicy]:
    """Say how the module's records map to the users who own them, per resource.

    The single scoping function (:func:`core.access.visible`) turns a caller's
    grant into a SQL condition with it: root lists, ``node``/``nodes``, mutations and
    dataloaders all filter through it. A resource without a policy is visible only with
    ALL scope.

    :return: a sequence of :class:`core.extension.AccessPolicy`.
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
# HTTP and periodic work
# -------------------------------------------------------------------------


@hookspec
def crm_http_routes() -> Sequence[BaseRoute]:
    """Add HTTP routes beside ``/graphql`` (downloads, webhooks).

    Called once when the app is built. A handler gets the request context with
    ``await request.app.state.crm.make_context(request)`` (the same authentication and
    scoping as GraphQL) and must check permissions itself.

    :return: Starlette routes; paths must not clash with another module's.
    """


@hookspec
def crm_periodic_jobs() -> Sequence[PeriodicJob] | None:
    """Declare the module's periodic jobs (:class:`core.schedule.PeriodicJob`: a name
    ``"<module>.<what>"``, how often, and ``async def run(job: JobContext) -> Mapping[str, int]``).

    The worker runs each job when it falls due, once per period however many workers share
    the database; ``crm jobs run`` runs every job once, now. A job must be idempotent: running
    twice, or on two machines at once, changes nothing more than running once. It opens its
    own transactions on ``job.db``, reads the time from ``job.now`` (the controllable clock,
    not the wall clock), and announces events through ``job.pm.hook`` (with
    ``context=None``: no request). It returns what it did by description
    (``{"tickets auto-closed": 3}``). A name two modules declare stops the worker's start.
    """


@hookspec
def crm_notification_kinds() -> Mapping[str, NotificationKind] | None:
    """Declare the kinds of notification the module sends (``"<record>.<what>"``, such as
    ``"ticket.assigned"`` ->
    ``NotificationKind(description, email=...)``), before it calls ``notify`` with them.

    Users choose per kind whether it shows in the app and whether it is e-mailed; the kind's
    ``email`` flag is the choice of users who made none. A kind two modules declare stops
    startup.
    """


@hookspec
def crm_outbox_channels() -> Mapping[str, Deliverer] | None:
    """Register the module's outbox channels: a channel name (``"email"``, ``"webhook"``)
    and the deliverer that sends one message of it (:mod:`core.outbox`).

    A deliverer is ``async def deliver(delivery: Delivery) -> None``: it returns when the
    message was delivered and raises ``DeliveryFailed(reason, permanent=...)`` when not (the
    worker retries with backoff, or gives up when ``permanent``). It runs outside any
    transaction and may be called again for a message it delivered (a worker that died before
    recording it): send the message's stable id along so the receiver can tell. A channel two
    modules register stops the worker's start.
    """


@hookspec
def crm_job_handlers() -> Mapping[str, JobHandler] | None:
    """Register the module's background job handlers by kind (``"<module>.<what>"``).

    Called when a job runner starts (in ``crm serve``, ``crm worker`` and commands that run
    a job themselves). A handler is ``async def handle(run: JobRun) -> Mapping[str, Any]``
    (:mod:`core.background`): it reads ``run.payload``, does the work in transactions of
    its own, calls ``await run.checkpoint(session, state)`` inside each so that a job
    resumed by another runner carries on from there, and returns the final state. Raise
    ``JobFailed`` to end the job with a message for the client. A kind two modules register
    stops the runner's start.
    """


# -------------------------------------------------------------------------
# E-mail
# -------------------------------------------------------------------------


@hookspec
def crm_mail_templates() -> Mapping[str, Path] | None:
    """Add the module's mail templates (:mod:`core.mail`), a directory per namespace.

    Called once per plugin manager, when the first mail is rendered. A directory holds three
    Jinja2 files per mail, ``<name>.subject.j2``, ``<name>.txt.j2`` and ``<name>.html.j2``
    (autoescaped); the mail is then ``<namespace>/<name>`` (``surveys/invitation``) for
    :func:`core.plugin_api.send_email`. Fixed text is written ``{{ _("Hello {name}",
    name=contact) }}`` and translated by the catalog of the nearest ``locale`` directory
    above the templates (the module's own: ``make messages`` extracts the templates with
    the Python code); ``{{ when | datetime }}`` shows a date-time in the recipient's zone.

    :return: namespace (a lower-case name, usually the module's) -> directory, or ``None``.
        A namespace two modules declare stops the first rendering with both named.
    """


# -------------------------------------------------------------------------
# Outbound webhooks
# -------------------------------------------------------------------------


@hookspec
def crm_webhook_event_types() -> Mapping[str, str] | None:
    """Declare the module's webhook event types, which subscriptions may listen to.

    Called once when the plugin manager is built (startup); the answer serves subscriptions,
    ``webhookEventTypes`` and ``emit_event`` (an undeclared type is a programming error there).

    :return: event type -> a one-sentence description, or ``None``. Name a type
        ``<record>.<what happened>`` in lower case (``ticket.opened``); a name another module
        declares stops startup with both named. Emit with
        ``await plugin_api.emit_event(session, "ticket.opened", data, now=...)`` inside the
        change's transaction; ``data`` holds global ids and plain JSON values.
    """


# -------------------------------------------------------------------------
# Command line
# -------------------------------------------------------------------------


@hookspec
def crm_cli_commands(cli: typer.Typer, run: CommandRunner) -> None:
    """Add commands to the ``crm`` command line.

    Called once per module as ``crm`` starts, in module order.

    :param cli: the root ``typer.Typer``; add commands or sub-groups
        (``cli.add_typer(group, name="tickets")``). Names must not clash with core's.
    :param run: call ``run(work)`` inside a command to await ``work(context)`` with a
        :class:`core.extension.CommandContext` (settings, database, plugin manager, clock)
        made ready, the migration check done, and errors reported as core's commands do.
    """


@hookspec
def crm_demo_data(session: AsyncSession, size: int, settings: Settings) -> Awaitable[None] | None:
    """Add the module's demo records inside ``crm demo``'s transaction.

    Called after core's demo data exists (core runs first: its demo users, one in every
    built-in role, and their teams), in one transaction.

    :param session: the session of the demo transaction; flush, do not commit.
    :param size: how many primary records (customers) the demo makes; scale to it.
    :param settings: the validated settings (for the password policy, the default region).
    """
