"""Customer imports as a background job (``startCustomerImport``, :mod:`core.customers.importing`).

The kit's settings keep the app's own job runner off, so each test decides when jobs run:
``api.run_jobs()`` runs the queued ones to their end, and a :class:`JobRunner` made by the
test claims and executes one job step by step (a runner that dies, a cancel while it runs).
Every test runs on SQLite and, with ``CRM_TEST_POSTGRES_URL``, on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, update
from strawberry import relay

from core.audit import AuditEvent
from core.background import MAX_ATTEMPTS, BackgroundJob, JobRun, JobRunner, JobStatus, LeaseLost
from core.catalog import FINANCE, SALES_REPRESENTATIVE, SUPPORT_REPRESENTATIVE
from core.config import Settings
from core.customers import exchange, importing, models
from core.db import utcnow
from core.host import CRMPluginManager
from core.identity.models import User
from tests.support import Api, running_app

START = """
mutation($csv: String!, $matchOn: [ImportMatch!]!, $dryRun: Boolean!) {
  startCustomerImport(input: {csv: $csv, matchOn: $matchOn, dryRun: $dryRun}) {
    customerImport { id status phase dryRun totalRows }
    errors { field message code }
  }
}"""
CANCEL = """
mutation($id: ID!) {
  cancelCustomerImport(input: {id: $id}) {
    customerImport { id status cancelRequested finishedAt }
    errors { field message code }
  }
}"""
FIELDS = """
  id status phase dryRun totalRows validatedRows writtenRows progress created updated
  imported errorCount rowErrors { line field message code } failure cancelRequested
  createdAt startedAt finishedAt
"""
IMPORT = f"query($id: ID!) {{ customerImport(id: $id) {{ {FIELDS} }} }}"
NODE = f"query($id: ID!) {{ node(id: $id) {{ id ... on CustomerImport {{ {FIELDS} }} }} }}"
SYNC_IMPORT = """
mutation($csv: String!, $matchOn: [ImportMatch!], $dryRun: Boolean) {
  importCustomers(input: {csv: $csv, matchOn: $matchOn, dryRun: $dryRun}) {
    created updated imported rowErrors { line field message code } errors { field message code }
  }
}"""
CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id number version } errors { field code } }
}"""
CUSTOMERS = """
{ customers(first: 100) { edges { node { id name email phone version tags { name } } } } }
"""


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


def forbidden(body: dict[str, Any]) -> None:
    assert body.get("errors"), body
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert not any((body["data"] or {}).values()), body


def job_id(global_id: str) -> int:
    type_name, raw = relay.from_base64(global_id)
    assert type_name == "CustomerImport"
    return int(raw)


async def start_payload(
    api: Api,
    text: str,
    match_on: list[str] | None = None,
    *,
    dry_run: bool = False,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    variables = {"csv": text, "matchOn": match_on or ["EMAIL"], "dryRun": dry_run}
    body = await api.gql(START, variables, headers=headers)
    payload: dict[str, Any] = data(body)["startCustomerImport"]
    return payload


async def start(
    api: Api,
    text: str,
    match_on: list[str] | None = None,
    *,
    dry_run: bool = False,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Start an import that must be accepted; the queued ``customerImport``."""
    payload = await start_payload(api, text, match_on, dry_run=dry_run, headers=headers)
    assert payload["errors"] == [], payload
    started: dict[str, Any] = payload["customerImport"]
    return started


async def progress(api: Api, global_id: str) -> dict[str, Any]:
    found: dict[str, Any] = data(await api.gql(IMPORT, {"id": global_id}))["customerImport"]
    assert found is not None
    return found


async def cancel(api: Api, global_id: str) -> dict[str, Any]:
    payload: dict[str, Any] = data(await api.gql(CANCEL, {"id": global_id}))["cancelCustomerImport"]
    return payload


async def create(api: Api, **fields: Any) -> dict[str, Any]:
    payload = data(await api.gql(CREATE, {"input": fields}))["createCustomer"]
    assert payload["errors"] == [], payload
    customer: dict[str, Any] = payload["customer"]
    return customer


async def customers(api: Api) -> dict[str, dict[str, Any]]:
    """The customers ``api``'s caller sees, by name."""
    edges = data(await api.gql(CUSTOMERS))["customers"]["edges"]
    return {edge["node"]["name"]: edge["node"] for edge in edges}


async def customer_count(api: Api) -> int:
    """Every customer in the database (whoever owns it)."""
    async with api.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(models.Customer)) or 0)


async def job_row(api: Api, global_id: str) -> BackgroundJob:
    async with api.db.read() as session:
        job = await session.get(BackgroundJob, job_id(global_id))
        assert job is not None
        return job


def runner_for(api: Api, **given: Any) -> JobRunner:
    state = api.app.state.crm
    return JobRunner(db=api.db, settings=api.settings, pm=state.pm, clock=state.clock, **given)


def many_rows(count: int, prefix: str = "bulk") -> str:
    lines = ["name,email"] + [f"{prefix} {i:04d},{prefix}{i:04d}@example.com" for i in range(count)]
    return "\n".join(lines) + "\n"


def names(*given: str) -> str:
    """A file of new customers by name (with the email column EMAIL matches on, empty)."""
    return "name,email\n" + "".join(f"{name},\n" for name in given)


def row_errors(found: dict[str, Any]) -> list[tuple[int, str | None, str, str]]:
    return [(e["line"], e["field"], e["code"], e["message"]) for e in found["rowErrors"]]


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    """Chunks of 10 rows, cut by count only (a slow machine must not change the chunks)."""
    monkeypatch.setattr(importing, "CHUNK_ROWS", 10)
    monkeypatch.setattr(importing, "CHUNK_SECONDS", 600.0)
    return 10


# ----------------------------------------------------------------------------- a real import


async def test_an_import_is_queued_then_run_with_the_starters_audit_trail(admin: Api) -> None:
    existing = await create(admin, name="Existing", email="existing@example.com")
    text = (
        "name,email,phone,tags\n"
        "Acme,acme@example.com,(212) 555-0100,vip; Key Account\n"
        "Bravo,bravo@example.com,,\n"
        "Existing Renamed,EXISTING@example.com,,gold\n"
    )
    request_id = "import-request-0001"
    queued = await start(admin, text, headers={"X-Request-ID": request_id})
    assert {k: v for k, v in queued.items() if k != "id"} == {
        "status": "QUEUED",
        "phase": "QUEUED",
        "dryRun": False,
        "totalRows": 3,
    }
    before = await progress(admin, queued["id"])
    assert before["status"] == "QUEUED"
    assert (before["validatedRows"], before["writtenRows"], before["progress"]) == (0, 0, 0.0)
    assert (before["imported"], before["startedAt"], before["finishedAt"]) == (False, None, None)
    assert await customer_count(admin) == 1  # nothing runs before a runner takes the job

    assert await admin.run_jobs() == 1
    done = await progress(admin, queued["id"])
    assert done["status"] == "SUCCEEDED"
    assert done["phase"] == "DONE"
    assert done["imported"] is True
    assert (done["created"], done["updated"]) == (2, 1)
    assert (done["totalRows"], done["validatedRows"], done["writtenRows"]) == (3, 3, 3)
    assert done["progress"] == 1.0
    assert (done["errorCount"], done["rowErrors"], done["failure"]) == (0, [], None)
    assert done["startedAt"] is not None
    assert done["finishedAt"] is not None
    assert done["createdAt"] <= done["startedAt"] <= done["finishedAt"]
    assert await admin.run_jobs() == 0  # a finished job is not run again

    found = await customers(admin)
    assert set(found) == {"Acme", "Bravo", "Existing Renamed"}
    assert found["Acme"]["phone"] == "+12125550100"
    assert [t["name"] for t in found["Acme"]["tags"]] == ["Key Account", "vip"]
    assert found["Existing Renamed"]["id"] == existing["id"]
    assert found["Existing Renamed"]["version"] == existing["version"] + 1
    assert [t["name"] for t in found["Existing Renamed"]["tags"]] == ["gold"]

    async with admin.db.read() as session:
        events = (
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action.in_(["customer.created", "customer.import_started"])
                )
            )
        ).all()
    created_ids = {str(relay.from_base64(found[name]["id"])[1]) for name in ("Acme", "Bravo")}
    by_action: dict[str, list[AuditEvent]] = {}
    for event in events:
        by_action.setdefault(event.action, []).append(event)
    started = by_action["customer.import_started"]
    assert [(e.entity_type, e.entity_id) for e in started] == [
        ("CustomerImport", str(job_id(queued["id"])))
    ]
    assert started[0].changes == {"rows": 3, "dryRun": False, "matchOn": ["EMAIL"]}
    imported = [e for e in by_action["customer.created"] if e.entity_id in created_ids]
    assert len(imported) == 2
    for event in [*started, *imported]:
        assert (event.actor_id, event.actor_label) == (admin.user_id, "admin@example.com")
        assert event.request_id == request_id


# ----------------------------------------------------------------------------- all or none


async def test_any_bad_row_fails_the_import_with_every_error_and_writes_nothing(
    admin: Api,
) -> None:
    taken = await create(admin, name="Taken", email="taken@example.com")
    text = (
        "number,name,email,phone,owner_email\n"  # line 1
        ",Good,good@example.com,,\n"  # 2
        ",Bad Email,not-an-email,,\n"  # 3
        ",Orphan,orphan@example.com,,nobody@example.com\n"  # 4
        ",Copy,taken@example.com,,\n"  # 5: a new customer (matched on number only)
        ",First Phone,p1@example.com,212-555-0123,\n"  # 6
        ",Second Phone,p2@example.com,(212) 555-0123,\n"  # 7
    )
    queued = await start(admin, text, ["NUMBER"])
    assert queued["totalRows"] == 6
    assert await admin.run_jobs() == 1

    failed = await progress(admin, queued["id"])
    assert failed["status"] == "FAILED"
    assert failed["phase"] == "DONE"
    assert failed["imported"] is False
    assert failed["failure"] == "4 rows have errors; nothing was imported"
    assert failed["errorCount"] == 4
    assert failed["writtenRows"] == 0
    assert row_errors(failed) == [
        (3, "email", "INVALID", failed["rowErrors"][0]["message"]),
        (4, "owner_email", "INVALID", "no user has this email"),
        (5, "email", "DUPLICATE", f"customer {taken['number']} already has this email"),
        (7, "phone", "DUPLICATE", "line 6 of this file already has this phone"),
    ]
    assert set(await customers(admin)) == {"Taken"}


async def test_the_failure_counts_rows_not_errors(admin: Api) -> None:
    # One row with two problems (a bad email and a bad stage) is one bad row.
    queued = await start(admin, "name,email,stage\nBad,not-an-email,LATE\nGood,g@example.com,\n")
    await admin.run_jobs()
    failed = await progress(admin, queued["id"])
    assert [(e["line"], e["field"]) for e in failed["rowErrors"]] == [
        (2, "stage"),
        (2, "email"),
    ]
    assert failed["errorCount"] == 1
    assert failed["failure"] is not None
    assert failed["failure"].startswith("1 row ")


# ----------------------------------------------------------------------------- dry run


async def test_a_dry_run_counts_what_the_rows_would_do_and_writes_nothing(admin: Api) -> None:
    await create(admin, name="Existing", email="existing@example.com")
    text = (
        "name,email\n"
        "New One,new@example.com\n"  # creates
        "Existing Changed,existing@example.com\n"  # updates Existing
        "New One Again,NEW@example.com\n"  # updates the customer line 2 creates
    )
    queued = await start(admin, text, dry_run=True)
    assert queued["dryRun"] is True
    assert await admin.run_jobs() == 1

    dry = await progress(admin, queued["id"])
    assert (dry["status"], dry["phase"], dry["dryRun"]) == ("SUCCEEDED", "DONE", True)
    assert dry["imported"] is False
    assert (dry["created"], dry["updated"]) == (1, 2)
    assert (dry["validatedRows"], dry["writtenRows"], dry["progress"]) == (3, 0, 1.0)
    assert (dry["errorCount"], dry["failure"]) == (0, None)
    assert set(await customers(admin)) == {"Existing"}

    # The same counts as the synchronous dry run, and as the real run.
    sync = data(await admin.gql(SYNC_IMPORT, {"csv": text, "dryRun": True}))["importCustomers"]
    assert (sync["created"], sync["updated"], sync["rowErrors"]) == (1, 2, [])
    real = await start(admin, text)
    assert await admin.run_jobs() == 1
    done = await progress(admin, real["id"])
    assert (done["status"], done["created"], done["updated"]) == ("SUCCEEDED", 1, 2)
    assert set(await customers(admin)) == {"Existing Changed", "New One Again"}


async def test_a_dry_run_with_bad_rows_succeeds_and_lists_them(admin: Api) -> None:
    queued = await start(admin, "name,email\nGood,good@example.com\n,bad\n", dry_run=True)
    await admin.run_jobs()
    dry = await progress(admin, queued["id"])
    assert (dry["status"], dry["failure"], dry["created"]) == ("SUCCEEDED", None, 1)
    assert {(e["line"], e["field"], e["code"]) for e in dry["rowErrors"]} == {
        (3, "name", "REQUIRED"),
        (3, "email", "INVALID"),
    }
    assert await customer_count(admin) == 0


async def test_a_dry_run_counts_rows_with_one_unknown_number_as_two_customers(
    admin: Api,
) -> None:
    text = "number,name\nNEW-1,Alpha\nNEW-1,Bravo\n"
    dry = await start(admin, text, ["NUMBER"], dry_run=True)
    real = await start(admin, text, ["NUMBER"])
    assert await admin.run_jobs() == 2
    done = await progress(admin, real["id"])
    assert (done["created"], done["updated"]) == (2, 0)  # what writing does
    counted = await progress(admin, dry["id"])
    assert (counted["created"], counted["updated"]) == (2, 0)


async def test_a_later_row_found_by_a_second_key_updates_the_new_customer(admin: Api) -> None:
    text = "number,name,email\nN-1,Alpha,x@example.com\n,Alpha Again,x@example.com\n"
    keys = ["NUMBER", "EMAIL"]
    sync = data(await admin.gql(SYNC_IMPORT, {"csv": text, "matchOn": keys, "dryRun": True}))
    assert sync["importCustomers"]["rowErrors"] == []
    queued = await start(admin, text, keys)
    assert await admin.run_jobs() == 1
    done = await progress(admin, queued["id"])
    assert (done["status"], done["rowErrors"]) == ("SUCCEEDED", [])
    assert (done["created"], done["updated"]) == (1, 1)


# ----------------------------------------------------------------------------- matching


async def test_rows_update_the_customers_they_match_by_number_or_email(admin: Api) -> None:
    alpha = await create(admin, name="Alpha", email="alpha@example.com")
    bravo = await create(admin, name="Bravo", email="bravo@example.com")

    by_number = await start(
        admin, f"number,name\n{alpha['number'].lower()},Alpha Renamed\nNEW-1,Charlie\n", ["NUMBER"]
    )
    by_email = await start(admin, "email,name\nBRAVO@example.com,Bravo Renamed\n")
    assert await admin.run_jobs() == 2
    first = await progress(admin, by_number["id"])
    assert (first["status"], first["created"], first["updated"]) == ("SUCCEEDED", 1, 1)
    second = await progress(admin, by_email["id"])
    assert (second["status"], second["created"], second["updated"]) == ("SUCCEEDED", 0, 1)

    found = await customers(admin)
    assert set(found) == {"Alpha Renamed", "Bravo Renamed", "Charlie"}
    assert found["Alpha Renamed"]["id"] == alpha["id"]
    assert found["Alpha Renamed"]["version"] == alpha["version"] + 1
    assert found["Bravo Renamed"]["id"] == bravo["id"]
    assert found["Bravo Renamed"]["email"] == "bravo@example.com"


async def test_a_row_cannot_change_or_reveal_a_customer_out_of_the_callers_reach(
    api: Api,
) -> None:
    owner = await api.user("rep2@example.com", [SALES_REPRESENTATIVE])
    bravo = await create(owner, name="Bravo", email="bravo@example.com", phone="+12125550199")
    # Reads every customer (support), writes only their own (sales).
    reader = await api.user("reader@example.com", [SALES_REPRESENTATIVE, SUPPORT_REPRESENTATIVE])
    outsider = await api.user("rep1@example.com", [SALES_REPRESENTATIVE])

    matched = await start(reader, "email,name\nbravo@example.com,Bravo Hijacked\n")
    blind = await start(outsider, "name,email,phone\nMine,bravo@example.com,212-555-0199\n")
    assert await api.run_jobs() == 2

    refused = await progress(reader, matched["id"])
    assert refused["status"] == "FAILED"
    assert row_errors(refused) == [
        (2, "id", "INVALID", "no customer with this id that you may change")
    ]

    hidden = await progress(outsider, blind["id"])
    assert hidden["status"] == "FAILED"
    assert row_errors(hidden) == [
        (2, "email", "DUPLICATE", "another customer already has this email"),
        (2, "phone", "DUPLICATE", "another customer already has this phone"),
    ]
    assert bravo["number"] not in str(hidden)
    assert "Bravo" not in str(hidden)

    assert set(await customers(owner)) == {"Bravo"}
    assert (await customers(owner))["Bravo"]["version"] == bravo["version"]
    assert await customer_count(api) == 1


# ----------------------------------------------------------------------------- visibility


async def test_only_the_starter_sees_and_cancels_an_import(admin: Api) -> None:
    other = await admin.user("other.admin@example.com", ["ADMINISTRATOR"])
    queued = await start(admin, names("Acme"))

    mine = data(await admin.gql(NODE, {"id": queued["id"]}))["node"]
    assert (mine["id"], mine["status"], mine["totalRows"]) == (queued["id"], "QUEUED", 1)
    assert data(await other.gql(IMPORT, {"id": queued["id"]}))["customerImport"] is None
    assert data(await other.gql(NODE, {"id": queued["id"]}))["node"] is None
    refused = await other.gql(CANCEL, {"id": queued["id"]})
    assert refused["data"] == {"cancelCustomerImport": None}
    assert [(e["message"], e["extensions"]) for e in refused["errors"]] == [
        ("input.id: no import of yours has this id", {"code": "NOT_FOUND", "argument": "input.id"})
    ]
    # An id of another type is refused the same way, and changes nothing.
    customer = await create(admin, name="Zulu")
    wrong_type = await cancel(admin, customer["id"])
    assert [e["field"] for e in wrong_type["errors"]] == ["id"]
    assert (await progress(admin, queued["id"]))["status"] == "QUEUED"

    assert await admin.run_jobs() == 1
    assert (await progress(admin, queued["id"]))["status"] == "SUCCEEDED"
    assert data(await other.gql(IMPORT, {"id": queued["id"]}))["customerImport"] is None


async def test_callers_without_customers_write_are_forbidden(admin: Api) -> None:
    queued = await start(admin, names("Acme"))
    for role in (SUPPORT_REPRESENTATIVE, FINANCE):
        reader = await admin.as_role(role)
        forbidden(
            await reader.gql(START, {"csv": names("Sneaky"), "matchOn": ["EMAIL"], "dryRun": False})
        )
        forbidden(await reader.gql(CANCEL, {"id": queued["id"]}))
        forbidden(await reader.gql(IMPORT, {"id": queued["id"]}))
    async with admin.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(BackgroundJob)) == 1
    assert (await progress(admin, queued["id"]))["status"] == "QUEUED"


# ----------------------------------------------------------------------------- cancel


async def test_a_queued_import_cancelled_never_runs_and_a_finished_one_cannot_be(
    admin: Api,
) -> None:
    queued = await start(admin, names("Acme", "Bravo"))
    cancelled = await cancel(admin, queued["id"])
    assert cancelled["errors"] == []
    assert cancelled["customerImport"]["status"] == "CANCELLED"
    assert cancelled["customerImport"]["cancelRequested"] is True
    assert cancelled["customerImport"]["finishedAt"] is not None
    assert await admin.run_jobs() == 0
    assert (await progress(admin, queued["id"]))["status"] == "CANCELLED"
    assert await customer_count(admin) == 0
    again = await cancel(admin, queued["id"])
    assert [(e["field"], e["code"]) for e in again["errors"]] == [("id", "CONFLICT")]

    finished = await start(admin, names("Charlie"))
    assert await admin.run_jobs() == 1
    late = await cancel(admin, finished["id"])
    assert late["customerImport"] is None
    assert [(e["field"], e["code"]) for e in late["errors"]] == [("id", "CONFLICT")]
    assert "SUCCEEDED" in late["errors"][0]["message"]
    assert (await progress(admin, finished["id"]))["status"] == "SUCCEEDED"

    async with admin.db.read() as session:
        audited = await session.scalars(
            select(AuditEvent.entity_id).where(AuditEvent.action == "customer.import_cancelled")
        )
        assert list(audited) == [str(job_id(queued["id"]))]


async def test_a_cancel_while_validating_stops_before_anything_is_written(
    admin: Api, small_chunks: int
) -> None:
    queued = await start(admin, many_rows(40))
    runner = runner_for(admin)
    run = await runner.claim(job_id(queued["id"]))
    assert run is not None
    assert (await progress(admin, queued["id"]))["status"] == "RUNNING"

    cancelled = await cancel(admin, queued["id"])
    assert cancelled["errors"] == []
    assert cancelled["customerImport"]["status"] == "RUNNING"  # it stops at its checkpoint
    assert cancelled["customerImport"]["cancelRequested"] is True

    await runner.execute(run)
    stopped = await progress(admin, queued["id"])
    assert stopped["status"] == "CANCELLED"
    assert stopped["phase"] == "QUEUED"  # the runner saw the cancel before it began
    assert (stopped["writtenRows"], stopped["imported"]) == (0, False)
    assert stopped["finishedAt"] is not None
    assert await customer_count(admin) == 0
    assert await admin.run_jobs() == 0


async def test_a_cancel_while_writing_keeps_the_committed_chunks(
    admin: Api, small_chunks: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    total = 400
    queued = await start(admin, many_rows(total))
    seen: list[int] = []

    async def between_chunks(delay: float) -> None:
        """The pause after each committed batch or chunk: cancel once writing has begun."""
        job = await job_row(admin, queued["id"])
        if job.state["phase"] == "WRITING" and job.state["written"] and not seen:
            seen.append(job.state["written"])
            assert (await cancel(admin, queued["id"]))["errors"] == []

    monkeypatch.setattr(importing, "asyncio", types.SimpleNamespace(sleep=between_chunks))
    assert await admin.run_jobs() == 1

    stopped = await progress(admin, queued["id"])
    assert seen == [small_chunks]
    assert stopped["status"] == "CANCELLED"
    assert stopped["phase"] == "WRITING"
    assert stopped["imported"] is False
    # The chunk under way when the cancel came was finished; no more was started.
    assert stopped["writtenRows"] == 2 * small_chunks
    assert stopped["created"] == stopped["writtenRows"]
    assert await customer_count(admin) == stopped["writtenRows"]
    assert 0 < stopped["progress"] < 1
    assert await admin.run_jobs() == 0


async def test_a_cancel_while_the_runner_is_gone_writes_nothing_more(
    admin: Api, small_chunks: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued = await start(admin, many_rows(30))
    ident = job_id(queued["id"])
    real_import_row = exchange.import_row
    calls: list[int] = []

    async def import_row(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == small_chunks + 5:  # the runner dies in its second chunk
            raise RuntimeError("the worker died")
        await real_import_row(*args, **kwargs)

    monkeypatch.setattr(exchange, "import_row", import_row)
    assert await runner_for(admin).run_one() is True
    assert await customer_count(admin) == small_chunks

    async def lease(until: dt.datetime) -> None:
        async with admin.db.transaction() as session:
            await session.execute(
                update(BackgroundJob)
                .where(BackgroundJob.id == ident)
                .values(status=JobStatus.RUNNING, lease_owner="runner-dead", lease_until=until)
            )

    await lease(utcnow() + dt.timedelta(minutes=1))  # held by a runner that then dies
    assert (await cancel(admin, queued["id"]))["customerImport"]["status"] == "RUNNING"
    await lease(utcnow() - dt.timedelta(seconds=1))
    assert await admin.run_jobs() == 1

    stopped = await progress(admin, queued["id"])
    assert stopped["status"] == "CANCELLED"
    assert stopped["writtenRows"] == small_chunks
    assert await customer_count(admin) == small_chunks


# ----------------------------------------------------------------------------- resume


async def test_a_job_stopped_by_an_error_resumes_from_its_last_chunk(
    admin: Api, small_chunks: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    total = 35
    queued = await start(admin, many_rows(total))
    real_import_row = exchange.import_row
    calls: list[str | None] = []

    async def import_row(*args: Any, **kwargs: Any) -> None:
        calls.append(args[2]["email"])
        if len(calls) == 25:  # the fifth row of the third chunk, once
            raise RuntimeError("the worker died")
        await real_import_row(*args, **kwargs)

    monkeypatch.setattr(exchange, "import_row", import_row)
    assert await runner_for(admin).run_one() is True

    halfway = await progress(admin, queued["id"])
    assert halfway["status"] == "QUEUED"  # handed back for the next runner
    assert halfway["phase"] == "WRITING"
    assert (halfway["validatedRows"], halfway["writtenRows"]) == (total, 2 * small_chunks)
    assert halfway["created"] == 2 * small_chunks
    assert halfway["progress"] == round((total + 2 * small_chunks) / (2 * total), 4)
    assert halfway["failure"] is None
    assert await customer_count(admin) == 2 * small_chunks  # the broken chunk rolled back
    assert (await job_row(admin, queued["id"])).attempts == 1

    assert await admin.run_jobs() == 1
    done = await progress(admin, queued["id"])
    assert (done["status"], done["created"], done["writtenRows"]) == ("SUCCEEDED", total, total)
    assert (await job_row(admin, queued["id"])).attempts == 2
    # The rows of the broken chunk were tried again; the committed ones were not.
    assert len(calls) == total + 5
    assert len(set(calls)) == total
    async with admin.db.read() as session:
        emails = (await session.scalars(select(models.Customer.email))).all()
    assert sorted(e or "" for e in emails) == sorted(
        f"bulk{i:04d}@example.com" for i in range(total)
    )


async def test_a_job_that_always_breaks_fails_after_max_attempts(
    admin: Api, monkeypatch: pytest.MonkeyPatch, logs: pytest.LogCaptureFixture
) -> None:
    queued = await start(admin, names("Acme"))

    async def import_row(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret internals at /srv/crm/core.py")

    monkeypatch.setattr(exchange, "import_row", import_row)
    assert await admin.run_jobs() == MAX_ATTEMPTS  # claimed again after each crash

    failed = await progress(admin, queued["id"])
    assert failed["status"] == "FAILED"
    assert failed["failure"] is not None
    assert f"{MAX_ATTEMPTS} times" in failed["failure"]
    assert "the server log has the details" in failed["failure"]
    for secret in ("secret internals", "RuntimeError", "Traceback", "/srv/crm"):
        assert secret not in failed["failure"]
    assert f"job {job_id(queued['id'])}" in failed["failure"]
    assert (failed["writtenRows"], failed["imported"]) == (0, False)
    assert await customer_count(admin) == 0
    # The details are in the server log instead, once per attempt.
    crashes = [r for r in logs.records if r.name == "crm.jobs" and r.exc_info]
    assert len(crashes) == MAX_ATTEMPTS
    assert all("secret internals" in str(r.exc_info[1]) for r in crashes if r.exc_info)
    job = await job_row(admin, queued["id"])
    assert (job.attempts, job.lease_owner, job.lease_until) == (MAX_ATTEMPTS, None, None)
    assert await admin.run_jobs() == 0


async def test_a_job_whose_lease_ran_out_is_taken_over(admin: Api) -> None:
    queued = await start(admin, names("Acme", "Bravo"))
    ident = job_id(queued["id"])
    now = utcnow()

    async def held(until: dt.datetime) -> None:
        async with admin.db.transaction() as session:
            await session.execute(
                update(BackgroundJob)
                .where(BackgroundJob.id == ident)
                .values(
                    status=JobStatus.RUNNING,
                    lease_owner="runner-dead",
                    lease_until=until,
                    attempts=1,
                    started_at=now - dt.timedelta(minutes=5),
                )
            )

    await held(now + dt.timedelta(minutes=1))
    assert await admin.run_jobs() == 0  # another runner holds it still
    assert (await progress(admin, queued["id"]))["status"] == "RUNNING"

    await held(now - dt.timedelta(seconds=1))
    assert await admin.run_jobs() == 1
    done = await progress(admin, queued["id"])
    assert (done["status"], done["created"]) == ("SUCCEEDED", 2)
    job = await job_row(admin, queued["id"])
    assert job.attempts == 2
    assert job.lease_owner is None
    assert await customer_count(admin) == 2

    # The dead runner, back to life, cannot record anything over the job any more.
    state = admin.app.state.crm
    ghost = JobRun(
        job_id=ident,
        kind=importing.KIND,
        payload={},
        state={},
        created_by=admin.user_id,
        request_id=None,
        db=admin.db,
        settings=admin.settings,
        pm=state.pm,
        clock=utcnow,
        runner_id="runner-dead",
    )
    with pytest.raises(LeaseLost):
        async with admin.db.transaction() as session:
            await ghost.checkpoint(session, {"phase": "QUEUED"})
    assert (await progress(admin, queued["id"]))["created"] == 2


# ----------------------------------------------------------------------------- limits


async def test_a_user_has_at_most_max_active_imports(admin: Api) -> None:
    started = [await start(admin, names(f"Row {i}")) for i in range(importing.MAX_ACTIVE_PER_USER)]
    refused = await start_payload(admin, names("One too many"))
    assert refused["customerImport"] is None
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("csv", "CONFLICT")]
    assert str(importing.MAX_ACTIVE_PER_USER) in refused["errors"][0]["message"]

    # Someone else is not held back by them.
    other = await admin.user("other.admin@example.com", ["ADMINISTRATOR"])
    await start(other, names("Theirs"))

    # A cancelled import is no longer active.
    assert (await cancel(admin, started[0]["id"]))["errors"] == []
    await start(admin, names("Now there is room"))
    async with admin.db.read() as session:
        kinds = await session.scalars(select(BackgroundJob.kind))
        assert list(kinds) == [importing.KIND] * (importing.MAX_ACTIVE_PER_USER + 2)


async def test_the_synchronous_import_sends_large_files_to_the_background(admin: Api) -> None:
    assert admin.settings.import_sync_max_rows == 250
    body = await admin.gql(SYNC_IMPORT, {"csv": many_rows(251)})
    refused = data(body)["importCustomers"]
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("csv", "OUT_OF_RANGE")]
    assert "startCustomerImport" in refused["errors"][0]["message"]
    assert "250" in refused["errors"][0]["message"]
    assert await customer_count(admin) == 0


async def test_the_synchronous_limit_is_a_setting(
    make_settings: Callable[..., Settings], plugin_manager: CRMPluginManager
) -> None:
    async with running_app(make_settings(import_sync_max_rows=3), pm=plugin_manager) as api:
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"])
        refused = data(await admin.gql(SYNC_IMPORT, {"csv": many_rows(4)}))["importCustomers"]
        assert [(e["field"], e["code"]) for e in refused["errors"]] == [("csv", "OUT_OF_RANGE")]
        assert "more than 3 rows" in refused["errors"][0]["message"]
        accepted = data(await admin.gql(SYNC_IMPORT, {"csv": many_rows(3)}))["importCustomers"]
        assert (accepted["created"], accepted["errors"]) == (3, [])

        # The background import is not bound by it.
        queued = await start(admin, many_rows(4, "job"))
        assert queued["totalRows"] == 4
        assert await api.run_jobs() == 1
        assert (await progress(admin, queued["id"]))["created"] == 4
        assert await customer_count(api) == 7


@pytest.mark.parametrize(
    ("text", "match_on", "field", "words"),
    [
        ("", ["EMAIL"], "csv", "header"),
        ("name,colour\nAcme,red\n", ["EMAIL"], "csv", "unknown columns: colour"),
        ("name,email\nAcme,a@example.com\n", ["NUMBER"], "matchOn", "no number column"),
        ("name,email\nAc\rme,\n", ["EMAIL"], "csv", "line 2: a carriage return"),
    ],
)
async def test_a_file_unusable_as_a_whole_is_refused_at_start(
    admin: Api, text: str, match_on: list[str], field: str, words: str
) -> None:
    refused = await start_payload(admin, text, match_on)
    assert refused["customerImport"] is None
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [(field, "INVALID")]
    assert words in refused["errors"][0]["message"]
    async with admin.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(BackgroundJob)) == 0
    assert await admin.run_jobs() == 0


# ----------------------------------------------------------------------------- the starter


async def test_an_import_whose_starter_was_deactivated_fails(admin: Api) -> None:
    starter = await admin.user("starter@example.com", ["ADMINISTRATOR"])
    queued = await start(starter, names("Acme"))
    async with admin.db.transaction() as session:
        await session.execute(
            update(User).where(User.id == starter.user_id).values(is_active=False)
        )

    assert await admin.run_jobs() == 1
    job = await job_row(admin, queued["id"])
    assert job.status == JobStatus.FAILED
    assert job.error == "the user who started this import is no longer active"
    assert job.finished_at is not None
    assert await customer_count(admin) == 0


async def payload_of(api: Api, global_id: str) -> dict[str, Any]:
    async with api.db.read() as session:
        payload = await session.scalar(
            select(BackgroundJob.payload).where(BackgroundJob.id == job_id(global_id))
        )
        assert isinstance(payload, dict)
        return payload


async def test_a_finished_import_keeps_no_copy_of_the_file(admin: Api) -> None:
    """The file holds personal data; once the job ends (any way), only its report stays."""
    done = await start(admin, many_rows(3))
    bad = await start(admin, "name,email\nBad,not-an-email\n")
    cancelled = await start(admin, many_rows(2, prefix="later"))
    assert "bulk0000@example.com" in (await payload_of(admin, done["id"]))["csv"]
    assert (await cancel(admin, cancelled["id"]))["errors"] == []
    assert await admin.run_jobs() == 2
    for queued, status in [(done, "SUCCEEDED"), (bad, "FAILED"), (cancelled, "CANCELLED")]:
        assert (await progress(admin, queued["id"]))["status"] == status
        assert await payload_of(admin, queued["id"]) == {}
    assert (await progress(admin, bad["id"]))["rowErrors"][0]["line"] == 2
