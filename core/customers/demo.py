"""Believable demo customers, contacts, tags, interactions and tasks, at any size.

Rows go in with bulk inserts in chunks (a million customers must load in minutes), so the
values are made valid here rather than checked one by one: phone numbers are E.164 in the
fictional 555-01xx range, emails use example domains, numbers continue the customer counter.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.catalog import SALES_REPRESENTATIVE
from core.customers.models import (
    Contact,
    Customer,
    CustomerTag,
    CustomFieldDefinition,
    Interaction,
    Tag,
    Task,
)
from core.customers.service import COUNTER, NUMBER_PREFIX
from core.db import bulk_insert, utcnow
from core.identity.models import Role, User, UserRole
from core.sequences import NumberSequence, format_number

CHUNK = 2000
BENCH_SIZE = 10_000
"""From this size on (the benchmark's data sets) every customer has exactly 5 contacts."""
SEED = 20261123

PREFIXES = [
    "North",
    "Blue",
    "Silver",
    "Green",
    "Bright",
    "Summit",
    "Harbor",
    "Cedar",
    "Granite",
    "Maple",
    "Iron",
    "Golden",
    "Pioneer",
    "Atlas",
    "Crescent",
    "Evergreen",
    "Falcon",
    "Lake",
]
SUFFIXES = [
    "wind",
    "field",
    "stone",
    "bridge",
    "ridge",
    "point",
    "works",
    "line",
    "gate",
    "brook",
    "port",
    "crest",
    "vale",
    "light",
]
FORMS = ["Ltd", "Inc", "GmbH", "& Co", "Group", "Holdings", "Partners", "Supply", "Systems"]
FIRST = [
    "Alex",
    "Maria",
    "Chen",
    "Fatima",
    "Lukas",
    "Amara",
    "Diego",
    "Hana",
    "Ivan",
    "Priya",
    "Noah",
    "Sofia",
    "Kwame",
    "Elena",
    "Mateo",
    "Yuki",
    "Omar",
    "Lena",
    "Tariq",
    "Zoe",
]
LAST = [
    "Schmidt",
    "Garcia",
    "Okafor",
    "Novak",
    "Tanaka",
    "Rossi",
    "Silva",
    "Kowalski",
    "Haddad",
    "Larsen",
    "Murphy",
    "Dubois",
    "Kim",
    "Patel",
    "Johansson",
    "Moreau",
    "Costa",
    "Becker",
]
TITLES = [
    "Purchasing Manager",
    "CEO",
    "Head of Operations",
    "IT Director",
    "Office Manager",
    "CFO",
    "Procurement Lead",
    "Facilities Manager",
    None,
]
INDUSTRIES = [
    "Manufacturing",
    "Retail",
    "Logistics",
    "Healthcare",
    "Software",
    "Construction",
    "Hospitality",
    "Education",
    "Energy",
    "Finance",
]
TAGS = ["key account", "newsletter", "trade fair 2026", "partner", "upsell", "at risk", "vip"]
CITIES = [
    ("Springfield", "IL", "62701"),
    ("Portland", "OR", "97201"),
    ("Austin", "TX", "73301"),
    ("Denver", "CO", "80202"),
    ("Madison", "WI", "53703"),
    ("Raleigh", "NC", "27601"),
]
STREETS = ["Main St", "Oak Ave", "Harbor Rd", "Market St", "Elm St", "Industrial Pkwy"]
SUMMARIES = [
    "Discussed renewal terms; they want a volume discount.",
    "Demo of the new product line; positive feedback.",
    "Called about a late delivery; promised an update by Friday.",
    "Quarterly review meeting; usage is up 20%.",
    "Sent the revised quote by email.",
    "Visited the site; met the new purchasing manager.",
    "Online meeting on integration questions.",
    "Follow-up on the open invoice.",
]
CHANNELS = ["PHONE", "EMAIL", "MEETING", "ONLINE_MEETING", "VISIT", "OTHER"]
STAGES = [("ACTIVE", 50), ("NEW", 15), ("POTENTIAL", 20), ("DORMANT", 10), ("CHURNED", 5)]
GRADES = [("STANDARD", 70), ("SILVER", 22), ("GOLD", 8)]
SOURCES = ["TRADE_SHOW", "INBOUND", "REFERRAL", "CAMPAIGN", "PARTNER", "WEBSITE", "OTHER"]


def _weighted(rng: random.Random, choices: Sequence[tuple[str, int]]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _phone(n: int) -> str:
    return f"+1{[212, 312, 415, 617, 303, 512][n % 6]}555{n % 10000:04d}"


async def load(
    session: AsyncSession, size: int, progress: Callable[[int], None] | None = None
) -> None:
    """Add ``size`` customers with contacts, tags, interactions and tasks."""
    rng = random.Random(SEED)
    now = utcnow()
    reps = list(
        (
            await session.scalars(
                select(User.id)
                .join(UserRole, UserRole.user_id == User.id)
                .join(Role, Role.id == UserRole.role_id)
                .where(Role.key == SALES_REPRESENTATIVE)
                .order_by(User.id)
            )
        ).all()
    ) or list((await session.scalars(select(User.id).order_by(User.id).limit(5))).all())
    session.add(
        CustomFieldDefinition(
            entity="CUSTOMER",
            key="employees",
            label="Employees",
            type="NUMBER",
            required=False,
            created_at=now,
            updated_at=now,
        )
    )
    session.add(
        CustomFieldDefinition(
            entity="CUSTOMER",
            key="segment",
            label="Segment",
            type="SELECT",
            options=["SMB", "Mid-market", "Enterprise"],
            required=False,
            created_at=now,
            updated_at=now,
        )
    )
    tag_rows = [{"name": t, "name_key": t, "created_at": now} for t in TAGS]
    await session.execute(insert(Tag), tag_rows)
    tag_ids = list((await session.scalars(select(Tag.id).order_by(Tag.id))).all())
    start = int(
        await session.scalar(select(NumberSequence.value).where(NumberSequence.name == COUNTER))
        or 0
    )
    first_id = (
        int(await session.scalar(select(Customer.id).order_by(Customer.id.desc()).limit(1)) or 0)
        + 1
    )

    def customers() -> Iterator[dict[str, Any]]:
        for n in range(size):
            company = rng.random() < 0.8
            if company:
                name = f"{rng.choice(PREFIXES)}{rng.choice(SUFFIXES)} {rng.choice(FORMS)}"
                domain = f"{name.split()[0].lower()}{n}.example.com"
                email = f"info@{domain}"
                website = f"https://www.{domain}"
            else:
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                email = f"{name.replace(' ', '.').lower()}{n}@example.net"
                website = None
            city, region, postal = rng.choice(CITIES)
            created = now - dt.timedelta(days=rng.randint(1, 900), minutes=rng.randint(0, 1440))
            last = created + dt.timedelta(days=rng.randint(0, 60)) if rng.random() < 0.7 else None
            yield {
                "id": first_id + n,
                "number": format_number(NUMBER_PREFIX, start + n + 1),
                "name": name,
                "kind": "COMPANY" if company else "PERSON",
                "industry": rng.choice(INDUSTRIES) if company else None,
                "stage": _weighted(rng, STAGES),
                "grade": _weighted(rng, GRADES),
                "source": rng.choice(SOURCES),
                "phone": _phone(start + n),
                "email": email,
                "website": website,
                "address_line1": f"{rng.randint(1, 999)} {rng.choice(STREETS)}",
                "city": city,
                "region": region,
                "postal_code": postal,
                "country": "US",
                "owner_id": reps[n % len(reps)] if reps else None,
                "custom_fields": (
                    {
                        "employees": rng.choice([5, 12, 40, 120, 800]),
                        "segment": rng.choice(["SMB", "Mid-market", "Enterprise"]),
                    }
                    if company
                    else {}
                ),
                "created_at": created,
                "updated_at": created,
                "last_interaction_at": min(last, now) if last else None,
                "version": 1,
            }
            if progress is not None and n % CHUNK == CHUNK - 1:
                progress(CHUNK)

    await bulk_insert(session, Customer, customers())
    if progress is not None:
        progress(size % CHUNK)
    await session.execute(
        update(NumberSequence).where(NumberSequence.name == COUNTER).values(value=start + size)
    )
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"SELECT setval('seq_{COUNTER}', {start + size})"))
        await session.execute(
            text("SELECT setval(pg_get_serial_sequence('customers', 'id'), :v)"),
            {"v": first_id + size - 1},
        )

    def contacts() -> Iterator[dict[str, Any]]:
        for n in range(size):
            for k in range(rng.randint(1, 5) if size < BENCH_SIZE else 5):
                first, last = rng.choice(FIRST), rng.choice(LAST)
                yield {
                    "customer_id": first_id + n,
                    "name": f"{first} {last}",
                    "title": rng.choice(TITLES),
                    "phone": _phone(n * 7 + k),
                    "mobile": None,
                    "email": f"{first}.{last}{n}{k}@example.org".lower(),
                    "birthday": dt.date(
                        rng.randint(1960, 2000), rng.randint(1, 12), rng.randint(1, 28)
                    )
                    if rng.random() < 0.4
                    else None,
                    "is_primary": k == 0,
                    "notes": None,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }

    await bulk_insert(session, Contact, contacts())

    def tagging() -> Iterator[dict[str, Any]]:
        for n in range(size):
            for tag_id in rng.sample(tag_ids, rng.randint(0, 2)):
                yield {"customer_id": first_id + n, "tag_id": tag_id}

    await bulk_insert(session, CustomerTag, tagging())

    def interactions() -> Iterator[dict[str, Any]]:
        for n in range(size):
            for _ in range(rng.randint(0, 4)):
                yield {
                    "customer_id": first_id + n,
                    "channel": rng.choice(CHANNELS),
                    "summary": rng.choice(SUMMARIES),
                    "occurred_at": now
                    - dt.timedelta(days=rng.randint(0, 365), hours=rng.randint(0, 23)),
                    "author_id": reps[n % len(reps)] if reps else None,
                    "created_at": now,
                }

    await bulk_insert(session, Interaction, interactions())

    def tasks() -> Iterator[dict[str, Any]]:
        for n in range(0, size, 3):
            due = now + dt.timedelta(days=rng.randint(-5, 30))
            yield {
                "customer_id": first_id + n,
                "title": rng.choice(
                    [
                        "Call back about the quote",
                        "Send contract draft",
                        "Check delivery status",
                        "Plan quarterly review",
                    ]
                ),
                "due_at": due,
                # History: a reminder whose time passed before the demo began went out then.
                "reminded_at": now if due <= now + dt.timedelta(days=1) else None,
                "assignee_id": reps[n % len(reps)] if reps else None,
                "created_by_id": reps[n % len(reps)] if reps else None,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }

    await bulk_insert(session, Task, tasks())
    await session.flush()
