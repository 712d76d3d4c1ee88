"""The audit trail: every change and every login, written in the changing transaction.

:func:`record` adds an :class:`AuditEvent` to the session of the change itself, so the
event exists exactly when the change does. :func:`diff` turns before/after snapshots into
the ``changes`` document; fields named in :data:`SECRET_FIELDS` are never stored, only the
fact that they changed. :func:`scrub` erases the values of a record's past events when its
personal data is erased, keeping who changed which field and when.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow

SECRET_FIELDS = frozenset({"password", "password_hash", "token", "token_hash", "secret"})
ERASED = "[erased]"
"""What replaces erased personal data: free text of records, values in the audit trail."""
_SCRUB_BATCH = 500


class AuditEvent(Base):
    """One audited action: who did what to which record, when, from where, what changed."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_label: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


@dataclass(frozen=True)
class Actor:
    """Who acts and from where; ``user_id`` is ``None`` for the system and the anonymous."""

    user_id: int | None = None
    label: str | None = None
    client_address: str | None = None
    request_id: str | None = None
    at: dt.datetime | None = None
    """When the action happens (a request's controllable clock); ``None``: the wall clock."""


SYSTEM = Actor(label="system")


def _plain(value: Any) -> Any:
    """A JSON-safe form of a field value."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """``{field: {"before": old, "after": new}}`` for the fields whose value changed.

    A secret field appears as ``{"changed": true}`` with neither value.
    """
    changes: dict[str, Any] = {}
    for field in sorted(set(before) | set(after)):
        old, new = _plain(before.get(field)), _plain(after.get(field))
        if old == new:
            continue
        if field in SECRET_FIELDS:
            changes[field] = {"changed": True}
        else:
            changes[field] = {"before": old, "after": new}
    return changes


def created(values: Mapping[str, Any]) -> dict[str, Any]:
    """The ``changes`` of a new record: every field from nothing."""
    return diff({}, {k: v for k, v in values.items() if v is not None})


def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: Any = None,
    changes: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to ``session`` (the transaction of the change).

    :param action: ``<entity>.<verb>`` in lower case, e.g. ``user.created``, ``login.failed``.
    :param entity_id: the record's database id (kept as text), or ``None``.
    """
    safe = {
        field: ({"changed": True} if field in SECRET_FIELDS else value)
        for field, value in (changes or {}).items()
    }
    event = AuditEvent(
        occurred_at=actor.at or utcnow(),
        actor_id=actor.user_id,
        actor_label=actor.label,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        client_address=actor.client_address,
        request_id=actor.request_id,
        changes=_plain(safe),
    )
    session.add(event)
    return event


def _scrubbed(value: Any) -> Any:
    """``value`` of a ``changes`` entry with every value replaced by :data:`ERASED`; a null
    stays null ("was empty" tells nothing), a secret's ``{"changed": true}`` stays."""
    if isinstance(value, dict) and value and set(value) <= {"before", "after"}:
        return {key: None if old is None else ERASED for key, old in value.items()}
    if isinstance(value, dict) and value == {"changed": True}:
        return value
    return None if value is None else ERASED


async def scrub(
    session: AsyncSession,
    entity_type: str,
    entity_ids: Iterable[Any],
    keep: Collection[str] = (),
) -> int:
    """Erase the values in the ``changes`` of every event of these records (in ``session``).

    The events stay, with their action, actor, time, origin and the names of the fields that
    changed; each value becomes :data:`ERASED`, except those of the fields named in ``keep``
    (values that are not personal, such as a stage or an owner id). Returns how many events
    changed.
    """
    ids = sorted({str(entity_id) for entity_id in entity_ids})
    scrubbed = 0
    for start in range(0, len(ids), _SCRUB_BATCH):
        events = await session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_type == entity_type,
                AuditEvent.entity_id.in_(ids[start : start + _SCRUB_BATCH]),
            )
        )
        for event in events:
            changes = event.changes or {}
            cleaned = {
                field: value if field in keep else _scrubbed(value)
                for field, value in changes.items()
            }
            if cleaned != changes:
                event.changes = cleaned
                scrubbed += 1
    return scrubbed
