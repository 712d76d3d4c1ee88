"""Demo sales data for ``crm demo``: a product catalogue, a year of opportunities in every
stage with their stage history (so the funnel, the forecast and win rates show something),
contracts from the deals won, and 18 months of orders spread so that the value tiers HIGH,
MEDIUM and STANDARD all occur.

Everything is in the main currency (``CRM_SALES_CURRENCY``) but a few orders in USD, which
count in the purchase summary and never in the tiers. History is history: reminders of
contracts whose renewal date passed before the demo began count as sent.
"""

from __future__ import annotations

import datetime as dt
import decimal
import random
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Customer as CustomerRow
from core.plugin_api import bulk_insert, format_number, next_values, quantize_amount
from plugins.sales import models, settings
from plugins.sales.service import purchases

PRODUCTS = [  # sku, name, category, list price in the main currency
    ("IS-200", "Industrial sensor IS-200 / 工业传感器", "Sensors", "1280.00"),
    ("IS-350", "Industrial sensor IS-350 / 工业传感器", "Sensors", "2150.00"),
    ("GW-10", "Edge gateway GW-10 / 边缘网关", "Gateways", "6800.00"),
    ("GW-20", "Edge gateway GW-20 / 边缘网关", "Gateways", "11800.00"),
    ("PLC-4", "Controller PLC-4 / 控制器", "Controllers", "9600.00"),
    ("PLC-8", "Controller PLC-8 / 控制器", "Controllers", "15400.00"),
    ("CLOUD-Y", "Monitoring platform, yearly / 监控平台年费", "Software", "36000.00"),
    ("CLOUD-M", "Monitoring platform, monthly / 监控平台月费", "Software", "3200.00"),
    ("SVC-INST", "Installation service / 安装服务", "Services", "4500.00"),
    ("SVC-TRAIN", "Operator training day / 培训", "Services", "3800.00"),
    ("SPARE-KIT", "Spare parts kit / 备件包", "Parts", "760.00"),
    ("OLD-100", "Legacy sensor IS-100 (discontinued)", "Sensors", "980.00"),
]
TITLES = [
    "Plant monitoring rollout",
    "Sensor upgrade, line 2",
    "Warehouse gateway pilot",
    "Controller replacement",
    "Platform subscription renewal",
    "Training for new operators",
    "二期扩建项目",
    "智能工厂改造",
]
COMPETITORS = ["Zenith Systems", "Northwind Automation", "宏达科技", "Apex Controls"]
SOURCES = ["REFERRAL", "WEBSITE", "TRADE_SHOW", "CAMPAIGN", "COLD_CALL", "PARTNER"]
LOST_REASONS = ["PRICE", "PRODUCT_FIT", "COMPETITOR", "TIMING", "NO_DECISION"]
# Where an opportunity ends up (a stage key), with weights: most are still open.
OUTCOMES = [("LEAD", 5), ("QUALIFIED", 4), ("PROPOSAL", 3), ("NEGOTIATION", 2)]
OUTCOMES += [("WON", 4), ("LOST", 3)]


async def load(session: AsyncSession, size: int, zone: ZoneInfo) -> None:
    rng = random.Random(20261205)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    currency = settings.load().currency
    customers: list[tuple[int, int | None]] = [
        (customer_id, owner_id)
        for customer_id, owner_id in await session.execute(
            select(CustomerRow.id, CustomerRow.owner_id).order_by(CustomerRow.id).limit(size)
        )
    ]
    if not customers:
        return
    products = await _products(session, currency, now)
    found = await session.execute(select(models.Stage.key, models.Stage.id))
    stages: dict[str, int] = dict(found.all())
    await _opportunities(session, rng, now, currency, customers, stages, size)
    await _orders(session, rng, now, currency, customers, products)
    await purchases.refresh_values(session, [c for c, _owner in customers], now, zone)


async def _products(
    session: AsyncSession, currency: str, now: dt.datetime
) -> list[tuple[int, decimal.Decimal]]:
    rows = [
        {
            "sku": sku,
            "name": name,
            "category": category,
            "list_price": quantize_amount(decimal.Decimal(price), currency),
            "currency": currency,
            "active": not sku.startswith("OLD-"),
            "created_at": now - dt.timedelta(days=600),
            "updated_at": now - dt.timedelta(days=600),
            "version": 1,
        }
        for sku, name, category, price in PRODUCTS
    ]
    await bulk_insert(session, models.Product, rows)
    found = await session.execute(
        select(models.Product.id, models.Product.list_price)
        .where(models.Product.active.is_(True))
        .order_by(models.Product.id)
    )
    return [(product_id, price) for product_id, price in found]


async def _opportunities(
    session: AsyncSession,
    rng: random.Random,
    now: dt.datetime,
    currency: str,
    customers: list[Any],
    stages: dict[str, int],
    size: int,
) -> None:
    path = ["LEAD", "QUALIFIED", "PROPOSAL", "NEGOTIATION"]
    keys, weights = zip(*OUTCOMES, strict=True)
    rows: list[dict[str, Any]] = []
    histories: list[list[tuple[str, dt.datetime]]] = []
    for n in range(max(1, size * 4 // 5)):
        customer_id, owner_id = customers[n % len(customers)]
        outcome = rng.choices(keys, weights)[0]
        created = now - dt.timedelta(days=rng.randint(3, 330), hours=rng.randint(0, 9))
        reached = path[: path.index(outcome) + 1] if outcome in path else path[: rng.randint(1, 4)]
        steps = reached + ([outcome] if outcome not in path else [])
        moments = [created]
        for _step in steps[1:]:
            moments.append(min(moments[-1] + dt.timedelta(days=rng.randint(2, 25)), now))
        history = list(zip(steps, moments, strict=True))
        closed = moments[-1] if outcome in ("WON", "LOST") else None
        expected = (
            closed.date() if closed else (now + dt.timedelta(days=rng.randint(5, 170))).date()
        )
        lost_reason = rng.choice(LOST_REASONS) if outcome == "LOST" else None
        involved = rng.sample(COMPETITORS, rng.randint(0, 2))
        if lost_reason == "COMPETITOR" and not involved:
            involved = [rng.choice(COMPETITORS)]
        rows.append(
            {
                "customer_id": customer_id,
                "contact_id": None,
                "owner_id": owner_id,
                "title": rng.choice(TITLES),
                "amount": decimal.Decimal(rng.randint(20, 480) * 1000),
                "currency": currency,
                "expected_close_on": expected,
                "stage_id": stages[outcome],
                "probability_override": None,
                "source": rng.choice(SOURCES),
                "next_step": None if closed else "Call back about the proposal",
                "competitors": involved,
                "lost_reason": lost_reason,
                "lost_reason_text": None,
                "closed_at": closed,
                "created_at": created,
                "updated_at": moments[-1],
                "version": len(history),
            }
        )
        histories.append(history)
    numbers = await next_values(session, "sales_opportunity", len(rows))
    for row, value in zip(rows, numbers, strict=True):
        row["number"] = format_number("O", value)
    await bulk_insert(session, models.Opportunity, rows)
    # The demo fills an empty database: every opportunity is one of these.
    ids = dict(
        (await session.execute(select(models.Opportunity.number, models.Opportunity.id))).all()
    )
    changes = []
    for row, history in zip(rows, histories, strict=True):
        previous = None
        for key, moment in history:
            changes.append(
                {
                    "opportunity_id": ids[row["number"]],
                    "from_stage_id": previous,
                    "to_stage_id": stages[key],
                    "actor_id": row["owner_id"],
                    "changed_at": moment,
                }
            )
            previous = stages[key]
    await bulk_insert(session, models.StageChange, changes)
    await _contracts(session, rng, now, [r for r in rows if r["stage_id"] == stages["WON"]])


async def _contracts(
    session: AsyncSession, rng: random.Random, now: dt.datetime, won: list[dict[str, Any]]
) -> None:
    reminder = settings.load().renewal_reminder_days
    rows = []
    for deal in won:
        starts = deal["closed_at"].date() + dt.timedelta(days=rng.randint(1, 14))
        ends = starts + dt.timedelta(days=rng.choice([180, 365, 365, 730]))
        notice = rng.choice([30, 60, 90])
        status = "ACTIVE" if starts <= now.date() <= ends else "DRAFT"
        if ends < now.date():
            status = "EXPIRED"
        due = ends - dt.timedelta(days=max(reminder, notice))
        rows.append(
            {
                "customer_id": deal["customer_id"],
                "owner_id": deal["owner_id"],
                "title": deal["title"],
                "starts_on": starts,
                "ends_on": ends,
                "value": deal["amount"],
                "currency": deal["currency"],
                "status": status,
                "auto_renew": rng.random() < 0.3,
                "notice_days": notice,
                # A reminder due before the demo began went out then.
                "renewal_told_for": ends if due <= now.date() else None,
                "terminated_at": None,
                "created_at": deal["closed_at"],
                "updated_at": deal["closed_at"],
                "version": 1,
            }
        )
    numbers = await next_values(session, "sales_contract", len(rows))
    for row, value in zip(rows, numbers, strict=True):
        row["number"] = format_number("CT", value)
    await bulk_insert(session, models.Contract, rows)


async def _orders(
    session: AsyncSession,
    rng: random.Random,
    now: dt.datetime,
    currency: str,
    customers: list[Any],
    products: list[tuple[int, decimal.Decimal]],
) -> None:
    orders: list[dict[str, Any]] = []
    lines: list[list[dict[str, Any]]] = []
    for index, (customer_id, owner_id) in enumerate(customers):
        # Every seventh customer buys big (HIGH tier), every fifth steadily (MEDIUM).
        scale = 3 if index % 7 == 0 else 2 if index % 5 == 0 else 1
        for _n in range(rng.randint(0, 2) + (scale - 1) * 3):
            ordered = now - dt.timedelta(days=rng.randint(1, 540), hours=rng.randint(0, 9))
            order_currency = "USD" if rng.random() < 0.05 else currency
            order_lines: list[dict[str, Any]] = []
            for position in range(1, rng.randint(1, 3) + 1):
                product_id, price = rng.choice(products)
                if order_currency != currency:
                    price = quantize_amount(price / decimal.Decimal(7), order_currency)
                quantity = decimal.Decimal(rng.randint(1, 2) * scale)
                discount = decimal.Decimal(rng.choice([0, 0, 5, 10]))
                total = quantize_amount(
                    quantity * price * (100 - discount) / decimal.Decimal(100), order_currency
                )
                order_lines.append(
                    {
                        "position": position,
                        "product_id": product_id,
                        "quantity": quantity,
                        "unit_price": price,
                        "discount_percent": discount,
                        "total": total,
                    }
                )
            status = rng.choices(["PAID", "PLACED", "CANCELLED", "REFUNDED"], [80, 10, 6, 4])[0]
            if status == "PLACED" and ordered < now - dt.timedelta(days=30):
                status = "PAID"
            paid = ordered + dt.timedelta(days=rng.randint(0, 10))
            paid = min(paid, now)
            orders.append(
                {
                    "customer_id": customer_id,
                    "owner_id": owner_id,
                    "ordered_at": ordered,
                    "status": status,
                    "currency": order_currency,
                    "total": sum((line["total"] for line in order_lines), start=decimal.Decimal(0)),
                    "source": None,
                    "external_ref": None,
                    "paid_at": paid if status in ("PAID", "REFUNDED") else None,
                    "cancelled_at": paid if status == "CANCELLED" else None,
                    "refunded_at": min(paid + dt.timedelta(days=5), now)
                    if status == "REFUNDED"
                    else None,
                    "created_at": ordered,
                    "updated_at": paid if status != "PLACED" else ordered,
                    "version": 1,
                }
            )
            lines.append(order_lines)
    if not orders:
        return
    numbers = await next_values(session, "sales_order", len(orders))
    for row, value in zip(orders, numbers, strict=True):
        row["number"] = format_number("SO", value)
    await bulk_insert(session, models.Order, orders)
    ids = dict((await session.execute(select(models.Order.number, models.Order.id))).all())
    await bulk_insert(
        session,
        models.OrderLine,
        [
            {**line, "order_id": ids[order["number"]]}
            for order, order_lines in zip(orders, lines, strict=True)
            for line in order_lines
        ],
    )
