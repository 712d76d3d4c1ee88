"""The transactional outbox: messages (emails, webhook calls) decided by a change, committed
with it, and delivered afterwards by a worker.

A service calls :func:`enqueue_message` (or a public wrapper: ``send_email``, ``emit_event``)
inside the transaction of its change, so the message and the change commit together or not at
all: nothing is sent from inside a request, and nothing is sent for a change that rolled back.

An :class:`OutboxWorker` (in ``crm worker``, and in ``crm serve`` unless
``CRM_WORKER_IN_PROCESS=false``) claims due messages in batches with a lease: on PostgreSQL
``FOR UPDATE SKIP LOCKED`` lets any number of workers on any number of machines share the
table, each row going to one of them; on SQLite the single writer does the same. The worker
hands each message to its channel's deliverer (``crm_outbox_channels``) outside any
transaction, then marks it DELIVERED, or schedules a retry with exponential backoff, or gives
up (FAILED) after ``CRM_OUTBOX_MAX_ATTEMPTS``. A worker that dies holding a batch leaves rows
whose lease runs out; another worker delivers them then. Delivery is therefore at least once:
a worker that dies after a send and before recording it sends again. Each message carries a
stable id (an email's ``Message-ID``, a webhook's ``webhook-id``) so a receiver can tell.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Index, Integer, String, Text, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, Database, UTCDateTime, upsert_insert, utcnow
from core.host import declared

if TYPE_CHECKING:
    from core.config import Settings
    from core.host import CRMPluginManager

logger = logging.getLogger("crm.outbox")

MAX_BACKOFF = dt.timedelta(hours=6)
DEADLINE_SHARE = 0.5
"""The share of the lease one delivery may take before it counts as failed."""


class OutboxStatus(enum.StrEnum):
    PENDING = "PENDING"
    SENDING = "SENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class OutboxMessage(Base):
    """One message to deliver once: through ``channel``, to ``recipient``, ``payload``."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str | None] = mapped_column(String(320))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


class DeliveryFailed(Exception):
    """Raised by a deliverer: the message was not delivered. ``permanent`` means trying
    again cannot help (an address refused, a subscription gone): the message is given up."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass
class Delivery:
    """What a deliverer gets: one claimed message and the service around it."""

    message_id: int
    channel: str
    kind: str
    recipient: str | None
    payload: dict[str, Any]
    attempts: int
    created_at: dt.datetime
    db: Database
    settings: Settings
    pm: CRMPluginManager
    clock: Callable[[], dt.datetime]


Deliverer = Callable[[Delivery], Awaitable[None]]
"""Delivers one message; returning means delivered, :class:`DeliveryFailed` means not."""


async def enqueue_message(
    session: AsyncSession,
    *,
    channel: str,
    kind: str,
    payload: Mapping[str, Any],
    now: dt.datetime,
    recipient: str | None = None,
    dedupe_key: str | None = None,
) -> int | None:
    """Write a message in the caller's transaction; it is delivered once that commits.

    :param dedupe_key: a message with this key is written once, however often asked
        (a reminder two workers decide at the same moment).
    :return: the message's id, or ``None`` when ``dedupe_key`` was used already.
    """
    values = {
        "channel": channel,
        "kind": kind,
        "recipient": recipient,
        "payload": dict(payload),
        "dedupe_key": dedupe_key,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    insert = upsert_insert(session.get_bind().dialect.name)
    statement = insert(OutboxMessage).values(values)
    if dedupe_key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=[OutboxMessage.dedupe_key])
    found: int | None = await session.scalar(statement.returning(OutboxMessage.id))
    return found


def channels_of(pm: CRMPluginManager) -> dict[str, Deliverer]:
    """Every module's deliverers by channel; a channel registered twice stops startup."""
    return declared(pm, "crm_outbox_channels", "the outbox channel")


def backoff(settings: Settings, attempts: int) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failed try: the base doubled each time,
    at most six hours, with a tenth of jitter so that failed messages do not retry in step."""
    doubled = settings.outbox_retry_seconds * (1 << min(max(attempts - 1, 0), 20))
    wait = min(dt.timedelta(seconds=doubled), MAX_BACKOFF)
    jitter = random.uniform(0, 0.1)
    return wait + wait * jitter


@dataclass
class OutboxWorker:
    """Claims due messages in batches and delivers them through their channels."""

    db: Database
    settings: Settings
    pm: CRMPluginManager
    clock: Callable[[], dt.datetime] = utcnow
    worker_id: str = field(default_factory=lambda: f"outbox-{uuid.uuid4().hex[:12]}")
    poll_seconds: float = 0.5
    channels: dict[str, Deliverer] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.channels:
            self.channels = channels_of(self.pm)

    @property
    def lease(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.settings.outbox_lease_seconds)

    def _claimable(self, now: dt.datetime) -> Any:
        return OutboxMessage.channel.in_(list(self.channels)) & or_(
            (OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.next_attempt_at <= now),
            (OutboxMessage.status == OutboxStatus.SENDING) & (OutboxMessage.lease_until < now),
        )

    async def claim(self, limit: int | None = None) -> list[Delivery]:
        """Take up to ``limit`` due messages (oldest first) with a lease.

        A look in a read session comes first, so an idle worker takes no write lock.
        """
        if not self.channels:
            return []
        now = self.clock()
        size = limit or self.settings.outbox_batch
        due = (
            select(OutboxMessage.id)
            .where(self._claimable(now))
            .order_by(OutboxMessage.id)
            .limit(size)
        )
        async with self.db.read() as session:
            if await session.scalar(due.limit(1)) is None:
                return []
        async with self.db.transaction() as session:
            rows = (
                await session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id.in_(
                            due.with_for_update(skip_locked=True).scalar_subquery()
                        )
                    )
                    .values(
                        status=OutboxStatus.SENDING,
                        lease_owner=self.worker_id,
                        lease_until=now + self.lease,
                        attempts=OutboxMessage.attempts + 1,
                    )
                    .returning(
                        OutboxMessage.id,
                        OutboxMessage.channel,
                        OutboxMessage.kind,
                        OutboxMessage.recipient,
                        OutboxMessage.payload,
                        OutboxMessage.attempts,
                        OutboxMessage.created_at,
                    )
                    .execution_options(synchronize_session=False)
                )
            ).all()
        return sorted(
            (
                Delivery(
                    message_id=row.id,
                    channel=row.channel,
                    kind=row.kind,
                    recipient=row.recipient,
                    payload=dict(row.payload or {}),
                    attempts=row.attempts,
                    created_at=row.created_at,
                    db=self.db,
                    settings=self.settings,
                    pm=self.pm,
                    clock=self.clock,
                )
                for row in rows
            ),
            key=lambda delivery: delivery.message_id,
        )

    @property
    def deadline(self) -> float:
        """Seconds one delivery may take: well inside the lease, so that a slow receiver
        cannot hold a batch past it (another worker would send the batch again)."""
        return self.lease.total_seconds() * DEADLINE_SHARE

    async def _deliver(self, delivery: Delivery) -> DeliveryFailed | None:
        if delivery.attempts > self.settings.outbox_max_attempts:
            # Claimed again and again by workers that died sending it: give it up.
            return DeliveryFailed("every attempt ended with the worker stopping", permanent=True)
        try:
            async with asyncio.timeout(self.deadline):
                await self.channels[delivery.channel](delivery)
        except DeliveryFailed as exc:
            return exc
        except TimeoutError:
            return DeliveryFailed(f"took longer than {self.deadline:g} s")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a deliverer's bug must not stop the others: log, retry
            logger.exception(
                "outbox message %s (%s) stopped by an unexpected error",
                delivery.message_id,
                delivery.channel,
            )
            return DeliveryFailed(f"unexpected error: {type(exc).__name__}")
        return None

    async def run_batch(self, limit: int | None = None) -> int:
        """Claim one batch and deliver it; how many messages were claimed.

        Cancelled (the worker stops), it records what was sent and hands the rest back at
        once, so that nothing sent is sent again and nothing waits for the lease.
        """
        batch = await self.claim(limit)
        if not batch:
            return 0
        tasks = [asyncio.ensure_future(self._deliver(delivery)) for delivery in batch]
        try:
            outcomes = await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            finished = [
                (delivery, task.result())
                for delivery, task in zip(batch, tasks, strict=True)
                if task.done() and not task.cancelled()
            ]
            unsent = [
                delivery
                for delivery, task in zip(batch, tasks, strict=True)
                if not task.done() or task.cancelled()
            ]
            await asyncio.shield(self._record(finished, handed_back=unsent))
            raise
        await self._record(list(zip(batch, outcomes, strict=True)))
        return len(batch)

    async def _record(
        self,
        results: Sequence[tuple[Delivery, DeliveryFailed | None]],
        handed_back: Sequence[Delivery] = (),
    ) -> None:
        now = self.clock()
        delivered = [delivery.message_id for delivery, failure in results if failure is None]
        mine = OutboxMessage.lease_owner == self.worker_id
        async with self.db.transaction() as session:
            if handed_back:  # not tried to the end: as it was before the claim
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_([d.message_id for d in handed_back]), mine)
                    .values(
                        status=OutboxStatus.PENDING,
                        attempts=OutboxMessage.attempts - 1,
                        lease_owner=None,
                        lease_until=None,
                    )
                )
            if delivered:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(delivered), mine)
                    .values(
                        status=OutboxStatus.DELIVERED,
                        delivered_at=now,
                        lease_owner=None,
                        lease_until=None,
                        last_error=None,
                    )
                )
            for delivery, failure in results:
                if failure is None:
                    continue
                give_up = (
                    failure.permanent or delivery.attempts >= self.settings.outbox_max_attempts
                )
                logger.warning(
                    "outbox message %s (%s) not delivered on attempt %s: %s%s",
                    delivery.message_id,
                    delivery.channel,
                    delivery.attempts,
                    failure.reason,
                    "; given up" if give_up else "",
                )
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == delivery.message_id, mine)
                    .values(
                        status=OutboxStatus.FAILED if give_up else OutboxStatus.PENDING,
                        next_attempt_at=now + backoff(self.settings, delivery.attempts),
                        lease_owner=None,
                        lease_until=None,
                        last_error=failure.reason[:2000],
                    )
                )

    async def run_until_idle(self, limit: int = 100_000) -> int:
        """Deliver batches until nothing is due (at most ``limit`` messages); how many."""
        done = 0
        while done < limit:
            claimed = await self.run_batch(min(self.settings.outbox_batch, limit - done))
            if not claimed:
                break
            done += claimed
        return done

    async def serve(self, stop: asyncio.Event) -> None:
        """Deliver messages as they fall due until ``stop`` is set."""
        while not stop.is_set():
            try:
                claimed = await self.run_batch()
            except Exception:  # the database away for a moment: log, wait, try again
                logger.exception("the outbox worker could not claim messages")
                claimed = 0
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll_seconds)


async def purge_delivered(session: AsyncSession, settings: Settings, now: dt.datetime) -> int:
    """Delete delivered and given-up messages older than ``CRM_OUTBOX_RETENTION_DAYS``."""
    cutoff = now - dt.timedelta(days=settings.outbox_retention_days)
    result = await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status.in_([OutboxStatus.DELIVERED, OutboxStatus.FAILED]),
            OutboxMessage.created_at < cutoff,
        )
    )
    return max(int(result.rowcount or 0), 0)  # type: ignore[attr-defined]
