"""Hooks the tickets plugin announces, for other plugins (surveys, notifications) to implement.

The ticket events are called inside the transaction of the change, after it is flushed:
what a listener writes with ``session`` commits with the ticket, and an exception undoes
both. ``crm_ticket_satisfaction`` is a question the tickets plugin asks while reading. Mark
an implementation ``@hookimpl(optionalhook=True)`` so your plugin still loads when the
tickets plugin is disabled.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from core.plugin_api import hookspec

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.plugin_api import RequestContext
    from plugins.tickets.models import Ticket


@hookspec
def crm_ticket_opened(
    session: AsyncSession, ticket: Ticket, context: RequestContext | None
) -> Awaitable[None] | None:
    """A ticket was opened (it has its number, and its assignee if a routing rule applied)."""


@hookspec
def crm_ticket_status_changed(
    session: AsyncSession,
    ticket: Ticket,
    from_status: str,
    to_status: str,
    context: RequestContext | None,
) -> Awaitable[None] | None:
    """A ticket moved from one status to another (every transition, including the ones
    below, which are announced as well)."""


@hookspec
def crm_ticket_resolved(
    session: AsyncSession, ticket: Ticket, context: RequestContext | None
) -> Awaitable[None] | None:
    """A ticket was resolved and now waits for the customer's confirmation (the surveys
    plugin sends its satisfaction survey here)."""


@hookspec
def crm_ticket_closed(
    session: AsyncSession, ticket: Ticket, context: RequestContext | None
) -> Awaitable[None] | None:
    """A ticket was closed: confirmed by the customer, closed by staff, or auto-closed
    (``context`` is ``None`` when ``crm jobs run`` closed it)."""


@hookspec
def crm_ticket_reopened(
    session: AsyncSession, ticket: Ticket, context: RequestContext | None
) -> Awaitable[None] | None:
    """A resolved ticket went back to IN_PROGRESS (``ticket.reopen_count`` says how often)."""


@hookspec(firstresult=True)
def crm_ticket_satisfaction(
    session: AsyncSession, ticket_ids: Sequence[int], context: RequestContext
) -> Awaitable[Mapping[int, Any] | None] | Mapping[int, Any] | None:
    """What the customers said of the tickets of ``ticket_ids`` (``ticketStats``'
    ``satisfaction``), counting only what ``context``'s caller may read. ``firstresult``: the
    surveys plugin answers ticket id -> figures, leaving out the tickets nobody answered
    for; each figure is read by its attributes ``responses``, ``satisfied`` and
    ``dissatisfied`` (answers to the overall yes/no question), ``ratings`` (rating answers),
    ``good_ratings`` (those of 4 or 5) and ``rating_total`` (their sum), counts that add up
    over tickets. ``None`` (nobody answers: the surveys plugin is disabled, or the caller
    may read no responses) leaves the figures null."""
