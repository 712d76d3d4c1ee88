"""Improvement actions."""

from __future__ import annotations

import strawberry


@strawberry.type
class ActionQuery:
    @strawberry.field(description="Placeholder until the module is written.")
    def actionquery_placeholder(self) -> bool:
        return False
