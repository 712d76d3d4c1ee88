"""Benchmark data sets and the ways the benchmark reaches the app.

A data set is the demo data of ``crm demo --size N`` (core and every enabled plugin), loaded
once into a database of its own and kept for the next run:

- SQLite: ``<data dir>/crm-<N>.sqlite3``, ready once ``crm-<N>.ready`` exists.
- PostgreSQL: database ``crm_bench_<N>`` on the server of ``--postgres-url``, ready once its
  comment says so. The benchmark creates and drops only databases named ``crm_bench_*``.

The app is reached in process (the ASGI app through ``httpx.ASGITransport``) or over loopback
(``crm serve`` in a child process, 1 or more uvicorn workers).
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core import migrate as migrations
from core.app import assemble_app
from core.config import Settings, load_settings
from core.db import Database
from core.demo import load_all
from core.host import CRMPluginManager
from core.identity.demo import DEMO_PASSWORD
from schema.app import settle_heap
from schema.builder import build_schema
from schema.modules import build_plugin_manager
from schema.serving import running_server

ADMIN_EMAIL = "admin@demo.example"
READY = "crm bench data set: {size} customers"
LOGIN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken errors { field message } }
}"""


@dataclass(frozen=True)
class Target:
    """A prepared data set on one backend."""

    backend: str
    """``sqlite`` or ``postgresql``."""
    url: str
    """SQLAlchemy URL of the data set's database."""
    size: int
    data_dir: Path
    """Holds the secret key every app process of this run shares."""

    @property
    def shown_url(self) -> str:
        """The URL with any password masked, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    def settings(self, **overrides: Any) -> Settings:
        """Settings of an in-process app on this data set. Its background job runner is
        off: it would poll the database beside the requests the bench counts and times."""
        values: dict[str, Any] = {"worker_in_process": False, **overrides}
        return load_settings(database_url=self.url, data_dir=self.data_dir, plugins=None, **values)

    def environment(self, read_path: str = "compiled") -> dict[str, str]:
        """Environment for a ``crm serve`` child process serving this data set, executing
        queries on ``read_path`` (``CRM_READ_PATH``)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
        env.update(
            {
                "CRM_DATABASE_URL": self.url,
                "CRM_DATA_DIR": str(self.data_dir),
                "CRM_WORKER_IN_PROCESS": "false",  # the bench measures requests only
                "CRM_READ_PATH": read_path,
            }
        )
        return env


def plugin_manager() -> CRMPluginManager:
    return build_plugin_manager(None)


async def prepare(
    backend: str,
    size: int,
    *,
    data_dir: Path,
    postgres_url: str | None = None,
    fresh: bool = False,
    database: str | None = None,
    log: Callable[[str], None] = print,
) -> Target:
    """The data set of ``size`` customers on ``backend``: reused when a complete one exists,
    else (or when ``fresh``) made anew with the demo loader.

    :param database: PostgreSQL database name (``crm_bench_<size>`` by default; it must
        start with ``crm_bench_``).
    """
    if backend == "sqlite":
        target, reuse = _sqlite_file(data_dir, size, fresh)
        if reuse:
            await _upgrade(target)
            return target
        await _load(target, log)
        _sqlite_marker(target).write_text(READY.format(size=size) + "\n")
        return target
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r}")
    if postgres_url is None:
        raise ValueError("PostgreSQL needs --postgres-url")
    data_dir = _directory(data_dir)
    server = make_url(postgres_url)
    name = database or f"crm_bench_{size}"
    if not name.startswith("crm_bench_") or not name.replace("_", "").isalnum():
        raise ValueError(f"benchmark databases are named crm_bench_<letters, digits>: {name!r}")
    target = Target(
        backend,
        server.set(drivername="postgresql+asyncpg", database=name).render_as_string(
            hide_password=False
        ),
        size,
        data_dir,
    )
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(admin_dsn)
    try:
        comment = await admin.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
            name,
        )
        if comment == READY.format(size=size) and not fresh:
            await _upgrade(target)
            return target
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    await _load(target, log)
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f"COMMENT ON DATABASE \"{name}\" IS '{READY.format(size=size)}'")
    finally:
        await admin.close()
    return target


def _directory(path: Path) -> Path:
    path = path.resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sqlite_marker(target: Target) -> Path:
    return target.data_dir / f"crm-{target.size}.ready"


def _sqlite_file(data_dir: Path, size: int, fresh: bool) -> tuple[Target, bool]:
    """The SQLite data set's target, and whether a complete one is there to reuse (else
    the leftovers of an incomplete one are removed)."""
    data_dir = _directory(data_dir)
    path = data_dir / f"crm-{size}.sqlite3"
    target = Target("sqlite", f"sqlite+aiosqlite:///{path}", size, data_dir)
    if _sqlite_marker(target).exists() and path.exists() and not fresh:
        return target, True
    _sqlite_marker(target).unlink(missing_ok=True)
    for leftover in data_dir.glob(path.name + "*"):
        leftover.unlink()
    return target, False


async def drop(target: Target, postgres_url: str) -> None:
    """Drop a PostgreSQL data set's database (tests clean up with it)."""
    name = make_url(target.url).database
    if target.backend != "postgresql" or not name or not name.startswith("crm_bench_"):
        raise ValueError(f"not a benchmark database: {target.shown_url}")
    admin_dsn = make_url(postgres_url).set(drivername="postgresql")
    admin = await asyncpg.connect(admin_dsn.render_as_string(hide_password=False))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _upgrade(target: Target) -> None:
    db = Database(target.url)
    try:
        await migrations.upgrade(db, plugin_manager())
    finally:
        await db.dispose()


async def _load(target: Target, log: Callable[[str], None]) -> None:
    started = time.perf_counter()
    log(f"loading {target.size:,} demo customers into {target.backend} (once; kept for reuse)")
    pm = plugin_manager()
    db = Database(target.url)
    try:
        await migrations.upgrade(db, pm)
        await load_all(db, pm, target.settings(), target.size, on_module=lambda m: log(f"  {m}"))
        # Fresh statistics, as autovacuum (PostgreSQL) or `PRAGMA optimize` would give.
        async with db.engine.connect() as connection:
            await connection.execute(text("ANALYZE"))
            await connection.commit()
    finally:
        await db.dispose()
    log(f"  loaded in {time.perf_counter() - started:.0f} s")


@dataclass
class Client:
    """A signed-in GraphQL client over some transport."""

    http: httpx.AsyncClient
    token: str
    db: Database | None = None
    """The app's database (in process only), e.g. to count its statements."""

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> bytes:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
        return response.content

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        """The ``data`` of a response that must have no errors."""
        body = httpx.Response(200, content=await self.post(query, variables)).json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        return body["data"]


async def sign_in(http: httpx.AsyncClient, email: str = ADMIN_EMAIL) -> str:
    response = await http.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"email": email, "password": DEMO_PASSWORD}},
    )
    body = response.json()
    if "data" not in body:
        raise RuntimeError(f"cannot sign in as {email}: {body.get('errors')}")
    payload = body["data"]["login"]
    if payload["errors"]:
        raise RuntimeError(f"cannot sign in as {email}: {payload['errors']}")
    token: str = payload["accessToken"]
    return token


@asynccontextmanager
async def in_process(
    target: Target, email: str = ADMIN_EMAIL, read_path: str = "compiled"
) -> AsyncIterator[Client]:
    """The full ASGI app (lifespan, middleware, authentication) over an in-process client,
    executing queries on ``read_path`` (``CRM_READ_PATH``)."""
    settings = target.settings(read_path=read_path)
    pm = plugin_manager()
    db = Database.from_settings(settings)
    app = assemble_app(settings=settings, pm=pm, db=db, schema=build_schema(pm, settings))
    thresholds = gc.get_threshold()
    settle_heap()  # as a served process does (schema.app.create_app)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
                yield Client(http, await sign_in(http, email), db)
    finally:
        gc.unfreeze()  # this process goes on (another section, or a test) after the app
        gc.set_threshold(*thresholds)


@contextmanager
def served(target: Target, workers: int = 1, read_path: str = "compiled") -> Iterator[str]:
    """``crm serve`` on the data set in a child process; yields its base URL."""
    with running_server(target.environment(read_path), workers=workers) as base:
        yield base


@asynccontextmanager
async def over_loopback(base_url: str, email: str = ADMIN_EMAIL) -> AsyncIterator[Client]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:
        yield Client(http, await sign_in(http, email))


async def _main() -> None:  # pragma: no cover - manual use: python -m bench.dataset N
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    url = sys.argv[2] if len(sys.argv) > 2 else None
    target = await prepare(
        "postgresql" if url else "sqlite", size, data_dir=Path("var/bench"), postgres_url=url
    )
    print(target.url)


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(_main())
