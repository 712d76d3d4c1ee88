"""Automatic persisted queries: the exchange Apollo Client's ``PersistedQueryLink`` runs."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from core import persisted
from core.config import Settings
from schema.cli import cli
from tests.support import Api, running_app

VERSION = "query Version { system { version } }"
# Sent twice: the second customer of the name is created knowingly.
CREATE = (
    'mutation { createCustomer(input: {name: "Hashed", allowDuplicates: true}) '
    "{ errors { code } } }"
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def extension(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def send(api: Api, body: dict[str, Any]) -> httpx.Response:
    return await api.client.post("/graphql", json=body, headers=api.headers)


async def test_the_apollo_exchange_stores_a_query_and_runs_it_by_hash(api: Api) -> None:
    digest = sha(VERSION)
    first = await send(api, {"extensions": extension(digest)})
    assert first.status_code == 200  # 200, so the link retries instead of giving up
    assert first.json() == {"errors": [persisted.NOT_FOUND]}

    full = await send(api, {"query": VERSION, "extensions": extension(digest)})
    assert full.status_code == 200
    version = full.json()["data"]["system"]["version"]

    by_hash = await send(api, {"extensions": extension(digest), "operationName": "Version"})
    assert by_hash.json() == {"data": {"system": {"version": version}}}

    cached = await api.client.get("/graphql", params={"extensions": json.dumps(extension(digest))})
    assert cached.status_code == 200
    assert cached.json() == {"data": {"system": {"version": version}}}


async def test_a_hash_that_is_not_the_querys_is_refused_and_nothing_is_stored(api: Api) -> None:
    wrong = sha("query { somethingElse }")
    response = await send(api, {"query": VERSION, "extensions": extension(wrong)})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["message"] == "provided sha does not match query"
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert (await send(api, {"extensions": extension(wrong)})).json() == {
        "errors": [persisted.NOT_FOUND]
    }


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ({"version": 2, "sha256Hash": "0" * 64}, "must have version 1"),
        ({"version": 1, "sha256Hash": "XYZ"}, "64 lower-case hex digits"),
        ({"version": 1}, "64 lower-case hex digits"),
        ("hash", "must have version 1"),
    ],
)
async def test_a_malformed_persisted_query_extension_is_a_400(
    api: Api, value: Any, words: str
) -> None:
    response = await send(api, {"extensions": {"persistedQuery": value}})
    assert response.status_code == 400
    assert words in response.json()["errors"][0]["message"]


async def test_a_document_that_does_not_validate_is_not_stored(api: Api) -> None:
    broken = "query { noSuchField }"
    response = await send(api, {"query": broken, "extensions": extension(sha(broken))})
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    again = await send(api, {"extensions": extension(sha(broken))})
    assert again.json() == {"errors": [persisted.NOT_FOUND]}


async def test_a_stored_mutation_still_needs_post(admin: Api) -> None:
    stored = await send(admin, {"query": CREATE, "extensions": extension(sha(CREATE))})
    assert stored.json()["data"]["createCustomer"]["errors"] == []
    over_get = await admin.client.get(
        "/graphql",
        params={"extensions": json.dumps(extension(sha(CREATE)))},
        headers=admin.headers,
    )
    assert over_get.status_code == 405
    again = await send(admin, {"extensions": extension(sha(CREATE))})
    assert again.json()["data"]["createCustomer"]["errors"] == []


async def test_every_app_process_finds_what_another_stored(settings: Settings) -> None:
    async with running_app(settings) as first:
        await send(first, {"query": VERSION, "extensions": extension(sha(VERSION))})
    async with running_app(settings, migrate=False) as second:
        found = await send(second, {"extensions": extension(sha(VERSION))})
        assert "data" in found.json(), found.json()


async def test_the_oldest_documents_make_room(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(persisted, "MAX_STORED", 2)
    monkeypatch.setattr(persisted, "CACHE_SIZE", 0)  # read the database every time
    documents = [f"query Q{n} {{ system {{ version }} }}" for n in range(3)]
    for document in documents:
        await send(api, {"query": document, "extensions": extension(sha(document))})
    answers = [
        (await send(api, {"extensions": extension(sha(document))})).json() for document in documents
    ]
    assert answers[0] == {"errors": [persisted.NOT_FOUND]}
    assert all("data" in answer for answer in answers[1:]), answers


async def test_persisted_queries_can_be_turned_off(
    make_settings: Callable[..., Settings],
) -> None:
    async with running_app(make_settings(persisted_queries="off")) as api:
        response = await send(api, {"extensions": extension(sha(VERSION))})
        assert response.json() == {"errors": [persisted.NOT_SUPPORTED]}
        plain = await send(api, {"query": VERSION})
        assert "data" in plain.json()


def manifest(path: Path, *operations: tuple[str, str, str]) -> str:
    """An Apollo persisted query manifest of (name, id, body) operations, written to ``path``."""
    path.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [
                    {"id": given, "name": name, "type": "query", "body": body}
                    for name, given, body in operations
                ],
            }
        )
    )
    return str(path)


async def register(path: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, cli, ["persisted-queries", "register", path])


async def test_trusted_mode_runs_only_the_operations_a_manifest_registered(
    make_settings: Callable[..., Settings],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = make_settings(plugins=(), persisted_queries="trusted")
    monkeypatch.setenv("CRM_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CRM_DATABASE_URL", database_url)
    monkeypatch.setenv("CRM_PLUGINS", "")
    async with running_app(settings) as api:
        raw = await send(api, {"query": VERSION})
        assert raw.status_code == 400
        assert raw.json()["errors"][0]["message"] == persisted.REQUIRED
        unknown = await send(api, {"query": VERSION, "extensions": extension(sha(VERSION))})
        assert unknown.status_code == 400
        assert unknown.json()["errors"][0]["message"] == persisted.NOT_REGISTERED
        hash_only = await send(api, {"extensions": extension(sha(VERSION))})
        assert hash_only.json() == {"errors": [persisted.NOT_FOUND]}  # and nothing was stored

        broken = "query Broken { noSuchField }"
        refused = await register(
            manifest(
                tmp_path / "bad.json",
                ("Version", sha(VERSION), VERSION),
                ("Mislabelled", sha("something else"), VERSION),
                ("Broken", sha(broken), broken),
            )
        )
        assert refused.exit_code == 2, refused.output
        assert "nothing registered" in refused.output
        assert "Mislabelled: its id is not the SHA-256 of its body" in refused.output
        assert "Broken: Cannot query field 'noSuchField'" in refused.output
        assert (await send(api, {"extensions": extension(sha(VERSION))})).json() == {
            "errors": [persisted.NOT_FOUND]
        }

        good = manifest(tmp_path / "good.json", ("Version", sha(VERSION), VERSION))
        done = await register(good)
        assert done.exit_code == 0, done.output
        assert "1 operations in the manifest; 1 newly registered" in done.output
        assert "0 newly registered" in (await register(good)).output

        by_hash = await send(api, {"extensions": extension(sha(VERSION))})
        assert "version" in by_hash.json()["data"]["system"]
        with_text = await send(api, {"query": VERSION, "extensions": extension(sha(VERSION))})
        assert "data" in with_text.json()
        assert (await send(api, {"query": VERSION})).status_code == 400


async def test_a_manifest_that_is_not_one_is_refused(tmp_path: Path) -> None:
    for text, words in [
        ("not json", "MANIFEST: not JSON"),
        ('{"format": "other"}', "apollo-persisted-query-manifest"),
        ('{"format": "apollo-persisted-query-manifest", "version": 2}', "version 1"),
        (
            '{"format": "apollo-persisted-query-manifest", "version": 1, "operations": "x"}',
            "'operations' must be a list of objects",
        ),
    ]:
        path = tmp_path / "manifest.json"
        path.write_text(text)
        result = await register(str(path))
        assert result.exit_code == 2
        assert words in result.output
