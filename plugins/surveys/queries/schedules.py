"""Root query fields of relationship-survey schedules."""

from __future__ import annotations

import strawberry
from sqlalchemy import select

from core.plugin_api import Info, forbidden, require, translator
from plugins.surveys import declarations
from plugins.surveys.loaders.templates import may_read_templates
from plugins.surveys.models import SurveySchedule as Schedule
from plugins.surveys.types.schedules import SurveySchedule

_ = translator(__name__)


@strawberry.type
class ScheduleQuery:
    @strawberry.field(
        description="Every relationship-survey schedule, by next run (surveys:read or "
        "surveys:manage)."
    )
    async def survey_schedules(self, info: Info) -> list[SurveySchedule] | None:
        require(info.context)
        if not may_read_templates(info.context):
            raise forbidden(
                _("permission {permission!r} is required", permission=declarations.READ),
                permission=declarations.READ,
            )
        async with info.context.db.read() as session:
            rows = (
                await session.scalars(select(Schedule).order_by(Schedule.next_run_at, Schedule.id))
            ).all()
        return [SurveySchedule.from_model(row) for row in rows]
