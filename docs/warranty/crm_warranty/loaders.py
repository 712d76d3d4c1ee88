"""Warranties the caller may see (``warranties:read``): by id, and pages per customer."""

from typing import Any

from sqlalchemy import Select, select

from core import plugin_api as crm
from crm_warranty.models import Warranty


class _Visible:
    entity = Warranty
    parent = Warranty.customer_id
    context: crm.RequestContext

    def statement(self) -> Select[Any]:
        return select(Warranty).where(self.context.visible("warranties:read"))


class WarrantyByIdLoader(_Visible, crm.ByIdLoader[Warranty]): ...


class WarrantyPagesLoader(_Visible, crm.ChildPageLoader):
    keys = (crm.SortKey(Warranty.ends_on), crm.SortKey(Warranty.id))


class WarrantyCountLoader(_Visible, crm.ChildCountLoader): ...
