"""Loyalty accounts and their ledgers."""

from __future__ import annotations

import strawberry


@strawberry.type
class AccountQuery:
    @strawberry.field(description="Placeholder until the module is written.")
    def accountquery_placeholder(self) -> bool:
        return False


CUSTOMER_FIELDS: dict[str, object] = {}
