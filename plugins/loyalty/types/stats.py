"""GraphQL types of the programme's figures (``loyaltyStats``)."""

from __future__ import annotations

import datetime as dt
from typing import Self

import strawberry
from strawberry import relay

from plugins.loyalty.service import stats as service


@strawberry.type(description="Points moved in one calendar month (the deployment's time zone).")
class LoyaltyMonth:
    month: str = strawberry.field(description="YYYY-MM.")
    starts_at: dt.datetime = strawberry.field(description="Its first moment within the period.")
    ends_at: dt.datetime = strawberry.field(description="Its end within the period (exclusive).")
    earned: int = strawberry.field(description="Points earned, debt paid off included.")
    redeemed: int = strawberry.field(description="Points spent on rewards.")
    expired: int
    reversed: int = strawberry.field(description="Points of cancelled orders taken back.")
    adjusted: int = strawberry.field(description="Net points adjusted by hand.")


@strawberry.type(description="How many members hold a tier.")
class LoyaltyTierMembers:
    key: str
    name: str
    members: int


@strawberry.type(description="A reward and how often it was redeemed in the period.")
class LoyaltyRewardFigures:
    reward_id: relay.GlobalID
    name: str
    redemptions: int
    points: int = strawberry.field(description="Points spent on it.")


@strawberry.type(description="The programme's figures over the accounts you may read.")
class LoyaltyStats:
    starts_at: dt.datetime
    ends_at: dt.datetime
    liability: int = strawberry.field(
        description="Points outstanding now: the sum of the members' balances."
    )
    debt: int = strawberry.field(description="Points owed now (reversals beyond the balance).")
    members: int
    earned: int = strawberry.field(description="Points earned in the period.")
    redeemed: int
    expired: int
    reversed: int
    redemption_rate: float | None = strawberry.field(
        description="Redeemed / earned in the period; null when nothing was earned."
    )
    months: list[LoyaltyMonth]
    members_per_tier: list[LoyaltyTierMembers]
    top_rewards: list[LoyaltyRewardFigures] = strawberry.field(
        description="The rewards redeemed most in the period (at most 5)."
    )

    @classmethod
    def of(cls, found: service.Stats) -> Self:
        return cls(
            starts_at=found.starts_at,
            ends_at=found.ends_at,
            liability=found.liability,
            debt=found.debt,
            members=found.members,
            earned=found.total("earned"),
            redeemed=found.total("redeemed"),
            expired=found.total("expired"),
            reversed=found.total("reversed"),
            redemption_rate=found.redemption_rate,
            months=[
                LoyaltyMonth(
                    month=m.month,
                    starts_at=m.starts_at,
                    ends_at=m.ends_at,
                    earned=m.earned,
                    redeemed=m.redeemed,
                    expired=m.expired,
                    reversed=m.reversed,
                    adjusted=m.adjusted,
                )
                for m in found.months
            ],
            members_per_tier=[
                LoyaltyTierMembers(key=t.key, name=t.name, members=t.members) for t in found.tiers
            ],
            top_rewards=[
                LoyaltyRewardFigures(
                    reward_id=relay.GlobalID("Reward", str(r.reward_id)),
                    name=r.name,
                    redemptions=r.redemptions,
                    points=r.points,
                )
                for r in found.top_rewards
            ],
        )
