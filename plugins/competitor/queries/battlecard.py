"""The field the battlecard adds to the Competitor type (``COMPETITOR_FIELDS``, wired in
``hooks.py``): ``battlecard``."""

from __future__ import annotations

from typing import Any

import strawberry

from core.plugin_api import Info, requires
from plugins.competitor import declarations
from plugins.competitor.types.battlecard import CompetitorBattlecard


async def competitor_battlecard(root: Any, info: Info) -> CompetitorBattlecard | None:
    """The competitor's battlecard as of now (each part loaded when asked for)."""
    return CompetitorBattlecard(generated_at=info.context.now(), competitor_id=int(root.id))


COMPETITOR_FIELDS: dict[str, Any] = {
    "battlecard": strawberry.field(
        resolver=competitor_battlecard,
        description="Its battlecard: strengths and weaknesses, our record against it, how its "
        "prices compare with ours, the latest intel. As a PDF: GET "
        "/competitors/{id}/battlecard.pdf.",
        extensions=requires(declarations.READ),
    ),
}
