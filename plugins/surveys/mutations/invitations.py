"""Sending surveys."""

from __future__ import annotations

import strawberry


@strawberry.type
class InvitationMutation:
    @strawberry.field(description="Placeholder until the module is written.")
    def invitationmutation_placeholder(self) -> bool:
        return False
