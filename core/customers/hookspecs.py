"""Hooks the customers module announces: customer events and vetoes.

Declared through ``crm_add_hookspecs`` by core's customers module, which is always enabled,
so every plugin may implement them. Listeners run inside the transaction of the change and
are awaited one after another in module order (core's modules, then plugins as enabled).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.hookspecs import hookspec

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.context import RequestContext
    from core.customers.models import Customer


# -------------------------------------------------------------------------
# Customer events
#
# Called inside the transaction of the change: whatever a listener writes with ``session``
# commits or rolls back with it, and an exception undoes the whole change. ``context`` is
# the request's (caller, settings, plugin manager).
# -------------------------------------------------------------------------


@hookspec
def crm_customer_created(
    session: AsyncSession, customer: Customer, context: RequestContext
) -> Awaitable[None] | None:
    """A customer was created (it has its id and number)."""


@hookspec
def crm_customer_updated(
    session: AsyncSession, customer: Customer, changes: Mapping[str, Any], context: RequestContext
) -> Awaitable[None] | None:
    """A customer changed.

    :param changes: ``{field: {"before": ..., "after": ...}}`` as the audit trail records it.
    """


@hookspec
def crm_customer_before_archive(
    session: AsyncSession, customer: Customer, erasing: bool, context: RequestContext
) -> Awaitable[None] | None:
    """A customer is about to be archived (or erased, when ``erasing``): veto it here.

    Raise :class:`core.errors.UserErrors` to refuse, with a message that says why (for
    example how many open tickets the customer has); nothing is changed then.
    """


@hookspec
def crm_customer_archived(
    session: AsyncSession, customer: Customer, context: RequestContext
) -> Awaitable[None] | None:
    """A customer was archived."""


@hookspec
def crm_customer_erased(
    session: AsyncSession, customer: Customer, context: RequestContext
) -> Awaitable[None] | None:
    """A customer's personal data was erased on request: erase the module's copies too."""


@hookspec
def crm_customer_merge(
    session: AsyncSession,
    source: Customer,
    target: Customer,
    dry_run: bool,
    context: RequestContext,
) -> Awaitable[Mapping[str, int]] | Mapping[str, int] | None:
    """Two customers merge: move the module's records of ``source`` to ``target``.

    With ``dry_run`` change nothing, only count. Either way return what moves, by kind
    (``{"tickets": 3}``); ``mergeCustomers`` reports it.
    """


@hookspec
def crm_customer_merged(
    session: AsyncSession, source: Customer, target: Customer, context: RequestContext
) -> Awaitable[None] | None:
    """A merge finished: ``source`` is archived and points to ``target``."""


# -------------------------------------------------------------------------
# Customer profile
#
# Called when a customer's profile is made (``GET /export/customers/<id>.pdf``), after
# core has checked that the caller may read the customer. ``session`` is a read session:
# read with it, write nothing.
# -------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerProfileSection:
    """A table on a customer's profile: a heading, the column names, then rows of cells
    (text; ``None`` shows as a dash). ``empty`` is said when there are no rows."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str | None]]
    empty: str = ""


@hookspec
def crm_customer_profile_sections(
    session: AsyncSession, customer: Customer, context: RequestContext
) -> Awaitable[Sequence[CustomerProfileSection]] | Sequence[CustomerProfileSection] | None:
    """The module's sections of ``customer``'s profile (the tickets plugin: open tickets),
    in the request's language, scoped to what the caller may read.

    :returns: sections shown after core's, in module order.
    """
