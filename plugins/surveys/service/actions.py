"""Improvement actions: what is done about frequent negative feedback, followed up from OPEN
through IN_PROGRESS to DONE (or CANCELLED).

Every change needs ``surveys:manage`` and is audited (``surveys.action.<verb>``, the values
of :func:`snapshot`). The owner must be an active user and is notified when an action is
assigned to them (kind :data:`ASSIGNED`, declared in :data:`KINDS`); the linked responses
must be ones the caller may see. The version column is kept here: each change adds one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    ApiError,
    Check,
    NotificationKind,
    RequestContext,
    User,
    UserErrorCode,
    UserErrors,
    actor_of,
    audit,
    global_id,
    not_found,
    notify,
    require,
    require_version,
    translator,
)
from plugins.surveys import declarations
from plugins.surveys.models import (
    ImprovementAction,
    ImprovementActionResponse,
    SurveyResponse,
    SurveyTemplate,
)
from plugins.surveys.service.periods import month_buckets
from plugins.surveys.service.templates import DIMENSION

_ = translator(__name__)

ASSIGNED = "surveys.action_assigned"
KINDS: Mapping[str, NotificationKind] = {
    ASSIGNED: NotificationKind(_("An improvement action was assigned to you"), email=True),
}
"""The notification kinds of this module (for ``crm_notification_kinds``)."""

OPEN_STATUSES = ("OPEN", "IN_PROGRESS")
TRANSITIONS = {
    "OPEN": ("IN_PROGRESS", "CANCELLED"),
    "IN_PROGRESS": ("DONE", "CANCELLED"),
    "DONE": ("CANCELLED",),
    "CANCELLED": (),
}
TITLE_LENGTH = 200
DESCRIPTION_LENGTH = 5000
DIMENSION_LENGTH = 40
MAX_TERMS, TERM_LENGTH = 20, 100
MAX_RESPONSES = 100
TREND_MONTHS_BEFORE = 2
MAX_TREND_MONTHS = 36


def trend_start(context: RequestContext, created_at: dt.datetime) -> dt.datetime:
    """The start (UTC) of the month two months before ``created_at``'s, in the deployment's
    time zone; no earlier than 36 months before now."""
    zone = context.settings.zone
    local = created_at.astimezone(zone)
    index = local.year * 12 + local.month - 1 - TREND_MONTHS_BEFORE
    now = context.now().astimezone(zone)
    index = max(index, now.year * 12 + now.month - MAX_TREND_MONTHS)
    first = dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=zone)
    return month_buckets(zone, first, first + dt.timedelta(days=1))[0][1]


def snapshot(row: ImprovementAction, response_ids: Sequence[int]) -> dict[str, Any]:
    return {
        "title": row.title,
        "description": row.description,
        "ownerId": global_id("User", row.owner_id) if row.owner_id else None,
        "dueOn": row.due_on,
        "status": row.status,
        "dimension": row.dimension,
        "terms": list(row.terms or []),
        "responseIds": [global_id("SurveyResponse", item) for item in response_ids],
        "completedAt": row.completed_at,
    }


def _record(
    session: AsyncSession,
    context: RequestContext,
    verb: str,
    row: ImprovementAction,
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> None:
    changes = audit.created(after) if before is None else audit.diff(before, after)
    audit.record(
        session, actor_of(context), f"surveys.action.{verb}", "ImprovementAction", row.id, changes
    )


def _dimension(check: Check, value: str | None) -> str | None:
    cleaned = (value or "").strip().upper()
    if len(cleaned) > DIMENSION_LENGTH:
        check.fail(
            "dimension",
            _("must be at most {max} characters", max=DIMENSION_LENGTH),
            UserErrorCode.TOO_LONG,
        )
    elif cleaned and not DIMENSION.match(cleaned):
        check.fail(
            "dimension",
            _("must be a dimension key of letters, digits and underscores (RESPONSE_SPEED)"),
            UserErrorCode.INVALID,
        )
    return cleaned or None


def _terms(check: Check, values: Sequence[str]) -> list[str]:
    cleaned: list[str] = []
    if len(values) > MAX_TERMS:
        check.fail("terms", _("at most {max} terms", max=MAX_TERMS), UserErrorCode.OUT_OF_RANGE)
    for index, value in enumerate(values):
        term = check.text(f"terms.{index}", value, max_length=TERM_LENGTH)
        if term is not None and term not in cleaned:
            cleaned.append(term)
    return cleaned


async def _check_owner(session: AsyncSession, check: Check, owner_id: int | None) -> None:
    if owner_id is None or check.has_error("ownerId"):
        return
    found = await session.scalar(
        select(User.id).where(User.id == owner_id, User.is_active.is_(True))
    )
    if found is None:
        check.fail("ownerId", _("is not an active user"), UserErrorCode.INVALID)


async def _visible_responses(
    session: AsyncSession, context: RequestContext, response_ids: Sequence[int | None]
) -> list[int]:
    """The ids, each a response the caller may see; NOT_FOUND naming the first that is not."""
    if len(response_ids) > MAX_RESPONSES:
        raise UserErrors.single(
            "responseIds",
            _("at most {max} responses", max=MAX_RESPONSES),
            UserErrorCode.OUT_OF_RANGE,
        )
    wanted = [item for item in response_ids if item is not None]
    found = set(
        (
            await session.scalars(
                select(SurveyResponse.id).where(
                    SurveyResponse.id.in_(wanted), declarations.visible(context)
                )
            )
        ).all()
    )
    for index, item in enumerate(response_ids):
        if item is None or item not in found:
            raise not_found(
                f"input.responseIds.{index}", _("no survey response with this id that you may see")
            )
    return list(dict.fromkeys(wanted))


async def _linked(session: AsyncSession, action_id: int) -> list[int]:
    return list(
        (
            await session.scalars(
                select(ImprovementActionResponse.response_id)
                .where(ImprovementActionResponse.action_id == action_id)
                .order_by(ImprovementActionResponse.response_id)
            )
        ).all()
    )


async def _link(session: AsyncSession, action_id: int, response_ids: Sequence[int]) -> None:
    await session.execute(
        delete(ImprovementActionResponse).where(ImprovementActionResponse.action_id == action_id)
    )
    for response_id in response_ids:
        session.add(ImprovementActionResponse(action_id=action_id, response_id=response_id))
    await session.flush()


async def _tell_owner(
    session: AsyncSession, context: RequestContext, row: ImprovementAction
) -> None:
    caller = context.caller
    if row.owner_id is None or (caller is not None and caller.user_id == row.owner_id):
        return
    await notify(
        session,
        context,
        user_ids=[row.owner_id],
        kind=ASSIGNED,
        title=_("Improvement action assigned to you: {title}", title=row.title),
        body=row.description,
        subject=("ImprovementAction", row.id),
        now=context.now(),
    )


def _not_found() -> ApiError:
    return not_found("input.id", _("no improvement action with this id"))


async def writable_action(
    session: AsyncSession, context: RequestContext, action_id: int | None
) -> ImprovementAction:
    """The action, locked; NOT_FOUND when there is none."""
    require(context, declarations.MANAGE)
    row = None
    if action_id is not None:
        row = await session.scalar(
            select(ImprovementAction).where(ImprovementAction.id == action_id).with_for_update()
        )
    if row is None:
        raise _not_found()
    return row


async def create(
    session: AsyncSession,
    context: RequestContext,
    check: Check,
    *,
    title: str,
    description: str,
    owner_id: int | None,
    due_on: dt.date | None,
    dimension: str | None,
    terms: Sequence[str],
    response_ids: Sequence[int | None],
    template_id: int | None,
) -> ImprovementAction:
    caller = require(context, declarations.MANAGE)
    cleaned_title = check.text("title", title, max_length=TITLE_LENGTH)
    cleaned_description = check.text(
        "description", description, max_length=DESCRIPTION_LENGTH, required=False
    )
    cleaned_dimension = _dimension(check, dimension)
    cleaned_terms = _terms(check, terms)
    await _check_owner(session, check, owner_id)
    check.done()
    responses = await _visible_responses(session, context, response_ids)
    if template_id is not None and await session.get(SurveyTemplate, template_id) is None:
        raise not_found("input.templateId", _("no survey template with this id"))
    assert cleaned_title is not None
    now = context.now()
    row = ImprovementAction(
        title=cleaned_title,
        description=cleaned_description or "",
        owner_id=owner_id,
        due_on=due_on,
        status="OPEN",
        dimension=cleaned_dimension,
        terms=cleaned_terms,
        template_id=template_id,
        created_by_id=caller.user_id,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(row)
    await session.flush()
    await _link(session, row.id, responses)
    _record(session, context, "created", row, None, snapshot(row, sorted(responses)))
    await _tell_owner(session, context, row)
    return row


async def update(
    session: AsyncSession,
    context: RequestContext,
    check: Check,
    action_id: int | None,
    version: int,
    changes: dict[str, Any],
) -> ImprovementAction:
    """Change the fields in ``changes`` (input names, snake case; absent ones stay)."""
    row = await writable_action(session, context, action_id)
    require_version(row, version)
    linked = await _linked(session, row.id)
    before = snapshot(row, linked)
    previous_owner = row.owner_id
    if "title" in changes:
        cleaned = check.text("title", changes["title"], max_length=TITLE_LENGTH)
        if cleaned is not None:
            row.title = cleaned
    if "description" in changes:
        text = check.text(
            "description",
            changes["description"],
            max_length=DESCRIPTION_LENGTH,
            required=False,
        )
        row.description = text or ""
    if "owner_id" in changes:
        if changes["owner_id"] is None:
            check.fail("ownerId", _("cannot be null"), UserErrorCode.REQUIRED)
        await _check_owner(session, check, changes["owner_id"])
    if "dimension" in changes:
        row.dimension = _dimension(check, changes["dimension"])
    if "terms" in changes:
        row.terms = _terms(check, changes["terms"] or [])
    if "due_on" in changes:
        row.due_on = changes["due_on"]
    check.done()
    if changes.get("owner_id") is not None:
        row.owner_id = changes["owner_id"]
    if "response_ids" in changes:
        linked = sorted(await _visible_responses(session, context, changes["response_ids"] or []))
        await _link(session, row.id, linked)
    after = snapshot(row, linked)
    if after != before:
        row.updated_at = context.now()
        row.version += 1
        await session.flush()
        _record(session, context, "updated", row, before, after)
        if row.owner_id != previous_owner:
            await _tell_owner(session, context, row)
    return row


async def set_status(
    session: AsyncSession,
    context: RequestContext,
    action_id: int | None,
    version: int,
    status: str,
) -> ImprovementAction:
    """OPEN -> IN_PROGRESS -> DONE (completedAt set), CANCELLED from any other status."""
    row = await writable_action(session, context, action_id)
    require_version(row, version)
    if status not in TRANSITIONS[row.status]:
        raise UserErrors.single(
            "status",
            _(
                "an action that is {current} cannot become {status}",
                current=row.status,
                status=status,
            ),
            UserErrorCode.INVALID_TRANSITION,
        )
    linked = await _linked(session, row.id)
    before = snapshot(row, linked)
    now = context.now()
    row.status = status
    row.completed_at = now if status == "DONE" else None
    row.updated_at = now
    row.version += 1
    await session.flush()
    _record(session, context, "status_changed", row, before, snapshot(row, linked))
    return row


async def remove(
    session: AsyncSession, context: RequestContext, action_id: int | None, version: int
) -> int:
    row = await writable_action(session, context, action_id)
    require_version(row, version)
    before = snapshot(row, await _linked(session, row.id))
    deleted = row.id
    await session.delete(row)
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "surveys.action.deleted",
        "ImprovementAction",
        deleted,
        audit.diff(before, {}),
    )
    return deleted
