"""GraphQL inputs and enums of relationship-survey schedules."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry
from strawberry import relay


@strawberry.enum(description="How often a schedule sends its survey.")
class SurveyFrequency(enum.Enum):
    MONTHLY = "MONTHLY"
    QUARTERLY = "QUARTERLY"


FILTER_HELP = (
    "Customer filters: stages (POTENTIAL, NEW, ACTIVE, DORMANT, CHURNED), grades (GOLD, "
    "SILVER, STANDARD), kinds (COMPANY, PERSON); an empty list does not filter."
)


@strawberry.input(description="A relationship survey sent on a schedule. " + FILTER_HELP)
class CreateSurveyScheduleInput:
    name: str = strawberry.field(description="At most 200 characters.")
    template_id: relay.GlobalID = strawberry.field(description="An active template.")
    frequency: SurveyFrequency
    stages: list[str] = strawberry.field(default_factory=list)
    grades: list[str] = strawberry.field(default_factory=list)
    kinds: list[str] = strawberry.field(default_factory=list)
    first_run_at: dt.datetime | None = strawberry.field(
        default=None,
        description="When it first sends (from 2000 to before 2100); now (the next hourly "
        "run) if not given.",
    )
    active: bool = True


@strawberry.input(description="Fields not given stay as they are. " + FILTER_HELP)
class UpdateSurveyScheduleInput:
    id: relay.GlobalID
    version: int = strawberry.field(description="The version you read; a stale one is refused.")
    name: str | None = strawberry.UNSET
    template_id: relay.GlobalID | None = strawberry.UNSET
    frequency: SurveyFrequency | None = strawberry.UNSET
    stages: list[str] | None = strawberry.UNSET
    grades: list[str] | None = strawberry.UNSET
    kinds: list[str] | None = strawberry.UNSET
    next_run_at: dt.datetime | None = strawberry.field(
        default=strawberry.UNSET, description="When it sends next (from 2000 to before 2100)."
    )
    active: bool | None = strawberry.UNSET


@strawberry.input
class DeleteSurveyScheduleInput:
    id: relay.GlobalID
    version: int
