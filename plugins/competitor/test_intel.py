"""The intel log through HTTP: logging entries (every refused input; "today" is the
deployment's), the feed and its filters, watchers told of what others log (never the
reporter) and the webhook event (without the summary), corrections by the reporter or a
manager, deletions, ``Competitor.intel``, ``watchedByMe``, ``watcherCount`` and
``CompetitorSwotItem.evidence`` (batched), and ``latest_intel``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from core.plugin_api import (
    CUSTOMER_MANAGER,
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
    Settings,
)
from plugins.competitor import models
from plugins.competitor.service.intel import latest_intel
from plugins.competitor.testing_encounters import create_competitor, refused, top_error
from schema.testkit import Api, FakeClock, StatementCounter
from schema.testkit_graphql import data, db_id, gid, mutate_ok, mutate_refused
from schema.testkit_webhooks import WebhookReceiver

INTEL = (
    "intel { id kind summary sourceUrl confidence occurredOn createdAt "
    "competitor { name } reporter { id } }"
)
FEED = """query($filter: IntelFilter, $orderBy: [IntelOrder!]) {
  intelFeed(filter: $filter, orderBy: $orderBy, first: 50) {
    totalCount edges { node { summary } } } }"""


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """Webhooks to the test's own receiver; the deployment's calendar is Shanghai's."""
    return make_settings(
        plugins=("fixture", "sales", "competitor"),
        webhooks_allow_private=True,
        time_zone="Asia/Shanghai",
    )


async def log(api: Api, competitor: str, summary: str, **more: Any) -> dict[str, Any]:
    input = {"competitorId": competitor, "kind": "PRICE_CHANGE", "summary": summary, **more}
    found: dict[str, Any] = (await mutate_ok(api, "logIntel", input, INTEL))["intel"]
    return found


async def feed(api: Api, filter: dict[str, Any] | None = None, order: Any = None) -> list[str]:
    body = data(await api.gql(FEED, {"filter": filter, "orderBy": order}))
    return [edge["node"]["summary"] for edge in body["intelFeed"]["edges"]]


async def notifications(user: Api) -> list[tuple[str, str, str, str]]:
    body = data(
        await user.gql("{ notifications { edges { node { kind title body subjectId } } } }")
    )
    return [
        (e["node"]["kind"], e["node"]["title"], e["node"]["body"], e["node"]["subjectId"])
        for e in body["notifications"]["edges"]
    ]


async def node(api: Api, id: str, fragment: str) -> dict[str, Any]:
    """The body of ``node(id:)`` with ``fragment`` (``... on Type { fields }``)."""
    return await api.gql(f"query($id: ID!) {{ node(id: $id) {{ {fragment} }} }}", {"id": id})


async def intel_rows(api: Api) -> int:
    async with api.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(models.Intel)) or 0)


async def test_logging_intel_and_every_refused_input(admin: Api, clock: FakeClock) -> None:
    acme = await create_competitor(admin, "Acme")
    entry = await log(admin, acme, "  Cut list prices by 10%  ", sourceUrl="example.com/news")
    assert entry == {
        "id": entry["id"],
        "kind": "PRICE_CHANGE",
        "summary": "Cut list prices by 10%",
        "sourceUrl": "https://example.com/news",
        "confidence": "MEDIUM",
        "occurredOn": "2026-11-23",  # today, in Shanghai (17:00 there)
        "createdAt": "2026-11-23T17:00:00+08:00",  # shown in the deployment's zone
        "competitor": {"name": "Acme"},
        "reporter": {"id": gid("User", admin.user_id)},
    }
    valid = {"competitorId": acme, "kind": "CAMPAIGN", "summary": "Trade fair"}
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({**valid, "summary": " "}, [("summary", "REQUIRED")]),
        ({**valid, "summary": "x" * 5001}, [("summary", "TOO_LONG")]),
        ({**valid, "sourceUrl": "ftp://example.com/x"}, [("sourceUrl", "INVALID")]),
        ({**valid, "sourceUrl": "not a url"}, [("sourceUrl", "INVALID")]),
        # Addresses the URL parser itself refuses: an unclosed IPv6 host, a host NFKC changes.
        ({**valid, "sourceUrl": "http://[::1"}, [("sourceUrl", "INVALID")]),
        ({**valid, "sourceUrl": "https://a\uff03b.com/"}, [("sourceUrl", "INVALID")]),
        ({**valid, "sourceUrl": "https://" + "a" * 500 + ".com"}, [("sourceUrl", "TOO_LONG")]),
        ({**valid, "occurredOn": "2026-11-24"}, [("occurredOn", "OUT_OF_RANGE")]),
        ({**valid, "competitorId": gid("User", 1)}, [("competitorId", "INVALID")]),
        (
            {**valid, "summary": "", "occurredOn": "2027-01-01", "sourceUrl": "x"},
            [("summary", "REQUIRED"), ("sourceUrl", "INVALID"), ("occurredOn", "OUT_OF_RANGE")],
        ),
    ]
    for input, expected in cases:
        assert await refused(admin, "logIntel", input) == expected, input
    future = await mutate_refused(
        admin, "logIntel", {**valid, "occurredOn": "2026-11-24"}, "__typename"
    )
    assert future[0]["message"] == "must not be in the future (today is 2026-11-23)"
    missing = {**valid, "competitorId": gid("Competitor", 999)}
    assert await top_error(admin, "logIntel", missing) == ("NOT_FOUND", "input.competitorId")
    assert await intel_rows(admin) == 1

    # At 20:00 UTC it is already the 24th in Shanghai: the deployment's calendar decides.
    clock.advance(hours=11)
    later = await log(admin, acme, "Launch event", occurredOn="2026-11-24", confidence="HIGH")
    assert (later["occurredOn"], later["confidence"]) == ("2026-11-24", "HIGH")
    assert await refused(admin, "logIntel", {**valid, "occurredOn": "2026-11-25"}) == [
        ("occurredOn", "OUT_OF_RANGE")
    ]
    audit = data(
        await admin.gql(
            '{ auditEvents(filter: {action: "competitor.intel."}, first: 10) '
            "{ edges { node { action entityType changes { field after } } } } }"
        )
    )["auditEvents"]["edges"]
    assert [(e["node"]["action"], e["node"]["entityType"]) for e in audit] == [
        ("competitor.intel.logged", "IntelEntry")
    ] * 2
    assert {"field": "summary", "after": "Launch event"} in audit[0]["node"]["changes"]

    support = await admin.as_role(SUPPORT_REPRESENTATIVE)
    assert await top_error(support, "logIntel", valid) == ("FORBIDDEN", None)
    body = await support.gql(FEED, {})
    assert body["data"] == {"intelFeed": None}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    summary = "... on IntelEntry { summary }"
    assert data(await node(support, entry["id"], summary)) == {"node": None}
    assert data(await node(admin, entry["id"], summary)) == {
        "node": {"summary": "Cut list prices by 10%"}
    }


async def test_the_feed_and_its_filters(admin: Api) -> None:
    acme = await create_competitor(admin, "Acme")
    globex = await create_competitor(admin, "Globex")
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    await log(admin, acme, "Acme price cut", occurredOn="2026-10-01", confidence="LOW")
    await log(
        rep,
        acme,
        "Acme partners with Initech",
        kind="PARTNERSHIP",
        occurredOn="2026-11-20",
        confidence="HIGH",
    )
    await log(admin, globex, "Globex 50% OFF campaign", kind="CAMPAIGN", occurredOn="2026-11-01")
    await log(rep, globex, "Globex new CEO", kind="LEADERSHIP", occurredOn="2026-10-01")

    # Newest first by occurredOn, then the latest logged.
    assert await feed(admin) == [
        "Acme partners with Initech",
        "Globex 50% OFF campaign",
        "Globex new CEO",
        "Acme price cut",
    ]
    assert await feed(admin, {"competitorIds": [acme]}) == [
        "Acme partners with Initech",
        "Acme price cut",
    ]
    assert len(await feed(admin, {"competitorIds": [acme, globex]})) == 4
    assert await feed(admin, {"kinds": ["CAMPAIGN", "LEADERSHIP"]}) == [
        "Globex 50% OFF campaign",
        "Globex new CEO",
    ]
    assert await feed(admin, {"search": "ACME"}) == ["Acme partners with Initech", "Acme price cut"]
    assert await feed(admin, {"search": "50%"}) == ["Globex 50% OFF campaign"]
    assert await feed(admin, {"search": "0%"}) == ["Globex 50% OFF campaign"]
    assert await feed(admin, {"occurred": {"from": "2026-10-02", "to": "2026-11-20"}}) == [
        "Acme partners with Initech",
        "Globex 50% OFF campaign",
    ]
    assert await feed(admin, {"occurred": {"to": "2026-10-01"}}) == [
        "Globex new CEO",
        "Acme price cut",
    ]
    assert await feed(admin, {"reporterId": gid("User", rep.user_id)}) == [
        "Acme partners with Initech",
        "Globex new CEO",
    ]
    assert await feed(admin, {"minConfidence": "HIGH"}) == ["Acme partners with Initech"]
    assert len(await feed(admin, {"minConfidence": "MEDIUM"})) == 3
    assert len(await feed(admin, {"minConfidence": "LOW"})) == 4
    assert await feed(admin, None, [{"field": "CREATED_AT", "direction": "ASC"}]) == [
        "Acme price cut",
        "Acme partners with Initech",
        "Globex 50% OFF campaign",
        "Globex new CEO",
    ]
    assert await feed(rep) == await feed(admin)  # nobody owns intel: all of it for readers
    for filter, argument in (
        ({"occurred": {"from": "2026-11-02", "to": "2026-11-01"}}, "filter.occurred.to"),
        ({"competitorIds": [acme, gid("User", 1)]}, "filter.competitorIds.1"),
        ({"reporterId": acme}, "filter.reporterId"),
        ({"search": "x" * 201}, "filter.search"),
    ):
        body = await admin.gql(FEED, {"filter": filter})
        assert body["data"] == {"intelFeed": None}, filter
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["argument"] == argument


async def test_watchers_are_told_but_the_reporter_and_the_webhook_has_no_summary(
    admin: Api,
) -> None:
    acme = await create_competitor(admin, "Acme")
    globex = await create_competitor(admin, "Globex")
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    manager = await admin.as_role(CUSTOMER_MANAGER)
    other = await admin.as_role(SALES_REPRESENTATIVE)
    support = await admin.as_role(SUPPORT_REPRESENTATIVE)
    watch = "watchCompetitor"
    selection = "watching competitor { name watchedByMe watcherCount }"
    for user in (rep, manager, admin):
        payload = await mutate_ok(user, watch, {"id": acme}, selection)
        assert payload["watching"] is True
    again = await mutate_ok(rep, watch, {"id": acme}, selection)  # watching already: fine
    assert again == {
        "watching": True,
        "competitor": {"name": "Acme", "watchedByMe": True, "watcherCount": 3},
        "errors": [],
    }
    await mutate_ok(other, watch, {"id": globex}, "watching")
    assert await top_error(support, watch, {"id": acme}) == ("FORBIDDEN", None)
    assert await top_error(rep, watch, {"id": gid("Competitor", 999)}) == ("NOT_FOUND", "input.id")
    assert await refused(rep, watch, {"id": gid("User", 1)}) == [("id", "INVALID")]

    subscribe = (
        "mutation($url: String!) { createWebhookSubscription(input: {url: $url, eventTypes: "
        '["competitor.intel_logged"]}) { secret errors { field message } } }'
    )
    async with WebhookReceiver() as receiver:
        data(await admin.gql(subscribe, {"url": receiver.url}))
        entry = await log(
            manager, acme, "Secret pricing memo", kind="PRICE_CHANGE", occurredOn="2026-11-20"
        )
        await admin.deliver_outbox()
    (posted,) = [request.json() for request in receiver.requests]
    assert posted["type"] == "competitor.intel_logged"
    assert posted["data"] == {
        "intel": entry["id"],
        "competitor": acme,
        "kind": "PRICE_CHANGE",
        "occurredOn": "2026-11-20",
    }
    assert "Secret pricing memo" not in str(posted)

    told = (
        "competitor.intel_logged",
        "Intel on Acme: a price change",
        "Secret pricing memo",
        entry["id"],
    )
    assert await notifications(rep) == [told]
    assert await notifications(admin) == [told]
    assert await notifications(manager) == []  # the reporter
    assert await notifications(other) == []  # watches Globex only
    audit = data(
        await admin.gql(
            '{ auditEvents(filter: {action: "competitor.watched"}, first: 10) '
            "{ edges { node { entityType } } } }"
        )
    )["auditEvents"]["edges"]
    assert len(audit) == 4  # watching again recorded nothing

    watched = "... on Competitor { watchedByMe watcherCount }"
    assert data(await node(rep, acme, watched))["node"] == {"watchedByMe": True, "watcherCount": 3}
    assert data(await node(other, acme, watched))["node"] == {
        "watchedByMe": False,
        "watcherCount": 3,
    }
    unwatched = await mutate_ok(rep, "unwatchCompetitor", {"id": acme}, selection)
    assert unwatched == {
        "watching": False,
        "competitor": {"name": "Acme", "watchedByMe": False, "watcherCount": 2},
        "errors": [],
    }
    await mutate_ok(rep, "unwatchCompetitor", {"id": acme}, "watching")  # not watching: fine
    await log(admin, acme, "Second memo")
    assert len(await notifications(rep)) == 1  # no longer watching
    assert [n[1] for n in await notifications(manager)] == ["Intel on Acme: a price change"]
    assert [n[1] for n in await notifications(admin)] == ["Intel on Acme: a price change"]
    assert await top_error(support, "unwatchCompetitor", {"id": acme}) == ("FORBIDDEN", None)


async def test_corrections_by_the_reporter_or_a_manager_and_deletions(admin: Api) -> None:
    acme = await create_competitor(admin, "Acme")
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    colleague = await admin.as_role(SALES_REPRESENTATIVE)
    manager = await admin.as_role(CUSTOMER_MANAGER)
    entry = await log(rep, acme, "Rumour of a price cut", confidence="LOW")
    update = "updateIntel"
    own = await mutate_ok(
        rep,
        update,
        {"id": entry["id"], "summary": "Price cut confirmed", "confidence": "HIGH"},
        INTEL,
    )
    assert (own["intel"]["summary"], own["intel"]["confidence"]) == ("Price cut confirmed", "HIGH")
    assert await top_error(colleague, update, {"id": entry["id"], "summary": "x"}) == (
        "FORBIDDEN",
        None,
    )
    corrected = await mutate_ok(
        manager,
        update,
        {"id": entry["id"], "kind": "CAMPAIGN", "occurredOn": "2026-11-01", "sourceUrl": None},
        INTEL,
    )
    assert (corrected["intel"]["kind"], corrected["intel"]["occurredOn"]) == (
        "CAMPAIGN",
        "2026-11-01",
    )
    bad = {
        "id": entry["id"],
        "kind": None,
        "summary": "",
        "sourceUrl": "ftp://files.example.com",
        "confidence": None,
        "occurredOn": "2026-12-01",
    }
    assert await refused(rep, update, bad) == [
        ("kind", "REQUIRED"),
        ("summary", "REQUIRED"),
        ("sourceUrl", "INVALID"),
        ("confidence", "REQUIRED"),
        ("occurredOn", "OUT_OF_RANGE"),
    ]
    assert await refused(rep, update, {"id": entry["id"], "occurredOn": None}) == [
        ("occurredOn", "REQUIRED")
    ]
    assert await refused(rep, update, {"id": entry["id"], "sourceUrl": "https://[::1/x"}) == [
        ("sourceUrl", "INVALID")
    ]
    assert await top_error(rep, update, {"id": gid("IntelEntry", 999)}) == ("NOT_FOUND", "input.id")
    assert await refused(rep, update, {"id": acme}) == [("id", "INVALID")]
    support = await admin.as_role(SUPPORT_REPRESENTATIVE)
    assert await top_error(support, update, {"id": entry["id"]}) == ("FORBIDDEN", None)

    # A SWOT item citing the entry cites it no more once it is deleted.
    async with admin.db.transaction() as session:
        item = models.SwotItem(
            competitor_id=db_id(acme), kind="STRENGTH", text="Price leader", position=0
        )
        session.add(item)
        await session.flush()
        session.add(models.SwotEvidence(item_id=item.id, intel_id=db_id(entry["id"])))
    strengths = "... on Competitor { strengths { evidence { id } } }"
    assert data(await node(admin, acme, strengths))["node"] == {
        "strengths": [{"evidence": [{"id": entry["id"]}]}]
    }
    delete = "deleteIntel"
    assert await top_error(rep, delete, {"id": entry["id"]}) == ("FORBIDDEN", None)
    gone = await mutate_ok(manager, delete, {"id": entry["id"]}, "deletedId")
    assert gone == {"deletedId": entry["id"], "errors": []}
    assert data(await node(admin, acme, strengths))["node"] == {"strengths": [{"evidence": []}]}
    assert await top_error(manager, delete, {"id": entry["id"]}) == ("NOT_FOUND", "input.id")
    assert await intel_rows(admin) == 0

    audit = data(
        await admin.gql(
            '{ auditEvents(filter: {action: "competitor.intel."}, first: 10) '
            "{ edges { node { action changes { field before after } } } } }"
        )
    )["auditEvents"]["edges"]
    assert [e["node"]["action"] for e in audit] == [
        "competitor.intel.deleted",
        "competitor.intel.updated",
        "competitor.intel.updated",
        "competitor.intel.logged",
    ]
    assert audit[2]["node"]["changes"] == [
        {"field": "confidence", "before": "LOW", "after": "HIGH"},
        {"field": "summary", "before": "Rumour of a price cut", "after": "Price cut confirmed"},
    ]


async def test_competitor_intel_evidence_batched_and_latest_intel(
    admin: Api, count_statements: Any
) -> None:
    names = ["Acme", "Globex", "Initech", "Hooli", "Umbrella", "Stark"]
    ids = [await create_competitor(admin, name) for name in names]
    acme = ids[0]
    days = ["2026-11-01", "2026-11-05", "2026-10-20", "2026-11-05", "2026-09-01", "2026-11-10"]
    kinds = ["PRICE_CHANGE", "CAMPAIGN", "WIN", "PRICE_CHANGE", "LOSS", "CAMPAIGN"]
    entries = [
        await log(admin, acme, f"Note {n}", kind=kind, occurredOn=day)
        for n, (kind, day) in enumerate(zip(kinds, days, strict=True))
    ]
    for competitor in ids[1:]:
        await log(admin, competitor, "Elsewhere")
        await mutate_ok(admin, "watchCompetitor", {"id": competitor}, "watching")
    async with admin.db.transaction() as session:
        for competitor in ids:
            item = models.SwotItem(
                competitor_id=db_id(competitor), kind="WEAKNESS", text="Slow support", position=0
            )
            session.add(item)
            await session.flush()
            if competitor == acme:
                for entry in (entries[0], entries[3]):
                    session.add(models.SwotEvidence(item_id=item.id, intel_id=db_id(entry["id"])))

    page = """query($id: ID!, $kinds: [IntelKind!], $first: Int, $after: String, $last: Int,
                    $before: String) {
      node(id: $id) { ... on Competitor {
        intel(kinds: $kinds, first: $first, after: $after, last: $last, before: $before) {
          totalCount edges { node { summary } } pageInfo { hasNextPage hasPreviousPage
          startCursor endCursor } } } } }"""
    # Newest first by occurredOn; of one day, the latest logged first.
    assert await admin.walk(page, ["node", "intel"], "summary", {"id": acme}) == [
        "Note 5",
        "Note 3",
        "Note 1",
        "Note 0",
        "Note 2",
        "Note 4",
    ]
    assert await admin.walk(
        page, ["node", "intel"], "summary", {"id": acme, "kinds": ["CAMPAIGN", "WIN"]}
    ) == ["Note 5", "Note 1", "Note 2"]
    counted = data(await admin.gql(page, {"id": acme, "kinds": ["PRICE_CHANGE"], "first": 1}))
    assert counted["node"]["intel"]["totalCount"] == 2

    weakness = "... on Competitor { weaknesses { evidence { summary } } }"
    assert data(await node(admin, acme, weakness))["node"] == {
        "weaknesses": [{"evidence": [{"summary": "Note 3"}, {"summary": "Note 0"}]}]
    }

    async with admin.db.read() as session:
        latest = await latest_intel(session, db_id(acme), limit=3)
    assert [row.summary for row in latest] == ["Note 5", "Note 3", "Note 1"]

    # One page of competitors costs the same statements whatever its size.
    everything = """query($ids: [ID!]!) { nodes(ids: $ids) { ... on Competitor {
      watchedByMe watcherCount intel(first: 2) { totalCount edges { node { summary } } }
      cheap: intel(kinds: [WIN], first: 1) { edges { node { summary } } }
      weaknesses { evidence { summary } } } } }"""
    counter: StatementCounter = count_statements(admin.db)
    two = data(await admin.gql(everything, {"ids": ids[:2]}))["nodes"]
    assert two[0]["intel"]["totalCount"] == 6
    assert (two[1]["watchedByMe"], two[1]["watcherCount"]) == (True, 1)
    assert (two[0]["watchedByMe"], two[0]["watcherCount"]) == (False, 0)
    few = counter.count
    counter.reset()
    data(await admin.gql(everything, {"ids": ids}))
    assert counter.count == few
