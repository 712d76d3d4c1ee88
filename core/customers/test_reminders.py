"""What the customers module tells people: task reminders at their time, once (even with
two workers), and customers handed to a new owner."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from core.catalog import SALES_REPRESENTATIVE
from core.config import Settings
from core.customers.models import Task
from core.db import Database
from core.notifications.models import Notification
from core.schedule import Scheduler
from schema.testkit_mail import running_smtp_server
from tests.support import Api, FakeClock, running_app

NOTIFICATIONS = """
query { notifications(first: 10) { edges { node { kind title body subjectId read } } } }
"""
CREATE_TASK = """
mutation($input: CreateTaskInput!) { createTask(input: $input) { task { id } errors { field } } }
"""
TRANSFER = """
mutation($input: TransferCustomersInput!) {
  transferCustomers(input: $input) { customers { id } errors { field message } }
}
"""


def iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def inbox(api: Api) -> list[dict[str, Any]]:
    body = await api.gql(NOTIFICATIONS)
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["notifications"]["edges"]]


async def test_a_task_reminds_its_assignee_at_its_time_once_even_with_two_workers(
    make_settings: Callable[..., Settings],
) -> None:
    clock = FakeClock()
    settings = make_settings(time_zone="Asia/Shanghai")
    async with running_app(settings, clock=clock) as api:
        rep = await api.as_role(SALES_REPRESENTATIVE, lasting=True)
        due = clock() + dt.timedelta(days=2)
        created = await rep.gql(
            CREATE_TASK,
            {
                "input": {
                    "title": "Send the contract",
                    "dueAt": iso(due),
                    "remindAt": iso(clock() + dt.timedelta(hours=1)),
                }
            },
        )
        assert created["data"]["createTask"]["errors"] == [], created
        # Another task without a reminder time: reminded a day before it is due.
        await rep.gql(
            CREATE_TASK,
            {"input": {"title": "Call back", "dueAt": iso(clock() + dt.timedelta(hours=30))}},
        )
        assert await rep.run_due_jobs() is not None
        assert await inbox(rep) == []  # not yet

        clock.advance(hours=1)
        pm = api.app.state.crm.pm
        other = Database(settings.resolved_database_url)
        try:
            first = Scheduler(db=api.db, settings=settings, pm=pm, clock=clock)
            second = Scheduler(db=other, settings=settings, pm=pm, clock=clock)
            results = await asyncio.gather(first.run_due(), second.run_due())
        finally:
            await other.dispose()
        sent = [r["customers.task_reminders"] for r in results if "customers.task_reminders" in r]
        assert sent == [{"task reminders sent": 1}]  # one worker ran the job, once
        notes = await inbox(rep)
        assert [(n["kind"], n["title"], n["read"]) for n in notes] == [
            ("task.reminder", "Reminder: Send the contract", False)
        ]
        # The due time in the reader's zone (the deployment's: Shanghai, UTC+8).
        local_due = due.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
        assert notes[0]["body"] == f"Due {local_due}."
        assert notes[0]["subjectId"] == created["data"]["createTask"]["task"]["id"]

        clock.advance(hours=6)  # 30 h - 24 h: the second task's day-before reminder
        await rep.run_due_jobs()
        await rep.run_due_jobs()
        titles = [n["title"] for n in await inbox(rep)]
        assert titles == ["Reminder: Call back", "Reminder: Send the contract"]
        async with api.db.read() as session:
            rows = (await session.scalars(select(Notification))).all()
            reminded = (await session.scalars(select(Task.reminded_at))).all()
        assert len(rows) == 2
        assert all(moment is not None for moment in reminded)


async def test_a_reminder_speaks_the_assignee_s_language(
    make_settings: Callable[..., Settings],
) -> None:
    clock = FakeClock()
    async with running_app(make_settings(), clock=clock) as api:
        rep = await api.as_role(SALES_REPRESENTATIVE, lasting=True)
        changed = await rep.gql(
            'mutation { updateMyPreferences(input: {locale: "zh-CN", timeZone: "Asia/Shanghai"})'
            " { errors { field } } }"
        )
        assert changed["data"]["updateMyPreferences"]["errors"] == [], changed
        due = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
        await rep.gql(CREATE_TASK, {"input": {"title": "回访张伟", "dueAt": iso(due)}})
        await rep.run_due_jobs()
        notes = await inbox(rep)
        assert [(n["title"], n["body"]) for n in notes] == [
            ("提醒：回访张伟", "到期时间 2026-11-24 09:00。")  # noqa: RUF001
        ]


async def test_a_done_or_unassigned_task_reminds_nobody(
    make_settings: Callable[..., Settings], migrated_db: Database
) -> None:
    clock = FakeClock()
    settings = make_settings()
    async with running_app(settings, clock=clock) as api:
        rep = await api.as_role(SALES_REPRESENTATIVE, lasting=True)
        body = await rep.gql(
            CREATE_TASK, {"input": {"title": "Done already", "dueAt": iso(clock())}}
        )
        task_id = body["data"]["createTask"]["task"]["id"]
        done = await rep.gql(
            "mutation($id: ID!) "
            "{ completeTask(input: {id: $id, version: 1}) { errors { field } } }",
            {"id": task_id},
        )
        assert done["data"]["completeTask"]["errors"] == [], done
        await rep.run_due_jobs()
        assert await inbox(rep) == []


async def test_the_new_owner_is_told_of_customers_handed_to_them(admin: Api) -> None:
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    me = (await rep.gql("query { viewer { id } }"))["data"]["viewer"]["id"]
    ids = []
    for name in ("Acme", "Globex"):
        made = await admin.gql(
            "mutation($n: String!) { createCustomer(input: {name: $n, kind: COMPANY}) "
            "{ customer { id } errors { field } } }",
            {"n": name},
        )
        ids.append(made["data"]["createCustomer"]["customer"]["id"])
    moved = await admin.gql(TRANSFER, {"input": {"customerIds": ids, "ownerId": me}})
    assert moved["data"]["transferCustomers"]["errors"] == [], moved
    notes = await inbox(rep)
    assert [(n["kind"], n["title"], n["body"]) for n in notes] == [
        ("customer.transferred", "2 customers were handed to you", "Acme, Globex")
    ]
    # Nobody is told of what they did themselves.
    assert await inbox(admin) == []


async def test_a_reminder_is_e_mailed_in_the_assignee_s_language_with_a_link(
    make_settings: Callable[..., Settings],
) -> None:
    """The whole way: the periodic job decides, notify writes the inbox row and the e-mail's
    outbox row, the worker sends it to a real SMTP server, in Chinese, linking to the task."""
    clock = FakeClock()
    with running_smtp_server() as (server, port):
        settings = make_settings(
            mail_backend="smtp",
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            mail_from="CRM <crm@example.com>",
            record_url="https://crm.example.com/{type}/{id}",
        )
        async with running_app(settings, clock=clock) as api:
            rep = await api.as_role(SALES_REPRESENTATIVE, lasting=True)
            await rep.gql(
                'mutation { updateMyPreferences(input: {locale: "zh-CN"}) { errors { field } } }'
            )
            due = clock() + dt.timedelta(hours=2)
            created = await rep.gql(
                CREATE_TASK, {"input": {"title": "回访张伟", "dueAt": iso(due)}}
            )
            task_id = created["data"]["createTask"]["task"]["id"]
            await rep.run_due_jobs()
            assert await rep.deliver_outbox() == 1
            assert await rep.deliver_outbox() == 0  # sent once
        message = server.only()
    assert message["Subject"] == "提醒：回访张伟"  # noqa: RUF001
    assert message["To"] == rep.email
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert f"https://crm.example.com/Task/{task_id}" in text.get_content()
    assert '<html lang="zh-CN">' in html.get_content()
    assert "到期时间" in text.get_content()


async def test_open_tasks_go_with_their_customer_to_the_new_owner(admin: Api) -> None:
    first = await admin.as_role(SALES_REPRESENTATIVE)
    second = await admin.as_role(SALES_REPRESENTATIVE)
    made = await first.gql(
        'mutation { createCustomer(input: {name: "Acme", kind: COMPANY}) { customer { id } } }'
    )
    customer = made["data"]["createCustomer"]["customer"]["id"]
    for title in ("Call back", "Send the quote"):
        await first.gql(
            CREATE_TASK,
            {"input": {"customerId": customer, "title": title, "dueAt": "2030-01-01T09:00:00Z"}},
        )
    done = await first.gql(
        CREATE_TASK,
        {"input": {"customerId": customer, "title": "Done", "dueAt": "2030-01-01T09:00:00Z"}},
    )
    done_id = done["data"]["createTask"]["task"]["id"]
    await first.gql(
        "mutation($id: ID!) { completeTask(input: {id: $id, version: 1}) { errors { field } } }",
        {"id": done_id},
    )
    second_id = (await second.gql("query { viewer { id } }"))["data"]["viewer"]["id"]
    moved = await admin.gql(TRANSFER, {"input": {"customerIds": [customer], "ownerId": second_id}})
    assert moved["data"]["transferCustomers"]["errors"] == [], moved
    listed = await second.gql(
        "query { tasks(first: 10, filter: {done: false}) { edges { node { title } } } }"
    )
    assert sorted(e["node"]["title"] for e in listed["data"]["tasks"]["edges"]) == [
        "Call back",
        "Send the quote",
    ]
    left = await first.gql("query { tasks(first: 10) { edges { node { title } } } }")
    assert left["data"]["tasks"]["edges"] == []  # the customer, and its tasks, went along
    trail = await admin.gql(
        'query { auditEvents(first: 5, filter: {action: "customer.transferred"}) '
        "{ edges { node { changes { field after } } } } }"
    )
    changes = trail["data"]["auditEvents"]["edges"][0]["node"]["changes"]
    assert {"field": "openTasksHandedOver", "after": 2} in changes
