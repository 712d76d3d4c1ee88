"""The programme's settings and its tiers (``loyalty:manage``).

One programme row (id 1, seeded by the migration). Its earn rates are keyed by ISO 4217
currency with positive decimal rates; the tiers' thresholds (points earned in the rolling
12 months) rise strictly with their multipliers' order, and STANDARD holds from 0.
"""

from __future__ import annotations

import calendar
import datetime as dt
import decimal
import re
from collections.abc import Mapping, Sequence
from typing import Any

from babel.numbers import is_currency
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Check,
    RequestContext,
    Text,
    UserErrorCode,
    UserErrors,
    actor_of,
    audit,
    not_found,
    require,
    require_version,
    translator,
)
from plugins.loyalty import declarations
from plugins.loyalty.models import Programme, Tier

_ = translator(__name__)

PROGRAMME_ID = 1
BASE_TIER = "STANDARD"
ROUNDINGS = ("DOWN", "HALF_UP", "UP")
MAX_RATE = decimal.Decimal("1000000")
RATE_STEP = decimal.Decimal("0.000001")
MIN_MULTIPLIER, MAX_MULTIPLIER = decimal.Decimal(1), decimal.Decimal(10)
MAX_EXPIRY_MONTHS = 120
MAX_GRACE_DAYS = 365
MAX_BONUS = 1_000_000
MAX_THRESHOLD = 1_000_000_000
MAX_NOTICE_DAYS = 365
KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")


async def load(session: AsyncSession, *, lock: bool = False) -> Programme:
    """The programme row (locked for a change when ``lock``)."""
    statement = select(Programme).where(Programme.id == PROGRAMME_ID)
    if lock:
        statement = statement.with_for_update()
    programme = await session.scalar(statement)
    if programme is None:  # the migration seeds it; a database without it is broken
        raise RuntimeError("the loyalty programme row is missing: run crm migrate")
    return programme


async def tiers(session: AsyncSession, *, active_only: bool = True) -> list[Tier]:
    """The tiers from the lowest threshold up."""
    statement = select(Tier).order_by(Tier.threshold, Tier.id)
    if active_only:
        statement = statement.where(Tier.active)
    return list((await session.scalars(statement)).all())


def snapshot(row: Programme) -> dict[str, Any]:
    return {
        "earnRates": dict(sorted(row.earn_rates.items())),
        "rounding": row.rounding,
        "expiryMonths": row.expiry_months,
        "downgradeGraceDays": row.downgrade_grace_days,
        "tierSetsGrade": row.tier_sets_grade,
        "autoEnrol": row.auto_enrol,
        "birthdayBonus": row.birthday_bonus,
        "firstOrderBonus": row.first_order_bonus,
        "surveyBonus": row.survey_bonus,
        "expiryNoticeDays": row.expiry_notice_days,
    }


def tier_snapshot(row: Tier) -> dict[str, Any]:
    return {
        "key": row.key,
        "name": row.name,
        "threshold": row.threshold,
        "multiplier": str(row.multiplier),
        "benefits": row.benefits,
        "active": row.active,
    }


def _int_in(
    check: Check, field: str, value: int | None, low: int, high: int, *, nullable: bool = False
) -> int | None:
    if value is None:
        if not nullable:
            check.fail(field, _("is required"), UserErrorCode.REQUIRED)
        return None
    if not low <= value <= high:
        check.fail(
            field, _("must be from {low} to {high}", low=low, high=high), UserErrorCode.OUT_OF_RANGE
        )
        return None
    return value


def check_earn_rates(
    check: Check, rates: Sequence[tuple[str | None, decimal.Decimal | None]]
) -> dict[str, str] | None:
    """``{currency: rate}`` from the pairs given, or ``None`` after recording each bad one as
    ``earnRates.<i>.currency`` or ``earnRates.<i>.pointsPerUnit``."""
    found: dict[str, str] = {}
    ok = True
    for index, (currency, rate) in enumerate(rates):
        code = (currency or "").strip().upper()
        field = f"earnRates.{index}.currency"
        if not code:
            check.fail(field, _("is required"), UserErrorCode.REQUIRED)
            ok = False
        elif len(code) != 3 or not code.isalpha() or not is_currency(code):
            check.fail(
                field,
                _("is not an ISO 4217 currency code such as CNY, USD or EUR"),
                UserErrorCode.INVALID,
            )
            ok = False
        elif code in found:
            check.fail(
                field, _("{currency} is given twice", currency=code), UserErrorCode.DUPLICATE
            )
            ok = False
        field = f"earnRates.{index}.pointsPerUnit"
        if rate is None:
            check.fail(field, _("is required"), UserErrorCode.REQUIRED)
            ok = False
        elif not rate.is_finite() or rate <= 0 or rate > MAX_RATE:
            check.fail(
                field,
                _("must be more than 0 and at most {max}", max=str(MAX_RATE)),
                UserErrorCode.OUT_OF_RANGE,
            )
            ok = False
        elif rate != rate.quantize(RATE_STEP):
            check.fail(field, _("may have at most 6 decimal places"), UserErrorCode.INVALID)
            ok = False
        elif ok and code:
            found[code] = _plain(rate)
    return found if ok else None


def _plain(rate: decimal.Decimal) -> str:
    """A rate as stored: ``"1"``, ``"0.5"`` (no exponent, no trailing zeros)."""
    return format(rate.normalize(), "f")


async def update_programme(
    session: AsyncSession, context: RequestContext, version: int, changes: Mapping[str, Any]
) -> Programme:
    """Change the settings named in ``changes`` (attribute name -> value)."""
    require(context, declarations.MANAGE)
    programme = await load(session, lock=True)
    require_version(programme, version)
    before = snapshot(programme)
    check = Check()
    values: dict[str, Any] = {}
    if "earn_rates" in changes:
        given = changes["earn_rates"]
        if given is None:
            check.fail("earnRates", _("is required"), UserErrorCode.REQUIRED)
        else:
            values["earn_rates"] = check_earn_rates(check, given)
    if "rounding" in changes:
        rounding = changes["rounding"]
        if rounding not in ROUNDINGS:
            check.fail("rounding", _("is required"), UserErrorCode.REQUIRED)
        values["rounding"] = rounding
    if "expiry_months" in changes:
        values["expiry_months"] = _int_in(
            check, "expiryMonths", changes["expiry_months"], 1, MAX_EXPIRY_MONTHS, nullable=True
        )
    bounded = {
        "downgrade_grace_days": ("downgradeGraceDays", 0, MAX_GRACE_DAYS),
        "birthday_bonus": ("birthdayBonus", 0, MAX_BONUS),
        "first_order_bonus": ("firstOrderBonus", 0, MAX_BONUS),
        "survey_bonus": ("surveyBonus", 0, MAX_BONUS),
        "expiry_notice_days": ("expiryNoticeDays", 0, MAX_NOTICE_DAYS),
    }
    for name, (field, low, high) in bounded.items():
        if name in changes:
            values[name] = _int_in(check, field, changes[name], low, high)
    for name, field in (("tier_sets_grade", "tierSetsGrade"), ("auto_enrol", "autoEnrol")):
        if name in changes:
            if changes[name] is None:
                check.fail(field, _("is required"), UserErrorCode.REQUIRED)
            values[name] = changes[name]
    check.done()
    for name, value in values.items():
        setattr(programme, name, value)
    after = snapshot(programme)
    if after != before:
        programme.updated_at = context.now()
        await session.flush()
        audit.record(
            session,
            actor_of(context),
            "loyalty.programme.updated",
            "LoyaltyProgramme",
            programme.id,
            audit.diff(before, after),
        )
    return programme


def _check_multiplier(check: Check, value: decimal.Decimal | None) -> decimal.Decimal | None:
    if value is None:
        check.fail("multiplier", _("is required"), UserErrorCode.REQUIRED)
        return None
    if not value.is_finite() or not MIN_MULTIPLIER <= value <= MAX_MULTIPLIER:
        check.fail(
            "multiplier",
            _("must be from {low} to {high}", low="1", high="10"),
            UserErrorCode.OUT_OF_RANGE,
        )
        return None
    if value != value.quantize(decimal.Decimal("0.001")):
        check.fail("multiplier", _("may have at most 3 decimal places"), UserErrorCode.INVALID)
        return None
    return value.quantize(decimal.Decimal("0.001"))


def _check_ladder(
    check: Check, ladder: Sequence[Tier], changed: Tier, *, moved: bool = False
) -> None:
    """The active tiers, ``changed`` as it would be, must rise strictly in threshold and not
    fall in multiplier; STANDARD holds from 0. An order broken by a tier ``moved`` to a new
    threshold names ``threshold``, else ``multiplier``."""
    order_field = "threshold" if moved else "multiplier"
    if changed.key == BASE_TIER:
        if changed.threshold != 0:
            check.fail(
                "threshold", _("the STANDARD tier holds from 0 points"), UserErrorCode.BUSINESS_RULE
            )
        if not changed.active:
            check.fail(
                "active", _("the STANDARD tier cannot be deactivated"), UserErrorCode.BUSINESS_RULE
            )
        return
    if changed.threshold <= 0:
        check.fail(
            "threshold",
            _("must be more than 0 (only STANDARD holds from 0)"),
            UserErrorCode.OUT_OF_RANGE,
        )
        return
    if not changed.active:
        return
    for other in ladder:
        if other.id == changed.id or other.key == changed.key or not other.active:
            continue
        if other.threshold == changed.threshold:
            check.fail(
                "threshold",
                _(
                    "the tier {key} already holds from {threshold} points",
                    key=other.key,
                    threshold=other.threshold,
                ),
                UserErrorCode.DUPLICATE,
            )
            return
        below = other.threshold < changed.threshold
        if (
            (other.multiplier > changed.multiplier)
            if below
            else (other.multiplier < changed.multiplier)
        ):
            check.fail(
                order_field, _ladder_message(other, below, moved), UserErrorCode.BUSINESS_RULE
            )
            return


def _ladder_message(other: Tier, below: bool, moved: bool) -> Text:
    values = {"key": other.key, "multiplier": str(other.multiplier), "threshold": other.threshold}
    if moved and below:
        return _(
            "would rise above the tier {key} ({threshold} points), whose multiplier "
            "{multiplier} is higher: a higher tier earns at least as much",
            **values,
        )
    if moved:
        return _(
            "would fall below the tier {key} ({threshold} points), whose multiplier "
            "{multiplier} is lower: a higher tier earns at least as much",
            **values,
        )
    if below:
        return _("must be at least that of the lower tier {key} ({multiplier})", **values)
    return _("must be at most that of the higher tier {key} ({multiplier})", **values)


async def create_tier(
    session: AsyncSession,
    context: RequestContext,
    key: str | None,
    name: str | None,
    threshold: int | None,
    multiplier: decimal.Decimal | None,
    benefits: str | None,
) -> Tier:
    require(context, declarations.MANAGE)
    await load(session, lock=True)  # one change of the ladder at a time
    check = Check()
    cleaned_key = check.text("key", key, max_length=32)
    if cleaned_key is not None:
        cleaned_key = cleaned_key.upper()
        if not KEY.match(cleaned_key):
            check.fail(
                "key",
                _("may hold only capital letters, digits and _ and start with a letter"),
                UserErrorCode.INVALID,
            )
        elif await session.scalar(select(Tier.id).where(Tier.key == cleaned_key)):
            check.fail(
                "key", _("a tier with key {key} exists", key=cleaned_key), UserErrorCode.DUPLICATE
            )
    cleaned_name = check.text("name", name, max_length=80)
    cleaned_threshold = _int_in(check, "threshold", threshold, 0, MAX_THRESHOLD)
    cleaned_multiplier = _check_multiplier(check, multiplier)
    cleaned_benefits = check.text("benefits", benefits or "", max_length=2000, required=False)
    now = context.now()
    if cleaned_key and cleaned_threshold is not None and cleaned_multiplier is not None:
        candidate = Tier(
            key=cleaned_key, threshold=cleaned_threshold, multiplier=cleaned_multiplier, active=True
        )
        _check_ladder(check, await tiers(session), candidate)
    check.done()
    assert cleaned_key
    assert cleaned_name is not None
    tier = Tier(
        key=cleaned_key,
        name=cleaned_name,
        threshold=cleaned_threshold,
        multiplier=cleaned_multiplier,
        benefits=cleaned_benefits or "",
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(tier)
    try:
        await session.flush()
    except IntegrityError:
        raise UserErrors.single(
            "key", _("a tier with key {key} exists", key=cleaned_key), UserErrorCode.DUPLICATE
        ) from None
    audit.record(
        session,
        actor_of(context),
        "loyalty.tier.created",
        "LoyaltyTier",
        tier.id,
        audit.created(tier_snapshot(tier)),
    )
    return tier


async def update_tier(
    session: AsyncSession,
    context: RequestContext,
    tier_id: int | None,
    version: int,
    changes: Mapping[str, Any],
) -> Tier:
    """Change the tier's fields named in ``changes``; its key never changes (accounts and
    rewards name it)."""
    require(context, declarations.MANAGE)
    await load(session, lock=True)
    tier = None
    if tier_id is not None:
        tier = await session.scalar(select(Tier).where(Tier.id == tier_id).with_for_update())
    if tier is None:
        raise not_found("input.id", _("no loyalty tier with this id"))
    require_version(tier, version)
    before = tier_snapshot(tier)
    check = Check()
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = check.text("name", changes["name"], max_length=80)
    if "threshold" in changes:
        values["threshold"] = _int_in(check, "threshold", changes["threshold"], 0, MAX_THRESHOLD)
    if "multiplier" in changes:
        values["multiplier"] = _check_multiplier(check, changes["multiplier"])
    if "benefits" in changes:
        values["benefits"] = (
            check.text("benefits", changes["benefits"] or "", max_length=2000, required=False) or ""
        )
    if "active" in changes:
        if changes["active"] is None:
            check.fail("active", _("is required"), UserErrorCode.REQUIRED)
        values["active"] = changes["active"]
    if not any(check.has_error(f) for f in ("threshold", "multiplier", "active")):
        candidate = Tier(
            id=tier.id,
            key=tier.key,
            threshold=values.get("threshold", tier.threshold),
            multiplier=values.get("multiplier", tier.multiplier),
            active=values.get("active", tier.active),
        )
        moved = "threshold" in changes and changes["threshold"] != tier.threshold
        _check_ladder(check, await tiers(session), candidate, moved=moved)
    check.done()
    for name, value in values.items():
        setattr(tier, name, value)
    after = tier_snapshot(tier)
    if after != before:
        tier.updated_at = context.now()
        await session.flush()
        audit.record(
            session,
            actor_of(context),
            "loyalty.tier.updated",
            "LoyaltyTier",
            tier.id,
            audit.diff(before, after),
        )
    return tier


def rolling_year_start(now: dt.datetime) -> dt.datetime:
    """The start of the rolling 12 months that end at ``now``: the same moment a year
    before (28 February for 29 February)."""
    try:
        return now.replace(year=now.year - 1)
    except ValueError:
        return now.replace(year=now.year - 1, day=28)


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """``moment`` ``months`` calendar months later (the month's last day when it is shorter)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def expiry_of(programme: Programme, earned_at: dt.datetime) -> dt.datetime | None:
    """When points earned at ``earned_at`` expire under ``programme`` (``None``: never)."""
    if programme.expiry_months is None:
        return None
    return add_months(earned_at, programme.expiry_months)
