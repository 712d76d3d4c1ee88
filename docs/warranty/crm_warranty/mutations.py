"""registerWarranty."""

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core import plugin_api as crm
from crm_warranty import models, service
from crm_warranty.inputs import RegisterWarrantyInput, RegisterWarrantyPayload


@strawberry.type
class WarrantyMutation:
    @strawberry.mutation(extensions=crm.requires("warranties:write"))
    async def register_warranty(
        self, info: crm.Info, input: RegisterWarrantyInput
    ) -> RegisterWarrantyPayload | None:
        async def work(session: AsyncSession) -> models.Warranty:
            check = crm.Check()
            customer_id = check.node_id("customerId", input.customer_id, "Customer")
            given = (input.product, input.serial, input.starts_on, input.ends_on)
            return await service.register(session, info.context, check, customer_id, *given)

        return await crm.mutate(info, work, RegisterWarrantyPayload.of)
