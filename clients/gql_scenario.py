"""The Python ``gql`` scenario: the operations of ``clients/operations`` validated locally
against ``schema/schema.graphql`` and sent over HTTP (httpx) to a served instance.

:func:`run` runs every step in order and returns the names of those that passed: login,
pagination, a versioned update, a CONFLICT, persisted queries with and without a
stored hash, a dashboard with partial data, two concurrent refreshes and an expired token's
code.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gql import Client, GraphQLRequest, gql
from gql.client import SyncClientSession
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport
from graphql import print_ast

HERE = Path(__file__).resolve().parent
SCHEMA = (HERE.parent / "schema" / "schema.graphql").read_text(encoding="utf-8")
PAGE = 5
LABEL = "Python gql"
EXPIRED_TOKEN_CODE = "TOKEN_EXPIRED"
"""The code an expired access token is answered with (``extensions.code``)."""


def operation(name: str) -> GraphQLRequest:
    """The operation of ``operations/<name>.graphql``."""
    return gql((HERE / "operations" / f"{name}.graphql").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Settings:
    url: str
    """The GraphQL endpoint."""
    email: str
    """A user who sees every customer."""
    password: str
    limited_email: str
    """A user without ``audit:read``, with the same password."""
    expired_token: str
    """An access token of a real session whose lifetime is over."""


@dataclass
class Caller:
    """A gql session and the tokens it sends."""

    session: SyncClientSession
    access_token: str | None = None
    refresh_token: str | None = None
    sent: list[str] = field(default_factory=list)
    """The operations sent, in order."""

    def execute(self, name: str, /, **variables: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.access_token}"} if self.access_token else {}
        request = GraphQLRequest(operation(name), variable_values=variables)
        self.sent.append(name)
        result = self.session.execute(request, extra_args={"headers": headers})
        assert isinstance(result, dict)
        return result


class PersistedRequest(GraphQLRequest):
    """A request as Apollo's persisted-query link sends it: the SHA-256 of the document in
    ``extensions.persistedQuery``, and the document itself only when ``with_query``."""

    def __init__(self, request: GraphQLRequest, *, with_query: bool) -> None:
        text = print_ast(request.document)
        digest = hashlib.sha256(text.encode()).hexdigest()
        super().__init__(
            request, extensions={"persistedQuery": {"version": 1, "sha256Hash": digest}}
        )
        self.with_query = with_query

    @property
    def payload(self) -> dict[str, Any]:
        payload = super().payload
        if not self.with_query:
            del payload["query"]
        return payload


def client(settings: Settings) -> Client:
    """A client that validates each document against the local schema before sending it."""
    return Client(schema=SCHEMA, transport=HTTPXTransport(url=settings.url, timeout=30))


@dataclass(frozen=True)
class Read:
    id: str
    name: str
    version: int


def login(caller: Caller, email: str, password: str) -> None:
    payload = caller.execute("Login", email=email, password=password)["login"]
    assert payload["errors"] == []
    caller.access_token = payload["accessToken"]
    caller.refresh_token = payload["refreshToken"]
    assert caller.access_token
    assert caller.refresh_token
    assert caller.execute("Viewer")["viewer"]["email"] == email


def customers(caller: Caller, first: int, after: str | None = None) -> dict[str, Any]:
    connection: dict[str, Any] = caller.execute("Customers", first=first, after=after)["customers"]
    return connection


def paginate(caller: Caller) -> Read:
    """Two pages by cursor: they do not overlap and together are the first 2 x PAGE."""
    first = customers(caller, PAGE)
    assert first["pageInfo"]["hasNextPage"]
    assert first["totalCount"] > 2 * PAGE
    second = customers(caller, PAGE, first["pageInfo"]["endCursor"])
    assert len(first["edges"]) == len(second["edges"]) == PAGE
    paged = [edge["node"]["id"] for edge in first["edges"] + second["edges"]]
    assert len(set(paged)) == 2 * PAGE
    assert [edge["node"]["id"] for edge in customers(caller, 2 * PAGE)["edges"]] == paged
    node = first["edges"][0]["node"]
    return Read(node["id"], node["name"], node["version"])


def reread(caller: Caller, customer_id: str) -> Read:
    for edge in customers(caller, 2 * PAGE)["edges"]:
        node = edge["node"]
        if node["id"] == customer_id:
            return Read(node["id"], node["name"], node["version"])
    raise AssertionError(f"customer {customer_id} is no longer among the first {2 * PAGE}")


def update(caller: Caller, read: Read) -> Read:
    """updateCustomer with the version read bumps the version; a re-read shows the change."""
    name = f"{read.name} ({LABEL})"
    payload = caller.execute("RenameCustomer", id=read.id, version=read.version, name=name)[
        "updateCustomer"
    ]
    assert payload["errors"] == []
    assert payload["customer"]["version"] == read.version + 1
    assert payload["customer"]["name"] == name
    current = Read(read.id, name, read.version + 1)
    assert reread(caller, read.id) == current
    return current


def assert_current_object(payload: dict[str, Any], current: Read) -> None:
    """The CONFLICT payload answers with the current object."""
    customer = payload["customer"]
    assert customer is not None
    assert Read(customer["id"], customer["name"], customer["version"]) == current


def conflict(caller: Caller, stale: Read, current: Read) -> None:
    """A stale version is refused with CONFLICT on ``version`` and answers the current object;
    nothing changes."""
    payload = caller.execute(
        "RenameCustomer", id=stale.id, version=stale.version, name=f"{stale.name} (stale)"
    )["updateCustomer"]
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("version", "CONFLICT")]
    assert_current_object(payload, current)
    assert reread(caller, stale.id) == current


def persisted_queries(settings: Settings) -> None:
    """Automatic persisted queries: an unknown hash is answered PERSISTED_QUERY_NOT_FOUND and
    the document sent with it is stored; another client then runs it by its hash alone."""
    request = operation("SystemModules")
    with client(settings) as session:
        try:
            session.execute(PersistedRequest(request, with_query=False))
        except TransportQueryError as refused:
            codes = [e["extensions"]["code"] for e in refused.errors or []]
        else:
            raise AssertionError("an unknown hash was answered")
        assert codes == ["PERSISTED_QUERY_NOT_FOUND"]
        stored = session.execute(PersistedRequest(request, with_query=True))
    with client(settings) as other:
        by_hash = other.execute(PersistedRequest(request, with_query=False))
    assert by_hash == stored
    assert any(module["name"] == "core" for module in by_hash["system"]["modules"])


def run(settings: Settings) -> list[str]:
    """The scenario's steps, in order; returns the names of those that passed."""
    passed: list[str] = []
    with client(settings) as session:
        caller = Caller(session)
        login(caller, settings.email, settings.password)
        passed.append("login")
        read = paginate(caller)
        passed.append("pagination")
        current = update(caller, read)
        passed.append("versioned update")
        conflict(caller, read, current)
        passed.append("CONFLICT on a stale version")
    persisted_queries(settings)
    passed.append("persisted queries")
    dashboard_partial_data(settings)
    passed.append("a dashboard keeps its data beside one forbidden field")
    concurrent_refreshes(settings)
    passed.append("two concurrent refreshes keep the session")
    expired_token_code(settings)
    passed.append("an expired access token has its own code")
    return passed


def dashboard_partial_data(settings: Settings) -> None:
    """A dashboard whose one forbidden field (auditEvents) leaves the rest of ``data`` intact."""
    with client(settings) as session:
        caller = Caller(session)
        login(caller, settings.limited_email, settings.password)
        try:
            caller.execute("Dashboard")
        except TransportQueryError as refused:
            errors = refused.errors or []
            data = refused.data
        else:
            raise AssertionError("the dashboard answered without an error")
    assert [(e["path"], e["extensions"]["code"]) for e in errors] == [
        (["auditEvents"], "FORBIDDEN")
    ]
    assert data is not None
    assert data["viewer"]["email"] == settings.limited_email
    assert data["customers"]["totalCount"] > 0
    assert data["auditEvents"] is None


def concurrent_refreshes(settings: Settings) -> None:
    """Two refreshes of one refresh token at once both answer tokens; the session lives on."""
    with client(settings) as session:
        caller = Caller(session)
        login(caller, settings.email, settings.password)
        refresh_token = caller.refresh_token

    def refresh(_: int) -> dict[str, Any]:
        with client(settings) as own:
            payload: dict[str, Any] = Caller(own).execute(
                "RefreshToken", refreshToken=refresh_token
            )["refreshToken"]
            return payload

    with ThreadPoolExecutor(max_workers=2) as pool:
        payloads = list(pool.map(refresh, range(2)))
    with client(settings) as session:
        for payload in payloads:
            assert payload["errors"] == []
            caller = Caller(session, access_token=payload["accessToken"])
            assert caller.execute("Viewer")["viewer"]["email"] == settings.email
        later = Caller(session).execute("RefreshToken", refreshToken=payloads[1]["refreshToken"])
    assert later["refreshToken"]["errors"] == []
    assert later["refreshToken"]["accessToken"]


def expired_token_code(settings: Settings) -> None:
    """An expired access token is answered with its own code, so the client refreshes."""
    with client(settings) as session:
        try:
            Caller(session, access_token=settings.expired_token).execute("Viewer")
        except TransportQueryError as refused:
            errors = refused.errors or []
        else:
            raise AssertionError("an expired access token was accepted")
    assert [e["extensions"]["code"] for e in errors] == [EXPIRED_TOKEN_CODE]
