"""Improvement actions."""

from __future__ import annotations

import strawberry


@strawberry.type
class ActionMutation:
    @strawberry.field(description="Placeholder until the module is written.")
    def actionmutation_placeholder(self) -> bool:
        return False
