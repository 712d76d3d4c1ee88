"""Competitor profiles (``competitors:manage``): who a competitor is and its SWOT items
(each citing intel entries about that competitor as evidence). Its sales channels and
campaigns are in :mod:`.campaigns`.

A name is unique regardless of case (``name_key``, the stripped name case-folded). Setting a
SWOT list replaces it whole; its items get new ids. Every change is audited on the
competitor (entity type ``Competitor``): ``competitor.created``, ``competitor.updated``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

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
from plugins.competitor import declarations
from plugins.competitor.enums import CompetitorStatus, SwotKind
from plugins.competitor.models import (
    Campaign,
    Competitor,
    Intel,
    PriceObservation,
    Product,
    SwotEvidence,
    SwotItem,
)

_ = translator(__name__)

M = TypeVar("M", Competitor, Campaign, Product, PriceObservation)
"""The rows :func:`find_row` finds by id."""

ENTITY = "Competitor"
ARCHIVED = CompetitorStatus.ARCHIVED.value
MAX_NAME, MAX_TEXT = 120, 5000
MAX_SWOT_ITEMS, MAX_SWOT_TEXT, MAX_EVIDENCE = 20, 500, 10

SWOT_FIELDS: dict[SwotKind, str] = {
    SwotKind.STRENGTH: "strengths",
    SwotKind.WEAKNESS: "weaknesses",
    SwotKind.OPPORTUNITY: "opportunities",
    SwotKind.THREAT: "threats",
}
"""Each SWOT kind's list, as the API names it."""
SWOT_ORDER = {kind.value: index for index, kind in enumerate(SwotKind)}


@dataclasses.dataclass(frozen=True)
class SwotDraft:
    """A SWOT item as given: its text and the intel entries it cites, by position (``None``
    for an id the caller already refused, so later positions keep their numbers)."""

    text: str | None
    evidence_ids: Sequence[int | None] = ()


def snapshot(row: Competitor) -> dict[str, Any]:
    return {
        "name": row.name,
        "website": row.website,
        "country": row.country,
        "sizeBand": row.size_band,
        "description": row.description,
        "positioning": row.positioning,
        "status": row.status,
        "threatLevel": row.threat_level,
    }


def _audit(
    session: AsyncSession,
    context: RequestContext,
    verb: str,
    row: Competitor,
    changes: dict[str, Any],
) -> None:
    """Record ``competitor.<verb>`` on a competitor."""
    audit.record(session, actor_of(context), f"competitor.{verb}", ENTITY, row.id, changes)


async def swot_items(
    session: AsyncSession, competitor_ids: Sequence[int]
) -> dict[int, list[SwotItem]]:
    """Each competitor's SWOT items (every id given is a key), strengths first, then
    weaknesses, opportunities and threats, each list in its order."""
    found: dict[int, list[SwotItem]] = {competitor_id: [] for competitor_id in competitor_ids}
    if not competitor_ids:
        return found
    rows = (
        await session.scalars(
            select(SwotItem).where(SwotItem.competitor_id.in_(list(set(competitor_ids))))
        )
    ).all()
    for row in sorted(rows, key=lambda r: (SWOT_ORDER.get(r.kind, 99), r.position, r.id)):
        found[row.competitor_id].append(row)
    return found


async def find_row(
    session: AsyncSession, model: type[M], row_id: int | None, *, lock: bool = False
) -> M | None:
    """The row of ``model`` with ``row_id`` (``None`` for none), locked ``FOR UPDATE`` and
    read afresh when asked."""
    if row_id is None:
        return None
    statement = select(model).where(model.id == row_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(statement)


async def find_competitor(
    session: AsyncSession, competitor_id: int | None, argument: str, *, lock: bool = False
) -> Competitor:
    """The competitor of ``competitor_id`` (locked when asked), or NOT_FOUND naming
    ``argument``."""
    row = await find_row(session, Competitor, competitor_id, lock=lock)
    if row is None:
        raise not_found(argument, _("no competitor with this id"))
    return row


def name_key(name: str) -> str:
    """What makes two names the same: the stripped name, case-folded."""
    return name.strip().casefold()


async def _check_name(
    session: AsyncSession, check: Check, value: str | None, competitor_id: int | None
) -> str | None:
    name = check.text("name", value, max_length=MAX_NAME)
    if name is None:
        return None
    if len(name_key(name)) > MAX_NAME:
        check.fail(
            "name", _("must be at most {max} characters", max=MAX_NAME), UserErrorCode.TOO_LONG
        )
        return None
    taken = await session.scalar(
        select(Competitor.name).where(
            Competitor.name_key == name_key(name), Competitor.id != (competitor_id or 0)
        )
    )
    if taken is not None:
        check.fail("name", _duplicate(taken), UserErrorCode.DUPLICATE)
        return None
    return name


def _duplicate(name: str) -> str:
    return _(
        "another competitor is named {name} (names are compared regardless of case)", name=name
    )


async def _flush_name(session: AsyncSession, name: str) -> None:
    """Flush; a concurrent change that took the name first is refused as a duplicate."""
    try:
        await session.flush()
    except IntegrityError:
        raise UserErrors.single("name", _duplicate(name), UserErrorCode.DUPLICATE) from None


def _check_profile(check: Check, values: Mapping[str, Any]) -> dict[str, Any]:
    """The cleaned values of the profile fields present in ``values`` (attribute names)."""
    new: dict[str, Any] = {}
    if "website" in values:
        new["website"] = check.url("website", values["website"])
    if "country" in values:
        new["country"] = check.country("country", values["country"])
    if "size_band" in values:
        new["size_band"] = values["size_band"].value if values["size_band"] is not None else None
    for field in ("description", "positioning"):
        if field in values:
            new[field] = check.text(field, values[field], max_length=MAX_TEXT, required=False)
    for attribute, field in (("status", "status"), ("threat_level", "threatLevel")):
        if attribute in values:
            if values[attribute] is None:
                check.fail(field, _("cannot be null"), UserErrorCode.REQUIRED)
            else:
                new[attribute] = values[attribute].value
    return new


Lists = Mapping[SwotKind, list[tuple[str, list[int]]]]
"""SWOT lists as checked: each item's text and the intel entries it cites."""


async def _check_swot(
    session: AsyncSession,
    check: Check,
    competitor_id: int | None,
    swot: Mapping[SwotKind, Sequence[SwotDraft]],
) -> Lists:
    """The SWOT lists given, each item's text and the distinct intel ids it cites; an id that
    is no intel entry about this competitor is refused naming its place
    (``strengths.0.evidenceIds.1``). The sizes are checked first: only the ids of lists and
    items within them are looked up (at most 4 x 20 x 10)."""
    sized: dict[SwotKind, Sequence[SwotDraft]] = {}
    for kind, items in swot.items():
        if len(items) > MAX_SWOT_ITEMS:
            many = _("may hold at most {max} items", max=MAX_SWOT_ITEMS)
            check.fail(SWOT_FIELDS[kind], many, UserErrorCode.OUT_OF_RANGE)
        else:
            sized[kind] = items
    cited = {
        intel_id
        for items in sized.values()
        for item in items
        if len(item.evidence_ids) <= MAX_EVIDENCE
        for intel_id in item.evidence_ids
        if intel_id is not None
    }
    query = (  # kept until the commit: cited evidence cannot vanish meanwhile
        select(Intel.id)
        .where(Intel.id.in_(sorted(cited)), Intel.competitor_id == competitor_id)
        .with_for_update(read=True)
    )
    valid = set((await session.scalars(query)).all()) if cited and competitor_id else set()
    cleaned: dict[SwotKind, list[tuple[str, list[int]]]] = {}
    for kind, items in sized.items():
        field = SWOT_FIELDS[kind]
        cleaned[kind] = []
        for index, item in enumerate(items):
            text = check.text(f"{field}.{index}.text", item.text, max_length=MAX_SWOT_TEXT)
            if len(item.evidence_ids) > MAX_EVIDENCE:
                many = _("may cite at most {max} intel entries", max=MAX_EVIDENCE)
                check.fail(f"{field}.{index}.evidenceIds", many, UserErrorCode.OUT_OF_RANGE)
                continue
            ids: list[int] = []
            for position, intel_id in enumerate(item.evidence_ids):
                if intel_id is None:
                    continue
                if intel_id not in valid:
                    check.fail(
                        f"{field}.{index}.evidenceIds.{position}",
                        _("is not an intel entry about this competitor"),
                        UserErrorCode.INVALID,
                    )
                elif intel_id not in ids:
                    ids.append(intel_id)
            if text is not None:
                cleaned[kind].append((text, ids))
    return cleaned


def _swot_values(lists: Lists) -> dict[str, list[dict[str, Any]]]:
    """SWOT lists as the audit trail shows them: each item's text and evidence ids."""
    return {
        SWOT_FIELDS[kind]: [{"text": text, "evidenceIds": sorted(ids)} for text, ids in items]
        for kind, items in lists.items()
    }


async def _current_swot(session: AsyncSession, competitor_id: int) -> Lists:
    items = (await swot_items(session, [competitor_id]))[competitor_id]
    cited = (
        await session.execute(
            select(SwotEvidence.item_id, SwotEvidence.intel_id).where(
                SwotEvidence.item_id.in_([item.id for item in items])
            )
        )
    ).all()
    return {
        kind: [
            (item.text, [c.intel_id for c in cited if c.item_id == item.id])
            for item in items
            if item.kind == kind.value
        ]
        for kind in SwotKind
    }


async def _replace_swot(session: AsyncSession, competitor_id: int, lists: Lists) -> None:
    for kind, items in lists.items():
        await session.execute(
            delete(SwotItem).where(
                SwotItem.competitor_id == competitor_id, SwotItem.kind == kind.value
            )
        )
        rows = [
            SwotItem(competitor_id=competitor_id, kind=kind.value, text=text, position=position)
            for position, (text, _ids) in enumerate(items)
        ]
        session.add_all(rows)
        await session.flush()
        session.add_all(
            SwotEvidence(item_id=row.id, intel_id=intel_id)
            for row, (_text, ids) in zip(rows, items, strict=True)
            for intel_id in ids
        )
    await session.flush()


async def create_competitor(
    session: AsyncSession,
    context: RequestContext,
    check: Check,
    values: Mapping[str, Any],
    swot: Mapping[SwotKind, Sequence[SwotDraft]],
) -> Competitor:
    """A new profile; ``values`` holds every profile field (attribute names), ``swot`` the
    lists given. No intel is about a new competitor yet, so no item may cite any."""
    caller = require(context, declarations.MANAGE)
    name = await _check_name(session, check, values["name"], None)
    new = _check_profile(check, values)
    lists = await _check_swot(session, check, None, swot)
    check.done()
    assert name is not None
    now = context.now()
    row = Competitor(
        name=name,
        name_key=name_key(name),
        created_by_id=caller.user_id,
        created_at=now,
        updated_at=now,
        **new,
    )
    session.add(row)
    await _flush_name(session, name)
    await _replace_swot(session, row.id, lists)
    every = _swot_values({kind: lists.get(kind, []) for kind in SwotKind})
    _audit(session, context, "created", row, audit.created(snapshot(row) | every))
    return row


async def update_competitor(
    session: AsyncSession,
    context: RequestContext,
    check: Check,
    competitor_id: int | None,
    version: int,
    changes: Mapping[str, Any],
    swot: Mapping[SwotKind, Sequence[SwotDraft]],
) -> Competitor:
    """Change the profile fields named in ``changes`` (attribute names) and replace the SWOT
    lists in ``swot`` (a list given as it was is kept, its items' ids too); a stale version
    is a CONFLICT."""
    require(context, declarations.MANAGE)
    row = await find_competitor(session, competitor_id, "input.id", lock=True)
    require_version(row, version)
    name = None
    if "name" in changes:
        name = await _check_name(session, check, changes["name"], row.id)
    new = _check_profile(check, changes)
    lists = await _check_swot(session, check, row.id, swot)
    check.done()
    before = snapshot(row)
    current = _swot_values(await _current_swot(session, row.id)) if lists else {}
    given = _swot_values(lists)
    changed = {
        k: items for k, items in lists.items() if given[SWOT_FIELDS[k]] != current[SWOT_FIELDS[k]]
    }
    swot_before = {SWOT_FIELDS[kind]: current[SWOT_FIELDS[kind]] for kind in changed}
    swot_after = {SWOT_FIELDS[kind]: given[SWOT_FIELDS[kind]] for kind in changed}
    await _replace_swot(session, row.id, changed)
    if name is not None:
        row.name, row.name_key = name, name_key(name)
    for attribute, value in new.items():
        setattr(row, attribute, value)
    after = snapshot(row)
    if after != before or changed:
        row.updated_at = context.now()
        flag_modified(row, "updated_at")  # a new version even when only a SWOT list changed
        await _flush_name(session, row.name)
        _audit(
            session, context, "updated", row, audit.diff(before | swot_before, after | swot_after)
        )
    return row
