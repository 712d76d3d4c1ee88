"""Dataloaders of contracts; each keeps the contracts the caller may read (``sales:read``, or
finance's ``sales:read_contracts``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from core.plugin_api import ByIdLoader, ChildCountLoader, ChildPageLoader, SortKey
from plugins.sales import declarations
from plugins.sales.models import Contract


class _VisibleContracts:
    entity = Contract
    parent = Contract.customer_id
    context: Any

    def statement(self) -> Select[Any]:
        return select(Contract).where(declarations.visible(self.context, declarations.CONTRACTS))


class ContractByIdLoader(_VisibleContracts, ByIdLoader[Contract]):
    pass


class ContractsByCustomerLoader(_VisibleContracts, ChildPageLoader):
    keys = (SortKey(Contract.starts_on, True), SortKey(Contract.id, True))


class ContractCountByCustomerLoader(_VisibleContracts, ChildCountLoader):
    pass
