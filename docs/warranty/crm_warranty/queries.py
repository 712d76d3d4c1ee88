"""The root list of warranties and the connection on Customer."""

from collections.abc import Sequence
from typing import Annotated

import strawberry
from sqlalchemy import select

from core import plugin_api as crm
from crm_warranty import loaders, models
from crm_warranty.inputs import WarrantyOrder, WarrantyOrderField
from crm_warranty.types import Warranty

ORDER = crm.ListOrder(
    {
        WarrantyOrderField.ENDS_ON: models.Warranty.ends_on,
        WarrantyOrderField.STARTS_ON: models.Warranty.starts_on,
        WarrantyOrderField.PRODUCT: models.Warranty.product,
    },
    models.Warranty.id,
    default=[(WarrantyOrderField.ENDS_ON, False)],  # the pages loader's keys
)
OrderBy = Annotated[list[WarrantyOrder] | None, strawberry.argument(description=crm.ORDER_BY_HELP)]


@strawberry.type
class WarrantyQuery:
    @strawberry.field(extensions=crm.requires("warranties:read"))
    async def warranties(
        self,
        info: crm.Info,
        order_by: OrderBy = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> crm.Connection[Warranty] | None:
        """Warranties you may see, ending soonest first unless orderBy says otherwise."""
        rows = select(models.Warranty).where(info.context.visible("warranties:read"))
        keys = ORDER.keys(order_by)
        args = crm.PageArgs(first=first, after=after, last=last, before=before)
        return await info.context.page(rows, keys=keys, args=args, to_node=Warranty.from_model)


async def customer_warranties(
    context: crm.RequestContext,
    customers: Sequence[crm.CustomerNode],
    order_by: OrderBy = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[crm.Connection[Warranty]]:
    """Each customer's warranties you may see, ending soonest first unless orderBy says
    otherwise."""
    args = crm.PageArgs(first=first, after=after, last=last, before=before)
    pages, counts = loaders.WarrantyPagesLoader, loaders.WarrantyCountLoader
    ids = [customer.id for customer in customers]
    keys = ORDER.keys(order_by)
    return await context.child_pages(pages, counts, ids, args, Warranty.from_model, keys)
