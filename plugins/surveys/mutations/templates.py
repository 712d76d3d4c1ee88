"""Root mutation fields of survey templates (``surveys:manage``)."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET

from core.plugin_api import Check, Info, mutate, requires
from plugins.surveys import declarations, models
from plugins.surveys.inputs.templates import (
    CreateSurveyTemplateInput,
    SetSurveyTemplateActiveInput,
    UpdateSurveyTemplateInput,
)
from plugins.surveys.service import templates as service
from plugins.surveys.types.templates import (
    CreateSurveyTemplatePayload,
    SetSurveyTemplateActivePayload,
    UpdateSurveyTemplatePayload,
)

MANAGE = requires(declarations.MANAGE)


def _changes(input: UpdateSurveyTemplateInput) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if input.purpose is not UNSET and input.purpose is not None:
        changes["purpose"] = input.purpose.value
    for field in ("name_en", "name_zh"):
        value = getattr(input, field)
        if value is not UNSET:
            changes[field] = value
    if input.questions is not UNSET:
        changes["questions"] = input.questions
    return changes


@strawberry.type
class TemplateMutation:
    @strawberry.mutation(description="Write a survey template (version 1).", extensions=MANAGE)
    async def create_survey_template(
        self, info: Info, input: CreateSurveyTemplateInput
    ) -> CreateSurveyTemplatePayload | None:
        async def work(session: AsyncSession) -> models.SurveyTemplate:
            return await service.create(
                session,
                info.context,
                Check(),
                key=input.key,
                purpose=input.purpose.value,
                name_en=input.name_en,
                name_zh=input.name_zh,
                questions=input.questions,
                active=input.active,
            )

        return await mutate(info, work, CreateSurveyTemplatePayload.of)

    @strawberry.mutation(
        description="Change a template's names, purpose or questions. New questions for a "
        "template whose current version was sent (an invitation went out with it, answered or "
        "not) make a new version; otherwise the current version is edited in place. Built-in "
        "templates may be edited too.",
        extensions=MANAGE,
    )
    async def update_survey_template(
        self, info: Info, input: UpdateSurveyTemplateInput
    ) -> UpdateSurveyTemplatePayload | None:
        async def work(session: AsyncSession) -> models.SurveyTemplate:
            check = Check()
            template_id = check.node_id("id", input.id, "SurveyTemplate")
            check.done()
            return await service.update(
                session, info.context, check, template_id, input.version, _changes(input)
            )

        return await mutate(info, work, UpdateSurveyTemplatePayload.of)

    @strawberry.mutation(
        description="Switch a template on or off; nothing new is sent with one that is off.",
        extensions=MANAGE,
    )
    async def set_survey_template_active(
        self, info: Info, input: SetSurveyTemplateActiveInput
    ) -> SetSurveyTemplateActivePayload | None:
        async def work(session: AsyncSession) -> models.SurveyTemplate:
            check = Check()
            template_id = check.node_id("id", input.id, "SurveyTemplate")
            check.done()
            return await service.set_active(
                session, info.context, template_id, input.version, input.active
            )

        return await mutate(info, work, SetSurveyTemplateActivePayload.of)
