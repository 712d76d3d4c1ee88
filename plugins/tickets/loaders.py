"""Dataloaders of the tickets plugin; each filters through the caller's ``tickets:read`` scope."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    ByIdLoader,
    ChildCountLoader,
    ChildPageLoader,
    Loader,
    SortKey,
    Team,
    among,
    group_by_key,
)
from plugins.tickets import service
from plugins.tickets.calendar import Calendar
from plugins.tickets.domain import OPEN_STATUSES, SlaTargets
from plugins.tickets.models import Ticket, TicketEvent


class _VisibleTickets:
    entity = Ticket
    context: Any

    def statement(self) -> Select[Any]:
        return select(Ticket).where(self.context.visible("tickets:read"))


class TicketByIdLoader(_VisibleTickets, ByIdLoader[Ticket]):
    pass


class TicketsByCustomerLoader(_VisibleTickets, ChildPageLoader):
    parent = Ticket.customer_id
    keys = (SortKey(Ticket.created_at, True), SortKey(Ticket.id, True))


class TicketCountByCustomerLoader(_VisibleTickets, ChildCountLoader):
    parent = Ticket.customer_id


class TicketsByAssigneeLoader(_VisibleTickets, ChildPageLoader):
    parent = Ticket.assignee_id
    keys = (SortKey(Ticket.created_at, True), SortKey(Ticket.id, True))


class TicketCountByAssigneeLoader(_VisibleTickets, ChildCountLoader):
    parent = Ticket.assignee_id


@functools.cache
def assigned_loaders(
    statuses: frozenset[str], priorities: frozenset[str]
) -> tuple[type[TicketsByAssigneeLoader], type[TicketCountByAssigneeLoader]]:
    """The page and count loaders of assigned tickets in ``statuses`` (and ``priorities``,
    when not empty): one pair per filter, so users asking alike share one statement."""

    def narrowed(statement: Select[Any]) -> Select[Any]:
        statement = statement.where(Ticket.status.in_(sorted(statuses)))
        if priorities:
            statement = statement.where(Ticket.priority.in_(sorted(priorities)))
        return statement

    class Pages(TicketsByAssigneeLoader):
        def statement(self) -> Select[Any]:
            return narrowed(super().statement())

    class Counts(TicketCountByAssigneeLoader):
        def statement(self) -> Select[Any]:
            return narrowed(super().statement())

    return Pages, Counts


class OpenTicketCountLoader(Loader[int, int]):
    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[int]:
        rows = (
            await session.execute(
                select(Ticket.customer_id, func.count())
                .where(
                    among(Ticket.customer_id, keys),
                    Ticket.status.in_(OPEN_STATUSES),
                    self.context.visible("tickets:read"),
                )
                .group_by(Ticket.customer_id)
            )
        ).all()
        counts = dict(rows)
        return [int(counts.get(key, 0)) for key in keys]


class EventsByTicketLoader(Loader[int, list[TicketEvent]]):
    """A ticket's timeline (the ticket itself was loaded through the scoped loaders)."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[list[TicketEvent]]:
        rows = (
            await session.scalars(
                select(TicketEvent)
                .where(
                    among(TicketEvent.ticket_id, keys),
                    TicketEvent.ticket_id.in_(
                        select(Ticket.id).where(self.context.visible("tickets:read"))
                    ),
                )
                .order_by(TicketEvent.created_at, TicketEvent.id)
            )
        ).all()
        return group_by_key(keys, rows, "ticket_id")


class SlaSettingsLoader(Loader[int, tuple[SlaTargets, Calendar]]):
    """SLA targets and the calendar, read once per request (key: always 0)."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[tuple[SlaTargets, Calendar]]:
        settings = (await service.sla_targets(session), await service.calendar(session))
        return [settings for _ in keys]


class TeamNameLoader(Loader[int, str | None]):
    """Team names by id (a routing rule's team): names only, as ``UserSummary`` shows users."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[str | None]:
        names = dict(
            (await session.execute(select(Team.id, Team.name).where(among(Team.id, keys)))).all()
        )
        return [names.get(key) for key in keys]
