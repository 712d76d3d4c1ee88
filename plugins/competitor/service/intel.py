"""The intel log: what was learnt about a competitor, when and how surely, and who watches a
competitor to hear of it.

Logging an entry needs ``competitors:write`` (any scope); its reporter may correct it while
they hold that permission, anyone holding ``competitors:manage`` may correct or delete any
entry. ``occurredOn`` may not be in the future (the deployment's calendar) and the source is
an http(s) address. Watching needs only ``competitors:read``. An entry logged tells every
watcher but its reporter (notification kind :data:`INTEL_LOGGED`, to those still holding
``competitors:read``) and emits the webhook event ``competitor.intel_logged`` (ids, kind
and day: never the summary). Every change is audited (``competitor.intel.logged|updated|
deleted`` on entity ``IntelEntry``; ``competitor.watched|unwatched`` on entity
``competitor``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Check,
    NotificationKind,
    RequestContext,
    UserErrorCode,
    actor_of,
    audit,
    emit_event,
    forbidden,
    global_id,
    not_found,
    notify,
    require,
    translator,
    users_with_permission,
)
from plugins.competitor import declarations
from plugins.competitor.enums import Confidence, IntelKind
from plugins.competitor.models import Competitor, Intel, Watcher
from plugins.competitor.service.calendar import today
from plugins.competitor.service.profiles import find_competitor

_ = translator(__name__)

INTEL_LOGGED = "competitor.intel_logged"
KINDS: dict[str, NotificationKind] = {
    INTEL_LOGGED: NotificationKind(_("Intel was logged about a competitor you watch")),
}
"""The notification kinds of this module (for ``crm_notification_kinds``)."""

ENTITY = "IntelEntry"
SUMMARY_LENGTH = 5000
CONFIDENCE_RANK = {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}
KIND_NAMES = {
    IntelKind.PRICE_CHANGE: _("a price change"),
    IntelKind.PRODUCT_LAUNCH: _("a product launch"),
    IntelKind.CAMPAIGN: _("a campaign"),
    IntelKind.PARTNERSHIP: _("a partnership"),
    IntelKind.LEADERSHIP: _("a leadership change"),
    IntelKind.WIN: _("a win"),
    IntelKind.LOSS: _("a loss"),
    IntelKind.OTHER: _("news"),
}


def snapshot(row: Intel) -> dict[str, Any]:
    return {
        "competitorId": global_id("Competitor", row.competitor_id),
        "kind": row.kind,
        "summary": row.summary,
        "sourceUrl": row.source_url,
        "confidence": row.confidence,
        "occurredOn": row.occurred_on,
    }


def _record(
    session: AsyncSession,
    context: RequestContext,
    verb: str,
    row: Intel,
    before: dict[str, Any] | None,
) -> None:
    after = snapshot(row) if verb != "deleted" else {}
    changes = audit.created(after) if before is None else audit.diff(before, after)
    audit.record(session, actor_of(context), f"competitor.intel.{verb}", ENTITY, row.id, changes)


def _check_day(check: Check, day: dt.date | None, context: RequestContext) -> dt.date | None:
    if day is None:
        check.fail("occurredOn", _("cannot be null"), UserErrorCode.REQUIRED)
        return None
    latest = today(context)
    if day > latest:
        check.fail(
            "occurredOn",
            _("must not be in the future (today is {today})", today=latest),
            UserErrorCode.OUT_OF_RANGE,
        )
        return None
    return day


def _check_enum(check: Check, field: str, value: Any) -> str | None:
    if value is None:
        check.fail(field, _("cannot be null"), UserErrorCode.REQUIRED)
        return None
    name: str = value.value
    return name


async def log_intel(
    session: AsyncSession,
    context: RequestContext,
    check: Check,
    competitor_id: int | None,
    values: Mapping[str, Any],
) -> Intel:
    """Log an entry (``competitors:write``); ``values`` holds kind, summary, source_url,
    confidence and occurred_on (None: today). Tells the watchers and the webhooks."""
    caller = require(context, declarations.WRITE)
    competitor = None
    if competitor_id is not None:
        competitor = await find_competitor(session, competitor_id, "input.competitorId")
    kind = _check_enum(check, "kind", values["kind"])
    summary = check.text("summary", values["summary"], max_length=SUMMARY_LENGTH)
    source_url = check.url("sourceUrl", values["source_url"])
    confidence = _check_enum(check, "confidence", values["confidence"])
    occurred_on = values["occurred_on"]
    occurred = _check_day(check, today(context) if occurred_on is None else occurred_on, context)
    check.done()
    assert competitor is not None
    assert kind is not None
    assert summary is not None
    assert confidence is not None
    assert occurred is not None
    row = Intel(
        competitor_id=competitor.id,
        kind=kind,
        summary=summary,
        source_url=source_url,
        confidence=confidence,
        occurred_on=occurred,
        reporter_id=caller.user_id,
        created_at=context.now(),
    )
    session.add(row)
    await session.flush()
    _record(session, context, "logged", row, None)
    await _announce(session, context, competitor, row)
    return row


async def _announce(
    session: AsyncSession, context: RequestContext, competitor: Competitor, row: Intel
) -> None:
    """Tell the watchers (but the reporter) who still may read intel, and the webhooks."""
    now = context.now()
    watchers = set(
        (
            await session.scalars(
                select(Watcher.user_id).where(Watcher.competitor_id == competitor.id)
            )
        ).all()
    )
    watchers.discard(row.reporter_id)
    if watchers:
        readers = set(await users_with_permission(session, context.pm, declarations.READ))
        await notify(
            session,
            context,
            user_ids=sorted(watchers & readers),
            kind=INTEL_LOGGED,
            title=_(
                "Intel on {competitor}: {kind}",
                competitor=competitor.name,
                kind=KIND_NAMES[IntelKind(row.kind)],
            ),
            body=row.summary,
            subject=("IntelEntry", row.id),
            now=now,
            dedupe_key=f"{INTEL_LOGGED}:{row.id}",
        )
    await emit_event(
        session,
        INTEL_LOGGED,
        {
            "intel": global_id("IntelEntry", row.id),
            "competitor": global_id("Competitor", competitor.id),
            "kind": row.kind,
            "occurredOn": row.occurred_on.isoformat(),
        },
        now=now,
    )


async def _entry(session: AsyncSession, intel_id: int | None) -> Intel:
    row = None
    if intel_id is not None:
        row = await session.scalar(
            select(Intel)
            .where(Intel.id == intel_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    if row is None:
        raise not_found("input.id", _("no intel entry with this id"))
    return row


async def update_intel(
    session: AsyncSession,
    context: RequestContext,
    intel_id: int | None,
    changes: Mapping[str, Any],
) -> Intel:
    """Correct an entry: the fields named in ``changes`` (snake case). Its reporter (holding
    ``competitors:write``) or a holder of ``competitors:manage`` may."""
    caller = require(context)
    manages = caller.scope(declarations.MANAGE) is not None
    if not manages and caller.scope(declarations.WRITE) is None:
        raise forbidden(
            _("permission {permission!r} is required", permission=declarations.WRITE),
            permission=declarations.WRITE,
        )
    row = await _entry(session, intel_id)
    if not manages and row.reporter_id != caller.user_id:
        raise forbidden(
            _(
                "only its reporter or a holder of {permission!r} may change an intel entry",
                permission=declarations.MANAGE,
            ),
            permission=declarations.MANAGE,
        )
    before = snapshot(row)
    check = Check()
    new: dict[str, Any] = {}
    if "kind" in changes:
        new["kind"] = _check_enum(check, "kind", changes["kind"])
    if "summary" in changes:
        new["summary"] = check.text("summary", changes["summary"], max_length=SUMMARY_LENGTH)
    if "source_url" in changes:
        new["source_url"] = check.url("sourceUrl", changes["source_url"])
    if "confidence" in changes:
        new["confidence"] = _check_enum(check, "confidence", changes["confidence"])
    if "occurred_on" in changes:
        new["occurred_on"] = _check_day(check, changes["occurred_on"], context)
    check.done()
    for attribute, value in new.items():
        setattr(row, attribute, value)
    if snapshot(row) != before:
        await session.flush()
        _record(session, context, "updated", row, before)
    return row


async def delete_intel(
    session: AsyncSession, context: RequestContext, intel_id: int | None
) -> Intel:
    """Delete an entry (``competitors:manage``); the SWOT items citing it cite it no more."""
    require(context, declarations.MANAGE)
    row = await _entry(session, intel_id)
    before = snapshot(row)
    await session.delete(row)
    await session.flush()
    _record(session, context, "deleted", row, before)
    return row


def _insert(session: AsyncSession) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert
    return sqlite_insert


async def watch(session: AsyncSession, context: RequestContext, competitor_id: int | None) -> int:
    """Start watching a competitor (``competitors:read``); watching it already is fine."""
    caller = require(context, declarations.READ)
    competitor = await find_competitor(session, competitor_id, "input.id")
    added = await session.scalar(
        _insert(session)(Watcher)
        .values(competitor_id=competitor.id, user_id=caller.user_id, created_at=context.now())
        .on_conflict_do_nothing(index_elements=["competitor_id", "user_id"])
        .returning(Watcher.user_id)
    )
    if added is not None:
        audit.record(
            session,
            actor_of(context),
            "competitor.watched",
            "Competitor",
            competitor.id,
            {"watcherId": global_id("User", caller.user_id)},
        )
    return competitor.id


async def unwatch(session: AsyncSession, context: RequestContext, competitor_id: int | None) -> int:
    """Stop watching a competitor (``competitors:read``); not watching it is fine."""
    caller = require(context, declarations.READ)
    competitor = await find_competitor(session, competitor_id, "input.id")
    removed = await session.scalar(
        delete(Watcher)
        .where(Watcher.competitor_id == competitor.id, Watcher.user_id == caller.user_id)
        .returning(Watcher.user_id)
    )
    if removed is not None:
        audit.record(
            session,
            actor_of(context),
            "competitor.unwatched",
            "Competitor",
            competitor.id,
            {"watcherId": global_id("User", caller.user_id)},
        )
    return competitor.id


async def latest_intel(session: AsyncSession, competitor_id: int, limit: int = 5) -> list[Intel]:
    """A competitor's latest ``limit`` intel entries, newest first (by occurredOn, then the
    latest logged)."""
    rows = await session.scalars(
        select(Intel)
        .where(Intel.competitor_id == competitor_id)
        .order_by(Intel.occurred_on.desc(), Intel.id.desc())
        .limit(limit)
    )
    return list(rows.all())


def confidences_from(least: Confidence) -> list[str]:
    """The confidence values at least as high as ``least``."""
    return [kind.value for kind, rank in CONFIDENCE_RANK.items() if rank >= CONFIDENCE_RANK[least]]
