"""Time zones and locales ("Ready for Chinese businesses"): the deployment's defaults
(``CRM_TIME_ZONE``, ``CRM_LOCALE``), a user's own, a contact's own; date-times written in the
caller's zone by the API and by exports; calendar days taken in the caller's or the
deployment's zone."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Mapping
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select, update
from strawberry import relay

from core.audit import AuditEvent
from core.background import JobRun, JobRunner, enqueue
from core.config import Settings
from core.customers import jobs, models
from core.db import Database, utcnow
from core.identity.models import User
from core.schedule import JobContext
from schema.modules import build_plugin_manager
from schema.scalars import _serialize_date_time
from tests.support import DEFAULT_PASSWORD, Api, FakeClock, manager_for, running_app

DUE = "2026-12-04T09:00:00+08:00"
CREATE_CUSTOMER = """
mutation($name: String!) {
  createCustomer(input: {name: $name}) { customer { id createdAt } errors { field code } }
}"""
CREATE_TASK = """
mutation($input: CreateTaskInput!) {
  createTask(input: $input) { task { id dueAt } errors { field message code } }
}"""
TASK = "query($id: ID!) { node(id: $id) { ... on Task { dueAt } } }"
VIEWER = "{ viewer { locale timeZone effectiveLocale effectiveTimeZone } }"
PREFERENCES = """
mutation($input: UpdateMyPreferencesInput!) {
  updateMyPreferences(input: $input) {
    user { locale timeZone effectiveLocale effectiveTimeZone updatedAt }
    errors { field message code }
  }
}"""
UPDATE_USER = """
mutation($input: UpdateUserInput!) {
  updateUser(input: $input) { user { locale timeZone version } errors { field message code } }
}"""
CONTACT_FIELDS = "id locale timeZone version"
CREATE_CONTACT = f"""
mutation($input: CreateContactInput!) {{
  createContact(input: $input) {{ contact {{ {CONTACT_FIELDS} }} errors {{ field code }} }}
}}"""
UPDATE_CONTACT = f"""
mutation($input: UpdateContactInput!) {{
  updateContact(input: $input) {{ contact {{ {CONTACT_FIELDS} }} errors {{ field code }} }}
}}"""


def payload(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][name]
    return result


def ok(body: dict[str, Any], name: str) -> dict[str, Any]:
    result = payload(body, name)
    assert result["errors"] == [], result
    return result


def refused(body: dict[str, Any], name: str) -> dict[str, str]:
    result = payload(body, name)
    assert result["errors"], result
    return {e["field"]: e["code"] for e in result["errors"]}


async def prefer(api: Api, **input: Any) -> dict[str, Any]:
    return ok(await api.gql(PREFERENCES, {"input": input}), "updateMyPreferences")


async def task_due_at(api: Api, task_id: str) -> str:
    body = await api.gql(TASK, {"id": task_id})
    assert "errors" not in body, body
    due: str = body["data"]["node"]["dueAt"]
    return due


async def a_task(api: Api) -> str:
    task = ok(
        await api.gql(CREATE_TASK, {"input": {"title": "Call Beijing", "dueAt": DUE}}),
        "createTask",
    )["task"]
    task_id: str = task["id"]
    return task_id


async def test_each_user_reads_date_times_in_their_own_zone(admin: Api) -> None:
    task_id = await a_task(admin)
    beijing = await admin.user("wang@example.com", ["ADMINISTRATOR"])
    london = await admin.user("smith@example.com", ["ADMINISTRATOR"])

    # Nobody chose a zone yet: the deployment's default, UTC.
    assert await task_due_at(beijing, task_id) == "2026-12-04T01:00:00+00:00"
    chosen = (await prefer(beijing, timeZone="Asia/Shanghai", locale="zh-CN"))["user"]
    assert chosen["timeZone"] == chosen["effectiveTimeZone"] == "Asia/Shanghai"
    assert chosen["locale"] == chosen["effectiveLocale"] == "zh-CN"
    # The answer that set the zone is already written in it.
    assert chosen["updatedAt"].endswith("+08:00")
    await prefer(london, timeZone="Europe/London")

    assert await task_due_at(beijing, task_id) == DUE
    assert await task_due_at(london, task_id) == "2026-12-04T01:00:00+00:00"  # GMT in winter
    assert await task_due_at(admin, task_id) == "2026-12-04T01:00:00+00:00"
    # The same instant, only written differently; a summer date shows London's offset.
    summer = ok(
        await beijing.gql(
            CREATE_TASK, {"input": {"title": "Summer", "dueAt": "2026-07-01T09:00:00+08:00"}}
        ),
        "createTask",
    )["task"]
    assert summer["dueAt"] == "2026-07-01T09:00:00+08:00"
    assert await task_due_at(london, summer["id"]) == "2026-07-01T02:00:00+01:00"
    # Inputs still take any offset.
    utc_input = ok(
        await beijing.gql(
            CREATE_TASK, {"input": {"title": "UTC", "dueAt": "2026-12-04T01:00:00Z"}}
        ),
        "createTask",
    )["task"]
    assert utc_input["dueAt"] == DUE

    # Signing in answers in the user's zone already.
    login = await admin.with_token(None).gql(
        "mutation($email: String!, $password: String!) { login(input: {email: $email, "
        "password: $password}) { accessTokenExpiresAt user { createdAt } errors { field } } }",
        {"email": "wang@example.com", "password": DEFAULT_PASSWORD},
    )
    signed_in = ok(login, "login")
    assert signed_in["accessTokenExpiresAt"].endswith("+08:00")
    assert signed_in["user"]["createdAt"].endswith("+08:00")

    # Back to the deployment's zone with null.
    cleared = (await prefer(beijing, timeZone=None))["user"]
    assert cleared["timeZone"] is None
    assert cleared["effectiveTimeZone"] == "UTC"
    assert cleared["locale"] == "zh-CN"  # left out: unchanged
    assert await task_due_at(beijing, task_id) == "2026-12-04T01:00:00+00:00"


async def test_the_deployment_zone_and_locale_apply_to_users_without_their_own(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(time_zone="Asia/Shanghai", locale="zh-CN")
    async with running_app(settings) as api:
        boss = await api.user("boss@example.com", ["ADMINISTRATOR"])
        london = await api.user("smith@example.com", ["ADMINISTRATOR"])
        task_id = await a_task(boss)
        assert (await boss.gql(VIEWER))["data"]["viewer"] == {
            "locale": None,
            "timeZone": None,
            "effectiveLocale": "zh-CN",
            "effectiveTimeZone": "Asia/Shanghai",
        }
        assert await task_due_at(boss, task_id) == DUE
        await prefer(london, timeZone="Europe/London", locale="en")
        assert await task_due_at(london, task_id) == "2026-12-04T01:00:00+00:00"
        assert (await london.gql(VIEWER))["data"]["viewer"]["effectiveLocale"] == "en"


async def test_bad_zones_and_locales_are_refused_naming_the_field(admin: Api) -> None:
    before = (await admin.gql(VIEWER))["data"]["viewer"]
    for zone in ("Mars/Olympus", "Asia", "../etc/passwd", "UTC+8", "+08:00"):
        body = await admin.gql(PREFERENCES, {"input": {"timeZone": zone}})
        assert refused(body, "updateMyPreferences") == {"timeZone": "INVALID"}, zone
    for locale in ("fr", "zh", "zh-TW", "english"):
        body = await admin.gql(PREFERENCES, {"input": {"locale": locale}})
        assert refused(body, "updateMyPreferences") == {"locale": "INVALID"}, locale
    both = await admin.gql(PREFERENCES, {"input": {"locale": "xx", "timeZone": "Nowhere"}})
    assert refused(both, "updateMyPreferences") == {"locale": "INVALID", "timeZone": "INVALID"}
    # One good, one bad: nothing is kept.
    mixed = await admin.gql(PREFERENCES, {"input": {"locale": "zh-CN", "timeZone": "Nowhere"}})
    assert refused(mixed, "updateMyPreferences") == {"timeZone": "INVALID"}
    assert (await admin.gql(VIEWER))["data"]["viewer"] == before
    # Spellings that name a supported value are kept as the database spells them.
    user = (await prefer(admin, timeZone=" asia/shanghai ", locale="zh_cn"))["user"]
    assert (user["timeZone"], user["locale"]) == ("Asia/Shanghai", "zh-CN")
    user = (await prefer(admin, timeZone="", locale=""))["user"]
    assert (user["timeZone"], user["locale"]) == (None, None)


async def test_an_administrator_sets_a_users_preferences_audited(admin: Api) -> None:
    rep = await admin.user("rep@example.com", ["SALES_REPRESENTATIVE"])
    assert rep.user_id is not None
    gid = relay.to_base64("User", rep.user_id)
    async with admin.db.read() as session:
        version = await session.scalar(select(User.version).where(User.id == rep.user_id))
    bad = await admin.gql(
        UPDATE_USER, {"input": {"id": gid, "version": version, "timeZone": "Moon/Base"}}
    )
    assert refused(bad, "updateUser") == {"timeZone": "INVALID"}
    bad = await admin.gql(UPDATE_USER, {"input": {"id": gid, "version": version, "locale": "de"}})
    assert refused(bad, "updateUser") == {"locale": "INVALID"}
    done = ok(
        await admin.gql(
            UPDATE_USER,
            {
                "input": {
                    "id": gid,
                    "version": version,
                    "timeZone": "Asia/Shanghai",
                    "locale": "zh-CN",
                }
            },
        ),
        "updateUser",
    )["user"]
    assert (done["timeZone"], done["locale"]) == ("Asia/Shanghai", "zh-CN")
    # The rep's own next request is in the zone the administrator set.
    assert (await rep.gql(VIEWER))["data"]["viewer"]["effectiveTimeZone"] == "Asia/Shanghai"
    await prefer(rep, locale=None)

    async with admin.db.read() as session:
        events = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity_type == "User", AuditEvent.entity_id == str(rep.user_id))
                .where(AuditEvent.action == "user.updated")
                .order_by(AuditEvent.id)
            )
        ).all()
    assert [event.changes for event in events] == [
        {
            "locale": {"before": None, "after": "zh-CN"},
            "timeZone": {"before": None, "after": "Asia/Shanghai"},
        },
        {"locale": {"before": "zh-CN", "after": None}},
    ]
    assert events[1].actor_id == rep.user_id


async def test_contacts_keep_a_locale_and_a_time_zone(admin: Api) -> None:
    customer = ok(await admin.gql(CREATE_CUSTOMER, {"name": "Beijing Trading"}), "createCustomer")
    base = {"customerId": customer["customer"]["id"], "name": "Li Wei"}
    plain = ok(await admin.gql(CREATE_CONTACT, {"input": base}), "createContact")["contact"]
    assert (plain["locale"], plain["timeZone"]) == (None, None)
    contact = ok(
        await admin.gql(
            CREATE_CONTACT, {"input": {**base, "locale": "zh-CN", "timeZone": "Asia/Shanghai"}}
        ),
        "createContact",
    )["contact"]
    assert (contact["locale"], contact["timeZone"]) == ("zh-CN", "Asia/Shanghai")
    read = await admin.gql(
        "query($id: ID!) { node(id: $id) { ... on Contact { locale timeZone } } }",
        {"id": contact["id"]},
    )
    assert read["data"]["node"] == {"locale": "zh-CN", "timeZone": "Asia/Shanghai"}

    bad = await admin.gql(
        CREATE_CONTACT, {"input": {**base, "locale": "klingon", "timeZone": "Asia/Nowhere"}}
    )
    assert refused(bad, "createContact") == {"locale": "INVALID", "timeZone": "INVALID"}
    ref = {"id": contact["id"], "version": contact["version"]}
    bad = await admin.gql(UPDATE_CONTACT, {"input": {**ref, "timeZone": "Europe"}})
    assert refused(bad, "updateContact") == {"timeZone": "INVALID"}
    bad = await admin.gql(UPDATE_CONTACT, {"input": {**ref, "locale": "pt-BR"}})
    assert refused(bad, "updateContact") == {"locale": "INVALID"}

    changed = ok(
        await admin.gql(UPDATE_CONTACT, {"input": {**ref, "timeZone": "Europe/London"}}),
        "updateContact",
    )["contact"]
    assert (changed["locale"], changed["timeZone"]) == ("zh-CN", "Europe/London")
    ref = {"id": changed["id"], "version": changed["version"]}
    cleared = ok(
        await admin.gql(UPDATE_CONTACT, {"input": {**ref, "locale": None, "timeZone": None}}),
        "updateContact",
    )["contact"]
    assert (cleared["locale"], cleared["timeZone"]) == (None, None)


async def test_exports_write_local_times_of_the_callers_zone_and_name_it(admin: Api) -> None:
    beijing = await admin.user("wang@example.com", ["ADMINISTRATOR"])
    await prefer(beijing, timeZone="Asia/Shanghai")
    created = ok(await beijing.gql(CREATE_CUSTOMER, {"name": "Acme"}), "createCustomer")
    created_at = created["customer"]["createdAt"]
    assert created_at.endswith("+08:00")
    local = dt.datetime.fromisoformat(created_at)

    response = await beijing.client.get("/export/customers.csv", headers=beijing.headers)
    assert response.status_code == 200, response.text
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"), newline="")))
    assert rows[0][-2:] == ["created_at (Asia/Shanghai)", "last_interaction_at (Asia/Shanghai)"]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["created_at (Asia/Shanghai)"] == local.isoformat()
    assert row["last_interaction_at (Asia/Shanghai)"] == ""

    response = await beijing.client.get("/export/customers.xlsx", headers=beijing.headers)
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content), read_only=True)["Customers"]
    header, first = list(sheet.iter_rows(values_only=True))
    assert header[-2:] == ("created_at (Asia/Shanghai)", "last_interaction_at (Asia/Shanghai)")
    cell = dict(zip(header, first, strict=False))["created_at (Asia/Shanghai)"]
    # Excel has no zones: the cell is the Beijing wall-clock time, as the header says.
    assert isinstance(cell, dt.datetime)
    assert cell.tzinfo is None
    assert abs(cell - local.replace(tzinfo=None)) < dt.timedelta(milliseconds=1)

    # Someone without a zone of their own gets the deployment's (UTC) in the same file.
    response = await admin.client.get("/export/customers.csv", headers=admin.headers)
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"), newline="")))
    assert rows[0][-2] == "created_at (UTC)"
    assert rows[1][-2] == local.astimezone(dt.UTC).isoformat()


async def test_today_is_the_callers_calendar_day(
    make_settings: Callable[..., Settings],
) -> None:
    # 20:00 UTC on 4 December is already 04:00 on 5 December in Beijing.
    clock = FakeClock(dt.datetime(2026, 12, 4, 20, 0, tzinfo=dt.UTC))
    async with running_app(make_settings(), clock=clock) as api:
        utc_user = await api.user("admin@example.com", ["ADMINISTRATOR"])
        beijing = await api.user("wang@example.com", ["ADMINISTRATOR"])
        await prefer(beijing, timeZone="Asia/Shanghai")
        customer = ok(await beijing.gql(CREATE_CUSTOMER, {"name": "Acme"}), "createCustomer")
        born_today = {
            "customerId": customer["customer"]["id"],
            "name": "Newborn",
            "birthday": "2026-12-05",
        }
        assert refused(
            await utc_user.gql(CREATE_CONTACT, {"input": born_today}), "createContact"
        ) == {"birthday": "OUT_OF_RANGE"}
        ok(await beijing.gql(CREATE_CONTACT, {"input": born_today}), "createContact")


async def quiet_customer(
    db: Database, name: str, contact: str, quiet_since: dt.datetime, now: dt.datetime
) -> None:
    """An active customer with no interaction since ``quiet_since``, owned by a user, whose
    contact ``contact`` has a birthday on 12 December."""
    async with db.transaction() as session:
        owner = User(email="rep@example.com", name="Rep", password_hash=None)
        session.add(owner)
        await session.flush()
        customer = models.Customer(
            number="C-1",
            name=name,
            kind="COMPANY",
            stage="ACTIVE",
            grade="STANDARD",
            owner_id=owner.id,
            created_at=quiet_since,
            updated_at=quiet_since,
        )
        session.add(customer)
        await session.flush()
        session.add(
            models.Contact(
                customer_id=customer.id,
                name=contact,
                birthday=dt.date(1988, 12, 12),
                is_primary=True,
                created_at=now,
                updated_at=now,
            )
        )


async def run_core_jobs(db: Database, settings: Settings, now: dt.datetime) -> dict[str, int]:
    """Core's periodic jobs once, as ``crm jobs run`` runs them."""
    context = JobContext(
        db=db, settings=settings, pm=build_plugin_manager([]), now=now, clock=lambda: now
    )
    done: dict[str, int] = {}
    for job in jobs.PERIODIC_JOBS:
        done.update(await job.run(context))
    return done


async def test_jobs_count_days_in_the_deployment_zone(
    make_settings: Callable[..., Settings], migrated_db: Database
) -> None:
    settings = make_settings(time_zone="Asia/Shanghai", dormant_days=30)
    # 20:00 UTC on 4 December: 5 December in Shanghai, so a birthday on 12 December is
    # within the week; in UTC it is not yet.
    now = dt.datetime(2026, 12, 4, 20, 0, tzinfo=dt.UTC)
    quiet_since = dt.datetime(2026, 10, 1, 18, 0, tzinfo=dt.UTC)  # 2 October in Shanghai
    await quiet_customer(migrated_db, "Quiet", "Li Wei", quiet_since, now)
    async with migrated_db.transaction() as session:
        assert await jobs.birthday_reminders(session, now) == 0  # UTC: not yet
    result = await run_core_jobs(migrated_db, settings, now)
    assert result == {"customers marked dormant": 1, "birthday reminders created": 1}
    async with migrated_db.read() as session:
        tasks = {t.title: t.due_at for t in (await session.scalars(select(models.Task))).all()}
    assert tasks["Birthday of Li Wei on 2026-12-12"] == dt.datetime(
        2026, 12, 12, 1, 0, tzinfo=dt.UTC
    )  # 09:00 in Shanghai
    assert "Re-engage Quiet (dormant since 2026-10-02)" in tasks


async def test_jobs_title_their_tasks_in_the_deployment_language(
    make_settings: Callable[..., Settings], migrated_db: Database
) -> None:
    settings = make_settings(time_zone="Asia/Shanghai", locale="zh-CN", dormant_days=30)
    now = dt.datetime(2026, 12, 4, 20, 0, tzinfo=dt.UTC)
    quiet_since = dt.datetime(2026, 10, 1, 18, 0, tzinfo=dt.UTC)
    await quiet_customer(migrated_db, "北京远航", "张伟", quiet_since, now)
    await run_core_jobs(migrated_db, settings, now)
    async with migrated_db.read() as session:
        titles = set((await session.scalars(select(models.Task.title))).all())
    assert titles == {"张伟 的生日（2026-12-12）", "重新联系 北京远航（自 2026-10-02 起休眠）"}  # noqa: RUF001


async def test_a_stored_zone_the_database_no_longer_knows_falls_back(admin: Api) -> None:
    task_id = await a_task(admin)
    async with admin.db.transaction() as session:
        await session.execute(
            update(User).where(User.id == admin.user_id).values(time_zone="Atlantis/Capital")
        )
    assert await task_due_at(admin, task_id) == "2026-12-04T01:00:00+00:00"


async def test_background_jobs_write_times_in_the_deployment_zone(
    make_settings: Callable[..., Settings], migrated_db: Database
) -> None:
    settings = make_settings(time_zone="Asia/Shanghai")
    seen: list[str] = []

    async def probe(run: JobRun) -> Mapping[str, Any]:
        seen.append(_serialize_date_time(dt.datetime(2026, 12, 4, 1, 0, tzinfo=dt.UTC)))
        return {}

    async with migrated_db.transaction() as session:
        await enqueue(session, "test.probe", {}, created_by=None, now=utcnow())
    runner = JobRunner(
        db=migrated_db, settings=settings, pm=manager_for(settings), handlers={"test.probe": probe}
    )
    assert await runner.run_until_idle() == 1
    assert seen == [DUE]


async def test_a_chinese_and_an_english_user_on_one_deployment(admin: Api) -> None:
    """The issue's promise: a user with locale zh-CN and zone Asia/Shanghai gets Chinese
    messages and local times with no header at all; an English user on the same deployment
    gets English and their own zone; a request's Accept-Language still comes first."""
    task_id = await a_task(admin)
    wang = await admin.user("wang.fang@example.com", ["ADMINISTRATOR"])
    jones = await admin.user("jones@example.com", ["ADMINISTRATOR"])
    await prefer(wang, timeZone="Asia/Shanghai", locale="zh-CN")
    await prefer(jones, timeZone="America/New_York", locale="en")
    bad_task = {"input": {"title": " ", "dueAt": DUE}}

    async def errors(api: Api, headers: dict[str, str] | None = None) -> list[dict[str, str]]:
        body = await api.gql(CREATE_TASK, bad_task, headers=headers or {})
        result = payload(body, "createTask")
        assert result["task"] is None
        found: list[dict[str, str]] = result["errors"]
        return found

    chinese = await errors(wang)
    english = await errors(jones)
    assert {"field": "title", "message": "为必填项", "code": "REQUIRED"} in chinese
    assert {"field": "title", "message": "is required", "code": "REQUIRED"} in english
    assert [(e["field"], e["code"]) for e in chinese] == [(e["field"], e["code"]) for e in english]
    # The header outranks the user's own language, both ways.
    assert await errors(wang, {"Accept-Language": "en"}) == english
    assert await errors(jones, {"Accept-Language": "zh-CN"}) == chinese
    # Top-level errors too, with the same code and argument.
    too_many = "{ customers(first: 1000) { edges { node { id } } } }"
    zh_error = (await wang.gql(too_many))["errors"][0]
    en_error = (await jones.gql(too_many))["errors"][0]
    assert zh_error["message"] == "first: 必须在 0 到 100 之间"
    assert en_error["message"] == "first: must be between 0 and 100"
    assert zh_error["extensions"] == en_error["extensions"]
    # Local times: the same instant in each user's zone.
    assert await task_due_at(wang, task_id) == "2026-12-04T09:00:00+08:00"
    assert await task_due_at(jones, task_id) == "2026-12-03T20:00:00-05:00"
