"""Answering a survey (public)."""

from __future__ import annotations

import strawberry


@strawberry.type
class AnsweringMutation:
    @strawberry.field(description="Placeholder until the module is written.")
    def answeringmutation_placeholder(self) -> bool:
        return False
