"""Root mutation of invitations: sending a survey by hand (``surveys:manage``)."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Check, Info, mutate, requires
from plugins.surveys import declarations, models
from plugins.surveys.inputs.invitations import SendSurveyInput
from plugins.surveys.service import invitations as service
from plugins.surveys.types.invitations import SendSurveyPayload


def _ids(
    check: Check, field: str, values: list[strawberry.relay.GlobalID] | None, type_name: str
) -> list[int] | None:
    if values is None:
        return None
    ids: list[int] = []
    for index, value in enumerate(values):
        found = check.node_id(f"{field}.{index}", value, type_name)
        if found is not None:
            ids.append(found)
    return ids


@strawberry.type
class InvitationMutation:
    @strawberry.mutation(
        description="Send a template's survey now to the primary contacts of customerIds, or "
        "to contactIds (one of the two, 1-500 ids, each visible to you). Returns one "
        "invitation per recipient; those the rules held back are SKIPPED with their reason.",
        extensions=requires(declarations.MANAGE),
    )
    async def send_survey(self, info: Info, input: SendSurveyInput) -> SendSurveyPayload | None:
        async def work(session: AsyncSession) -> list[models.SurveyInvitation]:
            check = Check()
            template_id = check.node_id("templateId", input.template_id, "SurveyTemplate")
            customer_ids = _ids(check, "customerIds", input.customer_ids, "Customer")
            contact_ids = _ids(check, "contactIds", input.contact_ids, "Contact")
            return await service.send_survey(
                session, info.context, check, template_id, customer_ids, contact_ids
            )

        return await mutate(info, work, SendSurveyPayload.of)
