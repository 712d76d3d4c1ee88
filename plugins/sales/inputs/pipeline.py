"""GraphQL inputs of the pipeline's stages."""

from __future__ import annotations

import strawberry
from strawberry import relay


@strawberry.input(description="A new OPEN stage of the pipeline.")
class CreateSalesStageInput:
    key: str = strawberry.field(description="Upper snake case (DEMO_BOOKED), unique; fixed.")
    name: str
    probability: int = strawberry.field(description="Default win probability, 0-100.")
    position: int | None = strawberry.field(
        default=None,
        description="Where among the OPEN stages (1 = first); null: after the last. The "
        "stages from there on move one down.",
    )


@strawberry.input(description="Fields left out stay as they are.")
class UpdateSalesStageInput:
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    probability: int | None = strawberry.UNSET
    position: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="The OPEN stage's new place (1 = first); the others close up around it.",
    )
    active: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="false retires an OPEN stage with no open opportunity in it; WON and "
        "LOST cannot be deactivated.",
    )
