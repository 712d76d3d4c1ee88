"""Survey templates: writing one, changing its names and questions, switching it on and off.

A template's questions live in its versions. Changing the questions of a template whose
current version was sent (an invitation went out with it, answered or not) makes a new
version (the next number), which new invitations ask (the same questions given again
change nothing); invitations and responses keep the
version they asked, so a link already out never shows questions other than those it was
sent with. A version nobody was sent is edited in place. Only a YES_NO question may carry
the ``SATISFIED`` dimension (the overall answer that closes or reopens a ticket), and only
one. Every change is audited (``surveys.template.<verb>``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Check,
    RequestContext,
    UserErrorCode,
    UserErrors,
    actor_of,
    audit,
    not_found,
    require,
    require_version,
    translator,
)
from plugins.surveys import declarations
from plugins.surveys.models import SurveyInvitation, SurveyTemplate, SurveyTemplateVersion
from plugins.surveys.questions import SATISFIED, Choice, Question, QuestionKind
from plugins.surveys.service.invitations import ANSWERED, SENT

_ = translator(__name__)

TEMPLATE_KEY = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")
QUESTION_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
DIMENSION = re.compile(r"^[A-Z][A-Z0-9_]{0,39}$")
PURPOSES = ("TICKET", "RELATIONSHIP", "GENERAL")
NAME_LENGTH = 200
TEXT_LENGTH = 500
MIN_QUESTIONS, MAX_QUESTIONS = 1, 50
MIN_CHOICES, MAX_CHOICES = 2, 20


def check_questions(check: Check, given: Sequence[Any] | None) -> list[Question]:
    """The questions of an input (objects with ``key``, ``kind``, ``text_en``, ``text_zh``,
    ``required``, ``dimension``, ``choices``), each refusal naming ``questions.<i>.<field>``."""
    items = list(given or [])
    if not MIN_QUESTIONS <= len(items) <= MAX_QUESTIONS:
        check.fail(
            "questions",
            _("give from {min} to {max} questions", min=MIN_QUESTIONS, max=MAX_QUESTIONS),
            UserErrorCode.OUT_OF_RANGE,
        )
        return []
    questions: list[Question] = []
    keys: set[str] = set()
    satisfied = 0
    for index, item in enumerate(items):
        field = f"questions.{index}"
        key = (item.key or "").strip()
        if not QUESTION_KEY.match(key):
            check.fail(
                f"{field}.key",
                _("must be lower case letters, digits and _, from a letter, at most 40"),
                UserErrorCode.INVALID,
            )
        elif key in keys:
            check.fail(f"{field}.key", _("is used by another question"), UserErrorCode.DUPLICATE)
        keys.add(key)
        kind = QuestionKind(item.kind.value)
        text_en = check.text(f"{field}.textEn", item.text_en, max_length=TEXT_LENGTH)
        text_zh = check.text(f"{field}.textZh", item.text_zh, max_length=TEXT_LENGTH)
        dimension = (item.dimension or "").strip().upper() or None
        if kind is QuestionKind.RATING and dimension is None:
            check.fail(
                f"{field}.dimension",
                _("a RATING question names the dimension it rates"),
                UserErrorCode.REQUIRED,
            )
        elif dimension is not None and not DIMENSION.match(dimension):
            check.fail(
                f"{field}.dimension",
                _("must be upper case letters, digits and _, from a letter, at most 40"),
                UserErrorCode.INVALID,
            )
        if dimension == SATISFIED and kind is not QuestionKind.YES_NO:
            check.fail(
                f"{field}.dimension",
                _("only a YES_NO question may be the SATISFIED answer"),
                UserErrorCode.INVALID,
            )
        elif kind is QuestionKind.YES_NO and dimension == SATISFIED:
            satisfied += 1
            if satisfied > 1:
                check.fail(
                    f"{field}.dimension",
                    _("only one YES_NO question may be the SATISFIED answer"),
                    UserErrorCode.DUPLICATE,
                )
        choices = _check_choices(check, field, kind, item.choices)
        if text_en is not None and text_zh is not None:
            questions.append(
                Question(
                    key=key,
                    kind=kind,
                    dimension=dimension,
                    required=bool(item.required),
                    text_en=text_en,
                    text_zh=text_zh,
                    choices=tuple(choices),
                )
            )
    return questions


def _check_choices(
    check: Check, field: str, kind: QuestionKind, given: Sequence[Any] | None
) -> list[Choice]:
    items = list(given or [])
    if kind is not QuestionKind.CHOICE:
        if items:
            check.fail(
                f"{field}.choices", _("only a CHOICE question has choices"), UserErrorCode.INVALID
            )
        return []
    if not MIN_CHOICES <= len(items) <= MAX_CHOICES:
        check.fail(
            f"{field}.choices",
            _("give from {min} to {max} choices", min=MIN_CHOICES, max=MAX_CHOICES),
            UserErrorCode.OUT_OF_RANGE,
        )
        return []
    choices: list[Choice] = []
    keys: set[str] = set()
    for index, item in enumerate(items):
        at = f"{field}.choices.{index}"
        key = (item.key or "").strip()
        if not QUESTION_KEY.match(key):
            check.fail(
                f"{at}.key",
                _("must be lower case letters, digits and _, from a letter, at most 40"),
                UserErrorCode.INVALID,
            )
        elif key in keys:
            check.fail(f"{at}.key", _("is used by another choice"), UserErrorCode.DUPLICATE)
        keys.add(key)
        text_en = check.text(f"{at}.textEn", item.text_en, max_length=TEXT_LENGTH)
        text_zh = check.text(f"{at}.textZh", item.text_zh, max_length=TEXT_LENGTH)
        if text_en is not None and text_zh is not None:
            choices.append(Choice(key, text_en, text_zh))
    return choices


def _check_purpose(check: Check, purpose: str) -> None:
    if purpose not in PURPOSES:
        check.fail("purpose", _("is not a purpose"), UserErrorCode.INVALID)


def snapshot(row: SurveyTemplate) -> dict[str, Any]:
    return {
        "key": row.key,
        "purpose": row.purpose,
        "nameEn": row.name_en,
        "nameZh": row.name_zh,
        "active": row.active,
        "currentVersion": row.current_version,
    }


def _record(
    session: AsyncSession,
    context: RequestContext,
    verb: str,
    row: SurveyTemplate,
    before: dict[str, Any] | None,
    extra: dict[str, Any] | None = None,
) -> None:
    after = snapshot(row)
    changes = audit.created(after) if before is None else audit.diff(before, after)
    audit.record(
        session,
        actor_of(context),
        f"surveys.template.{verb}",
        "SurveyTemplate",
        row.id,
        {**changes, **(extra or {})},
    )


async def create(
    session: AsyncSession,
    context: RequestContext,
    check: Check,
    *,
    key: str,
    purpose: str,
    name_en: str,
    name_zh: str,
    questions: Sequence[Any],
    active: bool,
) -> SurveyTemplate:
    caller = require(context, declarations.MANAGE)
    cleaned_key = (key or "").strip().upper()
    if not TEMPLATE_KEY.match(cleaned_key):
        check.fail(
            "key",
            _("must be upper case letters, digits and _, from a letter, 2-40 long"),
            UserErrorCode.INVALID,
        )
    elif await session.scalar(select(SurveyTemplate.id).where(SurveyTemplate.key == cleaned_key)):
        check.fail("key", _("is used by another template"), UserErrorCode.DUPLICATE)
    _check_purpose(check, purpose)
    en = check.text("nameEn", name_en, max_length=NAME_LENGTH)
    zh = check.text("nameZh", name_zh, max_length=NAME_LENGTH)
    checked = check_questions(check, questions)
    check.done()
    assert en is not None
    assert zh is not None
    now = context.now()
    row = SurveyTemplate(
        key=cleaned_key,
        purpose=purpose,
        name_en=en,
        name_zh=zh,
        active=active,
        built_in=False,
        current_version=1,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(row)
    await session.flush()
    session.add(
        SurveyTemplateVersion(
            template_id=row.id,
            number=1,
            questions=[q.as_json() for q in checked],
            created_at=now,
            created_by_id=caller.user_id,
        )
    )
    await session.flush()
    _record(session, context, "created", row, None)
    return row


async def _writable(
    session: AsyncSession, context: RequestContext, template_id: int | None
) -> SurveyTemplate:
    require(context, declarations.MANAGE)
    row = None
    if template_id is not None:
        row = await session.scalar(
            select(SurveyTemplate).where(SurveyTemplate.id == template_id).with_for_update()
        )
    if row is None:
        raise not_found("input.id", _("no survey template with this id"))
    return row


async def _replace_questions(
    session: AsyncSession,
    row: SurveyTemplate,
    stored: list[dict[str, Any]],
    now: dt.datetime,
    user_id: int | None,
) -> bool:
    """Give ``row`` the questions ``stored``: a new version when the current one was sent,
    else in place; ``False`` (nothing done) when they are the current ones already."""
    current = await session.scalar(
        select(SurveyTemplateVersion).where(
            SurveyTemplateVersion.template_id == row.id,
            SurveyTemplateVersion.number == row.current_version,
        )
    )
    if current is not None:
        if [Question.of(item).as_json() for item in current.questions or []] == stored:
            return False
        sent = await session.scalar(
            select(
                exists().where(
                    SurveyInvitation.template_version_id == current.id,
                    SurveyInvitation.status.in_((SENT, ANSWERED)),
                )
            )
        )
        if not sent:
            current.questions = stored
            current.created_by_id = user_id
            return True
    highest = await session.scalar(
        select(func.max(SurveyTemplateVersion.number)).where(
            SurveyTemplateVersion.template_id == row.id
        )
    )
    number = (highest or 0) + 1
    session.add(
        SurveyTemplateVersion(
            template_id=row.id,
            number=number,
            questions=stored,
            created_at=now,
            created_by_id=user_id,
        )
    )
    row.current_version = number
    return True


async def update(
    session: AsyncSession,
    context: RequestContext,
    check: Check,
    template_id: int | None,
    version: int,
    changes: dict[str, Any],
) -> SurveyTemplate:
    """Change the names, purpose and questions ``changes`` gives (snake case)."""
    row = await _writable(session, context, template_id)
    require_version(row, version)
    caller = require(context, declarations.MANAGE)
    if "purpose" in changes:
        _check_purpose(check, changes["purpose"])
    en = zh = None
    if "name_en" in changes:
        en = check.text("nameEn", changes["name_en"], max_length=NAME_LENGTH)
    if "name_zh" in changes:
        zh = check.text("nameZh", changes["name_zh"], max_length=NAME_LENGTH)
    checked = check_questions(check, changes["questions"]) if "questions" in changes else None
    check.done()
    before = snapshot(row)
    now = context.now()
    if "purpose" in changes:
        row.purpose = changes["purpose"]
    if en is not None:
        row.name_en = en
    if zh is not None:
        row.name_zh = zh
    extra: dict[str, Any] = {}
    if checked is not None:
        stored = [q.as_json() for q in checked]
        if await _replace_questions(session, row, stored, now, caller.user_id):
            extra["questions"] = [q["key"] for q in stored]
    row.updated_at = now
    row.version += 1
    await session.flush()
    _record(session, context, "updated", row, before, extra)
    return row


async def set_active(
    session: AsyncSession,
    context: RequestContext,
    template_id: int | None,
    version: int,
    active: bool,
) -> SurveyTemplate:
    row = await _writable(session, context, template_id)
    require_version(row, version)
    if row.active == active:
        raise UserErrors.single(
            "active",
            _("the template is already active") if active else _("the template is already off"),
            UserErrorCode.INVALID_TRANSITION,
        )
    before = snapshot(row)
    row.active = active
    row.updated_at = context.now()
    row.version += 1
    await session.flush()
    _record(session, context, "activated" if active else "deactivated", row, before)
    return row
