"""surveyStats on a fixed data set written straight into the database: every figure is
checked against numbers worked out by hand in the comments."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.plugin_api import Database, Settings
from plugins.surveys.service.periods import mean_of, month_buckets, nps_score, share, week_buckets
from plugins.surveys.testing import DIMENSIONS, NOV, Seed, at, customer
from schema.testkit import Api, StatementCounter
from schema.testkit_graphql import data, error_code, gid

STATS = """
query($filter: SurveyStatsFilter!, $groupBy: [SurveyGroupBy!]) {
  surveyStats(filter: $filter, groupBy: $groupBy) {
    total { ...figures }
    groups { key { by value label } ...figures }
  }
}
fragment figures on SurveyStatsGroup {
  invitations answered responseRate responses csat
  dimensions { dimension mean count csat }
  nps { score promoters passives detractors responses }
}
"""


async def stats(
    api: Api, seed: Seed, group_by: Sequence[str] = (), period: dict[str, str] = NOV
) -> dict[str, Any]:
    body = await api.gql(
        STATS,
        {
            "filter": {"templateId": seed.template_gid, "period": period},
            "groupBy": list(group_by),
        },
    )
    found: dict[str, Any] = data(body)["surveyStats"]
    return found


def short(group: dict[str, Any]) -> tuple[Any, ...]:
    return (
        [k["label"] for k in group.get("key", [])],
        group["invitations"],
        group["answered"],
        group["responseRate"],
        group["responses"],
        group["csat"],
    )


@dataclass
class World:
    seed: Seed
    alice: Api
    bob_id: int
    gold: int
    standard: int


@pytest.fixture
async def world(admin: Api) -> World:
    """The fixed data set (November 2026, template CSAT_SERVICE):

    ratings are RESPONSE_SPEED, RESOLUTION, ATTITUDE, PROFESSIONALISM.

    | # | customer | handler | type    | sent  | status   | submitted | ratings    |
    |---|----------|---------|---------|-------|----------|-----------|------------|
    | 1 | gold     | alice   | FAULT   | 11-02 | ANSWERED | 11-03     | 5, 4, 5, 4 |
    | 2 | gold     | alice   | FAULT   | 11-05 | ANSWERED | 11-06     | 2, 1, 3, 2 |
    | 3 | standard | bob     | BILLING | 11-10 | ANSWERED | 11-11     | 4, 5, 4, 5 |
    | 4 | standard | bob     | BILLING | 11-12 | SENT     |           |            |
    | 5 | gold     | bob     | FAULT   |       | SKIPPED  |           |            |
    | 6 | standard | alice   | BILLING | 10-28 | ANSWERED | 11-02     | 3, 3, 4, 3 |
    | 7 | gold     | alice   | FAULT   | 11-20 | ANSWERED | 12-02     | 1, 1, 1, 1 |

    Invitations sent in November: 1, 2, 3, 4, 7 = 5 (5 is skipped, 6 sent in October);
    answered of those: 1, 2, 3, 7 = 4, rate 0.8. Responses submitted in November: 1, 2, 3, 6
    = 4 (7 came in December). Ratings of those: 16, of which 4 or 5: 4 + 0 + 4 + 1 = 9, CSAT
    9/16 = 0.5625.
    """
    seed = await Seed.of(admin)
    alice = await admin.user("alice.agent@example.com", ["SUPPORT_REPRESENTATIVE"])
    bob = await admin.user("bob.agent@example.com", ["SUPPORT_REPRESENTATIVE"])
    assert alice.user_id is not None
    assert bob.user_id is not None
    gold = await customer(admin, "Gold Ltd", stage="ACTIVE", grade="GOLD", kind="COMPANY")
    standard = await customer(admin, "Jane Doe", stage="NEW", grade="STANDARD", kind="PERSON")
    a, b = alice.user_id, bob.user_id
    await seed.add(
        gold,
        sent="2026-11-02T10:00",
        handler_id=a,
        ticket_type="FAULT",
        submitted="2026-11-03T10:00",
        ratings=(5, 4, 5, 4),
    )
    await seed.add(
        gold,
        sent="2026-11-05T10:00",
        handler_id=a,
        ticket_type="FAULT",
        submitted="2026-11-06T10:00",
        ratings=(2, 1, 3, 2),
        low=True,
    )
    await seed.add(
        standard,
        sent="2026-11-10T10:00",
        handler_id=b,
        ticket_type="BILLING",
        submitted="2026-11-11T10:00",
        ratings=(4, 5, 4, 5),
    )
    await seed.add(standard, sent="2026-11-12T10:00", handler_id=b, ticket_type="BILLING")
    await seed.add(gold, status="SKIPPED", handler_id=b, ticket_type="FAULT")
    await seed.add(
        standard,
        sent="2026-10-28T10:00",
        handler_id=a,
        ticket_type="BILLING",
        submitted="2026-11-02T10:00",
        ratings=(3, 3, 4, 3),
    )
    await seed.add(
        gold,
        sent="2026-11-20T10:00",
        handler_id=a,
        ticket_type="FAULT",
        submitted="2026-12-02T10:00",
        ratings=(1, 1, 1, 1),
        low=True,
    )
    return World(seed, alice, b, gold, standard)


async def test_totals_csat_means_and_response_rate(admin: Api, world: World) -> None:
    found = await stats(admin, world.seed)
    assert found["groups"] == []
    total = found["total"]
    assert short(total) == ([], 5, 4, 0.8, 4, 0.5625)
    # Means per dimension over responses 1, 2, 3, 6:
    # RESPONSE_SPEED 5+2+4+3 = 14/4 = 3.5, CSAT 2/4; RESOLUTION 4+1+5+3 = 13/4 = 3.25, 2/4;
    # ATTITUDE 5+3+4+4 = 16/4 = 4.0, 3/4; PROFESSIONALISM 4+2+5+3 = 14/4 = 3.5, 2/4.
    assert total["dimensions"] == [
        {"dimension": "ATTITUDE", "mean": 4.0, "count": 4, "csat": 0.75},
        {"dimension": "PROFESSIONALISM", "mean": 3.5, "count": 4, "csat": 0.5},
        {"dimension": "RESOLUTION", "mean": 3.25, "count": 4, "csat": 0.5},
        {"dimension": "RESPONSE_SPEED", "mean": 3.5, "count": 4, "csat": 0.5},
    ]
    # No NPS question in this template.
    assert total["nps"] == {
        "score": None,
        "promoters": 0,
        "passives": 0,
        "detractors": 0,
        "responses": 0,
    }


async def test_grouped_by_handler(admin: Api, world: World) -> None:
    found = await stats(admin, world.seed, ["HANDLER"])
    # Alice: invitations 1, 2, 7 (3, all answered: rate 1.0); responses 1, 2, 6; ratings
    # 4 + 0 + 1 = 5 of 12 good: 0.4167. Bob: invitations 3, 4 (2, one answered: 0.5);
    # response 3: 4 of 4 good. By name: Alice first.
    assert [short(group) for group in found["groups"]] == [
        (["Alice Agent"], 3, 3, 1.0, 3, 0.4167),
        (["Bob Agent"], 2, 1, 0.5, 1, 1.0),
    ]
    assert found["groups"][0]["key"][0]["value"] == gid("User", world.alice.user_id)
    assert short(found["total"]) == ([], 5, 4, 0.8, 4, 0.5625)


async def test_statements_do_not_grow_with_groups(
    admin: Api, world: World, count_statements: Callable[[Database], StatementCounter]
) -> None:
    counter = count_statements(admin.db)
    await stats(admin, world.seed, ["HANDLER", "CUSTOMER_GRADE", "DIMENSION"])
    few = counter.count
    for index in range(5):
        agent = await admin.user(f"agent{index}@example.com", ["SUPPORT_REPRESENTATIVE"])
        await world.seed.add(
            world.gold,
            sent="2026-11-02T10:00",
            handler_id=agent.user_id,
            ticket_type=f"TYPE{index}",
            submitted="2026-11-03T10:00",
            ratings=(index % 5 + 1,) * 4,
        )
    counter.reset()
    found = await stats(admin, world.seed, ["HANDLER", "CUSTOMER_GRADE", "DIMENSION"])
    # (Alice, GOLD), (Alice, STANDARD), (Bob, STANDARD), then the five new agents' (GOLD),
    # each in four dimensions.
    assert len(found["groups"]) == (3 + 5) * 4
    assert counter.count == few


async def test_grouped_by_ticket_type_and_customer(admin: Api, world: World) -> None:
    found = await stats(admin, world.seed, ["TICKET_TYPE"])
    # BILLING: invitations 3, 4 (one answered); responses 3, 6: good 4 + 1 of 8 = 0.625.
    # FAULT: invitations 1, 2, 7 (all answered); responses 1, 2: good 4 + 0 of 8 = 0.5.
    assert [short(group) for group in found["groups"]] == [
        (["BILLING"], 2, 1, 0.5, 2, 0.625),
        (["FAULT"], 3, 3, 1.0, 2, 0.5),
    ]
    found = await stats(admin, world.seed, ["CUSTOMER_STAGE", "CUSTOMER_KIND"])
    # Gold Ltd (ACTIVE, COMPANY): invitations 1, 2, 7; responses 1, 2. Jane Doe (NEW,
    # PERSON): invitations 3, 4; responses 3, 6.
    assert [short(group) for group in found["groups"]] == [
        (["ACTIVE", "COMPANY"], 3, 3, 1.0, 2, 0.5),
        (["NEW", "PERSON"], 2, 1, 0.5, 2, 0.625),
    ]
    found = await stats(admin, world.seed, ["CUSTOMER_GRADE"])
    assert [short(group) for group in found["groups"]] == [
        (["GOLD"], 3, 3, 1.0, 2, 0.5),
        (["STANDARD"], 2, 1, 0.5, 2, 0.625),
    ]


async def test_grouped_by_dimension_repeats_the_counts(admin: Api, world: World) -> None:
    found = await stats(admin, world.seed, ["HANDLER", "DIMENSION"])
    groups = {tuple(k["value"] for k in g["key"]): g for g in found["groups"]}
    alice = gid("User", world.alice.user_id)
    assert len(groups) == 8
    # Alice's ATTITUDE ratings (responses 1, 2, 6): 5, 3, 4: mean 4.0, 2 of 3 good.
    attitude = groups[(alice, "ATTITUDE")]
    assert attitude["dimensions"] == [
        {"dimension": "ATTITUDE", "mean": 4.0, "count": 3, "csat": 0.6667}
    ]
    assert attitude["csat"] == 0.6667
    # The counts are Alice's, in every one of her dimensions.
    for dimension in DIMENSIONS:
        assert short(groups[(alice, dimension)])[1:5] == (3, 3, 1.0, 3)
    # Alice's RESOLUTION: 4, 1, 3: mean 8/3 = 2.67, 1 of 3 good.
    assert groups[(alice, "RESOLUTION")]["dimensions"][0]["mean"] == 2.67
    assert groups[(alice, "RESOLUTION")]["csat"] == 0.3333


async def test_nps(admin: Api) -> None:
    seed = await Seed.of(admin, "NPS_RELATIONSHIP")
    someone = await customer(admin, "Someone")
    for score in (10, 9, 9, 8, 6, 2, 10):
        await seed.add(someone, sent="2026-11-02T10:00", submitted="2026-11-03T10:00", nps=score)
    # The answer of a response in October does not count.
    await seed.add(someone, sent="2026-10-02T10:00", submitted="2026-10-03T10:00", nps=0)
    nps = (await stats(admin, seed))["total"]["nps"]
    # Promoters 10, 9, 9, 10 = 4; passives 8 = 1; detractors 6, 2 = 2; 7 answers:
    # 4/7 - 2/7 = 28.57% -> 28.6.
    assert nps == {"score": 28.6, "promoters": 4, "passives": 1, "detractors": 2, "responses": 7}


def test_halves_round_away_from_zero() -> None:
    # round() on floats gives 3.12, 0.0312, 6.2 and -6.2 here: halves to even, and 2.675
    # is a little less than 2.675 as a float.
    assert mean_of({4: 4, 3: 1, 2: 3}) == 3.13  # 25/8 = 3.125
    assert mean_of({3: 1, 2: 1, 3000: 0}) == 2.5
    assert mean_of({}) is None
    assert share(1, 32) == 0.0313  # 0.03125
    assert share(107, 40000) == 0.0027  # 0.002675
    assert share(2, 3) == 0.6667
    assert share(0, 0) is None
    assert nps_score(1, 0, 16) == 6.3  # 6.25
    assert nps_score(0, 1, 16) == -6.3
    assert nps_score(0, 0, 0) is None


def test_buckets_follow_daylight_saving_time() -> None:
    # New York leaves daylight saving time on Sunday 2026-11-01: Monday 10-26 starts at
    # 04:00Z (EDT), Monday 11-02 at 05:00Z (EST), November at 04:00Z, December at 05:00Z.
    zone = ZoneInfo("America/New_York")
    start, end = at("2026-10-26T12:00"), at("2026-11-03T00:00")
    assert week_buckets(zone, start, end) == [
        ("2026-W44", at("2026-10-26T04:00")),
        ("2026-W45", at("2026-11-02T05:00")),
    ]
    assert month_buckets(zone, start, at("2026-12-02T00:00")) == [
        ("2026-10", at("2026-10-01T04:00")),
        ("2026-11", at("2026-11-01T04:00")),
        ("2026-12", at("2026-12-01T05:00")),
    ]


async def test_figures_in_the_api_round_halves_up(admin: Api) -> None:
    csat = await Seed.of(admin)
    nps = await Seed.of(admin, "NPS_RELATIONSHIP")
    someone = await customer(admin, "Someone")
    # RESPONSE_SPEED 4, 4, 4, 4, 3, 2, 2, 2: 25/8 = 3.125 -> 3.13.
    for speed in (4, 4, 4, 4, 3, 2, 2, 2):
        await csat.add(
            someone, sent="2026-11-02T10:00", submitted="2026-11-03T10:00", ratings=(speed,)
        )
    total = (await stats(admin, csat))["total"]
    assert total["dimensions"] == [
        {"dimension": "RESPONSE_SPEED", "mean": 3.13, "count": 8, "csat": 0.5}
    ]
    # One promoter and fifteen passives: 1/16 = 6.25% -> 6.3.
    for score in (10, *([8] * 15)):
        await nps.add(someone, sent="2026-11-02T10:00", submitted="2026-11-03T10:00", nps=score)
    found = (await stats(admin, nps))["total"]["nps"]
    assert (found["score"], found["promoters"], found["passives"]) == (6.3, 1, 15)


@pytest.mark.parametrize("zone", ["Asia/Shanghai"])
async def test_weeks_and_months_in_the_deployment_zone(
    make_settings: Callable[..., Settings], api_factory: Any, zone: str
) -> None:
    settings = make_settings(plugins=("fixture", "tickets", "surveys"), time_zone=zone)
    async with api_factory(settings) as api:
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"])
        seed = await Seed.of(admin)
        someone = await customer(admin, "Someone")
        # Shanghai is UTC+8. 10-31 15:00Z is Saturday 10-31 23:00 there (October, 2026-W44);
        # 10-31 17:00Z is Sunday 11-01 01:00 there (November, still W44); 11-01 16:30Z is
        # Monday 11-02 00:30 there (November, 2026-W45), though Sunday in UTC.
        for moment, ratings in (
            ("2026-10-31T15:00", (5, 5, 5, 5)),
            ("2026-10-31T17:00", (1, 1, 1, 1)),
            ("2026-11-01T16:30", (4, 4, 2, 2)),
        ):
            await seed.add(someone, sent=moment, submitted=moment, ratings=ratings)
        period = {"from": "2026-10-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}
        months = await stats(admin, seed, ["MONTH"], period)
        # October: one response, 4 of 4 good; November: two, 2 of 8 good.
        assert [short(group) for group in months["groups"]] == [
            (["2026-10"], 1, 1, 1.0, 1, 1.0),
            (["2026-11"], 2, 2, 1.0, 2, 0.25),
        ]
        weeks = await stats(admin, seed, ["WEEK"], period)
        assert [short(group) for group in weeks["groups"]] == [
            (["2026-W44"], 2, 2, 1.0, 2, 0.5),
            (["2026-W45"], 1, 1, 1.0, 1, 0.5),
        ]
        both = await stats(admin, seed, ["MONTH", "WEEK"], period)
        assert [[k["value"] for k in g["key"]] for g in both["groups"]] == [
            ["2026-10", "2026-W44"],
            ["2026-11", "2026-W44"],
            ["2026-11", "2026-W45"],
        ]
        # More than five years of weeks or months are refused.
        long_ago = {"from": "2000-01-01T00:00:00Z", "to": period["to"]}
        for grouping in ("WEEK", "MONTH"):
            body = await admin.gql(
                STATS,
                {
                    "filter": {"templateId": seed.template_gid, "period": long_ago},
                    "groupBy": [grouping],
                },
            )
            assert body["errors"][0]["extensions"]["argument"] == "filter.period"
        # The last hours of the year 9999 in UTC are the year 10000 in Shanghai: refused.
        end_of_time = {"from": "9999-12-31T00:00:00Z", "to": "9999-12-31T23:00:00Z"}
        body = await admin.gql(
            STATS,
            {
                "filter": {"templateId": seed.template_gid, "period": end_of_time},
                "groupBy": ["WEEK"],
            },
        )
        assert error_code(body) == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["argument"] == "filter.period"
        # Without both bounds, weeks are refused.
        body = await admin.gql(
            STATS,
            {
                "filter": {"templateId": seed.template_gid, "period": {"from": period["from"]}},
                "groupBy": ["WEEK"],
            },
        )
        assert error_code(body) == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["argument"] == "filter.period"


async def test_a_support_representative_counts_only_their_own(admin: Api, world: World) -> None:
    found = await stats(world.alice, world.seed)
    # Alice handled invitations 1, 2, 6, 7: sent in November 1, 2, 7 (all answered);
    # responses in November 1, 2, 6: good 5 of 12.
    assert short(found["total"]) == ([], 3, 3, 1.0, 3, 0.4167)
    grouped = await stats(world.alice, world.seed, ["HANDLER"])
    assert [group["key"][0]["value"] for group in grouped["groups"]] == [
        gid("User", world.alice.user_id)
    ]
    # She may see her own user record: her name is the label.
    assert grouped["groups"][0]["key"][0]["label"] == "Alice Agent"
    # A customer manager sees every response but only the users of their team (none here):
    # the handlers are labelled by their ids.
    manager = await admin.user("mia.manager@example.com", ["CUSTOMER_MANAGER"])
    grouped = await stats(manager, world.seed, ["HANDLER"])
    alice, bob = gid("User", world.alice.user_id), gid("User", world.bob_id)
    assert [short(group) for group in grouped["groups"]] == [
        ([alice], 3, 3, 1.0, 3, 0.4167),
        ([bob], 2, 1, 0.5, 1, 1.0),
    ]
    finance = await admin.as_role("FINANCE")
    body = await finance.gql(
        STATS, {"filter": {"templateId": world.seed.template_gid, "period": NOV}}
    )
    assert error_code(body) == "FORBIDDEN"


async def test_filters(admin: Api, world: World) -> None:
    async def total(**filter: Any) -> tuple[Any, ...]:
        body = await admin.gql(
            STATS,
            {"filter": {"templateId": world.seed.template_gid, "period": NOV, **filter}},
        )
        return short(data(body)["surveyStats"]["total"])

    # Gold Ltd: invitations 1, 2, 7 (all answered); responses 1, 2: 4 of 8 good.
    assert await total(customerIds=[gid("Customer", world.gold)]) == ([], 3, 3, 1.0, 2, 0.5)
    # Bob: invitations 3, 4 (one answered); response 3: 4 of 4 good.
    assert await total(handlerIds=[gid("User", world.bob_id)]) == ([], 2, 1, 0.5, 1, 1.0)
    # Every one follows a ticket.
    assert await total(subjectKinds=["MANUAL"]) == ([], 0, 0, None, 0, None)
    assert await total(subjectKinds=["TICKET"]) == ([], 5, 4, 0.8, 4, 0.5625)
    body = await admin.gql(
        STATS,
        {
            "filter": {
                "templateId": world.seed.template_gid,
                "period": NOV,
                "customerIds": [gid("User", 1)],
            }
        },
    )
    assert body["errors"][0]["extensions"]["argument"] == "filter.customerIds.0"
    body = await admin.gql(
        STATS,
        {
            "filter": {
                "templateId": world.seed.template_gid,
                "period": {"from": NOV["to"], "to": NOV["from"]},
            }
        },
    )
    assert body["errors"][0]["extensions"]["argument"] == "filter.period.to"
    # Filter lists are bounded (each id is a bound parameter); more is refused by name.
    for name, type_name in (("customerIds", "Customer"), ("handlerIds", "User")):
        body = await admin.gql(
            STATS,
            {
                "filter": {
                    "templateId": world.seed.template_gid,
                    "period": NOV,
                    name: [gid(type_name, index) for index in range(1, 502)],
                }
            },
        )
        assert error_code(body) == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["argument"] == f"filter.{name}"
    # 500 are taken: the two customers among them (the rest exist not) give every figure.
    many = [gid("Customer", index) for index in range(100_000, 100_498)]
    found = await total(
        customerIds=[*many, gid("Customer", world.gold), gid("Customer", world.standard)]
    )
    assert found == ([], 5, 4, 0.8, 4, 0.5625)
    # A template that does not exist is NOT_FOUND, not figures of nothing.
    body = await admin.gql(
        STATS, {"filter": {"templateId": gid("SurveyTemplate", 999), "period": NOV}}
    )
    assert error_code(body) == "NOT_FOUND"
    assert body["errors"][0]["extensions"]["argument"] == "filter.templateId"


async def test_refused_group_by(admin: Api, world: World) -> None:
    for group_by in (
        ["HANDLER", "HANDLER"],
        ["HANDLER", "MONTH", "WEEK", "DIMENSION"],
    ):
        body = await admin.gql(
            STATS,
            {"filter": {"templateId": world.seed.template_gid, "period": NOV}, "groupBy": group_by},
        )
        assert error_code(body) == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["argument"] == "groupBy"
    # Months and weeks at the ends of the calendar are refused, not an internal error.
    for period in ({"from": "9999-12-01T00:00:00Z", "to": "9999-12-31T00:00:00Z"},):
        for grouping in ("MONTH", "WEEK"):
            body = await admin.gql(
                STATS,
                {
                    "filter": {"templateId": world.seed.template_gid, "period": period},
                    "groupBy": [grouping],
                },
            )
            assert error_code(body) == "BAD_USER_INPUT", (period, grouping, body)
            assert body["errors"][0]["extensions"]["argument"] == "filter.period"
    body = await admin.gql(
        STATS, {"filter": {"templateId": gid("Customer", 1), "period": NOV}, "groupBy": []}
    )
    assert body["errors"][0]["extensions"]["argument"] == "filter.templateId"


class TestWithoutTickets:
    @pytest.fixture
    def settings(self, make_settings: Callable[..., Settings]) -> Settings:
        return make_settings(plugins=("fixture", "surveys"))

    async def test_handler_and_ticket_type_need_the_tickets_plugin(self, admin: Api) -> None:
        seed = await Seed.of(admin)
        for group_by in ("HANDLER", "TICKET_TYPE"):
            body = await admin.gql(
                STATS,
                {"filter": {"templateId": seed.template_gid, "period": NOV}, "groupBy": [group_by]},
            )
            assert error_code(body) == "BAD_USER_INPUT"
            error = body["errors"][0]
            assert error["extensions"]["argument"] == "groupBy"
            assert "needs the tickets plugin" in error["message"]
        assert short((await stats(admin, seed, ["CUSTOMER_GRADE"]))["total"])[1] == 0
