"""The root list of warranties and the connection on Customer."""

import strawberry
from sqlalchemy import select

from core import plugin_api as crm
from crm_warranty import loaders, models
from crm_warranty.types import Warranty


@strawberry.type
class WarrantyQuery:
    @strawberry.field(extensions=crm.requires("warranties:read"))
    async def warranties(
        self, info: crm.Info, first: int | None = None, after: str | None = None
    ) -> crm.Connection[Warranty] | None:
        """Warranties you may see, ending soonest first."""
        rows = select(models.Warranty).where(info.context.visible("warranties:read"))
        keys = loaders.WarrantyPagesLoader.keys
        args = crm.PageArgs(first=first, after=after)
        return await info.context.page(rows, keys=keys, args=args, to_node=Warranty.from_model)


async def customer_warranties(
    root: crm.CustomerNode, info: crm.Info, first: int | None = None, after: str | None = None
) -> crm.Connection[Warranty]:
    """The customer's warranties you may see, ending soonest first."""
    args = crm.PageArgs(first=first, after=after)
    pages, counts = loaders.WarrantyPagesLoader, loaders.WarrantyCountLoader
    return await info.context.child_page(pages, counts, root.id, args, Warranty.from_model)
