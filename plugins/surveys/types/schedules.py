"""GraphQL types of relationship-survey schedules."""

from __future__ import annotations

import datetime as dt
from typing import Any, Self

import strawberry
from sqlalchemy import Select, select
from strawberry import relay

from core.plugin_api import ByIdLoader, ModelNode, UserError, UserSummary, batch_field, related
from plugins.surveys import models
from plugins.surveys.inputs.schedules import SurveyFrequency
from plugins.surveys.loaders.templates import templates_visible
from plugins.surveys.types.templates import SurveyTemplate


class ScheduleByIdLoader(ByIdLoader[models.SurveySchedule]):
    entity = models.SurveySchedule

    def statement(self) -> Select[Any]:
        return select(models.SurveySchedule).where(templates_visible(self.context))


@strawberry.type(description="A relationship survey sent to a filtered set of customers.")
class SurveySchedule(ModelNode[models.SurveySchedule]):
    by_id_loader = ScheduleByIdLoader
    id: relay.NodeID[int]
    name: str
    frequency: SurveyFrequency
    stages: list[str]
    grades: list[str]
    kinds: list[str]
    active: bool
    next_run_at: dt.datetime = strawberry.field(description="When it sends next.")
    last_run_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    template_id: strawberry.Private[int]
    created_by_id: strawberry.Private[int | None]
    template: SurveyTemplate | None = batch_field(related(SurveyTemplate, "template_id"))
    created_by: UserSummary | None = batch_field(related(UserSummary, "created_by_id"))

    @classmethod
    def from_model(cls, row: models.SurveySchedule) -> Self:
        return cls(
            id=row.id,
            name=row.name,
            frequency=SurveyFrequency(row.frequency),
            stages=list(row.stages or []),
            grades=list(row.grades or []),
            kinds=list(row.kinds or []),
            active=row.active,
            next_run_at=row.next_run_at,
            last_run_at=row.last_run_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
            template_id=row.template_id,
            created_by_id=row.created_by_id,
        )


@strawberry.type
class SurveySchedulePayload:
    schedule: SurveySchedule | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.SurveySchedule | None, errors: list[UserError]) -> Self:
        return cls(schedule=SurveySchedule.from_model(row) if row else None, errors=errors)


@strawberry.type
class CreateSurveySchedulePayload(SurveySchedulePayload):
    pass


@strawberry.type
class UpdateSurveySchedulePayload(SurveySchedulePayload):
    pass


@strawberry.type
class DeleteSurveySchedulePayload:
    deleted_id: strawberry.ID | None = strawberry.field(description="The id of the schedule gone.")
    errors: list[UserError]

    @classmethod
    def of(cls, deleted: int | None, errors: list[UserError]) -> Self:
        gid = strawberry.ID(relay.to_base64("SurveySchedule", deleted)) if deleted else None
        return cls(deleted_id=gid, errors=errors)


NODES: list[type[Any]] = [SurveySchedule]
"""Node types of this module (for ``node(id:)``)."""
