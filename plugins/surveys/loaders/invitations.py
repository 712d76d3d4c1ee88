"""Dataloaders of invitations, responses and answers; each filters through the caller's
``surveys:read`` scope (invitations by the ``surveys`` policy, responses by
``surveys.responses``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    ByIdLoader,
    ChildCountLoader,
    ChildPageLoader,
    Loader,
    SortKey,
    among,
    group_by_key,
    one_by_key,
)
from plugins.surveys import declarations
from plugins.surveys.models import SurveyAnswer, SurveyInvitation, SurveyResponse


class _VisibleInvitations:
    entity = SurveyInvitation
    context: Any

    def statement(self) -> Select[Any]:
        return select(SurveyInvitation).where(
            declarations.visible(self.context, declarations.RESOURCE)
        )


class _VisibleResponses:
    entity = SurveyResponse
    parent = SurveyResponse.customer_id
    context: Any

    def statement(self) -> Select[Any]:
        return select(SurveyResponse).where(declarations.visible(self.context))


class InvitationByIdLoader(_VisibleInvitations, ByIdLoader[SurveyInvitation]):
    pass


class ResponseByIdLoader(_VisibleResponses, ByIdLoader[SurveyResponse]):
    pass


class ResponsesByCustomerLoader(_VisibleResponses, ChildPageLoader):
    keys = (SortKey(SurveyResponse.submitted_at, True), SortKey(SurveyResponse.id, True))


class ResponseCountByCustomerLoader(_VisibleResponses, ChildCountLoader):
    pass


class ResponseByInvitationLoader(Loader[int, SurveyResponse | None]):
    """The response to each invitation (if any, and visible)."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[SurveyResponse | None]:
        rows = (
            await session.scalars(
                select(SurveyResponse).where(
                    among(SurveyResponse.invitation_id, keys), declarations.visible(self.context)
                )
            )
        ).all()
        return one_by_key(keys, rows, "invitation_id")


class AnswersLoader(Loader[int, list[SurveyAnswer]]):
    """A response's answers, in the order stored (the response was loaded through the
    scoped loaders)."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[list[SurveyAnswer]]:
        rows = (
            await session.scalars(
                select(SurveyAnswer)
                .where(among(SurveyAnswer.response_id, keys))
                .order_by(SurveyAnswer.response_id, SurveyAnswer.id)
            )
        ).all()
        return group_by_key(keys, rows, "response_id")


class LatestTicketInvitationLoader(Loader[int, SurveyInvitation | None]):
    """The latest invitation (visible to the caller) that followed each ticket."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[SurveyInvitation | None]:
        rows = (
            await session.scalars(
                select(SurveyInvitation)
                .where(
                    SurveyInvitation.subject_kind == "TICKET",
                    among(SurveyInvitation.subject_id, keys),
                    declarations.visible(self.context, declarations.RESOURCE),
                )
                .order_by(SurveyInvitation.created_at, SurveyInvitation.id)
            )
        ).all()
        latest: dict[Any, SurveyInvitation] = {}
        for row in rows:
            latest[row.subject_id] = row
        return [latest.get(key) for key in keys]
