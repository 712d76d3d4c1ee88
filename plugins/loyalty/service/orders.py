"""Earning from the sales plugin's orders and the surveys plugin's answers (their hooks).

Neither plugin is imported: an order is read by its attributes (``id``, ``number``,
``customer_id``, ``total``, ``currency``, ``ordered_at``), a survey response by ``id`` and
``customer_id``. An order earns at the member's tier multiplier (and the first-order bonus,
when the programme sets one); a cancelled or refunded order takes back what it earned,
bonus included, and what exceeds the balance becomes debt.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import RequestContext
from plugins.loyalty import webhooks
from plugins.loyalty.models import Account, Entry
from plugins.loyalty.service import accounts, earning, ledger, tiers

ACTOR_SALES = "sales"
ACTOR_SURVEYS = "surveys"


def _now(context: RequestContext | None, fallback: dt.datetime) -> dt.datetime:
    return context.now() if context is not None else fallback


def _actor_id(context: RequestContext | None) -> int | None:
    caller = context.caller if context is not None else None
    return caller.user_id if caller is not None else None


def bonus_ref(order_id: int) -> str:
    """``source_ref`` of an order's first-order bonus (its EARN is ``str(order_id)``)."""
    return f"order:{order_id}"


async def _earned_for_order(session: AsyncSession, account_id: int, order_id: int) -> list[Entry]:
    """The EARN entries an order gave the account (its points and its bonus)."""
    return list(
        (
            await session.scalars(
                select(Entry)
                .where(
                    Entry.account_id == account_id,
                    Entry.kind == ledger.EARN,
                    or_(
                        (Entry.source == "ORDER") & (Entry.source_ref == str(order_id)),
                        (Entry.source == "BONUS") & (Entry.source_ref == bonus_ref(order_id)),
                    ),
                )
                .order_by(Entry.id)
            )
        ).all()
    )


async def _has_earned_from_orders(session: AsyncSession, account_id: int) -> bool:
    """Whether an earlier order earned anything: its points, or the first-order bonus (an
    order that earned no points of its own, in a currency without a rate, still had it)."""
    found = await session.scalar(
        select(Entry.id)
        .where(
            Entry.account_id == account_id,
            Entry.kind == ledger.EARN,
            or_(
                Entry.source == "ORDER",
                (Entry.source == "BONUS") & Entry.source_ref.startswith(bonus_ref(0)[:-1]),
            ),
        )
        .limit(1)
    )
    return found is not None


async def on_order_placed(
    session: AsyncSession, order: Any, context: RequestContext | None
) -> None:
    """Earn for a placed order: enrol the customer first when the programme enrols
    automatically (a customer not enrolled otherwise earns nothing)."""
    now = _now(context, order.ordered_at)
    programme = await accounts.programme(session)
    await accounts.lock_customer(session, order.customer_id)
    found = await accounts.account_of(session, order.customer_id)
    if found is None:
        if not programme.auto_enrol:
            return
        found = await accounts.enrol(
            session, order.customer_id, now=now, actor_id=_actor_id(context)
        )
    account = await ledger.lock(session, found.id)
    if await _earned_for_order(session, account.id, order.id):
        return  # announced twice: earned once
    first = not await _has_earned_from_orders(session, account.id)
    multiplier = await earning.multiplier_of(session, account)
    exact = earning.points_for(order.total, order.currency, programme, multiplier)
    # One entry moves at most MAX_POINTS: a larger order earns that many rather than
    # refusing the order (the sales plugin's placement would fail on the loyalty error).
    points = min(exact, ledger.MAX_POINTS)
    common: dict[str, Any] = {
        "actor_id": _actor_id(context),
        "actor_label": ACTOR_SALES,
        "now": now,
        "context": context,
    }
    if points > 0:
        await earning.earn_for(
            session,
            account,
            points,
            source="ORDER",
            source_ref=str(order.id),
            reason=f"order {order.number}",
            amount=order.total,
            currency=order.currency,
            data={"order": order.number, "multiplier": str(multiplier)}
            | ({"uncapped": exact} if exact != points else {}),
            **common,
        )
    if first and programme.first_order_bonus > 0:
        await earning.earn_for(
            session,
            account,
            programme.first_order_bonus,
            source="BONUS",
            source_ref=bonus_ref(order.id),
            reason=f"first order bonus (order {order.number})",
            data={"bonus": "first_order", "order": order.number},
            **common,
        )


async def on_order_cancelled(
    session: AsyncSession, order: Any, refunded: bool, context: RequestContext | None
) -> None:
    """Take back what a cancelled or refunded order earned (bonus included)."""
    await accounts.lock_customer(session, order.customer_id)
    found: Account | None = await accounts.account_of(session, order.customer_id)
    if found is None:
        return
    account = await ledger.lock(session, found.id)
    now = _now(context, order.ordered_at)
    why = "refunded" if refunded else "cancelled"
    reversed_any = False
    for entry in await _earned_for_order(session, account.id, order.id):
        if await ledger.reversal_of(session, entry.id) is not None:
            continue
        reversal = await ledger.reverse(
            session,
            account,
            entry,
            reason=f"order {order.number} {why}",
            actor_id=_actor_id(context),
            actor_label=ACTOR_SALES,
            now=now,
        )
        await webhooks.entry_written(session, "loyalty.points_reversed", account, reversal, now)
        reversed_any = True
    if reversed_any:
        await tiers.recompute(session, account, now, context)


async def on_survey_answered(
    session: AsyncSession, response: Any, context: RequestContext | None
) -> None:
    """The survey bonus, when the programme sets one, for an enrolled member's answer (once
    per response)."""
    customer_id = getattr(response, "customer_id", None)
    if customer_id is None:
        return
    programme = await accounts.programme(session)
    if programme.survey_bonus <= 0:
        return
    await accounts.lock_customer(session, customer_id)  # the surveys plugin has not
    found = await accounts.account_of(session, customer_id)
    if found is None:
        return
    account = await ledger.lock(session, found.id)
    ref = str(response.id)
    done = await session.scalar(
        select(Entry.id).where(
            Entry.account_id == account.id, Entry.source == "SURVEY", Entry.source_ref == ref
        )
    )
    if done is not None:
        return
    now = _now(context, getattr(response, "submitted_at", None) or account.updated_at)
    await earning.earn_for(
        session,
        account,
        programme.survey_bonus,
        source="SURVEY",
        source_ref=ref,
        reason="survey answered",
        actor_id=_actor_id(context),
        actor_label=ACTOR_SURVEYS,
        now=now,
        context=context,
        data={"bonus": "survey"},
    )
