"""The input and payload of registerWarranty."""

import datetime as dt
from typing import Self

import strawberry
from strawberry import relay

from core import plugin_api as crm
from crm_warranty import models
from crm_warranty.types import Warranty


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
