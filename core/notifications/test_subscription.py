"""``notificationReceived`` over WebSocket (graphql-transport-ws) against real ``crm serve``
processes: on SQLite one process; on PostgreSQL two, the ticket assigned through one and the
subscriber connected to the other (the push crosses processes through LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from strawberry import relay
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from core.catalog import ADMINISTRATOR, SUPPORT_REPRESENTATIVE
from core.config import Settings
from core.db import Database
from schema.serving import running_server
from schema.testkit import DEFAULT_PASSWORD, LOGIN
from schema.testkit_tools import make_user

STARTUP_SECONDS = 30
SECRET = "subscription-test-secret-key-0123456789abcdef"
PROTOCOL = Subprotocol("graphql-transport-ws")
SUBSCRIBE = "subscription { notificationReceived { kind title subjectId read } }"
ASSIGN = """
mutation($input: AssignTicketInput!) {
  assignTicket(input: $input) { ticket { id version } errors { field message } }
}"""


@pytest.fixture
def crm_plugins() -> tuple[str, ...]:
    return ("tickets",)


@pytest.fixture
def crm_extra_plugins() -> Mapping[str, Any]:
    """The servers run the installed plugins only, so the in-process setup does too."""
    return {}


async def gql(
    client: httpx.AsyncClient, base: str, token: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def assign(
    client: httpx.AsyncClient,
    base: str,
    token: str,
    ticket: dict[str, Any],
    assignee: str | None,
) -> dict[str, Any]:
    changed = await gql(
        client,
        base,
        token,
        ASSIGN,
        {"input": {"id": ticket["id"], "version": ticket["version"], "assigneeId": assignee}},
    )
    assert changed["assignTicket"]["errors"] == [], changed
    moved: dict[str, Any] = changed["assignTicket"]["ticket"]
    return moved


async def login(client: httpx.AsyncClient, base: str, email: str) -> str:
    answer = await client.post(
        f"{base}/graphql",
        json={"query": LOGIN, "variables": {"email": email, "password": DEFAULT_PASSWORD}},
    )
    token: str = answer.json()["data"]["login"]["accessToken"]
    return token


async def receive(socket: ClientConnection, seconds: float) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), seconds))
    return message


async def subscribed(base: str, token: str) -> ClientConnection:
    socket = await websockets.connect(
        base.replace("http://", "ws://") + "/graphql", subprotocols=[PROTOCOL]
    )
    await socket.send(
        json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    )
    assert (await receive(socket, 10))["type"] == "connection_ack"
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    return socket


async def test_a_ticket_assigned_through_one_process_reaches_a_subscriber_of_another(
    settings: Settings, migrated_db: Database, database_url: str, tmp_path: Path
) -> None:
    await make_user(migrated_db, settings, "admin@example.com", [ADMINISTRATOR])
    agent = await make_user(migrated_db, settings, "agent@example.com", [SUPPORT_REPRESENTATIVE])
    await migrated_db.dispose()
    env = {
        **os.environ,
        "CRM_DATA_DIR": str(settings.data_dir),
        "CRM_DATABASE_URL": database_url,
        "CRM_PLUGINS": "tickets",
        "CRM_SECRET_KEY": SECRET,
    }
    processes = 2 if database_url.startswith("postgresql") else 1
    with ExitStack() as stack:
        servers = [
            stack.enter_context(
                running_server(env, timeout=STARTUP_SECONDS, log=tmp_path / f"server{n}.log")
            )
            for n in range(processes)
        ]
        writer, reader = servers[0], servers[-1]
        async with httpx.AsyncClient(timeout=30) as client:
            admin = await login(client, writer, "admin@example.com")
            customer = (
                await gql(
                    client,
                    writer,
                    admin,
                    'mutation { createCustomer(input: {name: "Acme"}) { customer { id } } }',
                    {},
                )
            )["createCustomer"]["customer"]["id"]
            ticket = (
                await gql(
                    client,
                    writer,
                    admin,
                    """mutation($c: ID!) { openTicket(input: {customerId: $c, type: FAULT,
                       subject: "Printer on fire"}) { ticket { id version } } }""",
                    {"c": customer},
                )
            )["openTicket"]["ticket"]
            agent_token = await login(client, reader, "agent@example.com")
            socket = await subscribed(reader, agent_token)
            try:
                # The subscription starts listening a moment after `subscribe` is sent, and
                # the protocol does not say when: hand the ticket over (and back) until a
                # notification arrives, each time allowing the 2 s the push may take.
                received = None
                elapsed = 0.0
                agent_id = relay.to_base64("User", agent)
                for _attempt in range(10):
                    ticket = await assign(client, writer, admin, ticket, agent_id)
                    sent_at = time.monotonic()
                    try:
                        received = await receive(socket, 2)
                    except TimeoutError:
                        ticket = await assign(client, writer, admin, ticket, None)
                        continue
                    elapsed = time.monotonic() - sent_at
                    break
                assert received is not None, "no notification reached the subscriber"
                assert elapsed < 2
                assert received["type"] == "next"
                assert received["id"] == "1"
                note = received["payload"]["data"]["notificationReceived"]
                assert note["kind"] == "ticket.assigned"
                assert note["title"].startswith("Ticket T")
                assert "Printer on fire" in note["title"]
                assert (note["subjectId"], note["read"]) == (ticket["id"], False)

                # Signed out, the subscription ends at its next push, as HTTP would refuse.
                await gql(
                    client, reader, agent_token, "mutation { logout { errors { message } } }", {}
                )
                ticket = await assign(client, writer, admin, ticket, None)
                ticket = await assign(client, writer, admin, ticket, agent_id)
                ended = await receive(socket, 5)
                assert ended["type"] == "next"
                assert ended["payload"]["errors"][0]["extensions"]["code"] == "SESSION_ENDED"
                assert (await receive(socket, 5))["type"] == "complete"
            finally:
                await socket.close()


async def test_a_connection_without_a_valid_token_is_refused(
    settings: Settings, migrated_db: Database, database_url: str, tmp_path: Path
) -> None:
    await migrated_db.dispose()
    env = {
        **os.environ,
        "CRM_DATA_DIR": str(settings.data_dir),
        "CRM_DATABASE_URL": database_url,
        "CRM_PLUGINS": "tickets",
        "CRM_SECRET_KEY": SECRET,
    }
    with running_server(env, timeout=STARTUP_SECONDS, log=tmp_path / "server.log") as base:
        for payload in ({}, {"authorization": "Bearer not-a-token"}):
            socket = await websockets.connect(
                base.replace("http://", "ws://") + "/graphql", subprotocols=[PROTOCOL]
            )
            await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await receive(socket, 10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4403
