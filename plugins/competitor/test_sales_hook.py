"""Encounters from the sales plugin's closed opportunities (its hook): written in the
transaction of the close (a close rolled back leaves none), matched to profiles by name
regardless of case (a new name makes a WATCHING profile), updated when a reopened
opportunity closes again, announced by webhook; and the plugin with the sales plugin
disabled: manual encounters work and the schema has no sales types."""

from __future__ import annotations

import datetime as dt
import decimal
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    ADMINISTRATOR,
    SALES_REPRESENTATIVE,
    RequestContext,
    Settings,
    UserErrorCode,
    UserErrors,
    hookimpl,
)
from plugins.competitor.models import Competitor, Encounter
from plugins.competitor.service import encounters
from plugins.competitor.testing_encounters import (
    ENCOUNTER_FIELDS,
    MONDAY,
    audit_actions,
    create_competitor,
    create_customer,
    query,
    record,
)
from schema.testkit import Api, FakeClock, running_app
from schema.testkit_graphql import db_id, gid, mutate, mutate_ok
from schema.testkit_webhooks import WebhookReceiver

OPPORTUNITY = "opportunity { id version closedAt }"
SALES_ENCOUNTERS = f"""{{ competitorEncounters(filter: {{source: SALES}}, first: 20,
  orderBy: [{{field: CREATED_AT}}]) {{ edges {{ node {{ {ENCOUNTER_FIELDS} }} }} }} }}"""
REFUSE = "refused by a later listener"


class Listener:
    """A plugin closing after the competitor plugin: it sees the encounters written in the
    same transaction, and refuses a close whose lost reason text says so."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    @hookimpl
    async def crm_sales_opportunity_closed(
        self,
        session: AsyncSession,
        opportunity: Any,
        won: bool,
        competitors: Sequence[str],
        context: RequestContext | None,
    ) -> None:
        count = await session.scalar(
            select(func.count()).where(Encounter.opportunity_id == opportunity.id)
        )
        self.seen.append(int(count or 0))
        if opportunity.lost_reason_text == "refuse":
            raise UserErrors.single("stage", REFUSE, UserErrorCode.BUSINESS_RULE)


@pytest.fixture
def listener() -> Listener:
    return Listener()


@pytest.fixture
def crm_extra_plugins(
    crm_extra_plugins: Mapping[str, Any], listener: Listener
) -> Mapping[str, Any]:
    return {**crm_extra_plugins, "listener": listener}


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        plugins=("fixture", "sales", "competitor", "listener"),
        time_zone="Asia/Shanghai",
        webhooks_allow_private=True,
    )


async def opportunity(api: Api, customer: str, competitors: list[str]) -> dict[str, Any]:
    input = {
        "customerId": customer,
        "title": "Deal",
        "amount": "1000.00",
        "currency": "CNY",
        "competitors": competitors,
    }
    found: dict[str, Any] = (await mutate_ok(api, "createOpportunity", input, OPPORTUNITY))[
        "opportunity"
    ]
    return found


async def move(api: Api, found: dict[str, Any], stage: str, **values: Any) -> dict[str, Any]:
    input = {"id": found["id"], "version": found["version"], "stage": stage} | values
    moved: dict[str, Any] = (await mutate_ok(api, "moveOpportunity", input, OPPORTUNITY))[
        "opportunity"
    ]
    return moved


async def sales_encounters(api: Api) -> list[dict[str, Any]]:
    edges = (await query(api, SALES_ENCOUNTERS))["competitorEncounters"]["edges"]
    return [edge["node"] for edge in edges]


async def profiles(api: Api) -> list[tuple[str, str, str]]:
    async with api.db.read() as session:
        rows = await session.execute(
            select(Competitor.name, Competitor.status, Competitor.threat_level).order_by(
                Competitor.id
            )
        )
        return [(name, status, threat) for name, status, threat in rows.all()]


async def test_a_closed_opportunity_makes_its_encounters_in_the_same_transaction(
    admin: Api, clock: FakeClock, listener: Listener
) -> None:
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE], lasting=True)
    acme = await create_competitor(admin, "Acme")
    customer = await create_customer(admin, "Buyer Ltd", rep.user_id)
    async with WebhookReceiver() as receiver:
        subscribed = await admin.gql(
            "mutation($url: String!) { createWebhookSubscription(input: {url: $url, "
            'eventTypes: ["competitor.encounter_recorded"]}) { errors { field } } }',
            {"url": receiver.url},
        )
        assert subscribed["data"]["createWebhookSubscription"]["errors"] == []
        deal = await opportunity(rep, customer, [" ACME ", "Globex"])
        clock.advance(hours=8, minutes=30)  # 17:30 UTC: the 24th in Shanghai
        won = await move(rep, deal, "WON")
        assert listener.seen == [2]  # written before the listener ran, in its transaction
        found = await sales_encounters(admin)
        assert [e["competitor"]["name"] for e in found] == ["Acme", "Globex"]
        assert found[0] == {
            "id": found[0]["id"],
            "source": "SALES",
            "outcome": "WON",
            "reason": None,
            "reasonText": None,
            "amount": {"amount": "1000.00", "currency": "CNY"},
            "occurredOn": "2026-11-24",
            "opportunityId": deal["id"],
            "createdAt": "2026-11-24T01:30:00+08:00",  # shown in the deployment's zone
            "competitor": {"id": acme, "name": "Acme"},
            "customer": {"id": customer},
            "owner": {"id": gid("User", rep.user_id)},
        }
        assert await profiles(admin) == [
            ("Acme", "ACTIVE", "MEDIUM"),
            ("Globex", "WATCHING", "MEDIUM"),  # made so that nothing is lost
        ]
        assert await audit_actions(admin, "Competitor") == ["competitor.created"]

        # Reopened and lost: the outcome flips, a competitor no longer named is dropped.
        reopened = (
            await mutate_ok(
                admin,
                "reopenOpportunity",
                {"id": won["id"], "version": won["version"], "stage": "LEAD"},
                OPPORTUNITY,
            )
        )["opportunity"]
        clock.advance(days=2)
        await move(
            rep,
            reopened,
            "LOST",
            lostReason="PRICE",
            lostReasonText="Cheaper by a third",
            competitors=["acme"],
        )
        again = await sales_encounters(admin)
        assert [(e["id"], e["outcome"], e["reason"], e["reasonText"]) for e in again] == [
            (found[0]["id"], "LOST", "PRICE", "Cheaper by a third")
        ]
        assert again[0]["occurredOn"] == "2026-11-26"
        assert await profiles(admin) == [
            ("Acme", "ACTIVE", "MEDIUM"),
            ("Globex", "WATCHING", "MEDIUM"),
        ]
        other = await opportunity(rep, customer, ["Initech"])
        await move(rep, other, "LOST", lostReason="COMPETITOR")
        latest = (await sales_encounters(admin))[-1]
        assert (latest["competitor"]["name"], latest["reason"], latest["opportunityId"]) == (
            "Initech",
            "COMPETITOR",
            other["id"],
        )
        assert await audit_actions(admin, "CompetitorEncounter") == [
            "competitor.encounter.recorded",
            "competitor.encounter.recorded",
            "competitor.encounter.updated",
            "competitor.encounter.deleted",
            "competitor.encounter.recorded",
        ]

        # A close refused later in its transaction leaves no encounter and no new profile.
        refused = await opportunity(rep, customer, ["Umbrella"])
        payload = await mutate(
            rep,
            "moveOpportunity",
            {
                "id": refused["id"],
                "version": refused["version"],
                "stage": "LOST",
                "lostReason": "OTHER",
                "lostReasonText": "refuse",
            },
            OPPORTUNITY,
        )
        assert payload["errors"] == [{"field": "stage", "message": REFUSE, "code": "BUSINESS_RULE"}]
        assert listener.seen[-1] == 1  # it was written, then rolled back with the close
        assert len(await sales_encounters(admin)) == 2
        assert [name for name, _status, _threat in await profiles(admin)] == [
            "Acme",
            "Globex",
            "Initech",
        ]
        closed = await query(
            admin, "query($id: ID!) { opportunity(id: $id) { closedAt } }", {"id": refused["id"]}
        )
        assert closed["opportunity"]["closedAt"] is None
        await admin.deliver_outbox()
    events = [request.json() for request in receiver.requests]
    assert sorted((e["type"], e["data"]["outcome"]) for e in events) == [
        ("competitor.encounter_recorded", "LOST"),
        ("competitor.encounter_recorded", "LOST"),
        ("competitor.encounter_recorded", "WON"),
        ("competitor.encounter_recorded", "WON"),
    ]
    [first] = [
        e for e in events if e["data"]["outcome"] == "WON" and e["data"]["competitor"] == acme
    ]
    assert first["data"] == {
        "encounter": found[0]["id"],
        "competitor": acme,
        "customer": customer,
        "opportunity": deal["id"],
        "source": "SALES",
        "outcome": "WON",
        "occurredOn": "2026-11-24",
    }
    assert "Cheaper" not in str(events)


async def test_a_name_longer_once_case_folded_is_cut_to_what_a_profile_holds(
    admin: Api,
) -> None:
    """The sales plugin takes names of up to 100 characters; a profile's name and its key
    (the name case-folded) hold 120. ``ß`` folds to ``ss`` and ``ﬃ`` to ``ffi``: the name is
    cut until its key fits, and the close goes through."""
    customer = await create_customer(admin, "Buyer Ltd")
    deal = await opportunity(admin, customer, ["ß" * 100, "ﬃ" * 50])
    await move(admin, deal, "LOST", lostReason="COMPETITOR")
    assert await profiles(admin) == [
        ("ß" * 60, "WATCHING", "MEDIUM"),
        ("ﬃ" * 40, "WATCHING", "MEDIUM"),
    ]
    async with admin.db.read() as session:
        keys = (await session.scalars(select(Competitor.name_key).order_by(Competitor.id))).all()
    assert list(keys) == ["ss" * 60, "ffi" * 40]
    # The same names again (the first in capitals, ẞ): matched to those profiles, none made.
    again = await opportunity(admin, customer, ["\u1e9e" * 60, "ﬃ" * 40])
    await move(admin, again, "WON")
    found = await sales_encounters(admin)
    assert [(e["competitor"]["name"], e["outcome"]) for e in found] == [
        ("ß" * 60, "LOST"),
        ("ﬃ" * 40, "LOST"),
        ("ß" * 60, "WON"),
        ("ﬃ" * 40, "WON"),
    ]
    assert len(await profiles(admin)) == 2


async def test_without_the_sales_plugin_encounters_are_entered_by_hand(
    make_settings: Callable[..., Settings], crm_extra_plugins: Mapping[str, Any]
) -> None:
    settings = make_settings(plugins=("fixture", "competitor"))
    async with running_app(
        settings, clock=FakeClock(MONDAY), extra_plugins=crm_extra_plugins
    ) as api:
        admin = await api.user("admin@example.com", [ADMINISTRATOR], lasting=True)
        types_of = await query(
            admin,
            '{ opportunity: __type(name: "Opportunity") { name } '
            'encounter: __type(name: "CompetitorEncounter") { name } '
            "mutation: __schema { mutationType { fields { name } } } }",
        )
        assert types_of["opportunity"] is None
        assert types_of["encounter"] == {"name": "CompetitorEncounter"}
        mutations = {field["name"] for field in types_of["mutation"]["mutationType"]["fields"]}
        assert "recordEncounter" in mutations
        assert "moveOpportunity" not in mutations
        acme = await create_competitor(admin, "Acme")
        customer = await create_customer(admin, "Buyer Ltd")
        lost = await record(
            admin, acme, customer, outcome="LOST", reason="SERVICE", amount="80", currency="EUR"
        )
        assert (lost["source"], lost["opportunityId"], lost["amount"]) == (
            "MANUAL",
            None,
            {"amount": "80.00", "currency": "EUR"},
        )
        stats = await query(admin, "{ competitorStats { met lost winRate } }")
        assert stats["competitorStats"] == [{"met": 1, "lost": 1, "winRate": 0.0}]

        # The hook's service on its own, as a job would call it (no request): the day of the
        # close in UTC, the profile matched regardless of case.
        closed = types.SimpleNamespace(
            id=77,
            customer_id=db_id(customer),
            owner_id=admin.user_id,
            amount=decimal.Decimal("12.50"),
            currency="USD",
            lost_reason=None,
            lost_reason_text=None,
            closed_at=dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.UTC),
        )
        async with api.db.transaction() as session:
            await encounters.on_opportunity_closed(session, closed, True, ["ACME"], None)
        async with api.db.read() as session:
            row = await session.scalar(select(Encounter).where(Encounter.opportunity_id == 77))
            assert row is not None
            assert (row.competitor_id, row.outcome, row.occurred_on, row.amount) == (
                db_id(acme),
                "WON",
                dt.date(2026, 11, 22),
                decimal.Decimal("12.50"),
            )
