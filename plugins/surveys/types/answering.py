"""GraphQL types: answering a survey."""

from __future__ import annotations

from typing import Any, Self

import strawberry

from core.plugin_api import UserError
from plugins.surveys.models import SurveyResponse

NODES: list[type[Any]] = []
"""Node types of this module (for ``node(id:)``): none."""


@strawberry.type(
    description="Whether the answers were stored. Nothing about the customer is returned: "
    "the caller is not signed in."
)
class SubmitSurveyResponsePayload:
    ok: bool
    errors: list[UserError]

    @classmethod
    def of(cls, response: SurveyResponse | None, errors: list[UserError]) -> Self:
        return cls(ok=response is not None and not errors, errors=errors)
