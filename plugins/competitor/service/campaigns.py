"""How a competitor sells and markets (``competitors:manage``): the sales channels it uses
(one row per channel, replaced whole) and the marketing campaigns observed.

Audited: ``competitor.channels.set`` on the competitor (entity type ``Competitor``), and
``competitor.campaign.added|updated|removed`` on the campaign itself (entity type
``CompetitorCampaign``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Check,
    RequestContext,
    UserErrorCode,
    actor_of,
    audit,
    not_found,
    require,
    translator,
)
from plugins.competitor import declarations
from plugins.competitor.enums import SalesChannel
from plugins.competitor.models import Campaign, Channel, Competitor
from plugins.competitor.service.profiles import ENTITY, MAX_TEXT, find_competitor, find_row

_ = translator(__name__)

CAMPAIGN_ENTITY = "CompetitorCampaign"
MAX_NOTES = 1000
MAX_CAMPAIGN_NAME, MAX_CAMPAIGN_CHANNELS, MAX_CAMPAIGN_CHANNEL = 200, 20, 60
CHANNEL_ORDER = {channel.value: index for index, channel in enumerate(SalesChannel)}
"""Channels are listed in the order of ``SalesChannel``."""


def _audit(
    session: AsyncSession, context: RequestContext, verb: str, row: Any, changes: dict[str, Any]
) -> None:
    """Record ``competitor.<verb>`` on a campaign, or (its channels) on a competitor."""
    entity = CAMPAIGN_ENTITY if isinstance(row, Campaign) else ENTITY
    audit.record(session, actor_of(context), f"competitor.{verb}", entity, row.id, changes)


def campaign_snapshot(row: Campaign) -> dict[str, Any]:
    return {
        "competitorId": row.competitor_id,
        "name": row.name,
        "startedOn": row.started_on,
        "endedOn": row.ended_on,
        "channels": list(row.channels or []),
        "notes": row.notes,
    }


async def set_channels(
    session: AsyncSession,
    context: RequestContext,
    competitor_id: int | None,
    channels: Sequence[tuple[SalesChannel, str | None]],
) -> Competitor:
    """Replace the competitor's sales channels: (channel, notes) pairs, each channel once."""
    require(context, declarations.MANAGE)
    row = await find_competitor(session, competitor_id, "input.competitorId", lock=True)
    check = Check()
    seen: set[SalesChannel] = set()
    cleaned: list[tuple[str, str | None]] = []
    for index, (channel, text) in enumerate(channels):
        notes = check.text(f"channels.{index}.notes", text, max_length=MAX_NOTES, required=False)
        if channel in seen:
            check.fail(
                f"channels.{index}.channel",
                _("{channel} is given twice", channel=channel.value),
                UserErrorCode.DUPLICATE,
            )
        seen.add(channel)
        cleaned.append((channel.value, notes))
    check.done()
    existing = (await session.scalars(select(Channel).where(Channel.competitor_id == row.id))).all()
    before = _channel_snapshot((c.channel, c.notes) for c in existing)
    await session.execute(delete(Channel).where(Channel.competitor_id == row.id))
    session.add_all(
        Channel(competitor_id=row.id, channel=channel, notes=notes) for channel, notes in cleaned
    )
    await session.flush()
    changes = audit.diff({"channels": before}, {"channels": _channel_snapshot(cleaned)})
    if changes:
        _audit(session, context, "channels.set", row, changes)
    return row


def _channel_snapshot(pairs: Iterable[tuple[str, str | None]]) -> list[dict[str, Any]]:
    ordered = sorted(pairs, key=lambda pair: CHANNEL_ORDER.get(pair[0], 99))
    return [{"channel": channel, "notes": notes} for channel, notes in ordered]


def _check_campaign(
    check: Check, values: Mapping[str, Any], current: Campaign | None
) -> dict[str, Any]:
    new: dict[str, Any] = {}
    if "name" in values:
        new["name"] = check.text("name", values["name"], max_length=MAX_CAMPAIGN_NAME)
    for field in ("started_on", "ended_on"):
        if field in values:
            new[field] = values[field]
    if "notes" in values:
        new["notes"] = check.text("notes", values["notes"], max_length=MAX_TEXT, required=False)
    if "channels" in values:
        labels = list(values["channels"] or [])
        if len(labels) > MAX_CAMPAIGN_CHANNELS:
            many = _("may hold at most {max} labels", max=MAX_CAMPAIGN_CHANNELS)
            check.fail("channels", many, UserErrorCode.OUT_OF_RANGE)
        else:
            kept: list[str] = []
            for index, label in enumerate(labels):
                text = check.text(f"channels.{index}", label, max_length=MAX_CAMPAIGN_CHANNEL)
                if text is not None and text.casefold() not in {k.casefold() for k in kept}:
                    kept.append(text)
            new["channels"] = kept
    started = new.get("started_on", current.started_on if current else None)
    ended = new.get("ended_on", current.ended_on if current else None)
    if started is not None and ended is not None and ended < started:
        check.fail("endedOn", _("must not be before startedOn"), UserErrorCode.OUT_OF_RANGE)
    return new


async def add_campaign(
    session: AsyncSession,
    context: RequestContext,
    competitor_id: int | None,
    values: Mapping[str, Any],
) -> Campaign:
    """A campaign of the competitor's observed; ``values`` holds every field of the input."""
    require(context, declarations.MANAGE)
    competitor = await find_competitor(session, competitor_id, "input.competitorId")
    check = Check()
    new = _check_campaign(check, values, None)
    check.done()
    row = Campaign(competitor_id=competitor.id, created_at=context.now(), **new)
    session.add(row)
    await session.flush()
    _audit(session, context, "campaign.added", row, audit.created(campaign_snapshot(row)))
    return row


async def _find_campaign(session: AsyncSession, campaign_id: int | None) -> Campaign:
    row = await find_row(session, Campaign, campaign_id, lock=True)
    if row is None:
        raise not_found("input.id", _("no campaign with this id"))
    return row


async def update_campaign(
    session: AsyncSession,
    context: RequestContext,
    campaign_id: int | None,
    changes: Mapping[str, Any],
) -> Campaign:
    """Change the fields named in ``changes`` (attribute names)."""
    require(context, declarations.MANAGE)
    row = await _find_campaign(session, campaign_id)
    check = Check()
    new = _check_campaign(check, changes, row)
    check.done()
    before = campaign_snapshot(row)
    for attribute, value in new.items():
        setattr(row, attribute, value)
    after = campaign_snapshot(row)
    if after != before:
        await session.flush()
        _audit(session, context, "campaign.updated", row, audit.diff(before, after))
    return row


async def remove_campaign(
    session: AsyncSession, context: RequestContext, campaign_id: int | None
) -> Campaign:
    require(context, declarations.MANAGE)
    row = await _find_campaign(session, campaign_id)
    before = campaign_snapshot(row)
    await session.delete(row)
    await session.flush()
    _audit(session, context, "campaign.removed", row, audit.diff(before, {}))
    return row
