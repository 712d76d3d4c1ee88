"""The Warranty node."""

import datetime as dt

import strawberry
from strawberry import relay

from core import plugin_api as crm
from crm_warranty import loaders, models


@strawberry.type(description="A product's warranty, registered to a customer.")
class Warranty(crm.ModelNode[models.Warranty]):
    by_id_loader = loaders.WarrantyByIdLoader
    id: relay.NodeID[int]
    product: str
    serial: str = strawberry.field(description="Unique across all warranties.")
    starts_on: dt.date
    ends_on: dt.date
    customer_id: strawberry.Private[int]
    customer: crm.CustomerNode | None = crm.batch_field(
        crm.related(crm.CustomerNode, "customer_id")
    )
