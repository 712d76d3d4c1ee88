"""Root mutation fields of relationship-survey schedules (``surveys:manage``)."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET

from core.plugin_api import Check, Info, mutate, requires
from plugins.surveys import declarations, models
from plugins.surveys.inputs.schedules import (
    CreateSurveyScheduleInput,
    DeleteSurveyScheduleInput,
    UpdateSurveyScheduleInput,
)
from plugins.surveys.service import schedules as service
from plugins.surveys.types.schedules import (
    CreateSurveySchedulePayload,
    DeleteSurveySchedulePayload,
    UpdateSurveySchedulePayload,
)

MANAGE = requires(declarations.MANAGE)


def _changes(check: Check, input: UpdateSurveyScheduleInput) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for field in ("name", "stages", "grades", "kinds", "next_run_at", "active"):
        value = getattr(input, field)
        if value is not UNSET:
            changes[field] = value
    if input.frequency is not UNSET and input.frequency is not None:
        changes["frequency"] = input.frequency.value
    if input.template_id is not UNSET and input.template_id is not None:
        changes["template_id"] = check.node_id("templateId", input.template_id, "SurveyTemplate")
    return changes


@strawberry.type
class ScheduleMutation:
    @strawberry.mutation(
        description="Schedule a relationship survey to the customers its filters match.",
        extensions=MANAGE,
    )
    async def create_survey_schedule(
        self, info: Info, input: CreateSurveyScheduleInput
    ) -> CreateSurveySchedulePayload | None:
        async def work(session: AsyncSession) -> models.SurveySchedule:
            check = Check()
            template_id = check.node_id("templateId", input.template_id, "SurveyTemplate")
            check.done()
            return await service.create(
                session,
                info.context,
                check,
                name=input.name,
                template_id=template_id,
                frequency=input.frequency.value,
                stages=input.stages,
                grades=input.grades,
                kinds=input.kinds,
                first_run_at=input.first_run_at,
                active=input.active,
            )

        return await mutate(info, work, CreateSurveySchedulePayload.of)

    @strawberry.mutation(description="Change a schedule.", extensions=MANAGE)
    async def update_survey_schedule(
        self, info: Info, input: UpdateSurveyScheduleInput
    ) -> UpdateSurveySchedulePayload | None:
        async def work(session: AsyncSession) -> models.SurveySchedule:
            check = Check()
            schedule_id = check.node_id("id", input.id, "SurveySchedule")
            changes = _changes(check, input)
            check.done()
            return await service.update_schedule(
                session, info.context, check, schedule_id, input.version, changes
            )

        return await mutate(info, work, UpdateSurveySchedulePayload.of)

    @strawberry.mutation(
        description="Delete a schedule; the invitations it sent stay.", extensions=MANAGE
    )
    async def delete_survey_schedule(
        self, info: Info, input: DeleteSurveyScheduleInput
    ) -> DeleteSurveySchedulePayload | None:
        async def work(session: AsyncSession) -> int:
            check = Check()
            schedule_id = check.node_id("id", input.id, "SurveySchedule")
            check.done()
            return await service.delete(session, info.context, schedule_id, input.version)

        def conflict(current: Any, errors: list[Any]) -> DeleteSurveySchedulePayload:
            return DeleteSurveySchedulePayload(deleted_id=None, errors=errors)

        return await mutate(info, work, DeleteSurveySchedulePayload.of, conflict=conflict)
