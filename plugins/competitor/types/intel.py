"""GraphQL types of the intel log: the IntelEntry node and the payloads of its mutations and of
watching a competitor."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay

from core.plugin_api import ModelNode, UserError, UserSummary, batch_field, related
from plugins.competitor import models
from plugins.competitor.enums import Confidence, IntelKind
from plugins.competitor.loaders.intel import IntelByIdLoader

if TYPE_CHECKING:
    from plugins.competitor.types.profiles import Competitor

CompetitorRef = Annotated["Competitor", strawberry.lazy("plugins.competitor.types.profiles")]


def _competitor_type() -> type[Competitor]:
    from plugins.competitor.types.profiles import Competitor

    return Competitor


@strawberry.type(description="An entry of the intel log: something learnt about a competitor.")
class IntelEntry(ModelNode[models.Intel]):
    by_id_loader = IntelByIdLoader
    id: relay.NodeID[int]
    kind: IntelKind
    summary: str
    source_url: str | None = strawberry.field(description="Where it was learnt.")
    confidence: Confidence
    occurred_on: dt.date = strawberry.field(description="When it happened.")
    created_at: dt.datetime = strawberry.field(description="When it was logged.")
    competitor_id: strawberry.Private[int]
    reporter_id: strawberry.Private[int | None]
    competitor: CompetitorRef | None = batch_field(
        related(_competitor_type, "competitor_id"), description="The competitor it is about."
    )
    reporter: UserSummary | None = batch_field(
        related(UserSummary, "reporter_id"),
        description="Who logged it; null when nobody is known.",
    )

    @classmethod
    def from_model(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            kind=IntelKind(row.kind),
            summary=row.summary,
            source_url=row.source_url,
            confidence=Confidence(row.confidence),
            occurred_on=row.occurred_on,
            created_at=row.created_at,
            competitor_id=row.competitor_id,
            reporter_id=row.reporter_id,
        )


@strawberry.type
class IntelPayload:
    intel: IntelEntry | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Intel | None, errors: list[UserError]) -> Self:
        return cls(intel=IntelEntry.from_model(row) if row else None, errors=errors)


@strawberry.type
class LogIntelPayload(IntelPayload):
    pass


@strawberry.type
class UpdateIntelPayload(IntelPayload):
    pass


@strawberry.type
class DeleteIntelPayload:
    deleted_id: relay.GlobalID | None = strawberry.field(
        description="The id of the entry removed; null when refused."
    )
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Intel | None, errors: list[UserError]) -> Self:
        deleted = (
            relay.GlobalID("IntelEntry", str(row.id)) if row is not None and not errors else None
        )
        return cls(deleted_id=deleted, errors=errors)


@strawberry.type
class CompetitorWatchPayload:
    watching: bool | None = strawberry.field(
        description="Whether you now watch the competitor; null when refused."
    )
    errors: list[UserError]
    competitor_id: strawberry.Private[int | None]
    competitor: CompetitorRef | None = batch_field(
        related(_competitor_type, "competitor_id"), description="The competitor."
    )


@strawberry.type
class WatchCompetitorPayload(CompetitorWatchPayload):
    @classmethod
    def of(cls, competitor_id: int | None, errors: list[UserError]) -> Self:
        watching = True if competitor_id is not None and not errors else None
        return cls(watching=watching, errors=errors, competitor_id=competitor_id)


@strawberry.type
class UnwatchCompetitorPayload(CompetitorWatchPayload):
    @classmethod
    def of(cls, competitor_id: int | None, errors: list[UserError]) -> Self:
        watching = False if competitor_id is not None and not errors else None
        return cls(watching=watching, errors=errors, competitor_id=competitor_id)


NODES: list[type[Any]] = [IntelEntry]
"""Node types of this module (for ``node(id:)``)."""
