"""Automatic persisted queries (APQ), as Apollo Client's ``PersistedQueryLink`` speaks them.

A client sends ``extensions.persistedQuery = {"version": 1, "sha256Hash": "<hex>"}`` and no
query. If the service knows the hash, it runs the document stored under it; if not, it
answers ``PERSISTED_QUERY_NOT_FOUND`` (status 200, so the client's link retries rather than
giving persisted queries up), and the client sends the hash again with the full query. The
service checks that the hash is the query's SHA-256, runs it, and stores it once it parsed
and validated, so the next request may send the hash alone, also as a cacheable GET.

Documents are kept in the database (``persisted_queries``), where every app process finds
them, with a small in-process cache in front. At most :data:`MAX_STORED` are kept: a new
one past that evicts the oldest, so clients cannot grow the table without bound.

Trusted mode (``CRM_PERSISTED_QUERIES=trusted``, for production): only the documents
registered from a client build's manifest (``crm persisted-queries register``) run; a
request with any other document, or none named by hash, is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import OrderedDict
from typing import Any

from sqlalchemy import Boolean, String, Text, delete, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, Database, UTCDateTime, upsert_insert

MODES = ("automatic", "trusted", "off")
MAX_STORED = 10_000
CACHE_SIZE = 1_000
HASH = re.compile(r"^[0-9a-f]{64}$")
NOT_FOUND = {
    "message": "PersistedQueryNotFound",
    "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
}
REQUIRED = (
    "this service runs registered operations only: send extensions.persistedQuery with "
    "the SHA-256 of one (CRM_PERSISTED_QUERIES=trusted)"
)
NOT_REGISTERED = "this operation is not registered (CRM_PERSISTED_QUERIES=trusted)"
NOT_SUPPORTED = {
    "message": "PersistedQueryNotSupported",
    "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"},
}


class PersistedQuery(Base):
    """A document known by the SHA-256 of its text."""

    __tablename__ = "persisted_queries"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    """Registered from a client build's manifest (``crm persisted-queries register``): the
    only documents that run in trusted mode, and never evicted."""


class PersistedQueryError(Exception):
    """The ``persistedQuery`` extension is malformed, or its hash is not the query's."""


def requested_hash(extensions: dict[str, Any] | None) -> str | None:
    """The hash a request names in ``extensions.persistedQuery``, or ``None``.

    :raises PersistedQueryError: the extension is there but not ``{"version": 1,
        "sha256Hash": "<64 lower-case hex digits>"}``.
    """
    if not extensions or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise PersistedQueryError("'extensions.persistedQuery' must have version 1")
    value = persisted.get("sha256Hash")
    if not isinstance(value, str) or not HASH.match(value):
        raise PersistedQueryError(
            "'extensions.persistedQuery.sha256Hash' must be 64 lower-case hex digits"
        )
    return value


def check_hash(query: str, expected: str) -> None:
    if hashlib.sha256(query.encode()).hexdigest() != expected:
        raise PersistedQueryError("provided sha does not match query")


class PersistedQueries:
    """The store: the database, behind an in-process cache of recent documents.

    :param trusted_only: trusted mode: only registered documents are found, none is added.
    """

    def __init__(self, db: Database, *, trusted_only: bool = False) -> None:
        self.db = db
        self.trusted_only = trusted_only
        self._cache: OrderedDict[str, str] = OrderedDict()

    def _remember(self, sha256: str, document: str) -> None:
        self._cache[sha256] = document
        self._cache.move_to_end(sha256)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    async def get(self, sha256: str) -> str | None:
        found = self._cache.get(sha256)
        if found is None:
            statement = select(PersistedQuery.document).where(PersistedQuery.sha256 == sha256)
            if self.trusted_only:
                statement = statement.where(PersistedQuery.trusted.is_(True))
            async with self.db.read() as session:
                found = await session.scalar(statement)
        if found is not None:
            self._remember(sha256, found)
        return found

    async def put(self, sha256: str, document: str, now: dt.datetime) -> None:
        """Keep ``document`` under its hash (a second put of the same one changes nothing)."""
        if sha256 in self._cache or self.trusted_only:
            return
        async with self.db.transaction() as session:
            await session.execute(
                _insert(self.db)(PersistedQuery)
                .values(sha256=sha256, document=document, created_at=now, trusted=False)
                .on_conflict_do_nothing(index_elements=[PersistedQuery.sha256])
            )
            automatic = PersistedQuery.trusted.is_(False)
            stored = await session.scalar(
                select(func.count()).select_from(PersistedQuery).where(automatic)
            )
            if (stored or 0) > MAX_STORED:
                oldest = (
                    select(PersistedQuery.sha256)
                    .where(automatic)
                    .order_by(PersistedQuery.created_at, PersistedQuery.sha256)
                    .limit(int(stored or 0) - MAX_STORED)
                )
                await session.execute(
                    delete(PersistedQuery).where(PersistedQuery.sha256.in_(oldest))
                )
        self._remember(sha256, document)


def _insert(db: Database) -> Any:
    return upsert_insert(db.dialect)


async def register(db: Database, documents: dict[str, str], now: dt.datetime) -> int:
    """Mark ``documents`` (by hash) as trusted, adding those not stored yet; how many were
    new or newly trusted. The caller checks each hash and document first."""
    changed = 0
    async with db.transaction() as session:
        for sha256, document in documents.items():
            added = await session.execute(
                _insert(db)(PersistedQuery)
                .values(sha256=sha256, document=document, created_at=now, trusted=True)
                .on_conflict_do_nothing(index_elements=[PersistedQuery.sha256])
            )
            if added.rowcount:  # type: ignore[attr-defined]
                changed += 1
                continue
            promoted = await session.execute(
                update(PersistedQuery)
                .where(PersistedQuery.sha256 == sha256, PersistedQuery.trusted.is_(False))
                .values(trusted=True)
            )
            changed += int(promoted.rowcount or 0)  # type: ignore[attr-defined]
    return changed
