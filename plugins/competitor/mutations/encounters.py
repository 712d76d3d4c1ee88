"""Root mutation fields of encounters: recording one by hand (``competitors:write`` within
its scope over the customer) and deleting one (``competitors:manage``)."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Check, Info, mutate, requires
from plugins.competitor import declarations, models
from plugins.competitor.inputs.encounters import DeleteEncounterInput, RecordEncounterInput
from plugins.competitor.service import encounters as service
from plugins.competitor.types.encounters import DeleteEncounterPayload, RecordEncounterPayload


@strawberry.type
class EncounterMutation:
    @strawberry.mutation(
        description="Record a deal met against a competitor by hand: its outcome, why (a lost "
        "one needs a reason), its value and day.",
        extensions=requires(declarations.WRITE),
    )
    async def record_encounter(
        self, info: Info, input: RecordEncounterInput
    ) -> RecordEncounterPayload | None:
        async def work(session: AsyncSession) -> models.Encounter:
            check = Check()
            values: dict[str, Any] = {
                "competitor_id": check.node_id("competitorId", input.competitor_id, "Competitor"),
                "customer_id": check.node_id("customerId", input.customer_id, "Customer"),
                "owner_id": check.node_id("ownerId", input.owner_id, "User"),
                "outcome": input.outcome.value,
                "reason": input.reason.value if input.reason is not None else None,
                "reason_text": input.reason_text,
                "amount": input.amount,
                "currency": input.currency,
                "occurred_on": input.occurred_on,
            }
            check.done()
            return await service.record_encounter(session, info.context, values)

        return await mutate(info, work, RecordEncounterPayload.of)

    @strawberry.mutation(
        description="Delete an encounter recorded wrongly.",
        extensions=requires(declarations.MANAGE),
    )
    async def delete_encounter(
        self, info: Info, input: DeleteEncounterInput
    ) -> DeleteEncounterPayload | None:
        async def work(session: AsyncSession) -> models.Encounter:
            check = Check()
            encounter_id = check.node_id("id", input.id, "CompetitorEncounter")
            check.done()
            return await service.delete_encounter(session, info.context, encounter_id)

        return await mutate(info, work, DeleteEncounterPayload.of)
