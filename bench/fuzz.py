"""``make fuzz``: schemathesis against a served instance with demo data, as an administrator.

Every root query and mutation of the composed schema gets generated documents (arguments of
every type, the ``JSON`` scalar included, so ``Query.customers``' filter is generated too,
and ids mostly of records that may exist, so that documents reach the code behind the id
checks),
sent over HTTP to ``crm serve`` in a child process. A server error is an HTTP 5xx, or a
GraphQL error whose code is ``INTERNAL_SERVER_ERROR`` (an unexpected exception, masked); the
server's log is searched for tracebacks afterwards, and every GraphQL error must carry an
``extensions.code``. The run prints its figures and fails unless all three counts are zero.

    python -m bench.fuzz --cases 5000 [--seed N] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphql
import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis.core.result import Err
from schemathesis.graphql import nodes
from strawberry import relay

from bench.dataset import ADMIN_EMAIL, drop, prepare
from core.identity.demo import DEMO_PASSWORD
from schema.serving import running_server

DEMO_SIZE = 50
MAX_ROUNDS = 5
INTERNAL = "INTERNAL_SERVER_ERROR"
SIGN_IN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken errors { message } }
}"""
API_TOKEN = """
mutation { createApiToken(input: {name: "fuzz"}) { apiToken { id } secret errors { message } } }"""
VIEWER = "{ viewer { id roles { id } } }"

_NAMES = st.from_regex(r"[_A-Za-z][_0-9A-Za-z]{0,11}", fullmatch=True)


def json_values() -> st.SearchStrategy[graphql.ValueNode]:
    """Any JSON value as a GraphQL literal: what the ``JSON`` scalar accepts."""
    leaves: st.SearchStrategy[graphql.ValueNode] = st.one_of(
        st.just(nodes.Null),
        st.booleans().map(nodes.Boolean),
        st.integers().map(nodes.Int),
        st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
        st.text(max_size=40).map(nodes.String),
    )

    def containers(
        children: st.SearchStrategy[graphql.ValueNode],
    ) -> st.SearchStrategy[graphql.ValueNode]:
        return st.one_of(
            st.lists(children, max_size=4).map(nodes.List),
            st.dictionaries(_NAMES, children, max_size=4).map(_object),
        )

    return st.recursive(leaves, containers, max_leaves=12)


def upload_values() -> st.SearchStrategy[graphql.ValueNode]:
    """Literals where an ``Upload`` goes: a file travels only in a multipart request, so a
    document can hold none, and each of these must be refused naming its field."""
    return st.one_of(
        st.just(nodes.Null),
        st.text(max_size=30).map(nodes.String),
        st.integers().map(nodes.Int),
    )


def decimal_values() -> st.SearchStrategy[graphql.ValueNode]:
    """What the ``Decimal`` scalar reads (plain digits as a string, or a JSON number), and
    text that only looks like a number."""
    return st.one_of(
        st.decimals(min_value=-(10**20), max_value=10**20, places=4).map(
            lambda d: nodes.String(format(d, "f"))
        ),
        st.integers().map(nodes.Int),
        st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
        st.text(alphabet="0123456789.-+eE, ", max_size=30).map(nodes.String),
    )


def _object(fields: dict[str, graphql.ValueNode]) -> graphql.ValueNode:
    return nodes.Object(
        [
            graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v)
            for k, v in fields.items()
        ]
    )


@dataclass
class Tally:
    """What the server answered, case by case."""

    cases: int = 0
    without_errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    by_operation: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    uncoded: list[str] = field(default_factory=list)

    def add(self, operation: str, document: str, response: Any) -> None:
        self.cases += 1
        self.by_operation[operation] += 1
        self.statuses[response.status_code] += 1
        errors = _errors(response)
        self.without_errors += response.status_code == 200 and not errors
        for error in errors:
            self.codes[str((error.get("extensions") or {}).get("code", "(none)"))] += 1
        codes = [(e.get("extensions") or {}).get("code") for e in errors]
        if response.status_code >= 500 or INTERNAL in codes:
            self.server_errors.append(f"{operation}: HTTP {response.status_code}\n{document}")
        if None in codes:
            self.uncoded.append(f"{operation}: {errors[codes.index(None)]}\n{document}")


def _errors(response: Any) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


@contextmanager
def demo_server(postgres: str | None, log: Path) -> Iterator[str]:
    """A fresh database with demo data, served; yields the base URL.

    On PostgreSQL (``postgres`` names a server) the run makes a database of its own and
    drops it afterwards; on SQLite it is a file in a temporary directory.
    """
    backend = "postgresql" if postgres else "sqlite"
    database = f"crm_bench_fuzz_{uuid.uuid4().hex[:10]}"
    with tempfile.TemporaryDirectory(prefix="crm-fuzz-") as directory:
        target = asyncio.run(
            prepare(
                backend,
                DEMO_SIZE,
                data_dir=Path(directory),
                postgres_url=postgres,
                fresh=True,
                database=database,
                log=lambda _: None,
            )
        )
        try:
            # The runner on: imports the fuzzer starts run, and their tracebacks count.
            env = {**target.environment(), "CRM_WORKER_IN_PROCESS": "true"}
            with running_server(env, log=log) as base:
                yield base
        finally:
            if postgres:
                asyncio.run(drop(target, postgres))


@dataclass(frozen=True)
class Credentials:
    """The fuzzer's own API token, and the ids it must not take away from itself."""

    token: str
    protected: frozenset[str]
    """Global ids of the token, its user and the user's roles: a generated document that
    revokes, deactivates or strips them would sign the fuzzer out for the rest of the run."""


def administrator_token(base: str) -> Credentials:
    """An API token of the demo administrator (it does not expire during the run)."""
    with httpx.Client(base_url=base, timeout=30) as http:
        signed_in = http.post(
            "/graphql",
            json={"query": SIGN_IN, "variables": {"email": ADMIN_EMAIL, "password": DEMO_PASSWORD}},
        ).json()["data"]["login"]
        headers = {"Authorization": f"Bearer {signed_in['accessToken']}"}
        created = http.post("/graphql", json={"query": API_TOKEN}, headers=headers).json()
        payload = created["data"]["createApiToken"]
        viewer = http.post("/graphql", json={"query": VIEWER}, headers=headers).json()
    user = viewer["data"]["viewer"]
    protected = {payload["apiToken"]["id"], user["id"], *(r["id"] for r in user["roles"])}
    return Credentials(payload["secret"], frozenset(protected))


def global_ids(
    node_types: Sequence[str], protected: frozenset[str]
) -> st.SearchStrategy[graphql.ValueNode]:
    """Mostly ids of records that may exist (a node type and a small number), so that
    documents get past the id checks to the code behind them; the rest arbitrary text.
    ``protected`` ids are never generated."""
    plausible = st.builds(
        lambda type_name, number: relay.to_base64(type_name, number),
        st.sampled_from(node_types),
        st.integers(min_value=1, max_value=DEMO_SIZE * 2),
    ).filter(lambda global_id: global_id not in protected)
    return st.one_of(plausible, plausible, plausible, st.text(max_size=30)).map(nodes.String)


def node_types(base: str, headers: dict[str, str]) -> list[str]:
    """The names of the schema's types that implement ``Node``."""
    query = "{ __schema { types { name interfaces { name } } } }"
    with httpx.Client(base_url=base, timeout=30) as http:
        types = http.post("/graphql", json={"query": query}, headers=headers).json()
    return sorted(
        t["name"]
        for t in types["data"]["__schema"]["types"]
        if any(i["name"] == "Node" for i in t.get("interfaces") or [])
    )


def fuzz(base: str, credentials: Credentials, cases: int, random_seed: int) -> Tally:
    """Send about ``cases`` generated documents, spread evenly over the root fields."""
    headers = {"Authorization": f"Bearer {credentials.token}"}
    schemathesis.graphql.scalar("JSON", json_values())
    schemathesis.graphql.scalar("Decimal", decimal_values())
    schemathesis.graphql.scalar("Upload", upload_values())
    ids = global_ids(node_types(base, headers), credentials.protected)
    schemathesis.graphql.scalar("ID", ids)
    schema = schemathesis.graphql.from_url(f"{base}/graphql", headers=headers)
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise RuntimeError(f"schemathesis cannot read the schema: {result.err()}")
        operations.append(result.ok())
    tally = Tally()
    # Root fields without arguments run out of new documents at once: further rounds, each
    # with its own seed, spread what is left over the rest until ``cases`` are sent.
    for round_seed in range(random_seed, random_seed + MAX_ROUNDS):
        left = cases - tally.cases
        if left <= 0:
            break
        per_operation = max(1, -(-left // len(operations)))
        for operation in operations:
            _send_cases(operation, headers, per_operation, round_seed, tally)
    return tally


def _send_cases(
    operation: Any, headers: dict[str, str], count: int, random_seed: int, tally: Tally
) -> None:
    label = str(operation.label)

    @seed(random_seed)
    @settings(
        max_examples=count,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def send(case: Any) -> None:
        response = case.call(headers=headers, timeout=30)
        tally.add(label, str(case.body), response)

    send()


def tracebacks(log: Path) -> list[str]:
    """Server log lines that carry a traceback (the JSON log puts it in ``exc_info``)."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            if "Traceback" in line:
                found.append(line)
            continue
        if isinstance(record, dict) and any("Traceback" in str(v) for v in record.values()):
            found.append(line)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=5000, help="generated documents in all")
    parser.add_argument("--seed", type=int, default=1, help="the same seed, the same documents")
    parser.add_argument(
        "--postgres",
        help="serve from PostgreSQL: a database of its own on this server, dropped afterwards",
    )
    parser.add_argument("--log", type=Path, default=Path("var/fuzz-server.log"))
    args = parser.parse_args(argv)
    args.log.parent.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    with demo_server(args.postgres, args.log) as base:
        tally = fuzz(base, administrator_token(base), args.cases, args.seed)
    seconds = time.monotonic() - started
    logged = tracebacks(args.log)

    print(
        f"fuzz: {tally.cases} cases over {len(tally.by_operation)} root fields in {seconds:.0f} s"
    )
    print("HTTP status: " + ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items())))
    print(f"answered without request errors: {tally.without_errors}")
    print("error codes: " + ", ".join(f"{c}: {n}" for c, n in tally.codes.most_common()))
    print(f"server errors: {len(tally.server_errors)}")
    print(f"errors without extensions.code: {len(tally.uncoded)}")
    print(f"tracebacks in the server log: {len(logged)} ({args.log})")
    for failure in tally.server_errors[:10] + tally.uncoded[:10]:
        print(f"\n--- {failure}")
    for line in logged[:5]:
        print(f"\n--- {line[:2000]}")
    return 1 if tally.server_errors or tally.uncoded or logged else 0


if __name__ == "__main__":
    sys.exit(main())
