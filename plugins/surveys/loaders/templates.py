"""Dataloaders of survey templates and their versions: readable by anyone holding
``surveys:read`` or ``surveys:manage`` (templates name no customer)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, false, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import ByIdLoader, Loader, RequestContext, among, group_by_key
from plugins.surveys import declarations
from plugins.surveys.models import SurveyTemplate, SurveyTemplateVersion


def may_read_templates(context: RequestContext) -> bool:
    caller = context.caller
    return caller is not None and (
        caller.scope(declarations.READ) is not None or caller.scope(declarations.MANAGE) is not None
    )


def templates_visible(context: RequestContext) -> ColumnElement[bool]:
    return true() if may_read_templates(context) else false()


class TemplateByIdLoader(ByIdLoader[SurveyTemplate]):
    entity = SurveyTemplate

    def statement(self) -> Select[Any]:
        return select(SurveyTemplate).where(templates_visible(self.context))


class TemplateVersionByIdLoader(ByIdLoader[SurveyTemplateVersion]):
    entity = SurveyTemplateVersion

    def statement(self) -> Select[Any]:
        return select(SurveyTemplateVersion).where(templates_visible(self.context))


class TemplateVersionsLoader(Loader[int, list[SurveyTemplateVersion]]):
    """A template's versions, newest first."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[list[SurveyTemplateVersion]]:
        rows = (
            await session.scalars(
                select(SurveyTemplateVersion)
                .where(
                    among(SurveyTemplateVersion.template_id, keys),
                    templates_visible(self.context),
                )
                .order_by(SurveyTemplateVersion.number.desc())
            )
        ).all()
        return group_by_key(keys, rows, "template_id")


class CurrentVersionLoader(Loader[tuple[int, int], SurveyTemplateVersion | None]):
    """The version of (template id, number)."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[tuple[int, int]]
    ) -> list[SurveyTemplateVersion | None]:
        template_ids = sorted({key[0] for key in keys})
        rows = (
            await session.scalars(
                select(SurveyTemplateVersion).where(
                    SurveyTemplateVersion.template_id.in_(template_ids),
                    templates_visible(self.context),
                )
            )
        ).all()
        found = {(row.template_id, row.number): row for row in rows}
        return [found.get(key) for key in keys]
