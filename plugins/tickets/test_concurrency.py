"""Ticket numbers under real concurrency: two app processes (uvicorn, as ``crm serve`` runs
them) on one PostgreSQL database, fifty tickets opened at once, split across both.

PostgreSQL only (the numbers come from a sequence there; SQLite has one writer anyway):
skipped without ``CRM_TEST_POSTGRES_URL``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from strawberry import relay

from core.plugin_api import ADMINISTRATOR, SUPPORT_REPRESENTATIVE, Database, Settings
from plugins.tickets import models
from schema.serving import running_server
from schema.testkit import DEFAULT_PASSWORD, LOGIN, POSTGRES_URL, postgres_database
from schema.testkit_tools import make_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="CRM_TEST_POSTGRES_URL not set"),
]

TICKETS = 50
STARTUP_SECONDS = 30
SECRET = "concurrency-test-secret-key-0123456789abcdef"
OPEN = """
mutation($input: OpenTicketInput!) {
  openTicket(input: $input) {
    ticket { number assignee { user { email } } } errors { field message code }
  }
}"""


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    """PostgreSQL only (the kit's fixture also makes a SQLite case): a fresh database."""
    async with postgres_database() as url:
        yield url


@pytest.fixture
def crm_plugins() -> tuple[str, ...]:
    return ("tickets",)


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


async def test_fifty_tickets_from_two_processes_get_fifty_numbers(
    settings: Settings, migrated_db: Database, database_url: str, tmp_path: Path
) -> None:
    database = migrated_db
    await make_user(database, settings, "admin@example.com", [ADMINISTRATOR])
    agents = [
        await make_user(database, settings, f"agent{n}@example.com", [SUPPORT_REPRESENTATIVE])
        for n in (1, 2)
    ]
    await database.dispose()

    env = {
        **os.environ,
        "CRM_DATA_DIR": str(settings.data_dir),
        "CRM_DATABASE_URL": database_url,
        "CRM_PLUGINS": "tickets",
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
            customer = (
                await gql(
                    client,
                    servers[1],
                    """mutation { createCustomer(input: {name: "Busy Corp"}) {
                        customer { id } errors { message } } }""",
                    {},
                    token,
                )
            )["data"]["createCustomer"]["customer"]["id"]
            rule = await gql(
                client,
                servers[0],
                """mutation($users: [ID!]!) {
                  setRoutingRule(input: {type: FAULT, strategy: ROUND_ROBIN, userIds: $users}) {
                    errors { message }
                  }
                }""",
                {"users": [relay.to_base64("User", agent) for agent in agents]},
                token,
            )
            assert rule["data"]["setRoutingRule"]["errors"] == []

            bodies = await asyncio.gather(
                *(
                    gql(
                        client,
                        servers[n % 2],
                        OPEN,
                        {
                            "input": {
                                "customerId": customer,
                                "type": "FAULT",
                                "subject": f"Rush {n}",
                            }
                        },
                        token,
                    )
                    for n in range(TICKETS)
                )
            )

            payloads = [body["data"]["openTicket"] for body in bodies]
            assert [p["errors"] for p in payloads] == [[]] * TICKETS
            numbers = sorted(p["ticket"]["number"] for p in payloads)
            assert numbers == [f"T{n:06d}" for n in range(1, TICKETS + 1)]
            # The routing rule is locked while it picks: the pool is shared out evenly.
            picked = [p["ticket"]["assignee"]["user"]["email"] for p in payloads]
            assert sorted(set(picked)) == ["agent1@example.com", "agent2@example.com"]
            assert picked.count("agent1@example.com") == TICKETS // 2

            listed = await gql(client, servers[1], "{ tickets { totalCount } }", {}, token)
            assert listed["data"]["tickets"]["totalCount"] == TICKETS

    async with database.read() as session:
        stored = (await session.scalars(select(models.Ticket.number))).all()
        events = await session.scalar(select(func.count()).select_from(models.TicketEvent))
    assert sorted(stored) == numbers
    assert events == TICKETS
