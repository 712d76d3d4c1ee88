"""Invitations and responses."""

from __future__ import annotations

import strawberry


@strawberry.type
class InvitationQuery:
    @strawberry.field(description="Placeholder until the module is written.")
    def invitationquery_placeholder(self) -> bool:
        return False


CUSTOMER_FIELDS: dict[str, object] = {}
TICKET_FIELDS: dict[str, object] = {}
