"""Tags: attached by name (created on first use), removed, renamed or merged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import actor_of, require
from core.context import RequestContext
from core.customers.models import Customer, CustomerTag, Tag
from core.customers.service.common import _not_found, writable_customer
from core.errors import UserErrorCode, forbidden
from core.extension import Scope
from core.i18n import _
from core.validation import Check


def _tag_key(name: str) -> str:
    return " ".join(name.split()).lower()


def _tag_names(check: Check, names: Sequence[str], field: str) -> list[str]:
    cleaned: dict[str, str] = {}
    for index, name in enumerate(names):
        value = check.text(f"{field}.{index}", name, max_length=50)
        if value is not None:
            cleaned.setdefault(_tag_key(value), " ".join(value.split()))
    return list(cleaned.values())


async def _tags_for(session: AsyncSession, names: Sequence[str], now: dt.datetime) -> list[Tag]:
    """Tags by name (case-insensitive), created on first use."""
    keys = {_tag_key(name): name for name in names}
    found = {
        t.name_key: t
        for t in (await session.scalars(select(Tag).where(Tag.name_key.in_(keys)))).all()
    }
    for key, name in keys.items():
        if key not in found:
            tag = Tag(name=name, name_key=key, created_at=now)
            session.add(tag)
            found[key] = tag
    await session.flush()
    return [found[key] for key in keys]


async def _attach_tags(
    session: AsyncSession, customer_ids: Sequence[int], names: Sequence[str], now: dt.datetime
) -> list[Tag]:
    tags = await _tags_for(session, names, now)
    existing = set(
        (
            await session.execute(
                select(CustomerTag.customer_id, CustomerTag.tag_id).where(
                    CustomerTag.customer_id.in_(customer_ids),
                    CustomerTag.tag_id.in_([t.id for t in tags]),
                )
            )
        ).all()
    )
    session.add_all(
        CustomerTag(customer_id=c, tag_id=t.id)
        for c in customer_ids
        for t in tags
        if (c, t.id) not in existing
    )
    await session.flush()
    return tags


async def tag_customers(
    session: AsyncSession,
    context: RequestContext,
    customer_ids: Sequence[int],
    names: Sequence[str],
    *,
    remove: bool = False,
) -> list[Customer]:
    check = Check()
    tag_names = _tag_names(check, names, "tags")
    if not tag_names and not check.errors:
        check.fail("tags", _("name at least one tag"), UserErrorCode.REQUIRED)
    check.done()
    customers = [
        await writable_customer(session, context, cid, f"customerIds.{i}")
        for i, cid in enumerate(customer_ids)
    ]
    ids = [c.id for c in customers]
    if remove:
        keys = [_tag_key(n) for n in tag_names]
        await session.execute(
            delete(CustomerTag).where(
                CustomerTag.customer_id.in_(ids),
                CustomerTag.tag_id.in_(select(Tag.id).where(Tag.name_key.in_(keys))),
            )
        )
    else:
        await _attach_tags(session, ids, tag_names, context.now())
    action = "customer.untagged" if remove else "customer.tagged"
    for customer in customers:
        audit.record(
            session, actor_of(context), action, "Customer", customer.id, {"tags": tag_names}
        )
    return customers


async def rename_tag(
    session: AsyncSession, context: RequestContext, tag_id: int | None, name: str
) -> Tag:
    """Rename a tag; if another tag already has the name, merge this one into it."""
    caller = require(context, "customers:write")
    if not caller.can("customers:write", Scope.ALL):
        raise forbidden(
            _("renaming a tag needs customers:write for all customers"),
            permission="customers:write",
        )
    check = Check()
    cleaned = check.text("name", name, max_length=50)
    check.done()
    assert cleaned is not None
    tag = await session.get(Tag, tag_id, with_for_update=True) if tag_id is not None else None
    if tag is None:
        raise _not_found("id", "tag")
    key = _tag_key(cleaned)
    other = await session.scalar(select(Tag).where(Tag.name_key == key, Tag.id != tag.id))
    actor = actor_of(context)
    if other is None:
        before = tag.name
        tag.name, tag.name_key = " ".join(cleaned.split()), key
        await session.flush()
        audit.record(
            session,
            actor,
            "tag.renamed",
            "Tag",
            tag.id,
            audit.diff({"name": before}, {"name": tag.name}),
        )
        return tag
    already = select(CustomerTag.customer_id).where(CustomerTag.tag_id == other.id)
    await session.execute(
        update(CustomerTag)
        .where(CustomerTag.tag_id == tag.id, CustomerTag.customer_id.not_in(already))
        .values(tag_id=other.id)
    )
    await session.execute(delete(CustomerTag).where(CustomerTag.tag_id == tag.id))
    await session.delete(tag)
    await session.flush()
    audit.record(
        session, actor, "tag.merged", "Tag", other.id, {"mergedTag": tag.name, "into": other.name}
    )
    return other
