"""The pipeline's stages, configured by ``sales:manage``: OPEN stages in order, then the
one WON and the one LOST stage (which can be renamed, never removed or deactivated)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
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
    translator,
)
from plugins.sales import declarations
from plugins.sales.models import Opportunity, Stage

_ = translator(__name__)

KEY = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
OPEN, WON, LOST = "OPEN", "WON", "LOST"


def _snapshot(row: Stage) -> dict[str, Any]:
    return {
        "key": row.key,
        "name": row.name,
        "kind": row.kind,
        "position": row.position,
        "probability": row.probability,
        "active": row.active,
    }


async def stages(session: AsyncSession) -> list[Stage]:
    """Every stage: the OPEN ones by position, then WON, then LOST."""
    rows = (await session.scalars(select(Stage))).all()
    rank = {OPEN: 0, WON: 1, LOST: 2}
    return sorted(rows, key=lambda s: (rank.get(s.kind, 3), s.position, s.id))


async def stage_by_key(session: AsyncSession, key: str | None) -> Stage | None:
    cleaned = (key or "").strip().upper()
    if not cleaned:
        return None
    return await session.scalar(select(Stage).where(Stage.key == cleaned))


async def _lock_stages(session: AsyncSession) -> None:
    """Lock every stage row (in id order, so two writers queue rather than deadlock): a
    stage edit reads the others (the active OPEN ones, the positions), so concurrent edits
    run one after the other instead of deactivating every OPEN stage or writing duplicate
    positions."""
    await session.execute(select(Stage.id).order_by(Stage.id).with_for_update())


async def _open_stages(session: AsyncSession) -> list[Stage]:
    return [s for s in await stages(session) if s.kind == OPEN]


def _check_probability(check: Check, value: int | None) -> None:
    if value is None:
        check.fail("probability", _("is required"), UserErrorCode.REQUIRED)
    elif not 0 <= value <= 100:
        check.fail("probability", _("must be from 0 to 100"), UserErrorCode.OUT_OF_RANGE)


async def _place(session: AsyncSession, stage: Stage, position: int) -> None:
    """Put the OPEN ``stage`` at ``position`` (1-based) among the OPEN stages; WON and LOST
    follow the last of them."""
    every = await stages(session)
    rest = [s for s in every if s.kind == OPEN and s.id != stage.id]
    rest.insert(position - 1, stage)
    rest += [s for s in every if s.kind != OPEN]
    for index, row in enumerate(rest, start=1):
        row.position = index


async def create_stage(
    session: AsyncSession,
    context: RequestContext,
    key: str,
    name: str,
    probability: int,
    position: int | None,
) -> Stage:
    require(context, declarations.MANAGE)
    await _lock_stages(session)
    check = Check()
    cleaned_key = check.text("key", key, max_length=32)
    if cleaned_key is not None:
        if not KEY.match(cleaned_key):
            check.fail(
                "key",
                _("must be upper snake case: capital letters, digits and single underscores"),
                UserErrorCode.INVALID,
            )
        elif await session.scalar(select(Stage.id).where(Stage.key == cleaned_key)):
            check.fail(
                "key", _("a stage with key {key} exists", key=cleaned_key), UserErrorCode.DUPLICATE
            )
    cleaned_name = check.text("name", name, max_length=80)
    _check_probability(check, probability)
    ordered = await _open_stages(session)
    if position is not None and not 1 <= position <= len(ordered) + 1:
        check.fail(
            "position",
            _("must be from 1 to {max}", max=len(ordered) + 1),
            UserErrorCode.OUT_OF_RANGE,
        )
    check.done()
    assert cleaned_key
    assert cleaned_name
    now = context.now()
    stage = Stage(
        key=cleaned_key,
        name=cleaned_name,
        kind=OPEN,
        position=len(ordered) + 1,
        probability=probability,
        active=True,
        updated_at=now,
    )
    session.add(stage)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent create took the key first
        raise UserErrors.single(
            "key", _("a stage with key {key} exists", key=cleaned_key), UserErrorCode.DUPLICATE
        ) from None
    await _place(session, stage, position or len(ordered) + 1)
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "sales.stage.created",
        "SalesStage",
        stage.id,
        audit.created(_snapshot(stage)),
    )
    return stage


async def update_stage(
    session: AsyncSession,
    context: RequestContext,
    stage_id: int | None,
    changes: Mapping[str, Any],
) -> Stage:
    require(context, declarations.MANAGE)
    await _lock_stages(session)
    stage = None
    if stage_id is not None:
        stage = await session.scalar(select(Stage).where(Stage.id == stage_id))
    if stage is None:
        raise not_found("input.id", _("no sales stage with this id"))
    before = _snapshot(stage)
    check = Check()
    name = check.text("name", changes.get("name"), max_length=80) if "name" in changes else None
    if "probability" in changes:
        _check_probability(check, changes["probability"])
    ordered = await _open_stages(session)
    position = changes.get("position")
    if "position" in changes:
        if stage.kind != OPEN:
            check.fail(
                "position",
                _("WON and LOST come after every OPEN stage; only OPEN stages are ordered"),
                UserErrorCode.INVALID,
            )
        elif position is None or not 1 <= position <= len(ordered):
            check.fail(
                "position",
                _("must be from 1 to {max}", max=len(ordered)),
                UserErrorCode.OUT_OF_RANGE,
            )
    if "active" in changes:
        await _check_active(session, check, stage, changes["active"], ordered)
    check.done()
    if name is not None:
        stage.name = name
    if "probability" in changes:
        stage.probability = int(changes["probability"])
    if "active" in changes:
        stage.active = bool(changes["active"])
    if "position" in changes and position is not None:
        await _place(session, stage, position)
    after = _snapshot(stage)
    if after != before:
        stage.updated_at = context.now()
        await session.flush()
        audit.record(
            session,
            actor_of(context),
            "sales.stage.updated",
            "SalesStage",
            stage.id,
            audit.diff(before, after),
        )
    return stage


async def _check_active(
    session: AsyncSession, check: Check, stage: Stage, active: bool | None, ordered: list[Stage]
) -> None:
    if active is None:
        check.fail("active", _("is required"), UserErrorCode.REQUIRED)
        return
    if active or not stage.active:
        return
    if stage.kind != OPEN:
        check.fail(
            "active",
            _("the {kind} stage cannot be deactivated (it can be renamed)", kind=stage.kind),
            UserErrorCode.BUSINESS_RULE,
        )
        return
    if not any(s.active and s.id != stage.id for s in ordered):
        check.fail(
            "active", _("at least one OPEN stage must stay active"), UserErrorCode.BUSINESS_RULE
        )
        return
    waiting = await session.scalar(
        select(func.count()).select_from(Opportunity).where(Opportunity.stage_id == stage.id)
    )
    if waiting:
        check.fail(
            "active",
            _(
                "{count} opportunities are at this stage; move them first",
                count=int(waiting),
            ),
            UserErrorCode.BUSINESS_RULE,
        )
