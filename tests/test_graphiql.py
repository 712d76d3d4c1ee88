"""GraphiQL (``core/graphiql.py``): its files served by the service from an allow-list, the
CDN only when they are not installed, on by default in development only, and a headless
browser that renders it with nothing beyond 127.0.0.1 reachable."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from core import graphiql
from core.config import ConfigError, Settings, load_settings
from core.graphiql import ASSETS, ASSETS_PATH, CDN, GraphiQL, default_assets_dir, missing_assets
from schema.serving import running_server

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_BROWSER = os.environ.get("CRM_REQUIRE_BROWSER") == "1"
"""Set by CI: there the browser test must run, not skip."""
HTML = {"Accept": "text/html"}


class Resources(HTMLParser):
    """The URLs a page loads: ``<script src>`` and ``<link href>``, with their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if (tag == "script" and found.get("src")) or (
            tag == "link" and found.get("rel") == "stylesheet"
        ):
            self.loaded.append(found)


def resources(page: str) -> list[dict[str, str | None]]:
    parser = Resources()
    parser.feed(page)
    return parser.loaded


def url_of(resource: dict[str, str | None]) -> str:
    url = resource.get("src") or resource.get("href")
    assert url is not None
    return url


def install(directory: Path) -> dict[str, bytes]:
    """A ``node_modules`` holding a stand-in for each allow-listed file (and one more file,
    which must never be served); the contents by asset name."""
    contents = {}
    for asset in ASSETS:
        path = directory / asset.installed_path
        path.parent.mkdir(parents=True, exist_ok=True)
        contents[asset.name] = f"/* {asset.package} {asset.name} */\n".encode()
        path.write_bytes(contents[asset.name])
    (directory / "graphiql" / "package.json").write_text('{"name": "graphiql"}')
    (directory / "secret.txt").write_text("not for the web")
    return contents


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """GraphiQL's page and files never touch the database: one SQLite file is enough."""
    return f"sqlite+aiosqlite:///{tmp_path / 'crm.sqlite3'}"


@pytest.fixture
def node_modules(tmp_path: Path) -> Path:
    return tmp_path / "node_modules"


# --- the page and its files ----------------------------------------------------------------


async def test_the_page_loads_only_this_services_files_when_they_are_installed(
    make_settings: Callable[..., Settings], api_factory: Callable[..., Any], node_modules: Path
) -> None:
    contents = install(node_modules)

    async with api_factory(make_settings(graphiql=True, graphiql_assets=node_modules)) as api:
        page = await api.client.get("/graphql", headers=HTML)
        loaded = resources(page.text)
        files = [await api.client.get(url_of(resource)) for resource in loaded]

    assert page.status_code == 200
    assert [url_of(r).split("?")[0] for r in loaded] == [
        f"{ASSETS_PATH}/graphiql.min.css",
        f"{ASSETS_PATH}/react.production.min.js",
        f"{ASSETS_PATH}/react-dom.production.min.js",
        f"{ASSETS_PATH}/graphiql.min.js",
    ]
    assert "unpkg" not in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in policy
    assert "connect-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert CDN not in policy
    for resource, response in zip(loaded, files, strict=True):
        name = url_of(resource).split("?")[0].rsplit("/", 1)[1]
        assert response.status_code == 200, name
        assert response.content == contents[name]
        expected = "text/css" if name.endswith(".css") else "text/javascript"
        assert response.headers["content-type"] == f"{expected}; charset=utf-8"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_page_script_is_the_one_its_policy_allows(
    make_settings: Callable[..., Settings], api_factory: Callable[..., Any], node_modules: Path
) -> None:
    install(node_modules)

    async with api_factory(make_settings(graphiql=True, graphiql_assets=node_modules)) as api:
        page = await api.client.get("/graphql", headers=HTML)

    inline = page.text.split("<script>", 1)[1].split("</script>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in page.headers["content-security-policy"]
    assert '"Authorization": "Bearer <accessToken>"' in inline
    assert "isHeadersEditorEnabled: true" in inline


async def test_a_file_url_changes_with_its_content_and_a_cached_copy_gets_304(
    make_settings: Callable[..., Settings], api_factory: Callable[..., Any], node_modules: Path
) -> None:
    install(node_modules)
    settings = make_settings(graphiql=True, graphiql_assets=node_modules)

    async with api_factory(settings) as api:
        before = url_of(resources((await api.client.get("/graphql", headers=HTML)).text)[-1])
        first = await api.client.get(before)
        again = await api.client.get(before, headers={"If-None-Match": first.headers["etag"]})
    (node_modules / "graphiql" / "graphiql.min.js").write_text("/* a newer GraphiQL */\n")
    async with api_factory(settings) as api:
        after = url_of(resources((await api.client.get("/graphql", headers=HTML)).text)[-1])

    assert again.status_code == 304
    assert again.content == b""
    assert before.split("?")[0] == after.split("?")[0]
    assert before != after


OFF_THE_LIST = [
    "secret.txt",
    "package.json",
    "graphiql.min.js.map",
    "graphiql/graphiql.min.js",
    "..%2Fsecret.txt",
    "%2E%2E/secret.txt",
    "react%2Fumd%2Freact.production.min.js",
    "GRAPHIQL.MIN.JS",
    "",
]


async def test_nothing_off_the_allow_list_is_served(
    make_settings: Callable[..., Settings], api_factory: Callable[..., Any], node_modules: Path
) -> None:
    install(node_modules)

    async with api_factory(make_settings(graphiql=True, graphiql_assets=node_modules)) as api:
        responses = {path: await api.client.get(f"{ASSETS_PATH}/{path}") for path in OFF_THE_LIST}

    assert {path: r.status_code for path, r in responses.items()} == dict.fromkeys(
        OFF_THE_LIST, 404
    )
    assert not any(b"not for the web" in r.content for r in responses.values())


async def test_without_graphiql_its_files_are_not_served(
    make_settings: Callable[..., Settings], api_factory: Callable[..., Any], node_modules: Path
) -> None:
    install(node_modules)

    async with api_factory(make_settings(graphiql=False, graphiql_assets=node_modules)) as api:
        response = await api.client.get(f"{ASSETS_PATH}/graphiql.min.js")

    assert response.status_code == 404


def test_without_installed_files_the_page_uses_the_cdn_with_integrity_hashes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ide = GraphiQL(tmp_path / "empty")

    loaded = resources(ide.html)
    assert not ide.local
    assert [url_of(r) for r in loaded] == [
        f"{CDN}/graphiql@3.8.3/graphiql.min.css",
        f"{CDN}/react@18.3.1/umd/react.production.min.js",
        f"{CDN}/react-dom@18.3.1/umd/react-dom.production.min.js",
        f"{CDN}/graphiql@3.8.3/graphiql.min.js",
    ]
    assert all(r["integrity"] and r["integrity"].startswith("sha384-") for r in loaded)
    assert all(r["crossorigin"] == "anonymous" for r in loaded)
    directives = dict(part.strip().split(" ", 1) for part in ide.content_security_policy.split(";"))
    allowed = directives["script-src"].split()
    # The page's exact files, not the whole CDN.
    assert CDN not in allowed
    assert {url_of(r) for r in loaded} <= set(allowed)
    assert [a for a in allowed if a.startswith("'sha256-")]
    assert "'self'" not in ide.content_security_policy.split(";")[1]
    assert "is not installed" in caplog.text


async def test_an_app_without_installed_files_serves_the_cdn_page_and_no_files(
    make_settings: Callable[..., Settings],
    api_factory: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(graphiql, "default_assets_dir", lambda: tmp_path / "not-installed")

    async with api_factory(make_settings(graphiql=True)) as api:
        page = await api.client.get("/graphql", headers=HTML)
        asset = await api.client.get(f"{ASSETS_PATH}/graphiql.min.js")

    assert all(url_of(r).startswith(f"{CDN}/") for r in resources(page.text))
    assert asset.status_code == 404


def test_the_pinned_versions_are_the_locked_ones() -> None:
    lock = json.loads((ROOT / "web" / "package-lock.json").read_text(encoding="utf-8"))
    manifest = json.loads((ROOT / "web" / "package.json").read_text(encoding="utf-8"))

    for asset in ASSETS:
        assert lock["packages"][f"node_modules/{asset.package}"]["version"] == asset.version
        assert manifest["dependencies"][asset.package] == asset.version


def installed() -> bool:
    """Whether ``make install`` installed GraphiQL's files (a failure, not a skip, in CI)."""
    missing = missing_assets(default_assets_dir())
    if missing and not REQUIRE_BROWSER:
        return False
    assert not missing, f"{missing[0]} is not installed: run `make install` with npm"
    return True


def test_the_cdn_hashes_are_those_of_the_installed_files() -> None:
    if not installed():
        pytest.skip("GraphiQL's files are not installed (npm ci in web/)")
    for asset in ASSETS:
        data = (default_assets_dir() / asset.installed_path).read_bytes()
        digest = base64.b64encode(hashlib.sha384(data).digest()).decode()
        assert asset.integrity == f"sha384-{digest}", asset.name


# --- on by default in development ----------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "graphiql_on", "introspection_on"),
    [
        ({}, False, False),  # production unless set
        ({"env": "production"}, False, False),
        ({"env": "development"}, True, True),
        ({"env": "development", "graphiql": False}, False, False),
        ({"env": "development", "introspection": False}, True, False),
        ({"env": "production", "graphiql": True}, True, True),
        ({"env": "production", "debug": True}, True, True),
        ({"env": "production", "debug": True, "graphiql": False}, False, False),
    ],
)
def test_graphiql_and_anonymous_introspection_default_by_environment(
    tmp_path: Path, overrides: dict[str, Any], graphiql_on: bool, introspection_on: bool
) -> None:
    settings = load_settings(data_dir=tmp_path, **overrides)

    assert settings.graphiql_enabled is graphiql_on
    assert settings.anonymous_introspection is introspection_on


async def test_development_serves_graphiql_and_production_does_not(
    make_settings: Callable[..., Settings], api_factory: Callable[..., Any]
) -> None:
    async with api_factory(make_settings(env="development")) as api:
        development = await api.client.get("/graphql", headers=HTML)
    async with api_factory(make_settings(env="production")) as api:
        production = await api.client.get("/graphql", headers=HTML)

    assert development.status_code == 200
    assert "<title>CRM GraphiQL</title>" in development.text
    assert production.status_code == 406
    assert "graphiql" not in production.text.lower()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CRM_ENV", "staging", "CRM_ENV='staging'"),
        ("CRM_GRAPHIQL", "perhaps", "CRM_GRAPHIQL='perhaps'"),
        ("CRM_GRAPHIQL_ASSETS", "{missing}", "is not a directory"),
        ("CRM_GRAPHIQL_ASSETS", "{empty}", "has no react/umd/react.production.min.js"),
    ],
)
def test_a_bad_graphiql_setting_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    (tmp_path / "empty").mkdir()
    value = value.format(missing=tmp_path / "missing", empty=tmp_path / "empty")
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigError) as raised:
        load_settings()

    assert f"{variable}=" in str(raised.value)
    assert message in str(raised.value)


def test_an_empty_assets_setting_means_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_GRAPHIQL_ASSETS", "")

    assert load_settings(data_dir=tmp_path).graphiql_assets is None


# --- a real browser, offline ---------------------------------------------------------------

BROWSER_SECONDS = 90


def browser() -> str | None:
    found = next(
        (shutil.which(name) for name in ("chromium", "chromium-browser") if shutil.which(name)),
        None,
    )
    assert found or not REQUIRE_BROWSER, "CRM_REQUIRE_BROWSER=1 but no chromium is installed"
    return found


def test_a_headless_browser_renders_graphiql_with_nothing_beyond_loopback(
    tmp_path: Path,
) -> None:
    chromium = browser()
    if chromium is None:
        pytest.skip("no chromium (CI installs it)")
    if not installed():
        pytest.skip("GraphiQL's files are not installed (npm ci in web/)")
    env = {
        **os.environ,
        "CRM_DATA_DIR": str(tmp_path / "data"),
        "CRM_PLUGINS": "",
        "CRM_ENV": "development",
        # The page, its files and introspection read no table: no migration, no job runner.
        "CRM_WORKER_IN_PROCESS": "false",
    }
    for name in ("CRM_DATABASE_URL", "CRM_GRAPHIQL", "CRM_GRAPHIQL_ASSETS", "CRM_INTROSPECTION"):
        env.pop(name, None)
    log = tmp_path / "server.log"

    with running_server(env, ready_path="/healthz", timeout=30, log=log) as base:
        shown = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={tmp_path / 'profile'}",
                # No host name resolves, so nothing beyond 127.0.0.1 can be reached.
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "--virtual-time-budget=15000",
                "--dump-dom",
                f"{base}/graphql",
            ],
            capture_output=True,
            text=True,
            timeout=BROWSER_SECONDS,
        )

    dom = shown.stdout
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert 'class="graphiql-container"' in dom, dom[-3000:]
    assert 'class="CodeMirror' in dom  # the query, variables and headers editors
    assert "graphiql-editor-tools" in dom
    assert "Loading..." not in dom
    requests = [
        (line["method"], line["path"], line["status"])
        for text in log.read_text(encoding="utf-8").splitlines()
        if text.startswith("{")
        for line in [json.loads(text)]
        if line.get("logger") == "crm.access"
    ]
    for asset in ASSETS:
        assert ("GET", f"{ASSETS_PATH}/{asset.name}", 200) in requests
    # GraphiQL asked this service for the schema (an introspection query) and got it.
    assert ("POST", "/graphql", 200) in requests
