"""GraphQL inputs and enums of improvement actions."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry
from strawberry import relay


@strawberry.enum(
    description="Where an improvement action stands: OPEN, then IN_PROGRESS, then DONE; "
    "CANCELLED from OPEN, IN_PROGRESS or DONE. DONE and CANCELLED are final but for "
    "cancelling a DONE action."
)
class ImprovementActionStatus(enum.Enum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


@strawberry.input(description="Which improvement actions to list.")
class ImprovementActionFilter:
    status: list[ImprovementActionStatus] | None = strawberry.field(
        default=None, description="Only actions in one of these statuses."
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only the actions this user follows up."
    )
    overdue: bool | None = strawberry.field(
        default=None,
        description="true: only OPEN or IN_PROGRESS actions whose dueOn is before today (in "
        "your time zone); false: only the others.",
    )


@strawberry.input
class CreateImprovementActionInput:
    title: str = strawberry.field(description="At most 200 characters.")
    owner_id: relay.GlobalID = strawberry.field(
        description="Who follows it up: an active user; they are notified."
    )
    description: str = ""
    due_on: dt.date | None = None
    dimension: str | None = strawberry.field(
        default=None,
        description="The dimension it targets: a key such as RESPONSE_SPEED (letters, digits "
        "and underscores, case-insensitive, at most 40 characters); its trend is shown beside "
        "the action.",
    )
    terms: list[str] = strawberry.field(
        default_factory=list,
        description="The feedback terms it answers (at most 20, each at most 100 characters).",
    )
    response_ids: list[relay.GlobalID] = strawberry.field(
        default_factory=list,
        description="The responses it answers (at most 100), each one you may see.",
    )
    template_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The survey template its trend follows; every one when null."
    )


@strawberry.input(description="Fields not given stay as they are.")
class UpdateImprovementActionInput:
    id: relay.GlobalID
    version: int = strawberry.field(description="The version you read; a stale one is refused.")
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    owner_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A new owner is notified."
    )
    due_on: dt.date | None = strawberry.UNSET
    dimension: str | None = strawberry.UNSET
    terms: list[str] | None = strawberry.UNSET
    response_ids: list[relay.GlobalID] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the linked responses."
    )


@strawberry.input
class SetImprovementActionStatusInput:
    id: relay.GlobalID
    version: int
    status: ImprovementActionStatus


@strawberry.input
class DeleteImprovementActionInput:
    id: relay.GlobalID
    version: int
