"""Market share through HTTP: recording observations (ours and competitors'), one per subject,
segment and period, the 100% rule with its figures, every refused input, corrections and
deletions with their versions, permissions, the list and its filters, the segments,
``Competitor.marketShare`` (batched), and two writers racing past 100% at once."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from core.plugin_api import CUSTOMER_MANAGER, SALES_REPRESENTATIVE, SUPPORT_REPRESENTATIVE
from plugins.competitor import models
from plugins.competitor.testing_encounters import create_competitor, top_error
from schema.testkit import Api, StatementCounter
from schema.testkit_graphql import data, db_id, gid, mutate, mutate_ok, mutate_refused

SHARE = (
    "marketShare { id segmentKind segment period periodKind periodStart sharePercent ours "
    "source confidence version competitor { id } reporter { id } }"
)
LIST = """query($filter: MarketShareFilter, $orderBy: [MarketShareOrder!]) {
  marketShares(filter: $filter, orderBy: $orderBy, first: 50) {
    totalCount edges { node { period sharePercent ours segment competitor { id } } } } }"""


def share_input(
    competitor: str | None,
    share: str,
    period: str = "2026-Q3",
    segment: str = "Retail",
    **more: Any,
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "segmentKind": "INDUSTRY",
        "segment": segment,
        "period": period,
        "sharePercent": share,
        **more,
    }
    if competitor is not None:
        found["competitorId"] = competitor
    return found


async def record(api: Api, competitor: str | None, share: str, **more: Any) -> dict[str, Any]:
    payload = await mutate_ok(
        api, "recordMarketShare", share_input(competitor, share, **more), SHARE
    )
    found: dict[str, Any] = payload["marketShare"]
    return found


async def refused(api: Api, name: str, input: dict[str, Any]) -> list[tuple[str, str, str]]:
    errors = await mutate_refused(api, name, input, "__typename")
    return [(e["field"], e["code"], e["message"]) for e in errors]


async def shares_in_db(api: Api) -> int:
    async with api.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(models.MarketShare)) or 0)


async def test_one_share_per_subject_and_the_hundred_percent_rule(admin: Api) -> None:
    acme = await create_competitor(admin, "Acme")
    globex = await create_competitor(admin, "Globex")
    initech = await create_competitor(admin, "Initech")
    hooli = await create_competitor(admin, "Hooli")

    ours = await record(admin, None, "40", source="Analyst report", confidence="HIGH")
    assert ours == {
        "id": ours["id"],
        "segmentKind": "INDUSTRY",
        "segment": "Retail",
        "period": "2026-Q3",
        "periodKind": "QUARTER",
        "periodStart": "2026-07-01",
        "sharePercent": 40.0,
        "ours": True,
        "source": "Analyst report",
        "confidence": "HIGH",
        "version": 1,
        "competitor": None,
        "reporter": {"id": gid("User", admin.user_id)},
    }
    first = await record(admin, acme, "35")
    assert (first["competitor"], first["ours"], first["confidence"]) == (
        {"id": acme},
        False,
        "MEDIUM",
    )

    assert await refused(admin, "recordMarketShare", share_input(globex, "29.5")) == [
        (
            "sharePercent",
            "BUSINESS_RULE",
            "the shares of Retail in 2026-Q3 would total 104.5%: ours 40%, Acme 35% + 29.5%",
        )
    ]
    await record(admin, globex, "25")
    nothing = await record(admin, initech, "-0.00")  # 100% in all: allowed
    assert nothing["sharePercent"] == 0.0
    assert str(nothing["sharePercent"]) == "0.0"  # a negative zero is zero, not -0.0
    assert await refused(admin, "recordMarketShare", share_input(hooli, "0.01")) == [
        (
            "sharePercent",
            "BUSINESS_RULE",
            "the shares of Retail in 2026-Q3 would total 100.01%: ours 40%, Acme 35%, "
            "Globex 25%, Initech 0% + 0.01%",
        )
    ]
    # One observation per subject, segment and period; segments compare without case.
    assert await refused(
        admin, "recordMarketShare", share_input(acme, "1", segment="  RETAIL ")
    ) == [
        (
            "period",
            "DUPLICATE",
            "the share of Acme in Retail in 2026-Q3 is recorded already (35%): correct that "
            "one instead",
        )
    ]
    assert await refused(admin, "recordMarketShare", share_input(None, "0")) == [
        (
            "period",
            "DUPLICATE",
            "our share of Retail in 2026-Q3 is recorded already (40%): correct that one instead",
        )
    ]
    # Another kind of segment, another kind of period, another period: a sum of their own.
    await record(admin, acme, "90", segmentKind="REGION")
    await record(admin, acme, "90", period="2026-08")
    await record(admin, acme, "90", period="2026-Q2")
    await record(admin, acme, "12.25", period="2026")
    assert await shares_in_db(admin) == 8

    audit = data(
        await admin.gql(
            '{ auditEvents(filter: {action: "competitor.market_share."}, first: 50) '
            "{ edges { node { action entityType changes { field after } } } } }"
        )
    )["auditEvents"]["edges"]
    assert [e["node"]["action"] for e in audit] == ["competitor.market_share.recorded"] * 8
    assert {e["node"]["entityType"] for e in audit} == {"MarketShare"}
    yearly = [
        e["node"]["changes"]
        for e in audit
        if {"field": "period", "after": "2026"} in e["node"]["changes"]
    ]
    assert {"field": "sharePercent", "after": "12.25"} in yearly[0]


async def test_refused_inputs_change_nothing(admin: Api) -> None:
    acme = await create_competitor(admin, "Acme")
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        (share_input(acme, "-1"), [("sharePercent", "OUT_OF_RANGE")]),
        (share_input(acme, "100.01"), [("sharePercent", "OUT_OF_RANGE")]),
        (share_input(acme, "12.345"), [("sharePercent", "INVALID")]),
        (share_input(acme, "10", period="2026-Q5"), [("period", "INVALID")]),
        (share_input(acme, "10", period="Q3 2026"), [("period", "INVALID")]),
        (share_input(acme, "10", period=" "), [("period", "REQUIRED")]),
        (share_input(acme, "10", period="2027-Q1"), [("period", "OUT_OF_RANGE")]),
        (share_input(acme, "10", period="2026-12"), [("period", "OUT_OF_RANGE")]),
        (share_input(acme, "10", segment=" "), [("segment", "REQUIRED")]),
        (share_input(acme, "10", segment="x" * 101), [("segment", "TOO_LONG")]),
        (share_input(acme, "10", source="s" * 501), [("source", "TOO_LONG")]),
        (share_input(gid("User", 1), "10"), [("competitorId", "INVALID")]),
        (
            share_input(acme, "101", period="2027", segment=""),
            [("segment", "REQUIRED"), ("period", "OUT_OF_RANGE"), ("sharePercent", "OUT_OF_RANGE")],
        ),
    ]
    for input, expected in cases:
        errors = await refused(admin, "recordMarketShare", input)
        assert [(field, code) for field, code, _message in errors] == expected, input
    errors = await refused(admin, "recordMarketShare", share_input(acme, "10", period="2027-Q1"))
    assert errors[0][2] == "2027-Q1 has not begun yet"
    missing = share_input(gid("Competitor", 999), "10")
    assert await top_error(admin, "recordMarketShare", missing) == (
        "NOT_FOUND",
        "input.competitorId",
    )
    assert await shares_in_db(admin) == 0
    # The current period has begun: it may be recorded (2026-11-23: 2026-Q4, 2026-11, 2026).
    for period in ("2026-Q4", "2026-11", "2026"):
        await record(admin, acme, "10", period=period)
    assert await shares_in_db(admin) == 3


async def test_corrections_deletions_and_their_versions(admin: Api, api: Api) -> None:
    acme = await create_competitor(admin, "Acme")
    globex = await create_competitor(admin, "Globex")
    manager = await admin.as_role(CUSTOMER_MANAGER)
    await record(admin, None, "50")
    share = await record(admin, acme, "30")
    await record(admin, globex, "15")
    await record(admin, globex, "60", period="2026-Q2")

    update = "updateMarketShare"
    # Raising past 100% counts the others, not the observation's own old figure.
    raised = {"id": share["id"], "version": 1, "sharePercent": "35.01"}
    assert await refused(manager, update, raised) == [
        (
            "sharePercent",
            "BUSINESS_RULE",
            "the shares of Retail in 2026-Q3 would total 100.01%: ours 50%, Globex 15% + 35.01%",
        )
    ]
    changed = await mutate_ok(
        manager, update, {"id": share["id"], "version": 1, "sharePercent": "35"}, SHARE
    )
    assert (changed["marketShare"]["sharePercent"], changed["marketShare"]["version"]) == (35.0, 2)
    # A stale version: CONFLICT, with the observation as it now is.
    stale = await mutate(
        manager, update, {"id": share["id"], "version": 1, "sharePercent": "1"}, SHARE
    )
    assert [(e["field"], e["code"]) for e in stale["errors"]] == [("version", "CONFLICT")]
    assert (stale["marketShare"]["sharePercent"], stale["marketShare"]["version"]) == (35.0, 2)
    # Moving to a period where the subject has one already, or past 100% there.
    moved = {"id": share["id"], "version": 2, "period": "2026-Q2"}
    acme_q2 = await record(admin, acme, "40", period="2026-Q2")
    assert await refused(manager, update, moved) == [
        (
            "period",
            "DUPLICATE",
            "the share of Acme in Retail in 2026-Q2 is recorded already (40%): correct that "
            "one instead",
        )
    ]
    into_region = {"id": share["id"], "version": 2, "segmentKind": "REGION", "segment": "East"}
    region = await mutate_ok(manager, update, into_region, SHARE)
    assert (region["marketShare"]["segmentKind"], region["marketShare"]["segment"]) == (
        "REGION",
        "East",
    )
    await mutate_ok(manager, "deleteMarketShare", {"id": acme_q2["id"], "version": 1}, "deletedId")
    await record(admin, None, "10", period="2026-Q2")
    back = {"id": share["id"], "version": 3, "segmentKind": "INDUSTRY", "segment": "retail"}
    assert await refused(manager, update, {**back, "period": "2026-Q2"}) == [
        (
            "sharePercent",
            "BUSINESS_RULE",
            "the shares of retail in 2026-Q2 would total 105%: ours 10%, Globex 60% + 35%",
        )
    ]
    # Every refused value, together; a null where a value is needed.
    bad = {
        "id": share["id"],
        "version": 3,
        "sharePercent": "-2",
        "period": "2026-Q9",
        "segment": "",
        "segmentKind": None,
        "confidence": None,
    }
    assert [(f, c) for f, c, _m in await refused(manager, update, bad)] == [
        ("segmentKind", "REQUIRED"),
        ("segment", "REQUIRED"),
        ("period", "INVALID"),
        ("sharePercent", "OUT_OF_RANGE"),
        ("confidence", "REQUIRED"),
    ]
    cleared = await mutate_ok(
        manager, update, {"id": share["id"], "version": 3, "source": "Survey"}, SHARE
    )
    assert (cleared["marketShare"]["source"], cleared["marketShare"]["version"]) == ("Survey", 4)
    same = await mutate_ok(
        manager, update, {"id": share["id"], "version": 4, "source": " Survey "}, SHARE
    )
    assert same["marketShare"]["version"] == 4  # nothing changed: no new version

    # Deleting: the version counts; an unknown id is NOT_FOUND.
    delete = "deleteMarketShare"
    stale_delete = await mutate(manager, delete, {"id": share["id"], "version": 1}, "deletedId")
    assert [(e["field"], e["code"]) for e in stale_delete["errors"]] == [("version", "CONFLICT")]
    assert stale_delete["deletedId"] is None
    gone = await mutate_ok(manager, delete, {"id": share["id"], "version": 4}, "deletedId")
    assert gone["deletedId"] == share["id"]
    assert await top_error(manager, delete, {"id": share["id"], "version": 4}) == (
        "NOT_FOUND",
        "input.id",
    )
    assert await top_error(manager, update, {"id": share["id"], "version": 4}) == (
        "NOT_FOUND",
        "input.id",
    )
    wrong = await refused(manager, update, {"id": acme, "version": 1})
    assert [(f, c) for f, c, _m in wrong] == [("id", "INVALID")]

    audit = data(
        await admin.gql(
            '{ auditEvents(filter: {action: "competitor.market_share."}, first: 50) '
            "{ edges { node { action entityId changes { field before after } } } } }"
        )
    )["auditEvents"]["edges"]
    actions = [e["node"]["action"] for e in audit]
    assert actions.count("competitor.market_share.updated") == 3
    assert actions.count("competitor.market_share.deleted") == 2
    (first_update,) = [
        e["node"]["changes"]
        for e in audit
        if e["node"]["action"] == "competitor.market_share.updated"
        and {"field": "sharePercent", "before": "30", "after": "35"} in e["node"]["changes"]
    ]
    assert first_update == [{"field": "sharePercent", "before": "30", "after": "35"}]


async def test_permissions(admin: Api, api: Api) -> None:
    acme = await create_competitor(admin, "Acme")
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    support = await admin.as_role(SUPPORT_REPRESENTATIVE)
    manager = await admin.as_role(CUSTOMER_MANAGER)
    assert await top_error(api, "recordMarketShare", share_input(acme, "10")) == (
        "UNAUTHENTICATED",
        None,
    )
    assert await top_error(support, "recordMarketShare", share_input(acme, "10")) == (
        "FORBIDDEN",
        None,
    )
    listed = await support.gql(LIST, {})
    assert listed["data"] == {"marketShares": None}
    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # A sales representative (write at OWN scope) records; correcting needs manage.
    share = await record(rep, acme, "10")
    assert share["reporter"] == {"id": gid("User", rep.user_id)}
    for name, input in (
        ("updateMarketShare", {"id": share["id"], "version": 1, "sharePercent": "11"}),
        ("deleteMarketShare", {"id": share["id"], "version": 1}),
    ):
        assert await top_error(rep, name, input) == ("FORBIDDEN", None)
    updated = await mutate_ok(
        manager, "updateMarketShare", {"id": share["id"], "version": 1, "sharePercent": "11"}, SHARE
    )
    assert updated["marketShare"]["sharePercent"] == 11.0
    # Read by anyone holding competitors:read, node(id:) included; nobody else.
    node = "query($id: ID!) { node(id: $id) { ... on MarketShare { sharePercent } } }"
    assert data(await rep.gql(node, {"id": share["id"]})) == {"node": {"sharePercent": 11.0}}
    assert (await support.gql(node, {"id": share["id"]}))["data"] == {"node": None}
    assert data(await rep.gql(LIST, {}))["marketShares"]["totalCount"] == 1


async def test_the_list_its_filters_and_the_segments(admin: Api) -> None:
    acme = await create_competitor(admin, "Acme")
    globex = await create_competitor(admin, "Globex")
    await record(admin, None, "40", period="2026-Q1")
    await record(admin, acme, "30", period="2026-Q1")
    await record(admin, acme, "32", period="2026-Q2")
    await record(admin, globex, "20", period="2026-Q3")
    await record(admin, acme, "33", period="2026-08")
    await record(admin, acme, "50", period="2025", segment="retail")
    await record(admin, acme, "25", segmentKind="REGION", segment="East China", period="2026-Q3")

    async def listed(filter: dict[str, Any] | None, order: Any = None) -> list[tuple[str, float]]:
        body = data(await admin.gql(LIST, {"filter": filter, "orderBy": order}))
        return [
            (e["node"]["period"], e["node"]["sharePercent"]) for e in body["marketShares"]["edges"]
        ]

    # Latest period first by default (ties: the latest recorded first).
    assert await listed(None) == [
        ("2026-08", 33.0),
        ("2026-Q3", 25.0),
        ("2026-Q3", 20.0),
        ("2026-Q2", 32.0),
        ("2026-Q1", 30.0),
        ("2026-Q1", 40.0),
        ("2025", 50.0),
    ]
    assert await listed({"segmentKind": "REGION"}) == [("2026-Q3", 25.0)]
    assert await listed({"segment": " RETAIL", "competitorId": acme}) == [
        ("2026-08", 33.0),
        ("2026-Q2", 32.0),
        ("2026-Q1", 30.0),
        ("2025", 50.0),
    ]
    assert await listed({"ours": True}) == [("2026-Q1", 40.0)]
    assert len(await listed({"ours": False})) == 6
    # from / to: periods starting from the first's start and before the second's end.
    assert await listed({"from": "2026-Q2", "to": "2026-Q3", "segmentKind": "INDUSTRY"}) == [
        ("2026-08", 33.0),
        ("2026-Q3", 20.0),
        ("2026-Q2", 32.0),
    ]
    assert await listed({"to": "2026-03"}) == [("2026-Q1", 30.0), ("2026-Q1", 40.0), ("2025", 50.0)]
    assert await listed(None, [{"field": "SHARE_PERCENT", "direction": "DESC"}]) == [
        ("2025", 50.0),
        ("2026-Q1", 40.0),
        ("2026-08", 33.0),
        ("2026-Q2", 32.0),
        ("2026-Q1", 30.0),
        ("2026-Q3", 25.0),
        ("2026-Q3", 20.0),
    ]
    for filter, argument in (
        ({"from": "2026-Q7"}, "filter.from"),
        ({"to": "soon"}, "filter.to"),
        ({"from": "2026-Q3", "to": "2026-Q2"}, "filter.to"),
        ({"competitorId": gid("User", 1)}, "filter.competitorId"),
    ):
        body = await admin.gql(LIST, {"filter": filter})
        assert body["data"] == {"marketShares": None}, filter
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["argument"] == argument

    segments = data(await admin.gql("{ marketSegments { kind segment periods } }"))
    assert segments["marketSegments"] == [
        {
            "kind": "INDUSTRY",
            "segment": "Retail",
            "periods": ["2025", "2026-Q1", "2026-Q2", "2026-Q3", "2026-08"],
        },
        {"kind": "REGION", "segment": "East China", "periods": ["2026-Q3"]},
    ]
    regions = data(await admin.gql("{ marketSegments(kind: REGION) { segment } }"))
    assert regions["marketSegments"] == [{"segment": "East China"}]


async def test_competitor_market_share_is_the_latest_per_segment_and_batched(
    admin: Api, count_statements: Any
) -> None:
    names = ["Acme", "Globex", "Initech", "Hooli", "Umbrella", "Stark"]
    ids = [await create_competitor(admin, name) for name in names]
    acme, globex = ids[0], ids[1]
    await record(admin, acme, "30", period="2026-Q2")
    await record(admin, acme, "31", period="2026-Q3")
    await record(admin, acme, "33", period="2026-07")  # starts with Q3: the shorter wins
    await record(admin, acme, "20", period="2026")
    await record(admin, acme, "10", segmentKind="REGION", segment="East", period="2026-Q1")
    await record(admin, globex, "15", period="2025-Q4")
    query = """query($ids: [ID!]!, $kind: SegmentKind, $segment: String) {
      nodes(ids: $ids) { ... on Competitor {
        marketShare(segmentKind: $kind, segment: $segment) {
          segmentKind segment period sharePercent }
      } } }"""

    async def shares(kind: str | None = None, segment: str | None = None) -> list[Any]:
        body = data(await admin.gql(query, {"ids": ids[:2], "kind": kind, "segment": segment}))
        return [
            [(s["segmentKind"], s["period"], s["sharePercent"]) for s in node["marketShare"]]
            for node in body["nodes"]
        ]

    assert await shares() == [
        [("INDUSTRY", "2026-07", 33.0), ("REGION", "2026-Q1", 10.0)],
        [("INDUSTRY", "2025-Q4", 15.0)],
    ]
    assert await shares("REGION") == [[("REGION", "2026-Q1", 10.0)], []]
    assert await shares(None, "RETAIL") == [
        [("INDUSTRY", "2026-07", 33.0)],
        [("INDUSTRY", "2025-Q4", 15.0)],
    ]

    counter: StatementCounter = count_statements(admin.db)
    few = """query($ids: [ID!]!) { nodes(ids: $ids) { ... on Competitor {
      marketShare { period } } } }"""
    data(await admin.gql(few, {"ids": ids[:2]}))
    two = counter.count
    counter.reset()
    data(await admin.gql(few, {"ids": ids}))
    assert counter.count == two


async def test_concurrent_writers_cannot_both_pass_the_hundred_percent_rule(admin: Api) -> None:
    competitors = [await create_competitor(admin, f"Rival {n}") for n in range(6)]
    await record(admin, None, "40")

    async def attempt(competitor: str) -> dict[str, Any]:
        return await mutate(
            admin, "recordMarketShare", share_input(competitor, "20"), "marketShare { id }"
        )

    results = await asyncio.gather(*(attempt(competitor) for competitor in competitors))
    passed = [result for result in results if not result["errors"]]
    assert len(passed) == 3
    assert {(error["field"], error["code"]) for r in results for error in r["errors"]} == {
        ("sharePercent", "BUSINESS_RULE")
    }
    async with admin.db.read() as session:
        total = await session.scalar(select(func.sum(models.MarketShare.share_percent)))
    assert total == 100
    # Two at once, each alone within 100% but not together: one passes.
    pair = [await create_competitor(admin, name) for name in ("Left", "Right")]

    async def half(competitor: str) -> dict[str, Any]:
        return await mutate(
            admin,
            "recordMarketShare",
            share_input(competitor, "60", period="2026-Q2"),
            "marketShare { id }",
        )

    results = await asyncio.gather(*(half(competitor) for competitor in pair))
    assert sorted(len(result["errors"]) for result in results) == [0, 1]
    assert db_id(pair[0]) != db_id(pair[1])

    # Two corrections at once, each moving an observation into one segment and period that
    # holds either alone but not both: one passes.
    movers = [
        await record(admin, competitor, "60", segment=f"Segment {n}")
        for n, competitor in enumerate(pair)
    ]

    async def move(share: dict[str, Any]) -> dict[str, Any]:
        return await mutate(
            admin,
            "updateMarketShare",
            {"id": share["id"], "version": 1, "segment": "Wholesale"},
            "marketShare { id }",
        )

    results = await asyncio.gather(*(move(share) for share in movers))
    assert sorted((e["field"], e["code"]) for r in results for e in r["errors"]) == [
        ("sharePercent", "BUSINESS_RULE")
    ]
    async with admin.db.read() as session:
        wholesale = await session.scalar(
            select(func.sum(models.MarketShare.share_percent)).where(
                models.MarketShare.segment_key == "wholesale"
            )
        )
    assert wholesale == 60
