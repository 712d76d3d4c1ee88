"""Demo surveys for ``crm demo``: relationship (NPS) surveys and service satisfaction surveys
over the last six months, answered by the demo customers' primary contacts, with handlers
among the support representatives and the usual mix of unanswered, expired and skipped
invitations. Each handler has a habit (one is slow, one is curt), so the analysis has
something to find, and low scores come with comments in English and Chinese.

The service surveys here stand for follow-ups of support calls (``MANUAL``): the ones after
tickets come from the tickets plugin's hook when a ticket is resolved.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    SUPPORT_REPRESENTATIVE,
    Contact,
    Customer,
    Role,
    Settings,
    User,
    UserRole,
    bulk_insert,
)
from plugins.surveys import models
from plugins.surveys.questions import questions_of
from plugins.surveys.service import tokens

MONTHS = 6
LOW_COMMENTS = {
    "zh-CN": [
        "响应速度太慢，等了三天才有人回复",
        "问题没有解决，还要再打电话",
        "工程师态度不好，说话不耐烦",
        "响应速度慢，问题拖了很久没有解决",
        "客服态度冷淡，专业水平一般",
    ],
    "en": [
        "The response was too slow, we waited three days.",
        "Problem not solved, I had to call again.",
        "Slow response and the engineer was rude.",
        "The problem was not solved on the first visit.",
    ],
}
GOOD_COMMENTS = {
    "zh-CN": ["服务很好，谢谢", "工程师很专业，问题很快解决了"],
    "en": ["Great service, thank you.", "Quick and professional."],
}
HABITS = (  # per handler: the dimension they are weaker at (None: good all round)
    None,
    "RESPONSE_SPEED",
    "ATTITUDE",
    None,
    "RESOLUTION",
)


async def load(session: AsyncSession, size: int, settings: Settings) -> None:
    rng = random.Random(20261205)
    now = dt.datetime.now(dt.UTC)
    templates = {
        row.key: row for row in (await session.scalars(select(models.SurveyTemplate))).all()
    }
    versions = {
        row.template_id: row
        for row in (await session.scalars(select(models.SurveyTemplateVersion))).all()
    }
    csat, nps = templates.get("CSAT_SERVICE"), templates.get("NPS_RELATIONSHIP")
    if csat is None or nps is None:
        return
    contacts = (
        await session.execute(
            select(Contact.id, Contact.customer_id, Contact.email, Contact.locale)
            .join(Customer, Customer.id == Contact.customer_id)
            .where(Contact.is_primary, Contact.archived_at.is_(None))
            .order_by(Contact.customer_id)
            .limit(size)
        )
    ).all()
    agents = list(
        (
            await session.scalars(
                select(User.id)
                .join(UserRole, UserRole.user_id == User.id)
                .join(Role, Role.id == UserRole.role_id)
                .where(Role.key == SUPPORT_REPRESENTATIVE)
                .order_by(User.id)
            )
        ).all()
    )
    plans: list[tuple[dict[str, Any], bool]] = []
    for contact in contacts:
        locale = contact.locale or ("zh-CN" if rng.random() < 0.6 else "en")
        for _round in range(rng.randint(1, 3)):
            template = csat if agents and rng.random() < 0.65 else nps
            sent = now - dt.timedelta(days=rng.uniform(2, MONTHS * 30))
            handler = rng.choice(agents) if template is csat else None
            invitation = {
                "template_id": template.id,
                "template_version_id": versions[template.id].id,
                "customer_id": contact.customer_id,
                "contact_id": contact.id,
                "email": contact.email,
                "locale": locale,
                "subject_kind": "MANUAL" if template is csat else "SCHEDULE",
                "subject_id": None,
                "subject_number": None,
                "subject_type": None,
                "handler_id": handler,
                "schedule_id": None,
                "status": "SENT",
                "skip_reason": None,
                "token_hash": tokens.new_token()[1],
                "expires_at": sent + dt.timedelta(days=14),
                "sent_at": sent,
                "answered_at": None,
                "created_at": sent,
                "created_by_id": None,
            }
            if contact.email is None:
                invitation.update(
                    status="SKIPPED",
                    skip_reason="NO_EMAIL",
                    email=None,
                    token_hash=None,
                    expires_at=None,
                    sent_at=None,
                )
            answered = contact.email is not None and rng.random() < 0.7
            plans.append((invitation, answered))
    if not plans:
        return
    for invitation, answered in plans:
        if answered:
            submitted = invitation["sent_at"] + dt.timedelta(hours=rng.uniform(1, 96))
            invitation.update(status="ANSWERED", answered_at=min(submitted, now))
    ids = (
        await session.scalars(
            insert(models.SurveyInvitation).returning(
                models.SurveyInvitation.id, sort_by_parameter_order=True
            ),
            [invitation for invitation, _answered in plans],
        )
    ).all()
    responses, answer_sets = [], []
    for (invitation, answered), invitation_id in zip(plans, ids, strict=True):
        if not answered:
            continue
        response, answers = _answers(rng, invitation, agents, versions)
        responses.append({**response, "invitation_id": invitation_id})
        answer_sets.append(answers)
    response_ids = (
        await session.scalars(
            insert(models.SurveyResponse).returning(
                models.SurveyResponse.id, sort_by_parameter_order=True
            ),
            responses,
        )
    ).all()
    rows = [
        {**answer, "response_id": response_id}
        for response_id, answers in zip(response_ids, answer_sets, strict=True)
        for answer in answers
    ]
    await bulk_insert(session, models.SurveyAnswer, rows)


def _answers(
    rng: random.Random,
    invitation: dict[str, Any],
    agents: list[int],
    versions: dict[int, models.SurveyTemplateVersion],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A response to ``invitation`` and its answers, shaped by the handler's habit."""
    handler = invitation["handler_id"]
    weak = HABITS[agents.index(handler) % len(HABITS)] if handler in agents else None
    mood = rng.random()
    scores: dict[str, int] = {}
    answers: list[dict[str, Any]] = []
    satisfied: bool | None = None
    nps: int | None = None
    for question in questions_of(versions[invitation["template_id"]].questions):
        row: dict[str, Any] = {
            "question_key": question.key,
            "kind": question.kind.value,
            "dimension": question.dimension,
            "score": None,
            "yes": None,
            "choice": None,
            "text": None,
        }
        if question.kind.value == "RATING":
            low = mood < 0.15 or (question.dimension == weak and mood < 0.5)
            row["score"] = rng.randint(1, 2) if low else rng.choice([3, 4, 4, 5, 5])
            scores[question.dimension or question.key] = row["score"]
        elif question.kind.value == "NPS":
            nps = rng.choice([3, 5, 6, 7, 8, 8, 9, 9, 10, 10]) if mood > 0.1 else rng.randint(0, 4)
            row["score"] = nps
        elif question.kind.value == "YES_NO":
            satisfied = min(scores.values(), default=5) >= 3
            row["yes"] = satisfied
        answers.append(row)
    low_scored = (
        satisfied is False
        or any(score <= 2 for score in scores.values())
        or (nps is not None and nps <= 6)
    )
    pool = LOW_COMMENTS if low_scored else GOOD_COMMENTS
    comment = rng.choice(pool[invitation["locale"]]) if low_scored or rng.random() < 0.3 else None
    for row in answers:
        if row["kind"] == "TEXT" and comment is not None:
            row["text"] = comment
            break
    response = {
        "template_id": invitation["template_id"],
        "template_version_id": invitation["template_version_id"],
        "customer_id": invitation["customer_id"],
        "contact_id": invitation["contact_id"],
        "subject_kind": invitation["subject_kind"],
        "subject_id": None,
        "subject_type": None,
        "handler_id": handler,
        "locale": invitation["locale"],
        "submitted_at": invitation["answered_at"],
        "satisfied": satisfied,
        "nps": nps,
        "comment": comment,
        "low_scored": low_scored,
    }
    return response, answers
