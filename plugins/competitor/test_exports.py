"""The intel log and the encounters as CSV and XLSX downloads: the rows of intelFeed and
competitorEncounters with the same filter and orderBy, the encounters only where the caller
may read them (the reason in words with them), customers blank beyond the caller's reach,
and the refused requests."""

from __future__ import annotations

from typing import Any

from core.plugin_api import SALES_REPRESENTATIVE, SYSTEM_ADMINISTRATOR
from plugins.competitor.testing_profiles import competitor, customer
from schema.testkit import Api
from schema.testkit_files import download, records
from schema.testkit_graphql import db_id, gid, mutate_ok


async def intel(api: Api, competitor_id: str, **values: Any) -> str:
    payload = await mutate_ok(
        api, "logIntel", {"competitorId": competitor_id, **values}, "intel { id }"
    )
    found: str = payload["intel"]["id"]
    return found


async def encounter(api: Api, competitor_id: str, customer_id: str, **values: Any) -> str:
    payload = await mutate_ok(
        api,
        "recordEncounter",
        {"competitorId": competitor_id, "customerId": customer_id, **values},
        "encounter { id }",
    )
    found: str = payload["encounter"]["id"]
    return found


async def test_the_intel_log_as_csv_and_xlsx(admin: Api) -> None:
    zenith = await competitor(admin, "Zenith Systems")
    huaxin = await competitor(admin, "华信软件")
    cut = await intel(
        admin,
        huaxin,
        kind="PRICE_CHANGE",
        summary="HX-G5 降价 10%",
        sourceUrl="https://news.example.com/1",
        confidence="HIGH",
        occurredOn="2026-11-02",
    )
    launch = await intel(
        admin, zenith, kind="PRODUCT_LAUNCH", summary="EdgeHub 30", occurredOn="2026-10-15"
    )
    rumour = await intel(
        admin, zenith, kind="OTHER", summary="=cmd|' /C calc'!A0", occurredOn="2026-11-20"
    )
    status, rows = await download(admin, "/export/competitor-intel.csv")
    assert status == 200
    assert rows[0] == [
        "entry",
        "competitor",
        "kind",
        "summary",
        "source_url",
        "confidence",
        "occurred_on",
        "reporter_email",
        "created_at (UTC)",
    ]
    found = records(rows)
    assert [r["entry"] for r in found] == [rumour, cut, launch]  # newest first, as the feed
    assert found[1] == {
        "entry": cut,
        "competitor": "华信软件",
        "kind": "PRICE_CHANGE",
        "summary": "HX-G5 降价 10%",
        "source_url": "https://news.example.com/1",
        "confidence": "HIGH",
        "occurred_on": "2026-11-02",
        "reporter_email": "admin@example.com",
        "created_at": "2026-11-23T09:00:00+00:00",
    }
    assert found[0]["summary"] == "'=cmd|' /C calc'!A0"  # a formula is defused
    status, rows = await download(
        admin,
        "/export/competitor-intel.xlsx",
        filter={"competitorIds": [zenith]},
        orderBy={"field": "OCCURRED_ON", "direction": "ASC"},
    )
    assert status == 200
    assert [(r["entry"], r["competitor"], r["kind"]) for r in records(rows)] == [
        (launch, "Zenith Systems", "PRODUCT_LAUNCH"),
        (rumour, "Zenith Systems", "OTHER"),
    ]
    status, rows = await download(
        admin,
        "/export/competitor-intel.csv",
        filter={"occurred": {"from": "2026-11-01"}, "minConfidence": "HIGH"},
    )
    assert [r["entry"] for r in records(rows)] == [cut]


async def test_encounters_export_keeps_to_what_the_caller_may_read(admin: Api) -> None:
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    assert rep.user_id is not None
    zenith = await competitor(admin, "Zenith Systems")
    mine = await customer(admin, "Rep's Customer", owner_id=rep.user_id)
    other = await customer(admin, "Someone Else's")
    on_mine = await encounter(
        admin,
        zenith,
        mine,
        outcome="LOST",
        reason="PRICE",
        reasonText="Their offer was 15% lower",
        amount="12000",
        currency="CNY",
        occurredOn="2026-11-10",
    )
    owned = await encounter(
        admin,
        zenith,
        other,
        outcome="WON",
        amount="800.5",
        currency="USD",
        occurredOn="2026-11-12",
        ownerId=gid("User", rep.user_id),
    )
    hidden = await encounter(
        admin,
        zenith,
        other,
        outcome="LOST",
        reason="RELATIONSHIP",
        reasonText="Golf with their CEO",
        occurredOn="2026-11-01",
    )
    status, rows = await download(admin, "/export/competitor-encounters.csv")
    assert status == 200
    assert rows[0][-1] == "created_at (UTC)"
    found = records(rows)
    assert [r["encounter"] for r in found] == [owned, on_mine, hidden]  # latest first
    assert found[1] == {
        "encounter": on_mine,
        "competitor": "Zenith Systems",
        "customer_number": found[1]["customer_number"],
        "customer_name": "Rep's Customer",
        "opportunity": "",
        "owner_email": "admin@example.com",
        "source": "MANUAL",
        "outcome": "LOST",
        "reason": "PRICE",
        "reason_text": "Their offer was 15% lower",
        "amount": "12000.00",
        "currency": "CNY",
        "occurred_on": "2026-11-10",
        "created_at": "2026-11-23T09:00:00+00:00",
    }
    assert found[1]["customer_number"].startswith("C")
    assert (found[0]["amount"], found[0]["currency"], found[0]["reason"]) == ("800.50", "USD", "")
    assert (found[2]["amount"], found[2]["currency"]) == ("", "")
    # The rep reads the deal at their customer and their own deal (whose customer they may
    # not read: blank), never the colleague's deal or its reason.
    status, rows = await download(rep, "/export/competitor-encounters.xlsx")
    assert status == 200
    seen = records(rows)
    assert [(r["encounter"], r["customer_name"], r["reason_text"]) for r in seen] == [
        (owned, None, None),
        (on_mine, "Rep's Customer", "Their offer was 15% lower"),
    ]
    assert seen[0]["owner_email"] == rep.email
    status, rows = await download(
        admin,
        "/export/competitor-encounters.csv",
        filter={"outcome": "LOST", "customerId": other},
    )
    assert [r["encounter"] for r in records(rows)] == [hidden]
    status, rows = await download(
        admin,
        "/export/competitor-encounters.csv",
        orderBy=[{"field": "OCCURRED_ON", "direction": "ASC"}],
        filter={"occurred": {"from": "2026-11-05", "to": "2026-11-30"}},
    )
    assert [r["encounter"] for r in records(rows)] == [on_mine, owned]
    assert db_id(owned) > db_id(on_mine)


async def test_refused_exports(api: Api, admin: Api) -> None:
    for name in ("competitor-intel", "competitor-encounters"):
        status, body = await download(api, f"/export/{name}.csv")
        assert status == 401
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    sysadmin = await admin.as_role(SYSTEM_ADMINISTRATOR)
    status, body = await download(sysadmin, "/export/competitor-intel.xlsx")
    assert status == 403
    assert body["errors"][0]["extensions"]["permission"] == "competitors:read"
    status, body = await download(
        admin, "/export/competitor-intel.csv", filter={"kinds": ["RUMOUR"]}
    )
    assert status == 400
    assert body["errors"][0]["extensions"]["argument"] == "filter"
    status, body = await download(
        admin,
        "/export/competitor-encounters.csv",
        filter={"occurred": {"from": "2026-11-05", "to": "2026-11-01"}},
    )
    assert status == 400
    assert body["errors"][0]["extensions"]["argument"] == "filter.occurred.to"
    status, body = await download(
        admin, "/export/competitor-encounters.csv", filter={"competitorIds": [gid("User", 1)]}
    )
    assert status == 400
    assert body["errors"][0]["extensions"]["argument"] == "filter.competitorIds.0"
    status, body = await download(
        admin,
        "/export/competitor-encounters.csv",
        orderBy=[{"field": "OCCURRED_ON"}, {"field": "OCCURRED_ON"}],
    )
    assert status == 400
    assert body["errors"][0]["extensions"]["argument"] == "orderBy.1.field"
    status, _body = await download(admin, "/export/competitor-intel.pdf")
    assert status == 404
