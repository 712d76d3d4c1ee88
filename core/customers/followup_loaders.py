"""Filtered timelines and the checks of follow-up filters.

A customer's timeline with a filter (``customer.interactions(filter: ...)``) is a nested
connection like any other: one statement for the pages of every customer of a list that asks
for the same filter, page arguments and order (:func:`core.child_pages.child_pages`), and one
for their counts. The filter is checked once per request (ids through batched loaders).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from core.child_pages import ChildPage, child_pages
from core.context import RequestContext
from core.customers.followup_inputs import InteractionFilter, TimelineFilter
from core.customers.loaders import CustomerByIdLoader, customer_visible
from core.customers.models import Interaction
from core.errors import bad_argument
from core.i18n import _
from core.identity.models import Team, User
from core.loaders import Loader
from core.ordering import SortKey
from core.pagination import Connection, PageArgs, check_page_args, page_bounds
from core.validation import argument_id

N = TypeVar("N", bound=relay.Node)


class UserExistsLoader(Loader[int, bool]):
    """Whether a user with this id exists (a filter naming an unknown author is refused)."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[bool]:
        found = set((await session.scalars(select(User.id).where(User.id.in_(keys)))).all())
        return [key in found for key in keys]


class TeamExistsLoader(Loader[int, bool]):
    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[bool]:
        found = set((await session.scalars(select(Team.id).where(Team.id.in_(keys)))).all())
        return [key in found for key in keys]


@dataclass(frozen=True)
class InteractionConditions:
    """A checked interaction filter, hashable (part of a loader's key)."""

    channels: tuple[str, ...] = ()
    occurred_from: dt.datetime | None = None
    occurred_to: dt.datetime | None = None
    author_id: int | None = None
    customer_id: int | None = None
    team_id: int | None = None

    def where(self) -> list[ColumnElement[bool]]:
        i = Interaction
        conditions: list[ColumnElement[bool]] = []
        if self.channels:
            conditions.append(i.channel.in_(self.channels))
        if self.occurred_from is not None:
            conditions.append(i.occurred_at >= self.occurred_from)
        if self.occurred_to is not None:
            conditions.append(i.occurred_at < self.occurred_to)
        if self.author_id is not None:
            conditions.append(i.author_id == self.author_id)
        if self.customer_id is not None:
            conditions.append(i.customer_id == self.customer_id)
        if self.team_id is not None:
            members = select(User.id).where(User.team_id == self.team_id)
            conditions.append(i.author_id.in_(members))
        return conditions


async def interaction_conditions(
    context: RequestContext, filter: TimelineFilter | InteractionFilter | None
) -> InteractionConditions:
    """``filter`` checked: a period ending before it starts, an id of the wrong type or of
    no record (or of a customer the caller may not read) is a BAD_USER_INPUT error naming
    the argument (``filter.occurred.to``, ``filter.authorId``...)."""
    if filter is None:
        return InteractionConditions()
    occurred = filter.occurred
    if occurred is not None and occurred.from_ and occurred.to and occurred.to < occurred.from_:
        raise bad_argument("filter.occurred.to", _("must not be before from"))
    author_id = argument_id(filter.author_id, "User", "filter.authorId")
    if author_id is not None and not await context.loader(UserExistsLoader).load(author_id):
        raise bad_argument("filter.authorId", _("no user has this id"))
    customer_id = team_id = None
    if isinstance(filter, InteractionFilter):
        customer_id = argument_id(filter.customer_id, "Customer", "filter.customerId")
        if (
            customer_id is not None
            and await context.loader(CustomerByIdLoader).load(customer_id) is None
        ):
            raise bad_argument("filter.customerId", _("no customer with this id that you may see"))
        team_id = argument_id(filter.team_id, "Team", "filter.teamId")
        if team_id is not None and not await context.loader(TeamExistsLoader).load(team_id):
            raise bad_argument("filter.teamId", _("no team has this id"))
    return InteractionConditions(
        channels=tuple(sorted({channel.value for channel in filter.channel or []})),
        occurred_from=occurred.from_ if occurred else None,
        occurred_to=occurred.to if occurred else None,
        author_id=author_id,
        customer_id=customer_id,
        team_id=team_id,
    )


def interaction_statement(
    context: RequestContext, conditions: InteractionConditions
) -> Select[Any]:
    """The interactions the caller may read (those of the customers they may read) that
    ``conditions`` keep."""
    i = Interaction
    return select(i).where(customer_visible(context, i.customer_id), *conditions.where())


PageKey = tuple[int, PageArgs, tuple[SortKey, ...], InteractionConditions]


class TimelinePagesLoader(Loader[PageKey, ChildPage]):
    """Pages of filtered timelines, one statement per (filter, page arguments, order)."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[PageKey]) -> list[ChildPage]:
        groups: dict[tuple[PageArgs, tuple[SortKey, ...], InteractionConditions], list[int]]
        groups = defaultdict(list)
        for customer_id, args, ordering, conditions in keys:
            groups[(args, ordering, conditions)].append(customer_id)
        pages: dict[PageKey, ChildPage] = {}
        for (args, ordering, conditions), customer_ids in groups.items():
            limit, backwards = page_bounds(args, self.context.settings.max_page_size)
            rows = await child_pages(
                session,
                interaction_statement(self.context, conditions),
                parent=Interaction.customer_id,
                parent_ids=customer_ids,
                keys=ordering,
                args=args,
                limit=limit,
                backwards=backwards,
            )
            for customer_id in customer_ids:
                key = (customer_id, args, ordering, conditions)
                pages[key] = ChildPage(rows[customer_id], args, limit, backwards)
        return [pages[key] for key in keys]


class TimelineCountLoader(Loader[tuple[int, InteractionConditions], int]):
    async def load_batch(
        self, session: AsyncSession, keys: Sequence[tuple[int, InteractionConditions]]
    ) -> list[int]:
        by_conditions: dict[InteractionConditions, list[int]] = defaultdict(list)
        for customer_id, conditions in keys:
            by_conditions[conditions].append(customer_id)
        counts: dict[tuple[int, InteractionConditions], int] = {}
        for conditions, customer_ids in by_conditions.items():
            statement = (
                select(Interaction.customer_id, func.count())
                .where(Interaction.customer_id.in_(customer_ids))
                .where(customer_visible(self.context, Interaction.customer_id))
                .where(*conditions.where())
                .group_by(Interaction.customer_id)
            )
            for customer_id, count in (await session.execute(statement)).all():
                counts[(customer_id, conditions)] = int(count)
        return [counts.get(key, 0) for key in keys]


async def timeline_page(
    context: RequestContext,
    customer_id: int,
    filter: TimelineFilter,
    args: PageArgs,
    ordering: Sequence[SortKey],
    to_node: Callable[[Any], N],
) -> Connection[N]:
    """A page of a customer's timeline that ``filter`` keeps."""
    check_page_args(args, context.settings.max_page_size)
    conditions = await interaction_conditions(context, filter)
    keys = tuple(ordering)
    page = await context.loader(TimelinePagesLoader).load((customer_id, args, keys, conditions))
    counter = context.loader(TimelineCountLoader)
    return page.connection(keys, to_node, lambda: counter.load((customer_id, conditions)))
