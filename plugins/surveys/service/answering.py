"""Answering a survey: the public page's POST and ``submitSurveyResponse`` both end here.

:func:`submit` finds the invitation by the hash of its link's token, refuses an unknown,
used or expired link (:class:`LinkRefused`, naming ``token``), checks every answer against
the question it answers (the template version the invitation asked), stores the response
and its answers, marks the invitation ANSWERED and announces the response: the plugin's
``crm_survey_response_submitted`` hook (the tickets plugin closes or reopens the ticket) and
the ``survey.response_submitted`` webhook event, all in the caller's transaction.

One response per invitation, even when two submits race: the invitation moves from SENT to
ANSWERED by a conditional UPDATE, which only one transaction can win (the other waits for
the winner's row lock, then finds it ANSWERED), and ``survey_responses.invitation_id`` is
unique besides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Actor,
    Check,
    CRMPluginManager,
    RequestContext,
    UserError,
    UserErrorCode,
    UserErrors,
    audit,
    call_in_turn,
    global_id,
    translator,
)
from plugins.surveys import models, questions, webhooks
from plugins.surveys.questions import Question, QuestionKind
from plugins.surveys.service import tokens

_ = translator(__name__)

SENT, ANSWERED = "SENT", "ANSWERED"
MAX_ANSWERS = 100
"""More answers than this are refused unread (no survey asks that many questions)."""
RESPONDENT = "survey respondent"
"""The audit trail's label of the (anonymous) customer who answered."""


@dataclass(frozen=True)
class Answer:
    """One answer as given: the question's key and the value that fits its kind."""

    question_key: str | None
    score: int | None = None
    yes: bool | None = None
    choice: str | None = None
    text: str | None = None


class LinkRefused(UserErrors):
    """The link cannot be answered: ``state`` is ``unknown``, ``expired`` or ``answered``
    and ``when`` the time it expired or was answered."""

    def __init__(self, state: str, message: str, when: dt.datetime | None = None) -> None:
        code = UserErrorCode.DUPLICATE if state == "answered" else UserErrorCode.INVALID
        super().__init__([UserError(field="token", message=message, code=code)])
        self.state = state
        self.when = when


def day(when: dt.datetime, zone: dt.tzinfo) -> str:
    """A date as the link's messages write it: the calendar day in the deployment's zone."""
    return when.astimezone(zone).date().isoformat()


def unknown_link() -> LinkRefused:
    return LinkRefused("unknown", _("this survey link is not valid"))


def expired_link(when: dt.datetime, zone: dt.tzinfo) -> LinkRefused:
    return LinkRefused(
        "expired", _("this survey link expired on {date}", date=day(when, zone)), when
    )


def answered_link(when: dt.datetime | None, zone: dt.tzinfo) -> LinkRefused:
    if when is None:
        return LinkRefused("answered", _("this survey was already answered"))
    return LinkRefused(
        "answered",
        _("this survey was already answered on {date}", date=day(when, zone)),
        when,
    )


async def open_invitation(
    session: AsyncSession, token: str | None, now: dt.datetime, zone: dt.tzinfo
) -> tuple[models.SurveyInvitation, list[Question]]:
    """The invitation ``token`` links to and the questions it asks.

    :raises LinkRefused: no such link, or it was answered, or it expired.
    """
    if not token or len(token) > tokens.MAX_TOKEN_LENGTH:
        raise unknown_link()
    invitation = await session.scalar(
        select(models.SurveyInvitation).where(
            models.SurveyInvitation.token_hash == tokens.hash_token(token)
        )
    )
    if invitation is None or invitation.status not in (SENT, ANSWERED):
        raise unknown_link()
    if invitation.status == ANSWERED:
        raise answered_link(invitation.answered_at, zone)
    if invitation.expires_at is not None and now >= invitation.expires_at:
        raise expired_link(invitation.expires_at, zone)
    version = await session.get(models.SurveyTemplateVersion, invitation.template_version_id)
    if version is None:  # the version is kept while invitations point at it
        raise unknown_link()
    return invitation, questions.questions_of(version.questions)


# --- the answers -----------------------------------------------------------------------------

_FIELDS = {
    QuestionKind.RATING: "score",
    QuestionKind.NPS: "score",
    QuestionKind.YES_NO: "yes",
    QuestionKind.CHOICE: "choice",
    QuestionKind.TEXT: "text",
}
"""The field of an answer that answers each kind of question."""


def _given(answer: Answer) -> list[str]:
    values = {
        "score": answer.score,
        "yes": answer.yes,
        "choice": answer.choice,
        "text": answer.text if answer.text is None or answer.text.strip() else None,
    }
    return [name for name, value in values.items() if value is not None]


def check_answers(
    asked: Sequence[Question], answers: Sequence[Answer]
) -> list[tuple[Question, Answer]]:
    """The answers paired with their questions, in the order asked; an answer left empty is
    no answer.

    :raises UserErrors: every refused answer, at ``answers.<index>.<field>``, and every
        required question left unanswered, at ``answers.<question key>``.
    """
    check = Check()
    if len(answers) > MAX_ANSWERS:
        check.fail("answers", _("at most {max} answers", max=MAX_ANSWERS), UserErrorCode.TOO_LONG)
        check.done()
    by_key = {question.key: question for question in asked}
    found: dict[str, tuple[Question, Answer]] = {}
    seen: set[str] = set()
    refused: set[str] = set()
    for index, answer in enumerate(answers):
        at = f"answers.{index}"
        key = (answer.question_key or "").strip()
        question = by_key.get(key)
        if question is None:
            check.fail(
                f"{at}.questionKey",
                _("is not a question of this survey") if key else _("is required"),
                UserErrorCode.INVALID if key else UserErrorCode.REQUIRED,
            )
            continue
        if key in seen:
            check.fail(
                f"{at}.questionKey",
                _("answers the question {key} a second time", key=key),
                UserErrorCode.DUPLICATE,
            )
            continue
        seen.add(key)
        field = _FIELDS[question.kind]
        given = _given(answer)
        wrong = [name for name in given if name != field]
        for name in wrong:
            check.fail(
                f"{at}.{name}",
                _(
                    "does not answer a {kind} question (give {field})",
                    kind=question.kind.value,
                    field=field,
                ),
                UserErrorCode.INVALID,
            )
        if wrong:
            refused.add(key)
            continue
        if field not in given:
            continue
        before = len(check.errors)
        cleaned = _checked(check, f"{at}.{field}", question, answer)
        if cleaned is not None:
            found[key] = (question, cleaned)
        elif len(check.errors) > before:
            refused.add(key)
    for question in asked:
        if question.required and question.key not in found and question.key not in refused:
            check.fail(
                f"answers.{question.key}",
                _("the question {key} is required", key=question.key),
                UserErrorCode.REQUIRED,
            )
    check.done()
    return [found[question.key] for question in asked if question.key in found]


def _checked(check: Check, field: str, question: Question, answer: Answer) -> Answer | None:
    """The answer, cleaned, or ``None`` when refused (the failure added to ``check``)."""
    kind = question.kind
    if kind in (QuestionKind.RATING, QuestionKind.NPS):
        low, high = (
            (questions.RATING_MIN, questions.RATING_MAX)
            if kind is QuestionKind.RATING
            else (questions.NPS_MIN, questions.NPS_MAX)
        )
        score = answer.score
        if score is None or isinstance(score, bool) or not low <= score <= high:
            check.fail(
                field,
                _("must be from {low} to {high}", low=low, high=high),
                UserErrorCode.OUT_OF_RANGE,
            )
            return None
        return Answer(question.key, score=score)
    if kind is QuestionKind.YES_NO:
        return Answer(question.key, yes=bool(answer.yes))
    if kind is QuestionKind.CHOICE:
        keys = [choice.key for choice in question.choices]
        if answer.choice not in keys:
            check.fail(
                field,
                _("must be one of {choices}", choices=", ".join(keys)),
                UserErrorCode.INVALID,
            )
            return None
        return Answer(question.key, choice=answer.choice)
    text = check.text(field, answer.text, max_length=questions.TEXT_MAX, required=False)
    return Answer(question.key, text=text) if text is not None else None


def figures(answered: Sequence[tuple[Question, Answer]]) -> dict[str, Any]:
    """``satisfied``, ``nps``, ``comment`` and ``low_scored`` of a response."""
    satisfied: bool | None = None
    nps: int | None = None
    texts: list[str] = []
    low_rating = False
    for question, answer in answered:
        if question.kind is QuestionKind.YES_NO and question.dimension == questions.SATISFIED:
            satisfied = answer.yes
        elif question.kind is QuestionKind.NPS:
            nps = answer.score
        elif question.kind is QuestionKind.TEXT and answer.text:
            texts.append(answer.text)
        elif question.kind is QuestionKind.RATING and answer.score is not None:
            low_rating = low_rating or answer.score <= questions.LOW_RATING
    low_scored = (
        satisfied is False or low_rating or (nps is not None and nps <= questions.DETRACTOR)
    )
    return {
        "satisfied": satisfied,
        "nps": nps,
        "comment": "\n\n".join(texts) or None,
        "low_scored": low_scored,
    }


# --- submitting ------------------------------------------------------------------------------


async def submit(
    session: AsyncSession,
    pm: CRMPluginManager,
    *,
    token: str | None,
    answers: Sequence[Answer],
    locale: str,
    client_address: str | None,
    now: dt.datetime,
    context: RequestContext | None,
) -> models.SurveyResponse:
    """Store the answers to the survey ``token`` links to, in the caller's transaction.

    :raises LinkRefused: the link is unknown, used or expired (field ``token``).
    :raises UserErrors: an answer is refused or a required question unanswered.
    """
    zone = context.settings.zone if context is not None else dt.UTC
    invitation, asked = await open_invitation(session, token, now, zone)
    answered = check_answers(asked, answers)
    claimed = await session.execute(
        update(models.SurveyInvitation)
        .where(
            models.SurveyInvitation.id == invitation.id,
            models.SurveyInvitation.status == SENT,
            or_(
                models.SurveyInvitation.expires_at.is_(None),
                models.SurveyInvitation.expires_at > now,
            ),
        )
        .values(status=ANSWERED, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        # The row changed since it was read: another submit won the race, or the link was
        # cut short meanwhile (a new round of the ticket's survey expires the old link).
        raise await _refusal(session, invitation.id, now, zone)
    invitation.status, invitation.answered_at = ANSWERED, now
    response = models.SurveyResponse(
        invitation_id=invitation.id,
        template_id=invitation.template_id,
        template_version_id=invitation.template_version_id,
        customer_id=invitation.customer_id,
        contact_id=invitation.contact_id,
        subject_kind=invitation.subject_kind,
        subject_id=invitation.subject_id,
        subject_type=invitation.subject_type,
        handler_id=invitation.handler_id,
        locale=locale,
        submitted_at=now,
        **figures(answered),
    )
    session.add(response)
    try:
        await session.flush()
    except IntegrityError:  # a response exists already: the unique invitation_id held
        raise answered_link(None, zone) from None
    session.add_all(
        models.SurveyAnswer(
            response_id=response.id,
            question_key=question.key,
            kind=question.kind.value,
            dimension=question.dimension,
            score=answer.score,
            yes=answer.yes,
            choice=answer.choice,
            text=answer.text,
        )
        for question, answer in answered
    )
    await session.flush()
    audit.record(
        session,
        Actor(
            label=RESPONDENT,
            client_address=client_address,
            request_id=context.request_id if context is not None else None,
            at=now,
        ),
        "survey_response.submitted",
        "SurveyResponse",
        response.id,
        {
            "invitationId": global_id("SurveyInvitation", invitation.id),
            "lowScored": response.low_scored,
        },
    )
    await call_in_turn(
        pm.hook.crm_survey_response_submitted,
        session=session,
        response=response,
        context=context,
    )
    await webhooks.response_submitted(session, response, answered, now)
    return response


async def _refusal(
    session: AsyncSession, invitation_id: int, now: dt.datetime, zone: dt.tzinfo
) -> LinkRefused:
    """Why the invitation, as it stands now (re-read), cannot be answered."""
    found = (
        await session.execute(
            select(
                models.SurveyInvitation.status,
                models.SurveyInvitation.answered_at,
                models.SurveyInvitation.expires_at,
            ).where(models.SurveyInvitation.id == invitation_id)
        )
    ).one_or_none()
    if found is None or found.status not in (SENT, ANSWERED):
        return unknown_link()
    if found.status == ANSWERED:
        return answered_link(found.answered_at, zone)
    if found.expires_at is not None and now >= found.expires_at:
        return expired_link(found.expires_at, zone)
    return answered_link(None, zone)
