"""The transactional outbox (:mod:`core.outbox`): a message commits with its change, is
delivered once by a worker, retried with backoff, given up, and survives a worker that dies.

A test plugin registers the channel ``test``, whose deliverer records what it was handed and
fails when told to. Every test runs on SQLite and, with ``CRM_TEST_POSTGRES_URL``, on
PostgreSQL; the two-worker test needs PostgreSQL.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from sqlalchemy import func, select, update

from core.config import Settings
from core.db import Database
from core.hookspecs import hookimpl
from core.host import CRMPluginManager, PluginError
from core.outbox import (
    Deliverer,
    Delivery,
    DeliveryFailed,
    OutboxMessage,
    OutboxStatus,
    OutboxWorker,
    enqueue_message,
    purge_delivered,
)
from schema.modules import build_plugin_manager
from schema.testkit import FakeClock


class Recorder:
    """A plugin with the outbox channel ``test``: records each delivery, fails when told."""

    def __init__(self) -> None:
        self.delivered: list[int] = []
        self.by_database: collections.Counter[int] = collections.Counter()
        self.failure: DeliveryFailed | None = None

    async def deliver(self, delivery: Delivery) -> None:
        await asyncio.sleep(0)  # let concurrent workers interleave
        if self.failure is not None:
            raise self.failure
        self.delivered.append(delivery.message_id)
        self.by_database[id(delivery.db)] += 1

    @hookimpl
    def crm_outbox_channels(self) -> Mapping[str, Deliverer]:
        return {"test": self.deliver}


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def crm_plugins() -> tuple[str, ...]:
    return ("recorder",)


@pytest.fixture
def crm_extra_plugins(recorder: Recorder) -> Mapping[str, Any]:
    return {"recorder": recorder}


@pytest.fixture
def worker(
    migrated_db: Database, settings: Settings, plugin_manager: CRMPluginManager, clock: FakeClock
) -> Callable[..., OutboxWorker]:
    """``worker(worker_id)``: an outbox worker on the test's database and clock."""

    def make(worker_id: str = "first", db: Database = migrated_db) -> OutboxWorker:
        return OutboxWorker(
            db=db, settings=settings, pm=plugin_manager, clock=clock, worker_id=worker_id
        )

    return make


async def enqueue(
    db: Database, clock: FakeClock, count: int = 1, *, dedupe_key: str | None = None
) -> list[int | None]:
    async with db.transaction() as session:
        return [
            await enqueue_message(
                session,
                channel="test",
                kind="test.message",
                payload={"n": n},
                now=clock(),
                recipient=f"r{n}@example.com",
                dedupe_key=dedupe_key,
            )
            for n in range(count)
        ]


async def message(db: Database, message_id: int | None) -> OutboxMessage:
    async with db.read() as session:
        found = await session.get(OutboxMessage, message_id)
        assert found is not None
        return found


async def count(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def test_a_committed_message_is_delivered_once(
    migrated_db: Database,
    clock: FakeClock,
    recorder: Recorder,
    worker: Callable[..., OutboxWorker],
) -> None:
    [message_id] = await enqueue(migrated_db, clock)
    assert await worker().run_until_idle() == 1
    assert recorder.delivered == [message_id]
    found = await message(migrated_db, message_id)
    assert found.status == OutboxStatus.DELIVERED
    assert found.attempts == 1
    assert found.delivered_at == clock()
    assert found.lease_owner is None
    assert found.lease_until is None
    assert found.payload == {"n": 0}
    assert found.recipient == "r0@example.com"
    assert await worker("second").run_until_idle() == 0
    assert recorder.delivered == [message_id]


async def test_a_message_of_a_rolled_back_change_is_never_written(
    migrated_db: Database, clock: FakeClock, recorder: Recorder, worker: Callable[..., OutboxWorker]
) -> None:
    async def change_that_fails() -> None:
        async with migrated_db.transaction() as session:
            found = await enqueue_message(
                session, channel="test", kind="test.message", payload={}, now=clock()
            )
            assert found is not None
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError, match="the change failed"):
        await change_that_fails()
    assert await count(migrated_db) == 0
    assert await worker().run_until_idle() == 0
    assert recorder.delivered == []


async def test_a_dedupe_key_writes_one_message(
    migrated_db: Database, clock: FakeClock, recorder: Recorder, worker: Callable[..., OutboxWorker]
) -> None:
    [first] = await enqueue(migrated_db, clock, dedupe_key="reminder:7")
    [second] = await enqueue(migrated_db, clock, dedupe_key="reminder:7")
    assert first is not None
    assert second is None
    assert await count(migrated_db) == 1
    await worker().run_until_idle()
    assert recorder.delivered == [first]


async def test_a_failed_delivery_is_retried_after_a_growing_backoff_then_given_up(
    make_settings: Callable[..., Settings],
    migrated_db: Database,
    plugin_manager: CRMPluginManager,
    clock: FakeClock,
    recorder: Recorder,
) -> None:
    settings = make_settings(outbox_max_attempts=3, outbox_retry_seconds=30)
    outbox = OutboxWorker(db=migrated_db, settings=settings, pm=plugin_manager, clock=clock)
    [message_id] = await enqueue(migrated_db, clock)
    recorder.failure = DeliveryFailed("receiver away")

    failed_at = clock()
    assert await outbox.run_until_idle() == 1
    found = await message(migrated_db, message_id)
    assert found.status == OutboxStatus.PENDING
    assert found.attempts == 1
    assert found.last_error == "receiver away"
    assert found.lease_owner is None
    wait = found.next_attempt_at - failed_at
    assert dt.timedelta(seconds=30) <= wait <= dt.timedelta(seconds=33), wait

    clock.advance(seconds=29)
    assert await outbox.run_until_idle() == 0, "retried before its time"
    clock.set(found.next_attempt_at)
    failed_at = clock()
    assert await outbox.run_until_idle() == 1
    found = await message(migrated_db, message_id)
    assert found.status == OutboxStatus.PENDING
    assert found.attempts == 2
    wait = found.next_attempt_at - failed_at
    assert dt.timedelta(seconds=60) <= wait <= dt.timedelta(seconds=66), wait

    clock.advance(seconds=59)
    assert await outbox.run_until_idle() == 0, "retried before its time"
    clock.set(found.next_attempt_at)
    recorder.failure = DeliveryFailed("receiver still away")
    assert await outbox.run_until_idle() == 1
    found = await message(migrated_db, message_id)
    assert found.status == OutboxStatus.FAILED
    assert found.attempts == 3
    assert found.last_error == "receiver still away"

    clock.advance(days=1)
    assert await outbox.run_until_idle() == 0, "a given-up message is not tried again"
    assert recorder.delivered == []


async def test_a_retried_message_is_delivered_once_the_receiver_is_back(
    migrated_db: Database, clock: FakeClock, recorder: Recorder, worker: Callable[..., OutboxWorker]
) -> None:
    [message_id] = await enqueue(migrated_db, clock)
    recorder.failure = DeliveryFailed("receiver away")
    assert await worker().run_until_idle() == 1
    recorder.failure = None
    clock.advance(minutes=1)
    assert await worker().run_until_idle() == 1
    assert recorder.delivered == [message_id]
    found = await message(migrated_db, message_id)
    assert found.status == OutboxStatus.DELIVERED
    assert found.attempts == 2
    assert found.last_error is None


async def test_a_permanent_failure_gives_up_at_once(
    migrated_db: Database, clock: FakeClock, recorder: Recorder, worker: Callable[..., OutboxWorker]
) -> None:
    [message_id] = await enqueue(migrated_db, clock)
    recorder.failure = DeliveryFailed("address refused", permanent=True)
    assert await worker().run_until_idle() == 1
    found = await message(migrated_db, message_id)
    assert found.status == OutboxStatus.FAILED
    assert found.attempts == 1
    assert found.last_error == "address refused"
    clock.advance(days=1)
    assert await worker().run_until_idle() == 0


async def test_a_dead_workers_batch_is_delivered_by_another_once_its_lease_ends(
    migrated_db: Database,
    settings: Settings,
    clock: FakeClock,
    recorder: Recorder,
    worker: Callable[..., OutboxWorker],
) -> None:
    ids = await enqueue(migrated_db, clock, 3)
    dead, alive = worker("dead"), worker("alive")
    claimed = await dead.claim()
    assert [delivery.message_id for delivery in claimed] == ids
    assert [delivery.attempts for delivery in claimed] == [1, 1, 1]
    found = await message(migrated_db, ids[0])
    assert found.status == OutboxStatus.SENDING
    assert found.lease_owner == "dead"
    assert found.lease_until == clock() + dt.timedelta(seconds=settings.outbox_lease_seconds)

    assert await alive.claim() == []
    clock.advance(seconds=settings.outbox_lease_seconds)
    assert await alive.claim() == [], "the lease still holds at its last moment"
    clock.advance(seconds=1)
    taken = await alive.claim()
    assert [delivery.message_id for delivery in taken] == ids
    assert [delivery.attempts for delivery in taken] == [2, 2, 2]

    # The dead worker wakes up: its late record changes nothing, the lease is the other's.
    await dead._record([(claimed[0], None), (claimed[1], DeliveryFailed("late", permanent=True))])
    for message_id in ids:
        found = await message(migrated_db, message_id)
        assert found.status == OutboxStatus.SENDING
        assert found.lease_owner == "alive"
        assert found.last_error is None

    await alive._record([(delivery, None) for delivery in taken])
    for message_id in ids:
        assert (await message(migrated_db, message_id)).status == OutboxStatus.DELIVERED
    await dead._record([(claimed[2], DeliveryFailed("later still"))])
    assert (await message(migrated_db, ids[2])).status == OutboxStatus.DELIVERED


async def test_purge_removes_old_delivered_and_failed_messages_only(
    migrated_db: Database,
    settings: Settings,
    clock: FakeClock,
    recorder: Recorder,
    worker: Callable[..., OutboxWorker],
) -> None:
    delivered, failed, pending = await enqueue(migrated_db, clock, 3)
    async with migrated_db.transaction() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == failed)
            .values(status=OutboxStatus.FAILED, last_error="gone")
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == pending)
            .values(next_attempt_at=clock() + dt.timedelta(days=365))
        )
    assert await worker().run_until_idle() == 1
    assert recorder.delivered == [delivered]

    clock.advance(days=settings.outbox_retention_days, seconds=1)
    [recent] = await enqueue(migrated_db, clock)
    assert await worker().run_until_idle() == 1
    async with migrated_db.transaction() as session:
        assert await purge_delivered(session, settings, clock()) == 2
    async with migrated_db.read() as session:
        left = set((await session.scalars(select(OutboxMessage.id))).all())
    assert left == {pending, recent}


async def test_two_workers_on_postgresql_deliver_each_message_exactly_once(
    database_url: str,
    make_settings: Callable[..., Settings],
    migrated_db: Database,
    plugin_manager: CRMPluginManager,
    clock: FakeClock,
    recorder: Recorder,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent workers on separate connections need PostgreSQL (SKIP LOCKED)")
    settings = make_settings(outbox_batch=20)
    ids = await enqueue(migrated_db, clock, 1000)
    engines = [Database(settings.resolved_database_url) for _ in range(2)]
    try:
        first, second = (
            OutboxWorker(db=db, settings=settings, pm=plugin_manager, clock=clock, worker_id=name)
            for db, name in zip(engines, ("one", "two"), strict=True)
        )
        done = await asyncio.wait_for(
            asyncio.gather(first.run_until_idle(), second.run_until_idle()), 120
        )
    finally:
        for db in engines:
            await db.dispose()
    assert sum(done) == 1000
    times = collections.Counter(recorder.delivered)
    assert set(times) == set(ids)
    assert set(times.values()) == {1}, [i for i, n in times.items() if n > 1][:10]
    assert all(recorder.by_database[id(db)] > 0 for db in engines), recorder.by_database
    async with migrated_db.read() as session:
        statuses = (
            await session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            )
        ).all()
    assert dict(statuses) == {OutboxStatus.DELIVERED: 1000}


async def test_a_deliverers_unexpected_error_is_retried_like_a_failure(
    migrated_db: Database, clock: FakeClock, recorder: Recorder, worker: Callable[..., OutboxWorker]
) -> None:
    [message_id] = await enqueue(migrated_db, clock)

    async def broken(delivery: Delivery) -> None:
        raise ValueError("a bug in the deliverer")

    outbox = worker()
    outbox.channels = {"test": broken}
    assert await outbox.run_until_idle() == 1
    found = await message(migrated_db, message_id)
    assert found.status == OutboxStatus.PENDING
    assert found.last_error == "unexpected error: ValueError"
    clock.advance(minutes=1)
    assert await worker().run_until_idle() == 1
    assert recorder.delivered == [message_id]


def test_two_plugins_delivering_one_channel_stop_the_worker(
    migrated_db: Database, settings: Settings
) -> None:
    pm = build_plugin_manager(["one", "two"], extra_plugins={"one": Recorder(), "two": Recorder()})
    with pytest.raises(
        PluginError, match="the outbox channel 'test' is declared by two modules: one and two"
    ):
        OutboxWorker(db=migrated_db, settings=settings, pm=pm)


async def test_a_worker_stopped_mid_batch_records_what_it_sent_and_hands_back_the_rest(
    migrated_db: Database,
    clock: FakeClock,
    recorder: Recorder,
    worker: Callable[..., OutboxWorker],
) -> None:
    first, second = await enqueue(migrated_db, clock, 2)
    held = asyncio.Event()
    release = asyncio.Event()

    async def one_fast_one_stuck(delivery: Delivery) -> None:
        if delivery.message_id == second:
            held.set()
            await release.wait()  # cancelled while waiting here
        recorder.delivered.append(delivery.message_id)

    stopping = worker()
    stopping.channels = {"test": one_fast_one_stuck}
    running = asyncio.create_task(stopping.run_batch())
    await asyncio.wait_for(held.wait(), 5)
    for _ in range(10):  # let the fast one finish
        await asyncio.sleep(0)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    sent, unsent = await message(migrated_db, first), await message(migrated_db, second)
    assert (sent.status, sent.attempts) == (OutboxStatus.DELIVERED, 1)
    assert (unsent.status, unsent.attempts, unsent.lease_owner) == (OutboxStatus.PENDING, 0, None)
    assert recorder.delivered == [first]
    assert await worker("second").run_until_idle() == 1  # at once, not after the lease
    assert recorder.delivered == [first, second]


async def test_a_delivery_that_outlasts_its_deadline_is_failed_and_retried(
    migrated_db: Database,
    clock: FakeClock,
    worker: Callable[..., OutboxWorker],
    make_settings: Callable[..., Settings],
    plugin_manager: CRMPluginManager,
) -> None:
    [message_id] = await enqueue(migrated_db, clock)

    async def never_answers(delivery: Delivery) -> None:
        await asyncio.Event().wait()

    quick = OutboxWorker(
        db=migrated_db,
        settings=make_settings(outbox_lease_seconds=1),  # a delivery may take half a second
        pm=plugin_manager,
        clock=clock,
        channels={"test": never_answers},
    )
    assert await quick.run_batch() == 1
    found = await message(migrated_db, message_id)
    assert (found.status, found.last_error) == (OutboxStatus.PENDING, "took longer than 0.5 s")


async def test_a_message_whose_every_attempt_killed_its_worker_is_given_up(
    migrated_db: Database,
    clock: FakeClock,
    recorder: Recorder,
    settings: Settings,
    worker: Callable[..., OutboxWorker],
) -> None:
    [message_id] = await enqueue(migrated_db, clock)
    for n in range(settings.outbox_max_attempts):  # each worker dies holding it
        assert len(await worker(f"dying-{n}").claim()) == 1
        clock.advance(seconds=settings.outbox_lease_seconds + 1)
    assert await worker("last").run_until_idle() == 1
    found = await message(migrated_db, message_id)
    assert found.status == OutboxStatus.FAILED
    assert found.last_error == "every attempt ended with the worker stopping"
    assert recorder.delivered == []
