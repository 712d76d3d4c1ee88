"""Root query fields of the intel log (``competitors:read``), and the fields the intel log adds
to ``Competitor`` (intel, watchedByMe, watcherCount) and to ``CompetitorSwotItem``
(evidence)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, func, select

from core.plugin_api import (
    ORDER_BY_HELP,
    Connection,
    Info,
    ListOrder,
    PageArgs,
    RequestContext,
    argument_id,
    bad_argument,
    batch_field,
    like_pattern,
    requires,
    search_text,
    translator,
)
from plugins.competitor import declarations, models
from plugins.competitor.enums import IntelKind
from plugins.competitor.inputs.intel import IntelFilter, IntelOrder, IntelOrderField
from plugins.competitor.loaders.intel import (
    INTEL_KEYS,
    EvidenceBySwotItemLoader,
    WatchedByMeLoader,
    WatcherCountLoader,
    intel_loaders,
)
from plugins.competitor.service.intel import confidences_from
from plugins.competitor.types.intel import IntelEntry

_ = translator(__name__)

INTEL_ORDER = ListOrder(
    {
        IntelOrderField.OCCURRED_ON: models.Intel.occurred_on,
        IntelOrderField.CREATED_AT: models.Intel.created_at,
    },
    models.Intel.id,
    default=[(IntelOrderField.OCCURRED_ON, True)],
)
"""The feed's orderings; newest first by default (the same as ``Competitor.intel``)."""


async def intel_statement(context: RequestContext, filter: IntelFilter | None) -> Select[Any]:
    """The intel entries ``filter`` keeps (every one without a filter): the statement of the
    feed and of its export. A bad argument is BAD_USER_INPUT naming ``filter.<field>``."""
    i = models.Intel
    statement = select(i)
    if filter is None:
        return statement
    if filter.competitor_ids is not None:
        ids = [
            argument_id(value, "Competitor", f"filter.competitorIds.{index}")
            for index, value in enumerate(filter.competitor_ids)
        ]
        statement = statement.where(i.competitor_id.in_([value for value in ids if value]))
    if filter.kinds:
        statement = statement.where(i.kind.in_(sorted({kind.value for kind in filter.kinds})))
    search = search_text(filter.search)
    if search:
        statement = statement.where(func.lower(i.summary).like(like_pattern(search), escape="\\"))
    span = filter.occurred
    if span is not None:
        if span.from_ is not None and span.to is not None and span.to < span.from_:
            raise bad_argument("filter.occurred.to", _("must not be before from"))
        if span.from_ is not None:
            statement = statement.where(i.occurred_on >= span.from_)
        if span.to is not None:
            statement = statement.where(i.occurred_on <= span.to)
    reporter_id = argument_id(filter.reporter_id, "User", "filter.reporterId")
    if reporter_id is not None:
        statement = statement.where(i.reporter_id == reporter_id)
    if filter.min_confidence is not None:
        statement = statement.where(i.confidence.in_(confidences_from(filter.min_confidence)))
    return statement


@strawberry.type
class IntelQuery:
    @strawberry.field(
        description="The intel log, newest first (by occurredOn) unless orderBy says otherwise.",
        extensions=requires(declarations.READ),
    )
    async def intel_feed(
        self,
        info: Info,
        filter: IntelFilter | None = None,
        order_by: Annotated[
            list[IntelOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[IntelEntry] | None:
        return await info.context.page(
            await intel_statement(info.context, filter),
            keys=INTEL_ORDER.keys(order_by),
            args=PageArgs(first, after, last, before),
            to_node=IntelEntry.from_model,
        )


async def competitor_intel(
    context: RequestContext,
    competitors: Sequence[Any],
    kinds: list[IntelKind] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[IntelEntry]]:
    """Each competitor's intel entries (of ``kinds``, when given), newest first."""
    pages, counts = intel_loaders(frozenset(kind.value for kind in kinds or ()))
    return await context.child_pages(
        pages,
        counts,
        [int(competitor.id) for competitor in competitors],
        PageArgs(first=first, after=after, last=last, before=before),
        IntelEntry.from_model,
        INTEL_KEYS,
    )


async def competitor_watched_by_me(
    context: RequestContext, competitors: Sequence[Any]
) -> list[bool]:
    found: list[bool] = await context.loader(WatchedByMeLoader).load_level(
        [int(competitor.id) for competitor in competitors]
    )
    return found


async def competitor_watcher_count(
    context: RequestContext, competitors: Sequence[Any]
) -> list[int]:
    found: list[int] = await context.loader(WatcherCountLoader).load_level(
        [int(competitor.id) for competitor in competitors]
    )
    return found


async def swot_item_evidence(
    context: RequestContext, items: Sequence[Any]
) -> list[list[IntelEntry]]:
    """The intel entries each item cites, newest first."""
    found = await context.loader(EvidenceBySwotItemLoader).load_level(
        [int(item.id) for item in items]
    )
    return [[IntelEntry.from_model(row) for row in rows] for rows in found]


COMPETITOR_FIELDS: dict[str, Any] = {
    "intel": batch_field(
        competitor_intel,
        graphql_type=Connection[IntelEntry] | None,
        description="The intel entries about the competitor (of kinds, when given), newest "
        "first (by occurredOn).",
    ),
    "watched_by_me": batch_field(
        competitor_watched_by_me,
        graphql_type=bool,
        description="Whether you watch the competitor (you are told of each intel entry "
        "others log about it).",
    ),
    "watcher_count": batch_field(
        competitor_watcher_count,
        graphql_type=int,
        description="How many active users watch the competitor.",
    ),
}
SWOT_ITEM_FIELDS: dict[str, Any] = {
    "evidence": batch_field(
        swot_item_evidence,
        graphql_type=list[IntelEntry],
        description="The intel entries the item cites as its evidence, newest first.",
    ),
}
