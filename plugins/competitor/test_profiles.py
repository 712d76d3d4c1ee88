"""Competitor profiles through HTTP: creating and changing a profile (every refused input
names its field), names unique regardless of case (also under concurrent creates), SWOT
lists replaced whole with evidence that must be intel about the same competitor, sales
channels, campaigns, the ``competitors`` list (archived ones hidden unless asked for), who
may do what, the audit trail, and the nested fields batched (a page of 2 competitors costs
the statements a page of 6 does). Each test runs on SQLite and (with
``CRM_TEST_POSTGRES_URL``) on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from core.plugin_api import CUSTOMER_MANAGER, FINANCE, SALES_REPRESENTATIVE, Database
from plugins.competitor.models import Intel, SwotEvidence
from plugins.competitor.testing_profiles import audit_trail, pairs
from schema.testkit import Api, StatementCounter
from schema.testkit_graphql import (
    data,
    db_id,
    error_code,
    gid,
    mutate,
    mutate_ok,
    mutate_refused,
    not_found_argument,
)

SWOT = "id kind text"
COMPETITOR = f"""competitor {{ id name website country sizeBand description positioning status
  threatLevel version strengths {{ {SWOT} }} weaknesses {{ {SWOT} }}
  opportunities {{ {SWOT} }} threats {{ {SWOT} }} createdBy {{ name }} }}"""
CAMPAIGN = "competitorCampaign { id name startedOn endedOn channels notes competitor { name } }"
LIST = """query($filter: CompetitorFilter, $orderBy: [CompetitorOrder!], $first: Int,
  $after: String, $last: Int, $before: String) {
  competitors(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last,
    before: $before) { totalCount edges { node { name } } pageInfo {
    hasNextPage hasPreviousPage startCursor endCursor } } }"""


async def create(api: Api, name: str, **values: Any) -> dict[str, Any]:
    payload = await mutate_ok(api, "createCompetitor", {"name": name, **values}, COMPETITOR)
    competitor: dict[str, Any] = payload["competitor"]
    return competitor


async def add_intel(api: Api, competitor_id: str, summary: str) -> str:
    """An intel entry about the competitor (its global id), written straight to the table:
    the intel log's own API is tested with it."""
    async with api.db.transaction() as session:
        row = Intel(
            competitor_id=db_id(competitor_id),
            kind="OTHER",
            summary=summary,
            confidence="HIGH",
            occurred_on=dt.date(2026, 11, 1),
        )
        session.add(row)
        await session.flush()
        return gid("IntelEntry", row.id)


async def test_create_competitor_keeps_every_field_and_is_audited(admin: Api) -> None:
    created = await create(
        admin,
        "  华信软件 ",
        website="huaxin.example.cn",
        country="中国",
        sizeBand="LARGE",
        description="ERP for mid-sized manufacturers",
        positioning=" Cheaper, local support ",
        status="WATCHING",
        threatLevel="HIGH",
        strengths=[{"text": " Price "}, {"text": "Local partners"}],
        threats=[{"text": "Bundles hardware"}],
    )
    strengths = created.pop("strengths")
    threats = created.pop("threats")
    assert created == {
        "id": created["id"],
        "name": "华信软件",
        "website": "https://huaxin.example.cn",
        "country": "CN",
        "sizeBand": "LARGE",
        "description": "ERP for mid-sized manufacturers",
        "positioning": "Cheaper, local support",
        "status": "WATCHING",
        "threatLevel": "HIGH",
        "version": 1,
        "weaknesses": [],
        "opportunities": [],
        "createdBy": {"name": "Admin"},
    }
    assert [(s["kind"], s["text"]) for s in strengths] == [
        ("STRENGTH", "Price"),
        ("STRENGTH", "Local partners"),
    ]
    assert [(t["kind"], t["text"]) for t in threats] == [("THREAT", "Bundles hardware")]
    plain = await create(admin, "Acme")
    assert (plain["status"], plain["threatLevel"], plain["website"], plain["sizeBand"]) == (
        "ACTIVE",
        "MEDIUM",
        None,
        None,
    )
    ((action, entity, entity_id, changes), _plain) = await audit_trail(admin, "competitor.created")
    assert (action, entity, entity_id) == (
        "competitor.created",
        "Competitor",
        str(db_id(created["id"])),
    )
    assert changes == {
        "name": {"before": None, "after": "华信软件"},
        "website": {"before": None, "after": "https://huaxin.example.cn"},
        "country": {"before": None, "after": "CN"},
        "sizeBand": {"before": None, "after": "LARGE"},
        "description": {"before": None, "after": "ERP for mid-sized manufacturers"},
        "positioning": {"before": None, "after": "Cheaper, local support"},
        "status": {"before": None, "after": "WATCHING"},
        "threatLevel": {"before": None, "after": "HIGH"},
        "strengths": {
            "before": None,
            "after": [
                {"text": "Price", "evidenceIds": []},
                {"text": "Local partners", "evidenceIds": []},
            ],
        },
        "weaknesses": {"before": None, "after": []},
        "opportunities": {"before": None, "after": []},
        "threats": {"before": None, "after": [{"text": "Bundles hardware", "evidenceIds": []}]},
    }
    by_node = data(
        await admin.gql(
            "query($id: ID!) { node(id: $id) { ... on CompetitorSwotItem { text kind } } }",
            {"id": strengths[1]["id"]},
        )
    )
    assert by_node["node"] == {"text": "Local partners", "kind": "STRENGTH"}


async def test_refused_profile_inputs_name_their_field(admin: Api) -> None:
    taken = await create(admin, "Acme Corp")
    other = await create(admin, "Beta")
    intel_id = await add_intel(admin, other["id"], "Beta cut prices")
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({"name": " ACME CORP "}, [("name", "DUPLICATE")]),
        ({"name": "acme corp"}, [("name", "DUPLICATE")]),
        ({"name": "  "}, [("name", "REQUIRED")]),
        ({"name": "x" * 121}, [("name", "TOO_LONG")]),
        ({"name": "ß" * 61}, [("name", "TOO_LONG")]),
        ({"website": "not a url"}, [("website", "INVALID")]),
        ({"website": "ftp://files.example.com"}, [("website", "INVALID")]),
        ({"country": "Atlantis"}, [("country", "INVALID")]),
        ({"description": "d" * 5001}, [("description", "TOO_LONG")]),
        ({"positioning": "p" * 5001}, [("positioning", "TOO_LONG")]),
        ({"strengths": [{"text": "ok"}, {"text": " "}]}, [("strengths.1.text", "REQUIRED")]),
        ({"weaknesses": [{"text": "w" * 501}]}, [("weaknesses.0.text", "TOO_LONG")]),
        ({"opportunities": [{"text": "o"}] * 21}, [("opportunities", "OUT_OF_RANGE")]),
        (
            {"threats": [{"text": "t", "evidenceIds": [intel_id] * 11}]},
            [("threats.0.evidenceIds", "OUT_OF_RANGE")],
        ),
        (
            {"strengths": [{"text": "s", "evidenceIds": [gid("Customer", 1)]}]},
            [("strengths.0.evidenceIds.0", "INVALID")],
        ),
        # A new competitor has no intel yet: another's entry is no evidence of it.
        (
            {"strengths": [{"text": "s", "evidenceIds": [intel_id]}]},
            [("strengths.0.evidenceIds.0", "INVALID")],
        ),
        (
            {"name": "", "website": "bad url", "threats": [{"text": ""}]},
            [("name", "REQUIRED"), ("website", "INVALID"), ("threats.0.text", "REQUIRED")],
        ),
    ]
    for values, expected in cases:
        errors = await mutate_refused(
            admin, "createCompetitor", {"name": "New one", **values}, COMPETITOR
        )
        assert pairs(errors) == expected, values
    duplicate = await mutate_refused(admin, "createCompetitor", {"name": "ACME CORP"}, COMPETITOR)
    assert duplicate[0]["message"] == (
        "another competitor is named Acme Corp (names are compared regardless of case)"
    )
    listed = data(await admin.gql("{ competitors { totalCount } }"))
    assert listed["competitors"]["totalCount"] == 2
    assert taken["name"] == "Acme Corp"


async def test_update_changes_given_fields_replaces_swot_and_checks_version(admin: Api) -> None:
    acme = await create(admin, "Acme", website="acme.example.com", strengths=[{"text": "Old"}])
    beta = await create(admin, "Beta")
    ours = [await add_intel(admin, acme["id"], f"Acme news {n}") for n in range(2)]
    theirs = await add_intel(admin, beta["id"], "Beta news")
    base = {"id": acme["id"], "version": 1}
    payload = await mutate_ok(
        admin,
        "updateCompetitor",
        base
        | {
            "name": "ACME Group",
            "website": None,
            "threatLevel": "CRITICAL",
            "strengths": [
                {"text": "Brand", "evidenceIds": [ours[1], ours[0], ours[1]]},
                {"text": "Reach"},
            ],
            "weaknesses": [{"text": "Slow support", "evidenceIds": [ours[0]]}],
        },
        COMPETITOR,
    )
    updated = payload["competitor"]
    assert (updated["name"], updated["website"], updated["threatLevel"], updated["version"]) == (
        "ACME Group",
        None,
        "CRITICAL",
        2,
    )
    assert [s["text"] for s in updated["strengths"]] == ["Brand", "Reach"]
    assert [w["text"] for w in updated["weaknesses"]] == ["Slow support"]
    async with admin.db.read() as session:
        cited = (
            await session.execute(
                select(SwotEvidence.item_id, SwotEvidence.intel_id).order_by(
                    SwotEvidence.item_id, SwotEvidence.intel_id
                )
            )
        ).all()
    brand, weak = db_id(updated["strengths"][0]["id"]), db_id(updated["weaknesses"][0]["id"])
    assert [tuple(row) for row in cited] == sorted(
        [(brand, db_id(ours[0])), (brand, db_id(ours[1])), (weak, db_id(ours[0]))]
    )
    trail = await audit_trail(admin, "competitor.updated")
    assert trail[:1] == [
        (
            "competitor.updated",
            "Competitor",
            str(db_id(acme["id"])),
            {
                "name": {"before": "Acme", "after": "ACME Group"},
                "website": {"before": "https://acme.example.com", "after": None},
                "threatLevel": {"before": "MEDIUM", "after": "CRITICAL"},
                "strengths": {
                    "before": [{"text": "Old", "evidenceIds": []}],
                    "after": [
                        {"text": "Brand", "evidenceIds": sorted(db_id(i) for i in ours)},
                        {"text": "Reach", "evidenceIds": []},
                    ],
                },
                "weaknesses": {
                    "before": [],
                    "after": [{"text": "Slow support", "evidenceIds": [db_id(ours[0])]}],
                },
            },
        )
    ]
    # The same name in another case is the competitor's own; nothing else changes.
    same = await mutate_ok(
        admin,
        "updateCompetitor",
        {"id": acme["id"], "version": 2, "name": "acme group"},
        COMPETITOR,
    )
    assert (same["competitor"]["name"], same["competitor"]["version"]) == ("acme group", 3)
    # Lists given as they are (evidence in any order) are kept, their items' ids too.
    unchanged = await mutate_ok(
        admin,
        "updateCompetitor",
        {
            "id": acme["id"],
            "version": 3,
            "threatLevel": "CRITICAL",
            "strengths": [{"text": "Brand", "evidenceIds": ours}, {"text": "Reach"}],
        },
        COMPETITOR,
    )
    assert unchanged["competitor"]["version"] == 3
    assert unchanged["competitor"]["strengths"] == updated["strengths"]
    stale = await mutate(admin, "updateCompetitor", base | {"name": "Again"}, COMPETITOR)
    assert pairs(stale["errors"]) == [("version", "CONFLICT")]
    assert stale["competitor"]["name"] == "acme group"
    fresh = {"id": acme["id"], "version": 3}
    everyone = range(1, 32_770)
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({"name": "BETA"}, [("name", "DUPLICATE")]),
        ({"status": None}, [("status", "REQUIRED")]),
        ({"threatLevel": None}, [("threatLevel", "REQUIRED")]),
        ({"country": "Narnia"}, [("country", "INVALID")]),
        (
            {"strengths": [{"text": "Brand", "evidenceIds": [ours[0], theirs]}]},
            [("strengths.0.evidenceIds.1", "INVALID")],
        ),
        (
            {"threats": [{"text": "a"}, {"text": "b", "evidenceIds": [gid("IntelEntry", 99999)]}]},
            [("threats.1.evidenceIds.0", "INVALID")],
        ),
        # Refused by their number, never looked up: more ids than one statement may bind
        # (PostgreSQL takes 32,767 parameters).
        (
            {"strengths": [{"text": "s", "evidenceIds": [gid("IntelEntry", n) for n in everyone]}]},
            [("strengths.0.evidenceIds", "OUT_OF_RANGE")],
        ),
    ]
    for values, expected in cases:
        errors = await mutate_refused(admin, "updateCompetitor", fresh | values, COMPETITOR)
        assert pairs(errors) == expected, values
    message = (await mutate_refused(admin, "updateCompetitor", fresh | cases[4][0], COMPETITOR))[0]
    assert message["message"] == "is not an intel entry about this competitor"
    # null (or []) empties a list; lists left out stay.
    cleared = await mutate_ok(
        admin, "updateCompetitor", fresh | {"strengths": None, "status": "ARCHIVED"}, COMPETITOR
    )
    assert cleared["competitor"]["strengths"] == []
    assert [w["text"] for w in cleared["competitor"]["weaknesses"]] == ["Slow support"]
    assert cleared["competitor"]["status"] == "ARCHIVED"
    # Other evidence for the same text is a change.
    recited = await mutate_ok(
        admin,
        "updateCompetitor",
        {
            "id": acme["id"],
            "version": 4,
            "weaknesses": [{"text": "Slow support", "evidenceIds": [ours[1]]}],
        },
        COMPETITOR,
    )
    assert recited["competitor"]["version"] == 5
    *_earlier, (_action, _entity, _id, last) = await audit_trail(admin, "competitor.updated")
    assert last == {
        "weaknesses": {
            "before": [{"text": "Slow support", "evidenceIds": [db_id(ours[0])]}],
            "after": [{"text": "Slow support", "evidenceIds": [db_id(ours[1])]}],
        }
    }
    missing = {"id": gid("Competitor", 99999), "version": 1}
    assert await not_found_argument(admin, "updateCompetitor", missing, "competitor { id }") == (
        "input.id"
    )
    wrong = await mutate_refused(
        admin, "updateCompetitor", {"id": gid("Customer", 1), "version": 1}, COMPETITOR
    )
    assert pairs(wrong) == [("id", "INVALID")]


async def test_competitors_list_filters_sorts_and_pages(admin: Api) -> None:
    await create(admin, "delta", threatLevel="LOW", website="delta.example.com")
    await create(admin, "Alpha", threatLevel="CRITICAL")
    await create(admin, "charlie", threatLevel="HIGH", status="WATCHING")
    gone = await create(admin, "Bravo", threatLevel="HIGH")
    await mutate_ok(
        admin,
        "updateCompetitor",
        {"id": gone["id"], "version": 1, "status": "ARCHIVED"},
        COMPETITOR,
    )
    await create(admin, "Echo 100%", threatLevel="MEDIUM")
    assert await admin.walk(LIST, ["competitors"], "name") == [
        "Alpha",
        "charlie",
        "delta",
        "Echo 100%",
    ]
    by_threat = [{"field": "THREAT_LEVEL", "direction": "DESC"}, {"field": "NAME"}]
    assert await admin.walk(LIST, ["competitors"], "name", {"orderBy": by_threat}) == [
        "Alpha",
        "charlie",
        "Echo 100%",
        "delta",
    ]
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"status": ["ARCHIVED"]}, ["Bravo"]),
        ({"status": ["ACTIVE", "ARCHIVED"]}, ["Alpha", "Bravo", "delta", "Echo 100%"]),
        ({"status": ["WATCHING"]}, ["charlie"]),
        ({"status": []}, ["Alpha", "charlie", "delta", "Echo 100%"]),
        ({"threatLevel": ["HIGH"]}, ["charlie"]),
        ({"threatLevel": ["HIGH"], "status": ["ARCHIVED", "WATCHING"]}, ["Bravo", "charlie"]),
        ({"search": "ALP"}, ["Alpha"]),
        ({"search": "delta.example"}, ["delta"]),
        ({"search": "%"}, ["Echo 100%"]),
        ({"search": "bravo"}, []),
    ]
    for filter, names in cases:
        assert await admin.walk(LIST, ["competitors"], "name", {"filter": filter}) == names, filter
    one = "query($id: ID!) { competitor(id: $id) { name status } }"
    assert data(await admin.gql(one, {"id": gone["id"]}))["competitor"] == {
        "name": "Bravo",
        "status": "ARCHIVED",
    }
    assert data(await admin.gql(one, {"id": gid("Competitor", 99999)}))["competitor"] is None
    wrong = await admin.gql(one, {"id": gid("Customer", 1)})
    assert error_code(wrong) == "BAD_USER_INPUT"
    assert wrong["errors"][0]["extensions"]["argument"] == "id"
    long = await admin.gql(LIST, {"filter": {"search": "x" * 201}})
    assert error_code(long) == "BAD_USER_INPUT"
    twice = await admin.gql(LIST, {"orderBy": [{"field": "NAME"}, {"field": "NAME"}]})
    assert error_code(twice) == "BAD_USER_INPUT"
    # A name is searched by its case-folded key: the same on both databases (SQLite's lower()
    # knows ASCII only), and ß is ss.
    await create(admin, "Élan Straße")
    for text in ("élan", "ÉLAN", "strasse", "STRASSE", "straße"):
        found = await admin.walk(LIST, ["competitors"], "name", {"filter": {"search": text}})
        assert found == ["Élan Straße"], text


async def test_channels_are_replaced_whole(admin: Api) -> None:
    acme = await create(admin, "Acme")
    selection = "competitor { version channels { channel notes } }"
    input = {
        "competitorId": acme["id"],
        "channels": [
            {"channel": "ONLINE", "notes": " Tmall store "},
            {"channel": "DIRECT"},
            {"channel": "PARTNER", "notes": "Regional resellers"},
        ],
    }
    payload = await mutate_ok(admin, "setCompetitorChannels", input, selection)
    assert payload["competitor"] == {
        "version": 1,
        "channels": [
            {"channel": "DIRECT", "notes": None},
            {"channel": "PARTNER", "notes": "Regional resellers"},
            {"channel": "ONLINE", "notes": "Tmall store"},
        ],
    }
    again = await mutate_ok(
        admin,
        "setCompetitorChannels",
        {"competitorId": acme["id"], "channels": [{"channel": "RETAIL", "notes": "Malls"}]},
        selection,
    )
    assert again["competitor"]["channels"] == [{"channel": "RETAIL", "notes": "Malls"}]
    cases: list[tuple[list[dict[str, Any]], list[tuple[str, str]]]] = [
        (
            [{"channel": "ONLINE"}, {"channel": "DIRECT"}, {"channel": "ONLINE"}],
            [("channels.2.channel", "DUPLICATE")],
        ),
        ([{"channel": "OTHER", "notes": "n" * 1001}], [("channels.0.notes", "TOO_LONG")]),
    ]
    for channels, expected in cases:
        errors = await mutate_refused(
            admin,
            "setCompetitorChannels",
            {"competitorId": acme["id"], "channels": channels},
            selection,
        )
        assert pairs(errors) == expected, channels
    none = await mutate_ok(
        admin, "setCompetitorChannels", {"competitorId": acme["id"], "channels": []}, selection
    )
    assert none["competitor"]["channels"] == []
    missing = {"competitorId": gid("Competitor", 99999), "channels": []}
    argument = await not_found_argument(admin, "setCompetitorChannels", missing, selection)
    assert argument == "input.competitorId"
    trail = await audit_trail(admin, "competitor.channels")
    assert [changes for _a, _e, _i, changes in trail] == [
        {
            "channels": {
                "before": [],
                "after": [
                    {"channel": "DIRECT", "notes": None},
                    {"channel": "PARTNER", "notes": "Regional resellers"},
                    {"channel": "ONLINE", "notes": "Tmall store"},
                ],
            }
        },
        {
            "channels": {
                "before": [
                    {"channel": "DIRECT", "notes": None},
                    {"channel": "PARTNER", "notes": "Regional resellers"},
                    {"channel": "ONLINE", "notes": "Tmall store"},
                ],
                "after": [{"channel": "RETAIL", "notes": "Malls"}],
            }
        },
        {"channels": {"before": [{"channel": "RETAIL", "notes": "Malls"}], "after": []}},
    ]


async def test_campaigns_are_added_changed_and_removed(admin: Api) -> None:
    acme = await create(admin, "Acme")
    added = await mutate_ok(
        admin,
        "addCompetitorCampaign",
        {
            "competitorId": acme["id"],
            "name": " Double 11 ",
            "startedOn": "2026-11-01",
            "endedOn": "2026-11-11",
            "channels": [" WeChat ", "Tmall", "wechat", "Trade fair"],
            "notes": "30% off",
        },
        CAMPAIGN,
    )
    campaign = added["competitorCampaign"]
    assert campaign == {
        "id": campaign["id"],
        "name": "Double 11",
        "startedOn": "2026-11-01",
        "endedOn": "2026-11-11",
        "channels": ["WeChat", "Tmall", "Trade fair"],
        "notes": "30% off",
        "competitor": {"name": "Acme"},
    }
    older = await mutate_ok(
        admin,
        "addCompetitorCampaign",
        {"competitorId": acme["id"], "name": "Spring fair", "startedOn": "2026-03-01"},
        CAMPAIGN,
    )
    await mutate_ok(
        admin, "addCompetitorCampaign", {"competitorId": acme["id"], "name": "Undated"}, CAMPAIGN
    )
    listed = "query($id: ID!) { competitor(id: $id) { campaigns { name } } }"
    names = data(await admin.gql(listed, {"id": acme["id"]}))["competitor"]["campaigns"]
    assert [c["name"] for c in names] == ["Double 11", "Spring fair", "Undated"]
    changed = await mutate_ok(
        admin,
        "updateCompetitorCampaign",
        {"id": campaign["id"], "endedOn": None, "channels": None, "notes": "extended"},
        CAMPAIGN,
    )
    assert {k: changed["competitorCampaign"][k] for k in ("endedOn", "channels", "notes")} == {
        "endedOn": None,
        "channels": [],
        "notes": "extended",
    }
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({"name": " "}, [("name", "REQUIRED")]),
        ({"name": "n" * 201}, [("name", "TOO_LONG")]),
        ({"startedOn": "2026-12-01", "endedOn": "2026-11-30"}, [("endedOn", "OUT_OF_RANGE")]),
        ({"channels": ["a"] * 21}, [("channels", "OUT_OF_RANGE")]),
        ({"channels": ["ok", "  "]}, [("channels.1", "REQUIRED")]),
        ({"channels": ["c" * 61]}, [("channels.0", "TOO_LONG")]),
        ({"notes": "n" * 5001}, [("notes", "TOO_LONG")]),
    ]
    for values, expected in cases:
        errors = await mutate_refused(
            admin,
            "addCompetitorCampaign",
            {"competitorId": acme["id"], "name": "Campaign", **values},
            CAMPAIGN,
        )
        assert pairs(errors) == expected, values
    # An update is checked against the dates it keeps.
    early = await mutate_refused(
        admin,
        "updateCompetitorCampaign",
        {"id": older["competitorCampaign"]["id"], "endedOn": "2026-02-28"},
        CAMPAIGN,
    )
    assert pairs(early) == [("endedOn", "OUT_OF_RANGE")]
    removed = await mutate_ok(
        admin, "removeCompetitorCampaign", {"id": campaign["id"]}, "removedId"
    )
    assert removed["removedId"] == campaign["id"]
    for name in ("updateCompetitorCampaign", "removeCompetitorCampaign"):
        argument = await not_found_argument(admin, name, {"id": campaign["id"]}, "__typename")
        assert argument == "input.id"
    missing = {"competitorId": gid("Competitor", 99999), "name": "x"}
    assert await not_found_argument(admin, "addCompetitorCampaign", missing, CAMPAIGN) == (
        "input.competitorId"
    )
    trail = await audit_trail(admin, "competitor.campaign")
    assert [(action, entity) for action, entity, _i, _c in trail] == [
        ("competitor.campaign.added", "CompetitorCampaign"),
        ("competitor.campaign.added", "CompetitorCampaign"),
        ("competitor.campaign.added", "CompetitorCampaign"),
        ("competitor.campaign.updated", "CompetitorCampaign"),
        ("competitor.campaign.removed", "CompetitorCampaign"),
    ]
    assert trail[3][3] == {
        "endedOn": {"before": "2026-11-11", "after": None},
        "channels": {"before": ["WeChat", "Tmall", "Trade fair"], "after": []},
        "notes": {"before": "30% off", "after": "extended"},
    }
    assert trail[4][2] == str(db_id(campaign["id"]))


async def test_who_may_read_and_manage_profiles(api: Api, admin: Api) -> None:
    acme = await create(admin, "Acme", strengths=[{"text": "Brand"}])
    rep = await api.as_role(SALES_REPRESENTATIVE)
    manager = await api.as_role(CUSTOMER_MANAGER)
    finance = await api.as_role(FINANCE)
    read = "{ competitors { edges { node { name strengths { text } } } } }"
    assert data(await rep.gql(read))["competitors"]["edges"] == [
        {"node": {"name": "Acme", "strengths": [{"text": "Brand"}]}}
    ]
    body = await rep.gql(
        "mutation($input: CreateCompetitorInput!) { createCompetitor(input: $input) { "
        "errors { field } } }",
        {"input": {"name": "Beta"}},
    )
    assert error_code(body) == "FORBIDDEN"
    for name, input in (
        ("updateCompetitor", {"id": acme["id"], "version": 1, "name": "X"}),
        ("setCompetitorChannels", {"competitorId": acme["id"], "channels": []}),
        ("addCompetitorCampaign", {"competitorId": acme["id"], "name": "X"}),
    ):
        input_type = name[0].upper() + name[1:] + "Input"
        refused = await rep.gql(
            f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename }} }}",
            {"input": input},
        )
        assert error_code(refused) == "FORBIDDEN", name
    await create(manager, "Beta")
    assert error_code(await finance.gql("{ competitors { totalCount } }")) == "FORBIDDEN"
    node = "query($id: ID!) { node(id: $id) { ... on Competitor { name } } }"
    assert data(await finance.gql(node, {"id": acme["id"]}))["node"] is None
    assert data(await rep.gql(node, {"id": acme["id"]}))["node"] == {"name": "Acme"}
    assert error_code(await api.gql("{ competitors { totalCount } }")) == "UNAUTHENTICATED"


async def test_concurrent_creates_of_one_name_make_one_competitor(admin: Api) -> None:
    names = ["Race", "RACE", "race", " Race ", "rAcE"]
    payloads = await asyncio.gather(
        *(mutate(admin, "createCompetitor", {"name": name}, "competitor { id }") for name in names)
    )
    made = [p for p in payloads if not p["errors"]]
    assert len(made) == 1
    assert (
        sorted(pairs(p["errors"]) for p in payloads if p["errors"]) == [[("name", "DUPLICATE")]] * 4
    )
    assert data(await admin.gql("{ competitors { totalCount } }"))["competitors"]["totalCount"] == 1


NESTED = """query($first: Int) { competitors(first: $first) { edges { node { name
  strengths { text } weaknesses { text } opportunities { text } threats { text }
  channels { channel } campaigns { name competitor { name } }
  products { name ourProduct { name } latestPrice { price { amount } } competitor { name } }
  createdBy { name } } } } }"""


async def test_nested_profile_fields_cost_the_same_for_2_and_6_competitors(
    admin: Api, count_statements: Callable[[Database], StatementCounter]
) -> None:
    sku = await mutate_ok(
        admin,
        "createProduct",
        {"sku": "W-1", "name": "Widget", "listPrice": "10.00"},
        "product { id }",
    )
    for n in range(6):
        competitor = await create(
            admin, f"Competitor {n}", strengths=[{"text": "s"}], threats=[{"text": "t"}]
        )
        await mutate_ok(
            admin,
            "setCompetitorChannels",
            {"competitorId": competitor["id"], "channels": [{"channel": "DIRECT"}]},
            "competitor { id }",
        )
        await mutate_ok(
            admin,
            "addCompetitorCampaign",
            {"competitorId": competitor["id"], "name": f"Campaign {n}"},
            "competitorCampaign { id }",
        )
        product = await mutate_ok(
            admin,
            "createCompetitorProduct",
            {
                "competitorId": competitor["id"],
                "name": f"Product {n}",
                "ourProductId": sku["product"]["id"],
            },
            "competitorProduct { id }",
        )
        await mutate_ok(
            admin,
            "recordCompetitorPrice",
            {"productId": product["competitorProduct"]["id"], "amount": "9.50", "currency": "CNY"},
            "competitorPrice { id }",
        )
    counter = count_statements(admin.db)

    async def cost(first: int) -> int:
        counter.reset()
        edges = data(await admin.gql(NESTED, {"first": first}))["competitors"]["edges"]
        assert len(edges) == first
        assert all(
            e["node"]["products"][0]["ourProduct"] == {"name": "Widget"}
            and e["node"]["products"][0]["latestPrice"] == {"price": {"amount": "9.50"}}
            for e in edges
        )
        return counter.count

    await cost(1)
    assert await cost(2) == await cost(6), counter.statements
