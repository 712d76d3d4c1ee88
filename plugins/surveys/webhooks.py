"""The surveys plugin's webhook events: their declarations and what each tells.

An event carries global ids, kinds and scores; never a comment, a text answer or a
person's details (a receiver reads those through the API with a token holding
``surveys:read``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import emit_event, global_id

if TYPE_CHECKING:
    from plugins.surveys.models import SurveyResponse
    from plugins.surveys.questions import Question
    from plugins.surveys.service.answering import Answer

RESPONSE_SUBMITTED = "survey.response_submitted"

EVENT_TYPES = {
    RESPONSE_SUBMITTED: "A customer's contact answered a survey (its scores, not its comments).",
}


def _subject(response: SurveyResponse) -> dict[str, Any]:
    ticket = response.subject_kind == "TICKET" and response.subject_id is not None
    return {
        "kind": response.subject_kind,
        "id": global_id("Ticket", response.subject_id) if ticket else None,
        "type": response.subject_type,
    }


def response_data(
    response: SurveyResponse, answered: Sequence[tuple[Question, Answer]]
) -> dict[str, Any]:
    return {
        "id": global_id("SurveyResponse", response.id),
        "invitationId": global_id("SurveyInvitation", response.invitation_id),
        "templateId": global_id("SurveyTemplate", response.template_id),
        "customerId": global_id("Customer", response.customer_id),
        "contactId": global_id("Contact", response.contact_id),
        "handlerId": global_id("User", response.handler_id),
        "subject": _subject(response),
        "submittedAt": response.submitted_at.isoformat(),
        "satisfied": response.satisfied,
        "nps": response.nps,
        "lowScored": response.low_scored,
        "hasComment": bool(response.comment),
        "scores": [
            {"questionKey": question.key, "dimension": question.dimension, "score": answer.score}
            for question, answer in answered
            if answer.score is not None
        ],
    }


async def response_submitted(
    session: AsyncSession,
    response: SurveyResponse,
    answered: Sequence[tuple[Question, Answer]],
    now: dt.datetime,
) -> None:
    await emit_event(session, RESPONSE_SUBMITTED, response_data(response, answered), now=now)
