"""The service's first users, for real: each scenario runs against ``crm serve`` on a copy of
a demo database (SQLite), over loopback.

- GraphQL Code Generator types the operations of ``clients/operations`` (strict scalars) with
  no warning, and ``tsc`` (strict) checks the scenarios against those types.
- Apollo Client 3 and 4, in node: login, pagination merged in the cache by
  relayStylePagination, a versioned update normalised in the cache, CONFLICT, automatic
  persisted queries. Apollo Client 4 has an install of its own (``clients/apollo4``): its
  modules import ``@apollo/client`` by name, so it cannot sit beside 3.x under an alias.
- Python gql: the same operations, validated locally against ``schema/schema.graphql``.

The node side needs ``node`` and ``npm ci`` in ``clients/`` and ``clients/apollo4/``; without
them its tests are skipped, unless ``CRM_REQUIRE_CLIENTS=1`` (set by CI), which makes a
missing tool a failure.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import graphql
import httpx
import jwt
import pytest
from sqlalchemy.engine import make_url

from bench.dataset import prepare
from clients import gql_scenario
from core.identity.demo import DEMO_PASSWORD
from core.identity.tokens import ALGORITHM, ISSUER, issue_access_token
from schema.serving import running_server

HERE = Path(__file__).resolve().parent
BIN = HERE / "node_modules" / ".bin"
APOLLO4 = HERE / "apollo4"
REQUIRED = os.environ.get("CRM_REQUIRE_CLIENTS") == "1"
DEMO_SIZE = 30
EMAIL = "admin@demo.example"
LIMITED_EMAIL = "sales1@demo.example"
SECRET = "client-scenarios-secret-key-0123456789abcdef"
TOOL_SECONDS = 180
SCENARIO_SECONDS = 60
LOGIN = (HERE / "operations" / "Login.graphql").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Served:
    url: str
    """The GraphQL endpoint."""
    expired_token: str
    """An access token of a real session, issued long enough ago to have expired."""

    def settings(self) -> gql_scenario.Settings:
        return gql_scenario.Settings(
            self.url, EMAIL, DEMO_PASSWORD, LIMITED_EMAIL, self.expired_token
        )

    def environment(self) -> dict[str, str]:
        """What the node scenarios read (support.ts)."""
        return {
            **os.environ,
            "CRM_CLIENTS_URL": self.url,
            "CRM_CLIENTS_EMAIL": EMAIL,
            "CRM_CLIENTS_PASSWORD": DEMO_PASSWORD,
            "CRM_CLIENTS_LIMITED_EMAIL": LIMITED_EMAIL,
            "CRM_CLIENTS_EXPIRED_TOKEN": self.expired_token,
        }


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo data set, made once for the module; each scenario serves a copy of it."""
    directory = tmp_path_factory.mktemp("clients-demo")
    target = asyncio.run(
        prepare("sqlite", DEMO_SIZE, data_dir=directory, fresh=True, log=lambda _: None)
    )
    database = make_url(target.url).database
    assert database
    return Path(database)


def expired_access_token(url: str) -> str:
    """Log in, then issue an access token of the same session whose lifetime ended a
    minute ago, as a client holds one after leaving a tab open."""
    answer = httpx.post(
        url,
        json={"query": LOGIN, "variables": {"email": EMAIL, "password": DEMO_PASSWORD}},
        timeout=30,
    ).json()
    claims = jwt.decode(
        answer["data"]["login"]["accessToken"], SECRET, algorithms=[ALGORITHM], issuer=ISSUER
    )
    lifetime = dt.timedelta(minutes=15)
    issued = dt.datetime.now(dt.UTC) - lifetime - dt.timedelta(minutes=1)
    token, expires_at = issue_access_token(
        SECRET, int(claims["sub"]), claims["sid"], lifetime, issued
    )
    assert expires_at < dt.datetime.now(dt.UTC)
    return token


@pytest.fixture
def served(demo_database: Path, tmp_path: Path) -> Iterator[Served]:
    """``crm serve`` on a fresh copy of the demo database (the persisted query store
    included, so a scenario's first hash is unknown)."""
    copy = tmp_path / "crm.sqlite3"
    with closing(sqlite3.connect(demo_database)) as source, closing(sqlite3.connect(copy)) as to:
        source.backup(to)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(
        {
            "CRM_DATABASE_URL": f"sqlite+aiosqlite:///{copy}",
            "CRM_DATA_DIR": str(tmp_path / "data"),
            "CRM_SECRET_KEY": SECRET,
            "CRM_WORKER_IN_PROCESS": "false",
        }
    )
    with running_server(env, timeout=60) as base:
        url = f"{base}/graphql"
        yield Served(url, expired_access_token(url))


def require_node() -> None:
    """Skip (or, with CRM_REQUIRE_CLIENTS=1, fail) when node or the npm packages are missing."""
    missing = []
    if shutil.which("node") is None:
        missing.append("node is not on PATH")
    if not (BIN / "graphql-codegen").exists() or not (BIN / "tsc").exists():
        missing.append("clients/node_modules is not installed (run `npm ci` in clients/)")
    if not (APOLLO4 / "node_modules" / "@apollo" / "client").is_dir():
        missing.append(
            "clients/apollo4/node_modules is not installed (run `npm ci` in clients/apollo4/)"
        )
    if not missing:
        return
    if REQUIRED:
        pytest.fail("CRM_REQUIRE_CLIENTS=1: " + "; ".join(missing))
    pytest.skip("; ".join(missing))


def tool(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        cwd=HERE,
        env={**os.environ, "CI": "true", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=TOOL_SECONDS,
        check=False,
    )


def shown(process: subprocess.CompletedProcess[str]) -> str:
    return f"exit {process.returncode}\nstdout:\n{process.stdout}\nstderr:\n{process.stderr}"


@pytest.fixture(scope="module")
def generated() -> subprocess.CompletedProcess[str]:
    """``graphql-codegen``: the operations' types, from schema/schema.graphql."""
    require_node()
    generated = HERE / "src" / "generated" / "graphql.ts"
    generated.unlink(missing_ok=True)
    return tool("graphql-codegen", "--config", "codegen.ts")


@pytest.fixture(scope="module")
def compiled(generated: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    """``tsc`` (strict): the scenarios checked against the generated types, built to dist/
    (Apollo Client 3) and apollo4/dist/ (Apollo Client 4, its own install)."""
    assert generated.returncode == 0, shown(generated)
    shutil.rmtree(HERE / "dist", ignore_errors=True)
    shutil.rmtree(APOLLO4 / "dist", ignore_errors=True)
    three = tool("tsc", "--project", "tsconfig.json")
    if three.returncode != 0:
        return three
    return tool("tsc", "--project", "apollo4/tsconfig.json")


def codegen_scalars() -> dict[str, str]:
    config = (HERE / "codegen.ts").read_text(encoding="utf-8")
    block = re.search(r"scalars: \{(.*?)\}", config, re.DOTALL)
    assert block, "codegen.ts has no scalars map"
    return dict(re.findall(r'(\w+): "([^"]+)"', block.group(1)))


def documented_scalars() -> dict[str, str]:
    guide = (HERE.parent / "docs" / "api.md").read_text(encoding="utf-8")
    section = guide.split("\n### Scalars\n", 1)[1].split("\n#", 1)[0]
    found = re.findall(r"^\| `(\w+)` \| [^|]+ \| `([^`]+)` \|", section, re.MULTILINE)
    # A table cell writes a union's "|" as "\|".
    return {name: mapped.replace("\\|", "|") for name, mapped in found}


def test_codegen_maps_every_custom_scalar_as_the_api_guide_says() -> None:
    schema = graphql.build_schema(gql_scenario.SCHEMA)
    custom = {
        name
        for name, kind in schema.type_map.items()
        if isinstance(kind, graphql.GraphQLScalarType)
        and name not in {"String", "Int", "Float", "Boolean", "ID"}
    }
    assert custom
    assert set(codegen_scalars()) == custom
    assert documented_scalars() == codegen_scalars()


def test_codegen_types_every_operation_with_strict_scalars_and_no_warning(
    generated: subprocess.CompletedProcess[str],
) -> None:
    assert generated.returncode == 0, shown(generated)
    output = generated.stdout + generated.stderr
    assert not re.search(r"warn|⚠|deprecat", output, re.IGNORECASE), output
    types = (HERE / "src" / "generated" / "graphql.ts").read_text(encoding="utf-8")
    for name in sorted(p.stem for p in (HERE / "operations").glob("*.graphql")):
        assert re.search(rf"export const {name}Document = ", types), name
    # The scalar mapping of docs/api.md (Scalars): DateTime a string, JSON unknown.
    assert "updatedAt: string, customFields: unknown" in types
    assert "accessTokenExpiresAt: string | null" in types


def test_the_scenarios_type_check_strictly_against_the_generated_types(
    compiled: subprocess.CompletedProcess[str],
) -> None:
    assert compiled.returncode == 0, shown(compiled)
    assert compiled.stdout + compiled.stderr == ""
    assert (HERE / "dist" / "apollo3.js").is_file()
    assert (APOLLO4 / "dist" / "apollo4" / "src" / "apollo4.js").is_file()


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(HERE / "dist" / "apollo3.js", id="apollo-client-3"),
        pytest.param(APOLLO4 / "dist" / "apollo4" / "src" / "apollo4.js", id="apollo-client-4"),
    ],
)
def test_apollo_client_scenario(
    compiled: subprocess.CompletedProcess[str], served: Served, script: Path
) -> None:
    assert compiled.returncode == 0, shown(compiled)
    process = subprocess.run(
        ["node", str(script)],
        cwd=script.parent,
        env=served.environment(),
        capture_output=True,
        text=True,
        timeout=SCENARIO_SECONDS,
        check=False,
    )
    assert process.returncode == 0, shown(process)
    assert process.stdout.splitlines() == [
        "ok login",
        "ok cache-merged pagination",
        "ok versioned update normalised in the cache",
        "ok CONFLICT on a stale version",
        "ok persisted queries",
        "ok a dashboard keeps its data beside one forbidden field",
        "ok two concurrent refreshes keep the session",
        "ok an expired access token has its own code",
    ], shown(process)


def test_python_gql_scenario(served: Served) -> None:
    assert gql_scenario.run(served.settings()) == [
        "login",
        "pagination",
        "versioned update",
        "CONFLICT on a stale version",
        "persisted queries",
        "a dashboard keeps its data beside one forbidden field",
        "two concurrent refreshes keep the session",
        "an expired access token has its own code",
    ]


def test_missing_node_packages_skip_the_node_tests_unless_ci_requires_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import clients.test_clients as module

    monkeypatch.setattr(module, "BIN", tmp_path / "node_modules" / ".bin")
    monkeypatch.setattr(module, "REQUIRED", False)
    with pytest.raises(pytest.skip.Exception, match="npm ci"):
        require_node()
    monkeypatch.setattr(module, "REQUIRED", True)
    with pytest.raises(pytest.fail.Exception, match=r"CRM_REQUIRE_CLIENTS=1: .*npm ci"):
        require_node()
