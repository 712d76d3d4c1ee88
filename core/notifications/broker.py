"""The push to open apps: a new notification reaches its user's subscriptions in every process.

:func:`announce` is called in the transaction that writes the notification. On PostgreSQL it
is a ``pg_notify``, which the database delivers at commit (never for a rollback) to every
process listening: each app process keeps one ``LISTEN`` connection (:class:`Hub`) and hands
the notification's id to its local subscribers, so a notification written by process A (or a
worker) reaches a WebSocket connected to process B. On SQLite, where one process serves, the
announcement is handed to that process's subscribers after the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database

logger = logging.getLogger("crm.notifications")

CHANNEL = "crm_notifications"
RECONNECT_SECONDS = 1.0
QUEUE_SIZE = 100


class Hub:
    """One process's subscribers by user, fed by the database's announcements."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._queues: dict[int, set[asyncio.Queue[int]]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    def publish(self, user_id: int, notification_id: int) -> None:
        for queue in list(self._queues.get(user_id, ())):
            with contextlib.suppress(asyncio.QueueFull):  # a stalled client loses, not others
                queue.put_nowait(notification_id)

    def _received(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        user, _, notification = payload.partition(":")
        with contextlib.suppress(ValueError):
            self.publish(int(user), int(notification))

    async def _listen(self) -> None:
        import asyncpg  # PostgreSQL only

        url = self._engine.url.set(drivername="postgresql")
        while True:
            try:
                connection = await asyncpg.connect(url.render_as_string(hide_password=False))
            except (OSError, asyncpg.PostgresError) as exc:
                logger.warning("cannot listen for notifications: %s", exc)
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            closed = asyncio.Event()
            connection.add_termination_listener(lambda _connection, ended=closed: ended.set())
            try:
                await connection.add_listener(CHANNEL, self._received)
                self._listening.set()
                await closed.wait()
                logger.warning("the notification listener lost its connection; reconnecting")
            finally:
                self._listening.clear()
                with contextlib.suppress(Exception):
                    await connection.close()

    async def _start(self) -> None:
        if self._engine.dialect.name != "postgresql":
            return
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="crm-notification-listener")
        await asyncio.wait_for(self._listening.wait(), timeout=10)

    @contextlib.asynccontextmanager
    async def subscribe(self, user_id: int) -> AsyncIterator[asyncio.Queue[int]]:
        """A queue of the ids of the user's new notifications while the block runs."""
        await self._start()
        queue: asyncio.Queue[int] = asyncio.Queue(QUEUE_SIZE)
        self._queues.setdefault(user_id, set()).add(queue)
        try:
            yield queue
        finally:
            subscribers = self._queues.get(user_id, set())
            subscribers.discard(queue)
            if not subscribers:
                self._queues.pop(user_id, None)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None


_hubs: dict[str, Hub] = {}
"""The process's hubs, by database URL: every engine of one database shares its hub."""


def _key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def hub_of(db: Database) -> Hub:
    """The process's hub for ``db``'s database."""
    engine = db.engine.sync_engine
    found = _hubs.get(_key(engine))
    if found is None:
        found = _hubs[_key(engine)] = Hub(engine)
    return found


async def close_hub(db: Database) -> None:
    """Stop the process's listener for ``db``'s database (the app shuts down)."""
    hub = _hubs.pop(_key(db.engine.sync_engine), None)
    if hub is not None:
        await hub.close()


async def announce(session: AsyncSession, user_id: int, notification_id: int) -> None:
    """Announce a new notification once the caller's transaction commits."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": CHANNEL, "payload": f"{user_id}:{notification_id}"},
        )
        return
    key = _key(bind if isinstance(bind, Engine) else bind.engine)
    pending: list[tuple[int, int]] = session.info.setdefault("crm_announcements", [])
    if not pending:

        def after_commit(_session: Any) -> None:
            hub = _hubs.get(key)
            for user, notification in session.info.pop("crm_announcements", []):
                if hub is not None:
                    hub.publish(user, notification)

        def after_rollback(_session: Any, previous_transaction: Any) -> None:
            # A savepoint rolled back keeps the transaction's other announcements; one of
            # a row it took with it finds no row, and the subscription skips it.
            if not previous_transaction.nested:
                session.info.pop("crm_announcements", None)

        event.listen(session.sync_session, "after_commit", after_commit, once=True)
        event.listen(session.sync_session, "after_soft_rollback", after_rollback)
    pending.append((user_id, notification_id))
