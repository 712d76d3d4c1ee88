"""Points and coupons under real concurrency: two app processes (``crm serve``) on one
PostgreSQL database, requests fired at both at once.

- 50 redemptions at once against a balance that covers 10: exactly 10 succeed;
- 20 redemptions at once of a reward with stock 5: exactly 5 succeed;
- the same coupon redeemed 20 times at once: once;
- the same idempotency key sent 20 times at once: earns once, every answer the first result.

After each, ``crm loyalty verify`` finds no difference. PostgreSQL only (SQLite has one
writer at a time anyway): skipped without ``CRM_TEST_POSTGRES_URL``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.plugin_api import ADMINISTRATOR, Database, Settings
from schema.serving import running_server
from schema.testkit import DEFAULT_PASSWORD, LOGIN, POSTGRES_URL, postgres_database
from schema.testkit_tools import CommandLine, make_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="CRM_TEST_POSTGRES_URL not set"),
]

STARTUP_SECONDS = 30
SECRET = "loyalty-race-test-secret-key-0123456789abcdef"
PLUGINS = ("sales", "loyalty")
ERRORS = "errors { field message code }"


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    """PostgreSQL only (the kit's fixture also makes a SQLite case): a fresh database."""
    async with postgres_database() as url:
        yield url


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """The installed plugins the servers run."""
    return make_settings(plugins=PLUGINS)


@pytest.fixture
def crm_extra_plugins() -> Mapping[str, Any]:
    """The servers run the installed plugins only, so the in-process setup does too."""
    return {}


class Client:
    """GraphQL over HTTP to the two servers, as the administrator."""

    def __init__(self, http: httpx.AsyncClient, servers: list[str], token: str) -> None:
        self.http = http
        self.servers = servers
        self.token = token

    async def gql(self, query: str, variables: dict[str, Any], server: int = 0) -> dict[str, Any]:
        response = await self.http.post(
            f"{self.servers[server % len(self.servers)]}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    async def mutate(
        self, name: str, input: dict[str, Any], selection: str, server: int = 0
    ) -> dict[str, Any]:
        input_type = name[0].upper() + name[1:] + "Input"
        fields = f"{selection} {ERRORS}"
        query = f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {fields} }} }}"
        payload: dict[str, Any] = (await self.gql(query, {"input": input}, server))[name]
        return payload

    async def at_once(
        self, times: int, name: str, input: dict[str, Any], selection: str
    ) -> list[dict[str, Any]]:
        """``times`` requests of one mutation at once, alternately to each server."""
        return list(
            await asyncio.gather(
                *(self.mutate(name, input, selection, server=n) for n in range(times))
            )
        )

    async def customer(self, name: str) -> str:
        created = await self.mutate("createCustomer", {"name": name}, "customer { id }")
        assert created["errors"] == [], created
        customer_id: str = created["customer"]["id"]
        return customer_id

    async def earn(self, customer: str, points: int) -> None:
        earned = await self.mutate(
            "earnPoints", {"customerId": customer, "points": points}, "entry { id }"
        )
        assert earned["errors"] == [], earned

    async def reward(self, name: str, cost: int, stock: int | None) -> str:
        created = await self.mutate(
            "createReward", {"name": name, "pointsCost": cost, "stock": stock}, "reward { id }"
        )
        assert created["errors"] == [], created
        reward_id: str = created["reward"]["id"]
        return reward_id

    async def account(self, customer: str) -> dict[str, Any]:
        found = await self.gql(
            """query($id: ID!) { customer(id: $id) { loyalty {
                 balance debt lifetimeEarned ledger { totalCount } } } }""",
            {"id": customer},
        )
        account: dict[str, Any] = found["customer"]["loyalty"]
        return account


def succeeded(payloads: list[dict[str, Any]]) -> int:
    return sum(1 for payload in payloads if payload["errors"] == [])


def refused_fields(payloads: list[dict[str, Any]]) -> set[str]:
    return {error["field"] for payload in payloads for error in payload["errors"]}


async def verified(crm_cli: CommandLine) -> None:
    result = await crm_cli("loyalty", "verify")
    assert (result.exit_code, result.stdout) == (0, "no differences\n"), result.stdout


async def test_two_processes_never_spend_twice(
    settings: Settings,
    migrated_db: Database,
    database_url: str,
    tmp_path: Path,
    crm_cli: CommandLine,
) -> None:
    await make_user(migrated_db, settings, "admin@example.com", [ADMINISTRATOR])
    await migrated_db.dispose()
    env = {
        **os.environ,
        "CRM_DATA_DIR": str(settings.data_dir),
        "CRM_DATABASE_URL": database_url,
        "CRM_PLUGINS": ",".join(PLUGINS),
        "CRM_SECRET_KEY": SECRET,
    }
    with ExitStack() as stack:
        servers = [
            stack.enter_context(
                running_server(env, timeout=STARTUP_SECONDS, log=tmp_path / f"server{n}.log")
            )
            for n in (1, 2)
        ]
        async with httpx.AsyncClient(timeout=120) as http:
            login = await http.post(
                f"{servers[0]}/graphql",
                json={
                    "query": LOGIN,
                    "variables": {"email": "admin@example.com", "password": DEFAULT_PASSWORD},
                },
            )
            token = login.json()["data"]["login"]["accessToken"]
            assert token, login.text
            api = Client(http, servers, token)

            # 50 redemptions at once against a balance that covers 10.
            spender = await api.customer("Spender")
            await api.earn(spender, 100)
            voucher = await api.reward("Voucher", 10, None)
            redemptions = await api.at_once(
                50,
                "redeemReward",
                {"customerId": spender, "rewardId": voucher},
                "code balance",
            )
            assert succeeded(redemptions) == 10
            assert len(refused_fields(redemptions)) == 1  # too few points, naming one field
            codes = {p["code"] for p in redemptions if p["errors"] == []}
            assert len(codes) == 10
            account = await api.account(spender)
            assert (account["balance"], account["ledger"]["totalCount"]) == (0, 11)
            await verified(crm_cli)

            # 20 redemptions at once of a reward with stock 5.
            collector = await api.customer("Collector")
            await api.earn(collector, 1000)
            scarce = await api.reward("Scarce", 10, 5)
            redemptions = await api.at_once(
                20,
                "redeemReward",
                {"customerId": collector, "rewardId": scarce},
                "code balance",
            )
            assert succeeded(redemptions) == 5
            assert len(refused_fields(redemptions)) == 1  # out of stock, naming one field
            assert (await api.account(collector))["balance"] == 950
            stock = await api.gql(
                "query($id: ID!) { node(id: $id) { ... on Reward { stock } } }", {"id": scarce}
            )
            assert stock["node"] == {"stock": 0}
            await verified(crm_cli)

            # The same coupon redeemed 20 times at once.
            issued = await api.mutate(
                "issueCoupons",
                {"count": 1, "campaign": "race", "validDays": 30},
                "coupons { code }",
            )
            assert issued["errors"] == [], issued
            code = issued["coupons"][0]["code"]
            uses = await api.at_once(20, "redeemCoupon", {"code": code}, "coupon { id }")
            assert succeeded(uses) == 1
            assert refused_fields(uses) == {"code"}
            await verified(crm_cli)

            # The same idempotency key sent 20 times at once.
            shopper = await api.customer("Shopper")
            earned = await api.at_once(
                20,
                "earnPoints",
                {
                    "customerId": shopper,
                    "amount": "88.80",
                    "currency": "CNY",
                    "reference": "TILL-1",
                    "idempotencyKey": "till-1-receipt-1",
                },
                "entry { id points } replayed",
            )
            assert [p["errors"] for p in earned] == [[]] * 20
            assert {p["entry"]["id"] for p in earned} == {earned[0]["entry"]["id"]}
            assert [p["replayed"] for p in earned].count(False) == 1
            account = await api.account(shopper)
            assert (account["balance"], account["ledger"]["totalCount"]) == (88, 1)
            await verified(crm_cli)

            # One key sent for two customers at once: one earns, the other is refused.
            other = await api.customer("Other")
            inputs = [
                {"customerId": customer, "points": 5, "idempotencyKey": "shared-key"}
                for customer in (shopper, other) * 5
            ]
            answers = await asyncio.gather(
                *(
                    api.mutate("earnPoints", values, "entry { id } account { id }", server=n)
                    for n, values in enumerate(inputs)
                )
            )
            won = [answer for answer in answers if answer["errors"] == []]
            assert len({answer["entry"]["id"] for answer in won}) == 1
            assert len(won) == 5
            assert refused_fields([a for a in answers if a["errors"]]) == {"idempotencyKey"}
            await verified(crm_cli)
