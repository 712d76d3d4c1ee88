"""The periodic jobs: ``loyalty.expiry`` expires lots past their date and e-mails the primary
contact once per expiry moment before points expire; ``loyalty.tiers`` gives the birthday
bonus once a year. Both are idempotent, run twice at one moment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from core.plugin_api import Settings
from plugins.loyalty.service import ledger
from plugins.loyalty.service.programme import add_months
from plugins.loyalty.testing import MONDAY
from plugins.loyalty.testing_tiers import (
    account,
    create_customer,
    days,
    earn,
    enrol,
    set_programme,
    spend,
)
from schema.testkit import Api, FakeClock, run_periodic_jobs
from schema.testkit_graphql import gid, mutate_ok
from schema.testkit_mail import Inbox, running_smtp_server


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def settings(make_settings: Callable[..., Settings], smtp: tuple[Inbox, int]) -> Settings:
    return make_settings(
        plugins=("fixture", "sales", "loyalty"),
        mail_backend="smtp",
        smtp_host="127.0.0.1",
        smtp_port=smtp[1],
        smtp_security="none",
        mail_from="CRM <crm@example.com>",
    )


async def run(api: Api, clock: FakeClock) -> dict[str, dict[str, int]]:
    done = await run_periodic_jobs(api.db, api.settings, api.app.state.crm.pm, clock())
    return {name: dict(figures) for name, figures in done.items() if name.startswith("loyalty")}


async def contact(
    api: Api, customer_id: int, email: str | None, *, primary: bool = True, **values: Any
) -> None:
    input = {"customerId": gid("Customer", customer_id), "name": "Jane Doe", "primary": primary}
    input |= {"email": email} | values
    await mutate_ok(api, "createContact", input, "contact { id }")


async def member_with_contact(
    api: Api, clock: FakeClock, name: str, email: str | None = "jane@example.com", **values: Any
) -> int:
    customer_id = await create_customer(api, name)
    await contact(api, customer_id, email, **values)
    return await enrol(api, clock, customer_id)


def mails(smtp: tuple[Inbox, int]) -> list[EmailMessage]:
    return smtp[0].messages()


async def lots(api: Api, account_id: int) -> dict[int, int]:
    async with api.db.read() as session:
        return (await ledger.fold(session, account_id)).lots


async def test_due_lots_expire_once_and_the_balance_follows(admin: Api, clock: FakeClock) -> None:
    account_id = await member_with_contact(admin, clock, "Acme")
    await earn(admin, clock, account_id, 300)  # expires in 24 months
    clock.advance(days=10)
    await earn(admin, clock, account_id, 200)
    await earn(admin, clock, account_id, 50, expires=False)
    await spend(admin, clock, account_id, 100, "REDEEM")  # from the first lot
    clock.set(MONDAY + days(731 + 1))  # past the first lot's date, not the second's
    assert (await run(admin, clock))["loyalty.expiry"]["loyalty points expired"] == 200
    assert (await account(admin, account_id)).balance == 250
    assert (await run(admin, clock))["loyalty.expiry"]["loyalty points expired"] == 0
    clock.advance(days=10)
    assert (await run(admin, clock))["loyalty.expiry"]["loyalty points expired"] == 200
    assert (await account(admin, account_id)).balance == 50
    assert sorted((await lots(admin, account_id)).values()) == [0, 0, 50]


async def test_expiry_works_in_batches(admin: Api, clock: FakeClock, monkeypatch: Any) -> None:
    from plugins.loyalty.service import jobs

    monkeypatch.setattr(jobs, "BATCH", 2)
    ids = [await member_with_contact(admin, clock, f"C{n}", None) for n in range(5)]
    for account_id in ids:
        await earn(admin, clock, account_id, 10)
    clock.advance(days=800)
    assert (await run(admin, clock))["loyalty.expiry"]["loyalty points expired"] == 50
    assert [(await account(admin, i)).balance for i in ids] == [0] * 5


async def test_the_contact_hears_once_per_expiry_moment(
    admin: Api, clock: FakeClock, smtp: tuple[Inbox, int]
) -> None:
    account_id = await member_with_contact(admin, clock, "Acme")
    await earn(admin, clock, account_id, 300)
    expiry = add_months(MONDAY, 24)
    clock.set(expiry - days(31))
    assert (await run(admin, clock))["loyalty.expiry"]["loyalty expiry notices"] == 0
    clock.set(expiry - days(29))
    assert (await run(admin, clock))["loyalty.expiry"]["loyalty expiry notices"] == 1
    assert (await run(admin, clock))["loyalty.expiry"]["loyalty expiry notices"] == 0
    clock.advance(days=1)
    assert (await run(admin, clock))["loyalty.expiry"]["loyalty expiry notices"] == 0
    await admin.deliver_outbox()
    (message,) = mails(smtp)
    assert message["To"] == "Jane Doe <jane@example.com>"
    assert message["Subject"] == "300 of your points expire from Nov 23, 2028"
    text = message.get_body(("plain",))
    assert text is not None
    assert "300 of your loyalty points expire between Nov 23, 2028 and Nov 23, 2028." in (
        text.get_content()
    )
    assert (await account(admin, account_id)).expiry_told_for == expiry


async def test_a_later_moment_is_told_again(
    admin: Api, clock: FakeClock, smtp: tuple[Inbox, int]
) -> None:
    account_id = await member_with_contact(admin, clock, "Acme")
    await earn(admin, clock, account_id, 300)
    clock.advance(days=40)
    await earn(admin, clock, account_id, 100)
    clock.set(MONDAY + days(730 - 29))
    assert (await run(admin, clock))["loyalty.expiry"]["loyalty expiry notices"] == 1
    clock.advance(days=40)  # the first lot expired; the second is now within 30 days
    figures = (await run(admin, clock))["loyalty.expiry"]
    assert figures == {"loyalty points expired": 300, "loyalty expiry notices": 1}
    await admin.deliver_outbox()
    subjects = sorted(m["Subject"] for m in mails(smtp))
    assert subjects == [
        "100 of your points expire from Jan 2, 2029",
        "300 of your points expire from Nov 23, 2028",
    ]


async def test_no_mail_without_a_primary_contact_address_or_with_notices_off(
    admin: Api, clock: FakeClock, smtp: tuple[Inbox, int]
) -> None:
    no_address = await member_with_contact(admin, clock, "No address", None)
    not_primary = await create_customer(admin, "Not primary")
    await contact(admin, not_primary, None)
    await contact(admin, not_primary, "x@example.com", primary=False)
    secondary = await enrol(admin, clock, not_primary)
    for account_id in (no_address, secondary):
        await earn(admin, clock, account_id, 10)
    clock.set(MONDAY + days(720))
    assert (await run(admin, clock))["loyalty.expiry"]["loyalty expiry notices"] == 0
    clock.set(MONDAY)
    off = await member_with_contact(admin, clock, "Off")
    await earn(admin, clock, off, 10)
    await set_programme(admin, expiryNoticeDays=0)
    clock.set(MONDAY + days(725))
    assert (await run(admin, clock))["loyalty.expiry"]["loyalty expiry notices"] == 0
    await admin.deliver_outbox()
    assert mails(smtp) == []


async def test_the_birthday_bonus_comes_once_a_year(admin: Api, clock: FakeClock) -> None:
    born = await member_with_contact(admin, clock, "Born", birthday="1990-12-14")
    other = await member_with_contact(admin, clock, "Other", birthday="1990-06-14")
    assert (await run(admin, clock))["loyalty.tiers"]["loyalty birthday bonuses"] == 0  # off
    await set_programme(admin, birthdayBonus=88)
    assert (await run(admin, clock))["loyalty.tiers"]["loyalty birthday bonuses"] == 0  # Nov
    clock.set(dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC))
    assert (await run(admin, clock))["loyalty.tiers"]["loyalty birthday bonuses"] == 1
    clock.advance(days=3)
    assert (await run(admin, clock))["loyalty.tiers"]["loyalty birthday bonuses"] == 0
    assert (await account(admin, born)).balance == 88
    assert (await account(admin, born)).lifetime_earned == 88
    assert (await account(admin, other)).balance == 0
    clock.set(dt.datetime(2027, 12, 2, 9, tzinfo=dt.UTC))
    assert (await run(admin, clock))["loyalty.tiers"]["loyalty birthday bonuses"] == 1
    assert (await account(admin, born)).balance == 176


async def test_a_birthday_bonus_can_lift_the_tier(admin: Api, clock: FakeClock) -> None:
    born = await member_with_contact(admin, clock, "Born", birthday="1990-11-30")
    await earn(admin, clock, born, 4990)
    await set_programme(admin, birthdayBonus=10)
    await run(admin, clock)
    assert (await account(admin, born)).tier_key == "SILVER"


async def test_the_mail_follows_the_contacts_language_and_zone(
    admin: Api, clock: FakeClock, smtp: tuple[Inbox, int]
) -> None:
    account_id = await member_with_contact(
        admin, clock, "Acme", locale="zh-CN", timeZone="Asia/Shanghai"
    )
    clock.set(dt.datetime(2026, 11, 23, 20, tzinfo=dt.UTC))  # 24 November in Shanghai
    await earn(admin, clock, account_id, 40)
    clock.set(add_months(clock(), 24) - days(5))
    assert (await run(admin, clock))["loyalty.expiry"]["loyalty expiry notices"] == 1
    await admin.deliver_outbox()
    (message,) = mails(smtp)
    html = message.get_body(("html",))
    assert html is not None
    assert '<html lang="zh-CN">' in html.get_content()
    assert "2028年11月24日" in html.get_content()
