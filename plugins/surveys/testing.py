"""Helpers the surveys plugin's tests share. The fixtures (``settings`` with the plugin
enabled, ``clock``, ``api``, ``admin``) are in ``conftest.py`` beside this module; the
GraphQL helpers come from the test kit (:mod:`schema.testkit_graphql`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from plugins.surveys import models
from schema.testkit import Api
from schema.testkit_graphql import db_id, gid, mutate_ok

MONDAY = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
"""Where the clock starts: a Monday morning."""

NOV = {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}
DIMENSIONS = ("RESPONSE_SPEED", "RESOLUTION", "ATTITUDE", "PROFESSIONALISM")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@dataclass
class Seed:
    """Writes invitations, responses and answers of one template straight into the database."""

    api: Api
    template_id: int
    version_id: int

    @classmethod
    async def of(cls, api: Api, key: str = "CSAT_SERVICE") -> Seed:
        async with api.db.read() as session:
            template = await session.scalar(
                select(models.SurveyTemplate).where(models.SurveyTemplate.key == key)
            )
            assert template is not None
            version_id = await session.scalar(
                select(models.SurveyTemplateVersion.id).where(
                    models.SurveyTemplateVersion.template_id == template.id,
                    models.SurveyTemplateVersion.number == template.current_version,
                )
            )
            assert version_id is not None
            return cls(api, template.id, version_id)

    @property
    def template_gid(self) -> str:
        return gid("SurveyTemplate", self.template_id)

    async def add(
        self,
        customer_id: int,
        *,
        sent: str | None = None,
        status: str = "SENT",
        handler_id: int | None = None,
        ticket_type: str | None = None,
        submitted: str | None = None,
        ratings: Sequence[int] = (),
        nps: int | None = None,
        comment: str | None = None,
        low: bool = False,
    ) -> int | None:
        """One invitation (and, with ``submitted``, its response); the response's id."""
        kind = "TICKET" if ticket_type else "MANUAL"
        async with self.api.db.transaction() as session:
            invitation = models.SurveyInvitation(
                template_id=self.template_id,
                template_version_id=self.version_id,
                customer_id=customer_id,
                locale="en",
                subject_kind=kind,
                subject_type=ticket_type,
                handler_id=handler_id,
                status="ANSWERED" if submitted else status,
                sent_at=at(sent) if sent else None,
                answered_at=at(submitted) if submitted else None,
                created_at=at(sent or "2026-11-01T00:00:00"),
            )
            session.add(invitation)
            await session.flush()
            if submitted is None:
                return None
            response = models.SurveyResponse(
                invitation_id=invitation.id,
                template_id=self.template_id,
                template_version_id=self.version_id,
                customer_id=customer_id,
                subject_kind=kind,
                subject_type=ticket_type,
                handler_id=handler_id,
                locale="en",
                submitted_at=at(submitted),
                nps=nps,
                comment=comment,
                low_scored=low,
            )
            session.add(response)
            await session.flush()
            for dimension, score in zip(DIMENSIONS, ratings, strict=False):
                session.add(
                    models.SurveyAnswer(
                        response_id=response.id,
                        question_key=dimension.lower(),
                        kind="RATING",
                        dimension=dimension,
                        score=score,
                    )
                )
            if nps is not None:
                session.add(
                    models.SurveyAnswer(
                        response_id=response.id,
                        question_key="recommend",
                        kind="NPS",
                        dimension="RECOMMEND",
                        score=nps,
                    )
                )
            if comment is not None:
                session.add(
                    models.SurveyAnswer(
                        response_id=response.id, question_key="comment", kind="TEXT", text=comment
                    )
                )
            return response.id


async def customer(api: Api, name: str, **fields: Any) -> int:
    input = {"name": name, "allowDuplicates": True, **fields}  # alike names are allowed
    payload = await mutate_ok(api, "createCustomer", input, "customer { id }")
    return db_id(payload["customer"]["id"])
