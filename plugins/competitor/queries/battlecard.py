"""The field the battlecard adds to the Competitor type (``COMPETITOR_FIELDS``, wired in
``hooks.py``): ``battlecard``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.plugin_api import RequestContext, batch_field, requires
from plugins.competitor import declarations
from plugins.competitor.types.battlecard import CompetitorBattlecard


async def competitor_battlecard(
    context: RequestContext, competitors: Sequence[Any]
) -> list[CompetitorBattlecard]:
    """Each competitor's battlecard as of now (each part loaded when asked for)."""
    now = context.now()
    return [
        CompetitorBattlecard(generated_at=now, competitor_id=int(competitor.id))
        for competitor in competitors
    ]


COMPETITOR_FIELDS: dict[str, Any] = {
    "battlecard": batch_field(
        competitor_battlecard,
        graphql_type=CompetitorBattlecard | None,
        description="Its battlecard: strengths and weaknesses, our record against it, how its "
        "prices compare with ours, the latest intel. As a PDF: GET "
        "/competitors/{id}/battlecard.pdf.",
        extensions=requires(declarations.READ),
    ),
}
