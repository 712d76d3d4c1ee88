"""Mutations of points: enrolling a customer, earning (``earnPoints``, idempotent by key) and
adjusting by hand."""

from __future__ import annotations

import strawberry
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Check, Info, UserErrorCode, UserErrors, mutate, requires, translator
from plugins.loyalty import declarations, models
from plugins.loyalty.inputs.accounts import AdjustPointsInput, EarnPointsInput, EnrolCustomerInput
from plugins.loyalty.service import earning
from plugins.loyalty.types.accounts import (
    AdjustPointsPayload,
    EarnPointsPayload,
    EnrolCustomerPayload,
)

_ = translator(__name__)


def _earn_values(input: EarnPointsInput) -> earning.EarnValues:
    check = Check()
    customer_id = check.node_id("customerId", input.customer_id, "Customer")
    check.done()
    return earning.EarnValues(
        customer_id=customer_id,
        amount=input.amount,
        currency=input.currency,
        points=input.points,
        reference=input.reference,
        idempotency_key=input.idempotency_key,
    )


@strawberry.type
class PointsMutation:
    @strawberry.mutation(
        description="Enrol a customer in the loyalty programme (an enrolled one's account is "
        "answered as it is).",
        extensions=requires(declarations.WRITE),
    )
    async def enrol_customer(
        self, info: Info, input: EnrolCustomerInput
    ) -> EnrolCustomerPayload | None:
        async def work(session: AsyncSession) -> models.Account:
            check = Check()
            customer_id = check.node_id("customerId", input.customer_id, "Customer")
            check.done()
            return await earning.enrol_customer(session, info.context, customer_id)

        return await mutate(info, work, EnrolCustomerPayload.of)

    @strawberry.mutation(
        description="Earn points for a purchase (amount and currency) or give points, from a "
        "shop or point of sale system. The same idempotencyKey twice earns once and answers "
        "the first result (replayed: true); another request under a used key is refused.",
        extensions=requires(declarations.WRITE),
    )
    async def earn_points(self, info: Info, input: EarnPointsInput) -> EarnPointsPayload | None:
        async def work(session: AsyncSession) -> earning.Earned:
            return await earning.earn_points(session, info.context, _earn_values(input))

        try:
            return await mutate(info, work, EarnPointsPayload.of)
        except IntegrityError:
            if not (input.idempotency_key or "").strip():
                raise
            # A concurrent request under the same key committed first: answer its result.

        async def again(session: AsyncSession) -> earning.Earned:
            values = _earn_values(input)
            found = await earning.earn_points(session, info.context, values)
            if not found.replayed:  # the key's entry vanished: refuse rather than guess
                raise UserErrors.single(
                    "idempotencyKey", _("could not be used; send again"), UserErrorCode.CONFLICT
                )
            return found

        return await mutate(info, again, EarnPointsPayload.of)

    @strawberry.mutation(
        description="Add points to (points > 0) or take them from (points < 0) a member's "
        "balance by hand, with a reason; taking more than the balance is refused.",
        extensions=requires(declarations.ADJUST),
    )
    async def adjust_points(
        self, info: Info, input: AdjustPointsInput
    ) -> AdjustPointsPayload | None:
        async def work(session: AsyncSession) -> earning.Earned:
            check = Check()
            customer_id = check.node_id("customerId", input.customer_id, "Customer")
            check.done()
            return await earning.adjust_points(
                session,
                info.context,
                earning.AdjustValues(
                    customer_id=customer_id, points=input.points, reason=input.reason
                ),
            )

        return await mutate(info, work, AdjustPointsPayload.of)
