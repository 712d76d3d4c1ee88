"""What a load process of the load section (:mod:`bench.load`) runs, in a spawned child.

Kept apart from :mod:`bench.load` so that a spawned load process imports only the standard
library and httpx, not the app: it starts in a fraction of a second and spends its CPU on
sending requests.

Each process runs one asyncio loop with one httpx client and a fixed number of closed-loop
virtual users: a user sends its next request when the previous one is answered. A user starts
with one operation in turn, then draws operations by fixed weights, and customers from the
sampled ids, with an RNG seeded with its own number, so every run repeats the same mix.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from typing import Any

import httpx

SEED = 20_260_505
MAX_MESSAGES = 5
"""Error messages kept per operation (for the table's notes)."""
START_TIMEOUT = 120.0
"""Seconds a load process waits for the start, and the main process for a load process."""

LIST = """
query LoadList {
  customers(first: 20) {
    edges { node {
      id number name stage grade email lastInteractionAt version
      owner { name }
      tags { name }
      contacts(first: 3) { totalCount edges { node { id name email primary } } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""

DETAIL = """
query LoadDetail($id: ID!) {
  customer(id: $id) {
    id number name kind industry stage grade source phone email website version
    address { line1 city country }
    owner { name user { email } }
    tags { name }
    contacts(first: 5) { totalCount edges { node { id name title email phone primary } } }
    interactions(first: 10) {
      totalCount
      edges { node { id channel summary occurredAt author { name } } }
    }
    tasks(first: 5) { totalCount edges { node { id title dueAt done assignee { name } } } }
    tickets(first: 5) {
      totalCount
      edges { node { id number subject status priority createdAt assignee { name } } }
    }
    openTicketCount
  }
}"""

LOG_INTERACTION = """
mutation LoadLogInteraction($input: LogInteractionInput!) {
  logInteraction(input: $input) {
    interaction { id occurredAt }
    errors { field message code }
  }
}"""

OPEN_TICKET = """
mutation LoadOpenTicket($input: OpenTicketInput!) {
  openTicket(input: $input) {
    ticket { id number status }
    errors { field message code }
  }
}"""


@dataclass(frozen=True)
class Operation:
    name: str
    weight: int
    query: str
    mutation: str | None = None
    """The mutation field whose payload carries ``errors`` (and the created object)."""
    created: str | None = None
    """The payload field of the created object."""


OPERATIONS = (
    Operation("list page", 40, LIST),
    Operation("customer detail", 35, DETAIL),
    Operation("log interaction", 15, LOG_INTERACTION, "logInteraction", "interaction"),
    Operation("open ticket", 10, OPEN_TICKET, "openTicket", "ticket"),
)
CHANNELS = ("PHONE", "EMAIL", "MEETING", "ONLINE_MEETING", "VISIT", "OTHER")
TICKET_TYPES = ("CONSULTATION", "FAULT", "COMPLAINT", "SUGGESTION", "OTHER")
PRIORITIES = ("LOW", "MEDIUM", "MEDIUM", "HIGH")


@dataclass(frozen=True)
class SignIn:
    """How a load process signs in (the ``login`` mutation of :mod:`bench.dataset`)."""

    query: str
    email: str
    password: str


@dataclass(frozen=True)
class LoadSpec:
    """What one load process is told to do."""

    index: int
    base_url: str
    sign_in: SignIn
    users: int
    first_user: int
    customer_ids: tuple[str, ...]
    warmup: float
    seconds: float
    tag: str
    """Written into every summary and subject, to find this run's records."""


@dataclass
class OperationTally:
    durations: list[float] = field(default_factory=list)
    """Seconds, of requests answered inside the measured window."""
    answered: int = 0
    """Requests answered without error over the whole run, warm-up included."""
    errors: int = 0
    """Over the whole run, warm-up included."""
    messages: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    """Global ids of the records created (warm-up included)."""


def variables(operation: Operation, rng: random.Random, customer_id: str, tag: str) -> Any:
    if operation.mutation == "logInteraction":
        return {
            "input": {
                "customerId": customer_id,
                "channel": rng.choice(CHANNELS),
                "summary": f"{tag}: call about the next order ({rng.randrange(10**6)})",
            }
        }
    if operation.mutation == "openTicket":
        return {
            "input": {
                "customerId": customer_id,
                "type": rng.choice(TICKET_TYPES),
                "priority": rng.choice(PRIORITIES),
                "subject": f"{tag}: question {rng.randrange(10**6)}",
                "description": "Opened by the load run of the benchmark.",
            }
        }
    if operation.name == "customer detail":
        return {"id": customer_id}
    return {}


def problem(operation: Operation, response: httpx.Response) -> tuple[str | None, str | None]:
    """(error message or None, created global id or None) of one answered request."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:300]}", None
    body = response.json()
    if body.get("errors"):
        return "GraphQL errors: " + json.dumps(body["errors"])[:300], None
    if operation.mutation is None:
        return None, None
    payload = body["data"][operation.mutation]
    if payload["errors"]:
        return f"{operation.mutation} errors: " + json.dumps(payload["errors"])[:300], None
    created = payload[operation.created] if operation.created else None
    return None, created["id"] if created else None


async def _virtual_user(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    spec: LoadSpec,
    user: int,
    window: tuple[float, float],
    tallies: dict[str, OperationTally],
) -> None:
    rng = random.Random(f"{SEED}-{user}")
    weights = [op.weight for op in OPERATIONS]
    start, end = window
    # A user's first request is one operation in turn (user n starts with operation n), so a
    # short run with as many users as operations sends each at least once, in the warm-up.
    operation = OPERATIONS[user % len(OPERATIONS)]
    while time.time() < end:
        payload = {
            "query": operation.query,
            "variables": variables(operation, rng, rng.choice(spec.customer_ids), spec.tag),
        }
        tally = tallies[operation.name]
        began = time.perf_counter()
        try:
            response = await http.post("/graphql", json=payload, headers=headers)
            message, created = problem(operation, response)
        except Exception as exc:  # transport errors, bad JSON: all count as errors
            message, created = f"{type(exc).__name__}: {exc}"[:300], None
        elapsed = time.perf_counter() - began
        answered = time.time()
        if created:
            tally.created.append(created)
        if message is not None:
            tally.errors += 1
            if len(tally.messages) < MAX_MESSAGES:
                tally.messages.append(message)
        else:
            tally.answered += 1
            if start <= answered < end:
                tally.durations.append(elapsed)
        operation = rng.choices(OPERATIONS, weights)[0]


async def sign_in(http: httpx.AsyncClient, how: SignIn) -> str:
    """An access token for ``how.email`` (lasts 15 minutes: longer than a load run)."""
    response = await http.post(
        "/graphql",
        json={"query": how.query, "variables": {"email": how.email, "password": how.password}},
    )
    payload = response.json()["data"]["login"]
    if payload["errors"]:
        raise RuntimeError(f"cannot sign in as {how.email}: {payload['errors']}")
    token: str = payload["accessToken"]
    return token


async def _generate(
    spec: LoadSpec, ready: Queue[Any], begin: Queue[float]
) -> dict[str, OperationTally]:
    limits = httpx.Limits(max_connections=spec.users, max_keepalive_connections=spec.users)
    async with httpx.AsyncClient(base_url=spec.base_url, limits=limits, timeout=60) as http:
        headers = {"Authorization": f"Bearer {await sign_in(http, spec.sign_in)}"}
        ready.put(("ready", spec.index, None))
        started: float = await asyncio.to_thread(begin.get, True, START_TIMEOUT)
        await asyncio.sleep(max(0.0, started - time.time()))
        window = (started + spec.warmup, started + spec.warmup + spec.seconds)
        tallies = {op.name: OperationTally() for op in OPERATIONS}
        await asyncio.gather(
            *(
                _virtual_user(http, headers, spec, spec.first_user + n, window, tallies)
                for n in range(spec.users)
            )
        )
        return tallies


def load_process(spec: LoadSpec, ready: Queue[Any], begin: Queue[float]) -> None:
    """Entry point of a load process: report ``ready``, wait for the start, send load,
    report the tallies (or the traceback)."""
    try:
        tallies = asyncio.run(_generate(spec, ready, begin))
    except BaseException:
        ready.put(("failed", spec.index, traceback.format_exc()))
        raise
    ready.put(("done", spec.index, tallies))
