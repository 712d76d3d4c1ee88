"""Market-share observations: a competitor's (or, with no competitor, our own) share of one
segment (an industry or a region) in one period (a month, a quarter or a year).

Recording one needs ``competitors:write`` (any scope); correcting or deleting one needs
``competitors:manage``. There is one observation per subject, segment and period (another is
refused as DUPLICATE on ``period``, saying which exists), and the shares of one segment and
period, ours included, add up to 100% at most (refused as BUSINESS_RULE on
``sharePercent``, with every figure in the message). A segment is named case-insensitively
(``segment_key``), a period by its label (:mod:`plugins.competitor.periods`); only a period
that has begun (the deployment's calendar) may be recorded.

Two writers adding to one segment and period at once must not both pass the sum check: each
takes a transaction-scoped PostgreSQL advisory lock on the segment and period
(:func:`lock_segment`) before it reads the sum, so the second reads the first's committed
share. A lock on the existing observations' rows would not do (the first observation of a
period has no row to lock, and a new subject inserts beside the locked rows), nor would a
lock row (the tables have none, and it would have to be created race-free first); the
advisory lock needs no row and ends with the transaction. On SQLite the write transaction
(``BEGIN IMMEDIATE``) already serialises all writers. Every change is audited
(``competitor.market_share.recorded|updated|deleted``, entity ``MarketShare``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Check,
    RequestContext,
    Text,
    UserErrorCode,
    UserErrors,
    actor_of,
    audit,
    global_id,
    not_found,
    require,
    require_version,
    translator,
)
from plugins.competitor import declarations
from plugins.competitor.enums import Confidence, PeriodKind, SegmentKind
from plugins.competitor.models import Competitor, MarketShare
from plugins.competitor.periods import parse_period, period_label
from plugins.competitor.service.calendar import today
from plugins.competitor.service.profiles import find_competitor

_ = translator(__name__)

ENTITY = "MarketShare"
HUNDRED = decimal.Decimal(100)
PLACES = decimal.Decimal("0.01")
SEGMENT_LENGTH = 100
SOURCE_LENGTH = 500
LOCK_SPACE = zlib.crc32(b"competitor_market_shares") & 0x7FFFFFFF
"""The first key of the advisory locks of segments and periods (the second is a hash of the
segment and period), apart from every other advisory lock."""
PERIOD_RANK = {PeriodKind.MONTH.value: 0, PeriodKind.QUARTER.value: 1, PeriodKind.YEAR.value: 2}


def segment_key(segment: str) -> str:
    """The key a segment is compared by: stripped and case-folded."""
    return segment.strip().casefold()


def figure(value: decimal.Decimal) -> str:
    """A percentage as people write it: ``40``, ``29.5``, ``12.25``."""
    text_value = format(value, "f")
    if "." in text_value:
        text_value = text_value.rstrip("0").rstrip(".")
    return text_value or "0"


def label_of(row: MarketShare) -> str:
    return period_label(row.period_start, PeriodKind(row.period_kind))


def snapshot(row: MarketShare) -> dict[str, Any]:
    return {
        "competitorId": global_id("Competitor", row.competitor_id) if row.competitor_id else None,
        "segmentKind": row.segment_kind,
        "segment": row.segment,
        "period": label_of(row),
        "sharePercent": figure(row.share_percent),
        "source": row.source,
        "confidence": row.confidence,
    }


def _record(
    session: AsyncSession,
    context: RequestContext,
    verb: str,
    row: MarketShare,
    before: dict[str, Any] | None,
) -> None:
    after = snapshot(row) if verb != "deleted" else {}
    changes = audit.created(after) if before is None else audit.diff(before, after)
    audit.record(
        session, actor_of(context), f"competitor.market_share.{verb}", ENTITY, row.id, changes
    )


def check_share(check: Check, field: str, value: decimal.Decimal | None) -> decimal.Decimal | None:
    """A share from 0 to 100 with at most two decimal places (refused, never rounded); a
    negative zero is zero."""
    if value is None:
        check.fail(field, _("cannot be null"), UserErrorCode.REQUIRED)
        return None
    if not value.is_finite() or not 0 <= value <= HUNDRED:
        check.fail(field, _("must be from 0 to 100"), UserErrorCode.OUT_OF_RANGE)
        return None
    if value != value.quantize(PLACES):
        check.fail(field, _("must have at most two decimal places"), UserErrorCode.INVALID)
        return None
    return abs(value).quantize(PLACES)


def check_period(
    check: Check, field: str, label: str | None, day: dt.date
) -> tuple[PeriodKind, dt.date] | None:
    """The kind and first day of a period label of a period that has begun by ``day``."""
    if label is None or not label.strip():
        check.fail(field, _("is required"), UserErrorCode.REQUIRED)
        return None
    try:
        kind, start = parse_period(label)
    except ValueError:
        check.fail(
            field,
            _("must be a period such as 2026-11 (a month), 2026-Q3 (a quarter) or 2026 (a year)"),
            UserErrorCode.INVALID,
        )
        return None
    if start > day:
        check.fail(
            field,
            _("{period} has not begun yet", period=period_label(start, kind)),
            UserErrorCode.OUT_OF_RANGE,
        )
        return None
    return kind, start


async def lock_segment(
    session: AsyncSession, kind: str, key: str, period_kind: str, start: dt.date
) -> None:
    """Serialise the writers of one segment and period until the transaction ends
    (PostgreSQL; SQLite's write transaction does it already)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"),
        {"space": LOCK_SPACE, "key": f"{kind}|{key}|{period_kind}|{start.isoformat()}"},
    )


def _same_period(kind: str, key: str, period_kind: str, start: dt.date) -> list[Any]:
    return [
        MarketShare.segment_kind == kind,
        MarketShare.segment_key == key,
        MarketShare.period_kind == period_kind,
        MarketShare.period_start == start,
    ]


def _join(items: Sequence[Text]) -> Text:
    """``a, b, c`` as one message (each separator translatable)."""
    joined = items[0]
    for item in items[1:]:
        joined = _("{list}, {item}", list=joined, item=item)
    return joined


async def check_total(
    session: AsyncSession,
    *,
    kind: str,
    segment: str,
    key: str,
    period_kind: str,
    start: dt.date,
    share: decimal.Decimal,
    exclude_id: int | None,
) -> None:
    """Refuse ``share`` when, with the other shares of the segment and period, it would pass
    100%: BUSINESS_RULE on ``sharePercent``, naming every share."""
    statement = (
        select(MarketShare.competitor_id, MarketShare.share_percent, Competitor.name)
        .outerjoin(Competitor, Competitor.id == MarketShare.competitor_id)
        .where(*_same_period(kind, key, period_kind, start))
    )
    if exclude_id is not None:
        statement = statement.where(MarketShare.id != exclude_id)
    rows = (await session.execute(statement)).all()
    total = sum((row.share_percent for row in rows), share)
    if total <= HUNDRED or not rows:
        return
    ordered = sorted(
        rows,
        key=lambda row: (row.competitor_id is not None, (row.name or "").casefold(), row.name),
    )
    items = [
        _("ours {share}%", share=figure(row.share_percent))
        if row.competitor_id is None
        else _("{name} {share}%", name=row.name, share=figure(row.share_percent))
        for row in ordered
    ]
    raise UserErrors.single(
        "sharePercent",
        _(
            "the shares of {segment} in {period} would total {total}%: {shares} + {share}%",
            segment=segment,
            period=period_label(start, PeriodKind(period_kind)),
            total=figure(total),
            shares=_join(items),
            share=figure(share),
        ),
        UserErrorCode.BUSINESS_RULE,
    )


async def check_unique(
    session: AsyncSession,
    *,
    competitor: Competitor | None,
    kind: str,
    key: str,
    period_kind: str,
    start: dt.date,
    exclude_id: int | None,
) -> None:
    """Refuse a second observation of one subject, segment and period: DUPLICATE on
    ``period``, saying which one exists."""
    statement = select(MarketShare).where(
        *_same_period(kind, key, period_kind, start),
        MarketShare.competitor_id.is_(None)
        if competitor is None
        else MarketShare.competitor_id == competitor.id,
    )
    if exclude_id is not None:
        statement = statement.where(MarketShare.id != exclude_id)
    existing = await session.scalar(statement.limit(1))
    if existing is None:
        return
    values = {
        "segment": existing.segment,
        "period": label_of(existing),
        "share": figure(existing.share_percent),
    }
    if competitor is None:
        message = _(
            "our share of {segment} in {period} is recorded already ({share}%): correct that "
            "one instead",
            **values,
        )
    else:
        message = _(
            "the share of {name} in {segment} in {period} is recorded already ({share}%): "
            "correct that one instead",
            name=competitor.name,
            **values,
        )
    raise UserErrors.single("period", message, UserErrorCode.DUPLICATE)


async def record_share(
    session: AsyncSession,
    context: RequestContext,
    check: Check,
    competitor_id: int | None,
    values: Mapping[str, Any],
) -> MarketShare:
    """Record an observation (``competitors:write``). ``values`` holds segment_kind,
    segment, period, share_percent, source and confidence; ``competitor_id`` None is ours."""
    caller = require(context, declarations.WRITE)
    competitor = None
    if competitor_id is not None:
        competitor = await find_competitor(session, competitor_id, "input.competitorId")
    kind: SegmentKind | None = values["segment_kind"]
    if kind is None:
        check.fail("segmentKind", _("cannot be null"), UserErrorCode.REQUIRED)
    segment = check.text("segment", values["segment"], max_length=SEGMENT_LENGTH)
    period = check_period(check, "period", values["period"], today(context))
    share = check_share(check, "sharePercent", values["share_percent"])
    source = check.text("source", values["source"], max_length=SOURCE_LENGTH, required=False)
    confidence: Confidence | None = values["confidence"]
    if confidence is None:
        check.fail("confidence", _("cannot be null"), UserErrorCode.REQUIRED)
    check.done()
    assert kind is not None
    assert segment is not None
    assert period is not None
    assert share is not None
    assert confidence is not None
    period_kind, start = period
    key = segment_key(segment)
    await lock_segment(session, kind.value, key, period_kind.value, start)
    await check_unique(
        session,
        competitor=competitor,
        kind=kind.value,
        key=key,
        period_kind=period_kind.value,
        start=start,
        exclude_id=None,
    )
    await check_total(
        session,
        kind=kind.value,
        segment=segment,
        key=key,
        period_kind=period_kind.value,
        start=start,
        share=share,
        exclude_id=None,
    )
    now = context.now()
    row = MarketShare(
        competitor_id=competitor.id if competitor is not None else None,
        segment_kind=kind.value,
        segment=segment,
        segment_key=key,
        period_kind=period_kind.value,
        period_start=start,
        share_percent=share,
        source=source,
        confidence=confidence.value,
        reporter_id=caller.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    _record(session, context, "recorded", row, None)
    return row


async def _locked(session: AsyncSession, share_id: int | None) -> MarketShare:
    row = None
    if share_id is not None:
        row = await session.scalar(
            select(MarketShare)
            .where(MarketShare.id == share_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    if row is None:
        raise not_found("input.id", _("no market-share observation with this id"))
    return row


async def update_share(
    session: AsyncSession,
    context: RequestContext,
    share_id: int | None,
    version: int,
    changes: Mapping[str, Any],
) -> MarketShare:
    """Correct an observation (``competitors:manage``): the fields named in ``changes``
    (snake case); its subject stays. A stale version is a CONFLICT."""
    require(context, declarations.MANAGE)
    row = await _locked(session, share_id)
    require_version(row, version)
    before = snapshot(row)
    check = Check()
    kind, segment = row.segment_kind, row.segment
    period_kind, start = row.period_kind, row.period_start
    share = row.share_percent
    if "segment_kind" in changes:
        if changes["segment_kind"] is None:
            check.fail("segmentKind", _("cannot be null"), UserErrorCode.REQUIRED)
        else:
            kind = changes["segment_kind"].value
    if "segment" in changes:
        segment = check.text("segment", changes["segment"], max_length=SEGMENT_LENGTH) or segment
    if "period" in changes:
        period = check_period(check, "period", changes["period"], today(context))
        if period is not None:
            period_kind, start = period[0].value, period[1]
    if "share_percent" in changes:
        checked = check_share(check, "sharePercent", changes["share_percent"])
        share = share if checked is None else checked
    source = row.source
    if "source" in changes:
        source = check.text("source", changes["source"], max_length=SOURCE_LENGTH, required=False)
    confidence = row.confidence
    if "confidence" in changes:
        if changes["confidence"] is None:
            check.fail("confidence", _("cannot be null"), UserErrorCode.REQUIRED)
        else:
            confidence = changes["confidence"].value
    check.done()
    key = segment_key(segment)
    moved = (kind, key, period_kind, start) != (
        row.segment_kind,
        row.segment_key,
        row.period_kind,
        row.period_start,
    )
    if moved or share > row.share_percent:
        await lock_segment(session, kind, key, period_kind, start)
        competitor = None
        if row.competitor_id is not None:
            competitor = await session.get(Competitor, row.competitor_id)
        if moved:
            await check_unique(
                session,
                competitor=competitor,
                kind=kind,
                key=key,
                period_kind=period_kind,
                start=start,
                exclude_id=row.id,
            )
        await check_total(
            session,
            kind=kind,
            segment=segment,
            key=key,
            period_kind=period_kind,
            start=start,
            share=share,
            exclude_id=row.id,
        )
    row.segment_kind, row.segment, row.segment_key = kind, segment, key
    row.period_kind, row.period_start = period_kind, start
    row.share_percent, row.source, row.confidence = share, source, confidence
    if snapshot(row) != before:
        row.updated_at = context.now()
        await session.flush()
        _record(session, context, "updated", row, before)
    return row


async def delete_share(
    session: AsyncSession, context: RequestContext, share_id: int | None, version: int
) -> MarketShare:
    """Delete an observation (``competitors:manage``); a stale version is a CONFLICT."""
    require(context, declarations.MANAGE)
    row = await _locked(session, share_id)
    require_version(row, version)
    before = snapshot(row)
    await session.delete(row)
    await session.flush()
    _record(session, context, "deleted", row, before)
    return row
