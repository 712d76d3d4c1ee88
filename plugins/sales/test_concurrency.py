"""Opportunity numbers under real concurrency: two app processes (uvicorn, as ``crm serve``
runs them) on one PostgreSQL database, fifty opportunities created at once, split across
both; and an order feed imported twice, at once, from both, creating its orders once.

PostgreSQL only (the numbers come from a sequence there; SQLite has one writer anyway):
skipped without ``CRM_TEST_POSTGRES_URL``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from core.plugin_api import ADMINISTRATOR, Database, Settings
from plugins.sales import models
from schema.serving import running_server
from schema.testkit import DEFAULT_PASSWORD, LOGIN, POSTGRES_URL, postgres_database
from schema.testkit_tools import make_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="CRM_TEST_POSTGRES_URL not set"),
]

OPPORTUNITIES = 50
STARTUP_SECONDS = 30
SECRET = "concurrency-test-secret-key-0123456789abcdef"
CREATE = """
mutation($input: CreateOpportunityInput!) {
  createOpportunity(input: $input) { opportunity { number } errors { field message code } }
}"""
IMPORT = """
mutation($input: ImportOrdersInput!) {
  importOrders(input: $input) {
    created skipped imported rowErrors { line field message } errors { field message code }
  }
}"""


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    """PostgreSQL only (the kit's fixture also makes a SQLite case): a fresh database."""
    async with postgres_database() as url:
        yield url


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """The installed sales plugin alone, as the servers run it."""
    return make_settings(plugins=("sales",))


@pytest.fixture
def crm_extra_plugins() -> Mapping[str, Any]:
    """The servers run the installed plugins only, so the in-process setup does too."""
    return {}


async def gql(
    client: httpx.AsyncClient, base: str, query: str, variables: dict[str, Any], token: str
) -> dict[str, Any]:
    response = await client.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


async def test_two_processes_number_fifty_opportunities_and_import_a_feed_once(
    settings: Settings, migrated_db: Database, database_url: str, tmp_path: Path
) -> None:
    database = migrated_db
    await make_user(database, settings, "admin@example.com", [ADMINISTRATOR])
    await database.dispose()

    env = {
        **os.environ,
        "CRM_DATA_DIR": str(settings.data_dir),
        "CRM_DATABASE_URL": database_url,
        "CRM_PLUGINS": "sales",
        "CRM_SECRET_KEY": SECRET,
    }
    with ExitStack() as stack:
        servers = [
            stack.enter_context(
                running_server(env, timeout=STARTUP_SECONDS, log=tmp_path / f"server{n}.log")
            )
            for n in (1, 2)
        ]
        async with httpx.AsyncClient(timeout=60) as client:
            login = await client.post(
                f"{servers[0]}/graphql",
                json={
                    "query": LOGIN,
                    "variables": {"email": "admin@example.com", "password": DEFAULT_PASSWORD},
                },
            )
            token = login.json()["data"]["login"]["accessToken"]
            assert token, login.text
            created = await gql(
                client,
                servers[1],
                """mutation { createCustomer(input: {name: "Busy Corp"}) {
                    customer { id number } errors { message } } }""",
                {},
                token,
            )
            customer = created["data"]["createCustomer"]["customer"]
            product = await gql(
                client,
                servers[0],
                """mutation { createProduct(input: {sku: "IS-200", name: "Sensor",
                    listPrice: "100.00", currency: "CNY"}) {
                    product { id } errors { message } } }""",
                {},
                token,
            )
            assert product["data"]["createProduct"]["errors"] == []

            bodies = await asyncio.gather(
                *(
                    gql(
                        client,
                        servers[n % 2],
                        CREATE,
                        {
                            "input": {
                                "customerId": customer["id"],
                                "title": f"Rush {n}",
                                "amount": "1000.00",
                            }
                        },
                        token,
                    )
                    for n in range(OPPORTUNITIES)
                )
            )
            payloads = [body["data"]["createOpportunity"] for body in bodies]
            assert [p["errors"] for p in payloads] == [[]] * OPPORTUNITIES
            numbers = sorted(p["opportunity"]["number"] for p in payloads)
            assert numbers == [f"O{n:06d}" for n in range(1, OPPORTUNITIES + 1)]

            feed = "external_ref,customer_number,ordered_at,sku,quantity,unit_price\n" + "".join(
                f"ERP-{n},{customer['number']},2026-11-0{1 + n % 9}T10:00:00+08:00,IS-200,{n},\n"
                for n in range(1, 21)
            )
            imports = await asyncio.gather(
                *(
                    gql(
                        client,
                        servers[n],
                        IMPORT,
                        {"input": {"csv": feed, "source": "erp"}},
                        token,
                    )
                    for n in (0, 1)
                )
            )
            results = [body["data"]["importOrders"] for body in imports]
            assert all(r["errors"] == [] and r["rowErrors"] == [] for r in results), results
            assert sum(r["created"] for r in results) == 20
            assert sum(r["skipped"] for r in results) == 20

    async with database.read() as session:
        stored = (await session.scalars(select(models.Opportunity.number))).all()
        history = await session.scalar(select(func.count()).select_from(models.StageChange))
        orders = await session.scalar(select(func.count()).select_from(models.Order))
    assert sorted(stored) == numbers
    assert history == OPPORTUNITIES
    assert orders == 20
