"""Root mutation fields of improvement actions (``surveys:manage``): each takes one input,
runs in one transaction and answers with a payload."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET, relay

from core.plugin_api import Check, Info, mutate, requires
from plugins.surveys import declarations, models
from plugins.surveys.inputs.actions import (
    CreateImprovementActionInput,
    DeleteImprovementActionInput,
    SetImprovementActionStatusInput,
    UpdateImprovementActionInput,
)
from plugins.surveys.service import actions as service
from plugins.surveys.types.actions import (
    CreateImprovementActionPayload,
    DeleteImprovementActionPayload,
    SetImprovementActionStatusPayload,
    UpdateImprovementActionPayload,
)

MANAGE = requires(declarations.MANAGE)


def _response_ids(check: Check, values: list[relay.GlobalID]) -> list[int | None]:
    return [
        check.node_id(f"responseIds.{index}", value, "SurveyResponse")
        for index, value in enumerate(values)
    ]


def _changes(check: Check, input: UpdateImprovementActionInput) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for field in ("title", "description", "due_on", "dimension", "terms"):
        value = getattr(input, field)
        if value is not UNSET:
            changes[field] = value
    if input.owner_id is not UNSET:
        owner_id = check.node_id("ownerId", input.owner_id, "User")
        if input.owner_id is None or owner_id is not None:
            changes["owner_id"] = owner_id
    if input.response_ids is not UNSET:
        changes["response_ids"] = _response_ids(check, input.response_ids or [])
    return changes


@strawberry.type
class ActionMutation:
    @strawberry.mutation(
        description="Start an improvement action (OPEN); its owner is notified.", extensions=MANAGE
    )
    async def create_improvement_action(
        self, info: Info, input: CreateImprovementActionInput
    ) -> CreateImprovementActionPayload | None:
        async def work(session: AsyncSession) -> models.ImprovementAction:
            check = Check()
            owner_id = check.node_id("ownerId", input.owner_id, "User")
            template_id = check.node_id("templateId", input.template_id, "SurveyTemplate")
            response_ids = _response_ids(check, input.response_ids)
            return await service.create(
                session,
                info.context,
                check,
                title=input.title,
                description=input.description,
                owner_id=owner_id,
                due_on=input.due_on,
                dimension=input.dimension,
                terms=input.terms,
                response_ids=response_ids,
                template_id=template_id,
            )

        return await mutate(info, work, CreateImprovementActionPayload.of)

    @strawberry.mutation(
        description="Change an improvement action; a new owner is notified.", extensions=MANAGE
    )
    async def update_improvement_action(
        self, info: Info, input: UpdateImprovementActionInput
    ) -> UpdateImprovementActionPayload | None:
        async def work(session: AsyncSession) -> models.ImprovementAction:
            check = Check()
            action_id = check.node_id("id", input.id, "ImprovementAction")
            changes = _changes(check, input)
            return await service.update(
                session, info.context, check, action_id, input.version, changes
            )

        return await mutate(info, work, UpdateImprovementActionPayload.of)

    @strawberry.mutation(
        description="Move an improvement action on: OPEN -> IN_PROGRESS -> DONE (completedAt "
        "set), or CANCELLED.",
        extensions=MANAGE,
    )
    async def set_improvement_action_status(
        self, info: Info, input: SetImprovementActionStatusInput
    ) -> SetImprovementActionStatusPayload | None:
        async def work(session: AsyncSession) -> models.ImprovementAction:
            check = Check()
            action_id = check.node_id("id", input.id, "ImprovementAction")
            check.done()
            return await service.set_status(
                session, info.context, action_id, input.version, input.status.value
            )

        return await mutate(info, work, SetImprovementActionStatusPayload.of)

    @strawberry.mutation(description="Delete an improvement action.", extensions=MANAGE)
    async def delete_improvement_action(
        self, info: Info, input: DeleteImprovementActionInput
    ) -> DeleteImprovementActionPayload | None:
        async def work(session: AsyncSession) -> int:
            check = Check()
            action_id = check.node_id("id", input.id, "ImprovementAction")
            check.done()
            return await service.remove(session, info.context, action_id, input.version)

        def conflict(current: Any, errors: Any) -> DeleteImprovementActionPayload:
            return DeleteImprovementActionPayload.of(None, errors)

        return await mutate(info, work, DeleteImprovementActionPayload.of, conflict=conflict)
