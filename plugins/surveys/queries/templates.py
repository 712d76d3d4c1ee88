"""Root query fields of survey templates (``surveys:read`` or ``surveys:manage``)."""

from __future__ import annotations

import strawberry
from sqlalchemy import select
from strawberry import relay

from core.plugin_api import Info, argument_id, bad_argument, forbidden, require, translator
from plugins.surveys import declarations
from plugins.surveys.inputs.templates import SurveyTemplateFilter
from plugins.surveys.loaders.templates import may_read_templates
from plugins.surveys.models import SurveyTemplate as Template
from plugins.surveys.types.templates import SurveyTemplate

_ = translator(__name__)


def _require_reader(info: Info) -> None:
    require(info.context)
    if not may_read_templates(info.context):
        raise forbidden(
            _("permission {permission!r} is required", permission=declarations.READ),
            permission=declarations.READ,
        )


@strawberry.type
class TemplateQuery:
    @strawberry.field(description="Every survey template, by key (surveys:read or surveys:manage).")
    async def survey_templates(
        self, info: Info, filter: SurveyTemplateFilter | None = None
    ) -> list[SurveyTemplate] | None:
        _require_reader(info)
        statement = select(Template).order_by(Template.key)
        if filter is not None and filter.purpose is not None:
            statement = statement.where(Template.purpose == filter.purpose.value)
        if filter is not None and filter.active is not None:
            statement = statement.where(Template.active.is_(filter.active))
        async with info.context.db.read() as session:
            rows = (await session.scalars(statement)).all()
        return [SurveyTemplate.from_model(row) for row in rows]

    @strawberry.field(description="One survey template by id or key.")
    async def survey_template(
        self, info: Info, id: relay.GlobalID | None = None, key: str | None = None
    ) -> SurveyTemplate | None:
        _require_reader(info)
        if (id is None) == (key is None):
            raise bad_argument("id", _("give exactly one of id and key"))
        if id is not None:
            return await SurveyTemplate.load(info, argument_id(id, "SurveyTemplate", "id") or 0)
        async with info.context.db.read() as session:
            row = await session.scalar(
                select(Template).where(Template.key == (key or "").strip().upper())
            )
        return SurveyTemplate.from_model(row) if row is not None else None
