"""``crm serve`` as a real uvicorn process over loopback."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from schema.serving import CRM, running_server

STARTUP_SECONDS = 30


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    env = {
        **os.environ,
        "CRM_DATA_DIR": str(tmp_path / "data"),
        "CRM_PLUGINS": "",
        "CRM_GRAPHIQL": "1",
    }
    env.pop("CRM_DATABASE_URL", None)
    subprocess.run([*CRM, "migrate"], env=env, check=True, capture_output=True, timeout=60)
    with running_server(env, ready_path="/healthz", timeout=STARTUP_SECONDS) as base:
        yield base


def test_serves_graphql_graphiql_and_probes(server: str) -> None:
    assert httpx.get(f"{server}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server}/readyz")
    assert ready.status_code == 200, ready.text

    response = httpx.post(
        f"{server}/graphql", json={"query": "{ __schema { queryType { name } } }"}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert response.headers["x-request-id"]

    page = httpx.get(f"{server}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


def test_a_local_peer_cannot_choose_its_address_with_x_forwarded_for(
    server: str, tmp_path: Path
) -> None:
    """uvicorn on its own believes X-Forwarded-For from loopback peers; ``crm serve`` does
    not: only CRM_TRUSTED_PROXIES (none by default) may name the client."""
    from core.config import load_settings
    from schema.testkit import LOGIN

    body = httpx.post(
        f"{server}/graphql",
        json={"query": LOGIN, "variables": {"email": "x@example.com", "password": "Wrong-1"}},
        headers={"X-Forwarded-For": "203.0.113.7"},
    ).json()
    assert body["data"]["login"]["errors"][0]["code"] == "INVALID"

    async def addresses() -> list[str | None]:
        from sqlalchemy import select

        from core.audit import AuditEvent
        from core.db import Database

        db = Database(load_settings(data_dir=tmp_path / "data").resolved_database_url)
        try:
            async with db.read() as session:
                return list((await session.scalars(select(AuditEvent.client_address))).all())
        finally:
            await db.dispose()

    assert asyncio.run(addresses()) == ["127.0.0.1"]


def test_a_served_app_leaves_its_startup_heap_to_the_collector_once(tmp_path: Path) -> None:
    import gc

    from core.config import load_settings
    from schema.app import COLLECTOR_THRESHOLDS, create_app

    gc.unfreeze()
    thresholds = gc.get_threshold()
    try:
        app = create_app(load_settings(data_dir=tmp_path))
        assert gc.get_freeze_count() > 10_000  # modules, schema, metadata
        assert gc.get_threshold() == COLLECTOR_THRESHOLDS != thresholds
        schema = app.state.crm.schema
        # Frozen objects are no longer among those the collector walks.
        assert gc.is_tracked(schema)
        assert not any(obj is schema for obj in gc.get_objects())
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
