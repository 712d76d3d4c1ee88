"""GraphQL types of invitations and responses: SurveyInvitation, SurveyResponse and its
SurveyAnswer rows, and the payload of sendSurvey."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Self

import strawberry
from strawberry import relay

from core.plugin_api import ContactNode as Contact
from core.plugin_api import CustomerNode as Customer
from core.plugin_api import (
    ModelNode,
    RequestContext,
    UserError,
    UserSummary,
    batch_field,
    related,
)
from plugins.surveys import models
from plugins.surveys.inputs.invitations import (
    SurveyInvitationStatus,
    SurveySkipReason,
    SurveySubjectKind,
)
from plugins.surveys.inputs.templates import SurveyQuestionKind
from plugins.surveys.loaders.invitations import (
    AnswersLoader,
    InvitationByIdLoader,
    ResponseByIdLoader,
    ResponseByInvitationLoader,
)
from plugins.surveys.loaders.templates import TemplateVersionByIdLoader
from plugins.surveys.questions import Question
from plugins.surveys.types.templates import SurveyQuestion, SurveyTemplate, SurveyTemplateVersion


@strawberry.type(description="What a survey follows.")
class SurveySubject:
    kind: SurveySubjectKind
    id: strawberry.ID | None = strawberry.field(
        description="The ticket's global id (TICKET; the tickets plugin may be disabled)."
    )
    number: str | None = strawberry.field(description="The ticket's number (TICKET).")
    type: str | None = strawberry.field(description="The ticket's type (TICKET).")

    @classmethod
    def of(cls, kind: str, subject_id: int | None, number: str | None, type: str | None) -> Self:
        gid = None
        if kind == "TICKET" and subject_id is not None:
            gid = strawberry.ID(relay.to_base64("Ticket", subject_id))
        return cls(kind=SurveySubjectKind(kind), id=gid, number=number, type=type)


def _question(
    version: models.SurveyTemplateVersion | None, question_key: str
) -> SurveyQuestion | None:
    for item in version.questions if version is not None else []:
        if item.get("key") == question_key:
            return SurveyQuestion.of(Question.of(item))
    return None


async def _questions(
    context: RequestContext, answers: Sequence[SurveyAnswer]
) -> list[SurveyQuestion | None]:
    versions = await context.loader(TemplateVersionByIdLoader).load_level(
        [answer.template_version_id for answer in answers]
    )
    return [
        _question(version, answer.question_key)
        for version, answer in zip(versions, answers, strict=True)
    ]


async def _question_texts(
    context: RequestContext, answers: Sequence[SurveyAnswer]
) -> list[str | None]:
    zh = str(context.locale).startswith("zh")
    return [
        None if question is None else question.text_zh if zh else question.text_en
        for question in await _questions(context, answers)
    ]


@strawberry.type(description="One answer of a response.")
class SurveyAnswer:
    question_key: str
    kind: SurveyQuestionKind
    dimension: str | None
    score: int | None = strawberry.field(description="RATING (1-5) and NPS (0-10).")
    yes: bool | None = strawberry.field(description="YES_NO.")
    choice: str | None = strawberry.field(description="CHOICE: the key of the choice.")
    text: str | None = strawberry.field(description="TEXT.")
    template_version_id: strawberry.Private[int]
    question: SurveyQuestion | None = batch_field(
        _questions, description="The question answered, as the response's version asked it."
    )
    question_text: str | None = batch_field(
        _question_texts,
        description="The question's text in the request's language; null if the version "
        "no longer has it or is hidden from you.",
    )

    @classmethod
    def from_model(cls, row: models.SurveyAnswer, template_version_id: int) -> Self:
        return cls(
            question_key=row.question_key,
            kind=SurveyQuestionKind(row.kind),
            dimension=row.dimension,
            score=row.score,
            yes=row.yes,
            choice=row.choice,
            text=row.text,
            template_version_id=template_version_id,
        )


async def _answers(
    context: RequestContext, responses: Sequence[SurveyResponse]
) -> list[list[SurveyAnswer]]:
    found = await context.loader(AnswersLoader).load_level([response.id for response in responses])
    return [
        [SurveyAnswer.from_model(row, response.template_version_id) for row in rows]
        for response, rows in zip(responses, found, strict=True)
    ]


async def _response_subjects(
    context: RequestContext, responses: Sequence[SurveyResponse]
) -> list[SurveySubject]:
    invitations = await context.loader(InvitationByIdLoader).load_level(
        [response.invitation_id for response in responses]
    )
    return [
        SurveySubject.of(
            response.subject_kind,
            response.subject_id,
            invitation.subject_number if invitation is not None else None,
            response.subject_type,
        )
        for response, invitation in zip(responses, invitations, strict=True)
    ]


@strawberry.type(description="The answers one contact gave to one invitation.")
class SurveyResponse(ModelNode[models.SurveyResponse]):
    by_id_loader = ResponseByIdLoader
    id: relay.NodeID[int]
    submitted_at: dt.datetime = strawberry.field(description="When the answers were sent.")
    satisfied: bool | None = strawberry.field(
        description="The answer to the SATISFIED yes/no question, if the survey has one."
    )
    nps: int | None = strawberry.field(description="The NPS answer (0-10), if any.")
    comment: str | None = strawberry.field(description="The text answers, joined.")
    low_scored: bool = strawberry.field(
        description="Not satisfied, a rating of 1 or 2, or an NPS of 0-6."
    )
    locale: str = strawberry.field(description="The language answered in (en or zh-CN).")
    invitation_id: strawberry.Private[int]
    template_id: strawberry.Private[int]
    template_version_id: strawberry.Private[int]
    customer_id: strawberry.Private[int]
    contact_id: strawberry.Private[int | None]
    handler_id: strawberry.Private[int | None]
    subject_kind: strawberry.Private[str]
    subject_id: strawberry.Private[int | None]
    subject_type: strawberry.Private[str | None]
    answers: list[SurveyAnswer] = batch_field(
        _answers, description="One per question answered, in the order stored."
    )
    customer: Customer | None = batch_field(
        related(Customer, "customer_id"), description="null when the customer is hidden from you."
    )
    contact: Contact | None = batch_field(
        related(Contact, "contact_id"),
        description="The contact who answered; null when erased or hidden from you.",
    )
    handler: UserSummary | None = batch_field(
        related(UserSummary, "handler_id"),
        description="Who handled the ticket the survey followed.",
    )
    template: SurveyTemplate | None = batch_field(related(SurveyTemplate, "template_id"))
    template_version: SurveyTemplateVersion | None = batch_field(
        related(SurveyTemplateVersion, "template_version_id"),
        description="The version of the template answered.",
    )
    invitation: SurveyInvitation | None = batch_field(
        related(lambda: SurveyInvitation, "invitation_id"), description="The invitation answered."
    )
    subject: SurveySubject = batch_field(
        _response_subjects, description="What the survey followed."
    )

    @classmethod
    def from_model(cls, row: models.SurveyResponse) -> Self:
        return cls(
            id=row.id,
            submitted_at=row.submitted_at,
            satisfied=row.satisfied,
            nps=row.nps,
            comment=row.comment,
            low_scored=row.low_scored,
            locale=row.locale,
            invitation_id=row.invitation_id,
            template_id=row.template_id,
            template_version_id=row.template_version_id,
            customer_id=row.customer_id,
            contact_id=row.contact_id,
            handler_id=row.handler_id,
            subject_kind=row.subject_kind,
            subject_id=row.subject_id,
            subject_type=row.subject_type,
        )


async def _invitation_subjects(
    _context: RequestContext, invitations: Sequence[SurveyInvitation]
) -> list[SurveySubject]:
    return [
        SurveySubject.of(
            invitation.subject_kind,
            invitation.subject_id,
            invitation.subject_number,
            invitation.subject_type,
        )
        for invitation in invitations
    ]


async def _expired(context: RequestContext, invitations: Sequence[SurveyInvitation]) -> list[bool]:
    now = context.now()
    return [
        invitation.status is SurveyInvitationStatus.SENT
        and invitation.expires_at is not None
        and invitation.expires_at <= now
        for invitation in invitations
    ]


async def _responses(
    context: RequestContext, invitations: Sequence[SurveyInvitation]
) -> list[SurveyResponse | None]:
    rows = await context.loader(ResponseByInvitationLoader).load_level(
        [invitation.id for invitation in invitations]
    )
    return [SurveyResponse.from_model(row) if row is not None else None for row in rows]


@strawberry.type(
    description="One contact asked one survey: SENT (a link went out), SKIPPED (with the "
    "reason) or ANSWERED."
)
class SurveyInvitation(ModelNode[models.SurveyInvitation]):
    by_id_loader = InvitationByIdLoader
    id: relay.NodeID[int]
    status: SurveyInvitationStatus
    skip_reason: SurveySkipReason | None = strawberry.field(
        description="Why nobody was asked; null unless SKIPPED."
    )
    email: str | None = strawberry.field(
        description="The address the link went to; null when skipped or erased."
    )
    locale: str = strawberry.field(description="The language of the mail (en or zh-CN).")
    sent_at: dt.datetime | None = strawberry.field(description="null when skipped.")
    expires_at: dt.datetime | None = strawberry.field(description="When the link stops working.")
    answered_at: dt.datetime | None
    created_at: dt.datetime
    template_id: strawberry.Private[int]
    template_version_id: strawberry.Private[int]
    customer_id: strawberry.Private[int]
    contact_id: strawberry.Private[int | None]
    handler_id: strawberry.Private[int | None]
    created_by_id: strawberry.Private[int | None]
    subject_kind: strawberry.Private[str]
    subject_id: strawberry.Private[int | None]
    subject_number: strawberry.Private[str | None]
    subject_type: strawberry.Private[str | None]
    subject: SurveySubject = batch_field(
        _invitation_subjects, description="What the survey follows."
    )
    expired: bool = batch_field(
        _expired, description="true: SENT and its link no longer works (past expiresAt)."
    )
    customer: Customer | None = batch_field(
        related(Customer, "customer_id"), description="null when the customer is hidden from you."
    )
    contact: Contact | None = batch_field(
        related(Contact, "contact_id"), description="The contact asked; null when there was none."
    )
    template: SurveyTemplate | None = batch_field(related(SurveyTemplate, "template_id"))
    template_version: SurveyTemplateVersion | None = batch_field(
        related(SurveyTemplateVersion, "template_version_id"),
        description="The version of the template asked.",
    )
    handler: UserSummary | None = batch_field(
        related(UserSummary, "handler_id"),
        description="Who handled the ticket the survey follows.",
    )
    created_by: UserSummary | None = batch_field(
        related(UserSummary, "created_by_id"),
        description="Who sent it by hand (sendSurvey); null otherwise.",
    )
    response: SurveyResponse | None = batch_field(
        _responses, description="The answers; null until answered."
    )

    @classmethod
    def from_model(cls, row: models.SurveyInvitation) -> Self:
        return cls(
            id=row.id,
            status=SurveyInvitationStatus(row.status),
            skip_reason=SurveySkipReason(row.skip_reason) if row.skip_reason else None,
            email=row.email,
            locale=row.locale,
            sent_at=row.sent_at,
            expires_at=row.expires_at,
            answered_at=row.answered_at,
            created_at=row.created_at,
            template_id=row.template_id,
            template_version_id=row.template_version_id,
            customer_id=row.customer_id,
            contact_id=row.contact_id,
            handler_id=row.handler_id,
            created_by_id=row.created_by_id,
            subject_kind=row.subject_kind,
            subject_id=row.subject_id,
            subject_number=row.subject_number,
            subject_type=row.subject_type,
        )


@strawberry.type
class SendSurveyPayload:
    invitations: list[SurveyInvitation] = strawberry.field(
        description="One per contact asked, the skipped ones with their skipReason."
    )
    errors: list[UserError]

    @classmethod
    def of(cls, rows: list[models.SurveyInvitation] | None, errors: list[UserError]) -> Self:
        return cls(
            invitations=[SurveyInvitation.from_model(row) for row in rows or []], errors=errors
        )


NODES: list[type[Any]] = [SurveyInvitation, SurveyResponse]
"""Node types of this module (for ``node(id:)``)."""
