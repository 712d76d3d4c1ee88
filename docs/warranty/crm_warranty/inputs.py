"""The inputs of the warranty list and of registerWarranty, and its payload."""

import datetime as dt
import enum
from typing import Self

import strawberry
from strawberry import relay

from core import plugin_api as crm
from crm_warranty import models
from crm_warranty.types import Warranty


@strawberry.enum(description="What a warranty list sorts by.")
class WarrantyOrderField(enum.Enum):
    ENDS_ON = "ENDS_ON"
    STARTS_ON = "STARTS_ON"
    PRODUCT = "PRODUCT"


@strawberry.input(description="One entry of a warranty list's orderBy.")
class WarrantyOrder:
    field: WarrantyOrderField
    direction: crm.OrderDirection = crm.OrderDirection.ASC


@strawberry.input
class RegisterWarrantyInput:
    customer_id: relay.GlobalID
    product: str
    serial: str
    starts_on: dt.date
    ends_on: dt.date


@strawberry.type
class RegisterWarrantyPayload:
    warranty: Warranty | None
    errors: list[crm.UserError]

    @classmethod
    def of(cls, row: models.Warranty | None, errors: list[crm.UserError]) -> Self:
        return cls(warranty=Warranty.from_model(row) if row else None, errors=errors)
