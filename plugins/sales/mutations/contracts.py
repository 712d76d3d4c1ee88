"""Root mutation fields of contracts: each takes one input, runs in one transaction and
answers with a payload (``sales:write``, on contracts within the caller's scope)."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET

from core.plugin_api import Check, Info, mutate, requires
from plugins.sales import declarations, models
from plugins.sales.inputs.contracts import (
    ActivateContractInput,
    CreateContractInput,
    RenewContractInput,
    TerminateContractInput,
    UpdateContractInput,
)
from plugins.sales.service import contracts as service
from plugins.sales.types.contracts import (
    ActivateContractPayload,
    CreateContractPayload,
    RenewContractPayload,
    TerminateContractPayload,
    UpdateContractPayload,
)

WRITE = requires(declarations.WRITE)


def _changes(check: Check, input: UpdateContractInput) -> dict[str, Any]:
    """The fields the input gives (snake case), ids read into database ids."""
    changes: dict[str, Any] = {}
    for field in ("title", "starts_on", "ends_on", "value", "currency", "auto_renew"):
        value = getattr(input, field)
        if value is not UNSET:
            changes[field] = value
    if input.notice_days is not UNSET:
        changes["notice_days"] = input.notice_days
    if input.owner_id is not UNSET:
        owner_id = check.node_id("ownerId", input.owner_id, "User")
        if input.owner_id is None or owner_id is not None:
            changes["owner_id"] = owner_id
    return changes


@strawberry.type
class ContractMutation:
    @strawberry.mutation(description="Write a contract (DRAFT).", extensions=WRITE)
    async def create_contract(
        self, info: Info, input: CreateContractInput
    ) -> CreateContractPayload | None:
        async def work(session: AsyncSession) -> models.Contract:
            check = Check()
            customer_id = check.node_id("customerId", input.customer_id, "Customer")
            owner_id = check.node_id("ownerId", input.owner_id, "User")
            return await service.create(
                session,
                info.context,
                check,
                customer_id,
                owner_id,
                input.title,
                input.starts_on,
                input.ends_on,
                input.value,
                input.currency,
                input.auto_renew,
                input.notice_days,
            )

        return await mutate(info, work, CreateContractPayload.of)

    @strawberry.mutation(
        description="Change a contract: dates, value and currency while DRAFT; title, owner, "
        "autoRenew and noticeDays while DRAFT or ACTIVE.",
        extensions=WRITE,
    )
    async def update_contract(
        self, info: Info, input: UpdateContractInput
    ) -> UpdateContractPayload | None:
        async def work(session: AsyncSession) -> models.Contract:
            check = Check()
            contract_id = check.node_id("id", input.id, "Contract")
            changes = _changes(check, input)
            return await service.update(
                session, info.context, check, contract_id, input.version, changes
            )

        return await mutate(info, work, UpdateContractPayload.of)

    @strawberry.mutation(
        description="Put a DRAFT contract in force (ACTIVE); one whose end date has passed "
        "is refused.",
        extensions=WRITE,
    )
    async def activate_contract(
        self, info: Info, input: ActivateContractInput
    ) -> ActivateContractPayload | None:
        async def work(session: AsyncSession) -> models.Contract:
            check = Check()
            contract_id = check.node_id("id", input.id, "Contract")
            check.done()
            return await service.activate(session, info.context, contract_id, input.version)

        return await mutate(info, work, ActivateContractPayload.of)

    @strawberry.mutation(
        description="End an ACTIVE contract early (TERMINATED, now); final.", extensions=WRITE
    )
    async def terminate_contract(
        self, info: Info, input: TerminateContractInput
    ) -> TerminateContractPayload | None:
        async def work(session: AsyncSession) -> models.Contract:
            check = Check()
            contract_id = check.node_id("id", input.id, "Contract")
            check.done()
            return await service.terminate(session, info.context, contract_id, input.version)

        return await mutate(info, work, TerminateContractPayload.of)

    @strawberry.mutation(
        description="Extend an ACTIVE or EXPIRED contract to a later end date; it is ACTIVE "
        "again and its renewal reminder is due again for the new end.",
        extensions=WRITE,
    )
    async def renew_contract(
        self, info: Info, input: RenewContractInput
    ) -> RenewContractPayload | None:
        async def work(session: AsyncSession) -> models.Contract:
            check = Check()
            contract_id = check.node_id("id", input.id, "Contract")
            check.done()
            return await service.renew(
                session, info.context, contract_id, input.version, input.ends_on
            )

        return await mutate(info, work, RenewContractPayload.of)
