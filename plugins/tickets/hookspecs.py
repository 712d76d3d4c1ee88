"""Hooks the tickets plugin announces, for other plugins (surveys, notifications) to implement.

Each is called inside the transaction of the change, after it is flushed: what a listener
writes with ``session`` commits with the ticket, and an exception undoes both. Mark an
implementation ``@hookimpl(optionalhook=True)`` so your plugin still loads when the tickets
plugin is disabled.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

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
