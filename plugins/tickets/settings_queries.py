"""Root query fields that read the tickets plugin's settings back: SLA policies, business
hours and routing rules (set with ``setSlaPolicy``, ``setBusinessHours`` and
``setRoutingRule``, which need ``tickets:manage``). Reading them needs ``tickets:read``:
whoever works tickets may know the targets they work to and how tickets are routed."""

from __future__ import annotations

import strawberry
from sqlalchemy import select

from core.plugin_api import Info, requires
from plugins.tickets import models, service
from plugins.tickets.domain import PRIORITY_ORDER, TicketType
from plugins.tickets.types import BusinessHoursInfo, RoutingRuleInfo, SlaPolicy

_GRADE_ORDER = ["GOLD", "SILVER", "STANDARD"]


def _rank(order: list[str], value: str) -> int:
    return order.index(value) if value in order else len(order)


@strawberry.type
class TicketSettingsQuery:
    @strawberry.field(
        description="The SLA policies in force: each priority's (grade null), most urgent "
        "first, then the policies of a priority for a customer grade, by grade.",
        extensions=requires("tickets:read"),
    )
    async def ticket_sla_policies(self, info: Info) -> list[SlaPolicy] | None:
        async with info.context.db.read() as session:
            targets = await service.sla_targets(session)
        own = [
            SlaPolicy.of(priority, None, targets.by_priority[priority])
            for priority in reversed(PRIORITY_ORDER)
        ]
        graded = [
            SlaPolicy.of(priority, grade, minutes)
            for (grade, priority), minutes in sorted(
                targets.by_grade.items(),
                key=lambda item: (
                    _rank(_GRADE_ORDER, item[0][0]),
                    -_rank(PRIORITY_ORDER, item[0][1]),
                ),
            )
        ]
        return own + graded

    @strawberry.field(
        description="The business-hours calendar the SLA clock counts in; null when none is "
        "set (every hour counts).",
        extensions=requires("tickets:read"),
    )
    async def ticket_business_hours(self, info: Info) -> BusinessHoursInfo | None:
        async with info.context.db.read() as session:
            row = await session.get(models.BusinessHours, 1)
        return BusinessHoursInfo.from_model(row) if row is not None else None

    @strawberry.field(
        description="The routing rules, by ticket type (in the order of TicketType). A type "
        "without a rule is not routed: its new tickets wait unassigned in the queue for "
        "someone with tickets:assign.",
        extensions=requires("tickets:read"),
    )
    async def ticket_routing_rules(self, info: Info) -> list[RoutingRuleInfo] | None:
        async with info.context.db.read() as session:
            rows = (await session.scalars(select(models.RoutingRule))).all()
        order = [t.value for t in TicketType]
        return [
            RoutingRuleInfo.from_model(row)
            for row in sorted(rows, key=lambda row: _rank(order, row.type))
        ]
