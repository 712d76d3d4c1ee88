"""The reminder before a customer's contract with a competitor ends: to the customer's owner,
once per end date, again for a new end date; ended links, archived customers and past dates
are left alone; the setting's window; two workers tell once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, update
from sqlalchemy.orm import ORMExecuteState, Session

from core.plugin_api import SALES_REPRESENTATIVE, Customer
from plugins.competitor.models import CustomerCompetitor
from plugins.competitor.service import reminders
from plugins.competitor.testing_encounters import (
    LINK,
    add_link,
    create_competitor,
    create_customer,
    query,
)
from schema.testkit import Api, FakeClock
from schema.testkit_graphql import db_id, mutate_ok

INBOX = "query { notifications(first: 20) { edges { node { kind title body subjectId } } } }"
JOB = "competitor.contract_reminders"
KIND = "competitor.contract_ending"


async def inbox(api: Api) -> list[tuple[str, str, str, str]]:
    edges = (await query(api, INBOX))["notifications"]["edges"]
    return sorted(
        (e["node"]["kind"], e["node"]["title"], e["node"]["body"], e["node"]["subjectId"])
        for e in edges
    )


async def run(api: Api) -> int:
    ran = await api.run_due_jobs()
    told: int = ran[JOB]["competitor contract reminders"]
    return told


async def test_the_owner_is_told_once_per_end_date(
    admin: Api, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE], lasting=True)
    acme = await create_competitor(admin, "Acme")
    globex = await create_competitor(admin, "Globex")
    initech = await create_competitor(admin, "Initech")
    buyer = await create_customer(admin, "Buyer Ltd", rep.user_id)
    archived = await create_customer(admin, "Gone Ltd", rep.user_id)
    orphan = await create_customer(admin, "Orphan Ltd")
    soon = await add_link(admin, buyer, acme, contractEndsOn="2027-01-10")  # in 48 days
    later = await add_link(admin, buyer, globex, contractEndsOn="2027-01-23")  # in 61 days
    await add_link(admin, buyer, initech, contractEndsOn="2026-11-23")  # today
    ended = await add_link(admin, archived, globex, contractEndsOn="2026-12-01")
    await mutate_ok(admin, "endCustomerCompetitor", {"id": ended["id"], "version": 1}, LINK)
    await add_link(admin, archived, acme, contractEndsOn="2026-12-05")
    await add_link(admin, orphan, acme, contractEndsOn="2026-12-10")
    await add_link(admin, orphan, globex, contractEndsOn="2026-11-20")  # past
    version = (
        await query(admin, "query($id: ID!) { customer(id: $id) { version } }", {"id": archived})
    )["customer"]["version"]
    await mutate_ok(
        admin, "archiveCustomer", {"id": archived, "version": version}, "customer { id }"
    )
    async with admin.db.transaction() as session:
        await session.execute(
            update(Customer).where(Customer.id == db_id(orphan)).values(owner_id=None)
        )

    assert await run(admin) == 3
    assert await inbox(rep) == [
        (
            KIND,
            "An opening: Buyer Ltd's contract with Acme ends on 2027-01-10",
            "It ends in 48 days.",
            buyer,
        ),
        (
            KIND,
            "An opening: Buyer Ltd's contract with Initech ends on 2026-11-23",
            "It ends today.",
            buyer,
        ),
    ]
    # Nobody owns Orphan Ltd: those who manage competitors (the administrator) are told.
    assert await inbox(admin) == [
        (
            KIND,
            "An opening: Orphan Ltd's contract with Acme ends on 2026-12-10",
            "It ends in 17 days.",
            orphan,
        )
    ]
    clock.advance(hours=1)
    assert await run(admin) == 0  # told once
    clock.advance(days=1)  # 24 November: Globex's contract ends in 60 days
    assert await run(admin) == 1
    told = await inbox(rep)
    assert len(told) == 3
    assert (
        KIND,
        "An opening: Buyer Ltd's contract with Globex ends on 2027-01-23",
        "It ends in 60 days.",
        buyer,
    ) in told

    # A new end date is told again; going back to one already told tells nobody twice.
    moved = await mutate_ok(
        admin,
        "updateCustomerCompetitor",
        {"id": soon["id"], "version": 1, "contractEndsOn": "2027-01-15"},
        LINK,
    )
    clock.advance(hours=1)
    assert await run(admin) == 1
    assert (
        KIND,
        "An opening: Buyer Ltd's contract with Acme ends on 2027-01-15",
        "It ends in 52 days.",
        buyer,
    ) in await inbox(rep)
    await mutate_ok(
        admin,
        "updateCustomerCompetitor",
        {
            "id": soon["id"],
            "version": moved["customerCompetitor"]["version"],
            "contractEndsOn": "2027-01-10",
        },
        LINK,
    )
    clock.advance(hours=1)
    assert await run(admin) == 0
    assert len(await inbox(rep)) == 4
    async with admin.db.read() as session:
        row = await session.get(CustomerCompetitor, db_id(soon["id"]))
        assert row is not None
        assert row.reminded_for == dt.date(2027, 1, 10)
        untold = await session.get(CustomerCompetitor, db_id(later["id"]))
        assert untold is not None
        assert untold.reminded_for == dt.date(2027, 1, 23)

    # The window is the setting's; 0 turns the reminders off.
    monkeypatch.setenv("CRM_COMPETITOR_CONTRACT_REMINDER_DAYS", "5")
    await add_link(
        admin, buyer, await create_competitor(admin, "Hooli"), contractEndsOn="2026-12-01"
    )
    clock.advance(hours=1)
    assert await run(admin) == 0  # 7 days left
    monkeypatch.setenv("CRM_COMPETITOR_CONTRACT_REMINDER_DAYS", "0")
    clock.advance(days=3)
    assert await run(admin) == 0
    monkeypatch.setenv("CRM_COMPETITOR_CONTRACT_REMINDER_DAYS", "5")
    clock.advance(hours=1)
    assert await run(admin) == 1  # 4 days left
    assert len(await inbox(rep)) == 5


async def test_two_workers_tell_once_and_a_run_goes_through_every_batch(
    admin: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reminders, "BATCH", 2)
    customer = await create_customer(admin, "Buyer Ltd")
    links = [
        await add_link(
            admin,
            customer,
            await create_competitor(admin, f"Rival {n}"),
            contractEndsOn=f"2026-12-0{n + 1}",
        )
        for n in range(5)
    ]
    raced: list[int] = []

    def another_worker(state: ORMExecuteState) -> None:
        """Between the first round's look-up and its marking, the first link is marked, as
        another worker running the job at once would."""
        table = "competitor_customer_links"
        if raced or not state.is_update or table not in str(state.statement):
            return
        raced.append(1)
        state.session.execute(
            update(CustomerCompetitor)
            .where(CustomerCompetitor.id == db_id(links[0]["id"]))
            .values(reminded_for=CustomerCompetitor.contract_ends_on)
            .execution_options(synchronize_session=False)
        )

    event.listen(Session, "do_orm_execute", another_worker)
    try:
        told = await run(admin)
    finally:
        event.remove(Session, "do_orm_execute", another_worker)
    assert raced
    assert told == 4  # the first round found 2 and told 1; the rest in two more rounds
    titles = sorted(title for _kind, title, _body, _subject in await inbox(admin))
    assert [title.split(" with ")[1] for title in titles] == [
        f"Rival {n} ends on 2026-12-0{n + 1}" for n in range(1, 5)
    ]
