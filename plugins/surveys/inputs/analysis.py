"""GraphQL inputs and enums of the survey analysis (``surveyStats``,
``frequentNegativeFeedback``)."""

from __future__ import annotations

import enum

import strawberry
from strawberry import relay

from core.plugin_api import DateTimeRange
from plugins.surveys.inputs.invitations import SurveySubjectKind

MAX_FEEDBACK_TERMS = 100


@strawberry.enum(
    description="How surveyStats splits its figures. HANDLER and TICKET_TYPE (the handler and "
    "ticket type copied from the ticket when the invitation was made) exist only while the "
    "tickets plugin is enabled. CUSTOMER_STAGE, CUSTOMER_GRADE and CUSTOMER_KIND use the "
    "customer's current stage, grade and kind. DIMENSION splits the scores by the aspect "
    "rated (see SurveyStatsGroup for what it does to the counts). WEEK (ISO weeks, "
    "'2026-W14') and MONTH ('2026-04') are calendar buckets in the deployment's time zone "
    "(CRM_TIME_ZONE): invitations by sentAt, responses and scores by submittedAt."
)
class SurveyGroupBy(enum.Enum):
    HANDLER = "HANDLER"
    TICKET_TYPE = "TICKET_TYPE"
    CUSTOMER_STAGE = "CUSTOMER_STAGE"
    CUSTOMER_GRADE = "CUSTOMER_GRADE"
    CUSTOMER_KIND = "CUSTOMER_KIND"
    DIMENSION = "DIMENSION"
    WEEK = "WEEK"
    MONTH = "MONTH"


@strawberry.input(description="Which invitations and responses surveyStats counts.")
class SurveyStatsFilter:
    template_id: relay.GlobalID = strawberry.field(description="The survey template.")
    period: DateTimeRange = strawberry.field(
        description="The span counted (from inclusive, to exclusive): invitations sent "
        "(sentAt) in it and responses submitted (submittedAt) in it. WEEK and MONTH need "
        "both bounds (at most 5 years apart)."
    )
    customer_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="Only these customers (at most 500)."
    )
    handler_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="Only the tickets these users handled (at most 500)."
    )
    subject_kinds: list[SurveySubjectKind] | None = strawberry.field(
        default=None, description="Only surveys following these kinds of subject."
    )


@strawberry.input(description="Which comments frequentNegativeFeedback mines.")
class NegativeFeedbackFilter:
    template_id: relay.GlobalID = strawberry.field(description="The survey template.")
    period: DateTimeRange = strawberry.field(
        description="Responses submitted (submittedAt) in this span, from inclusive, to exclusive."
    )
    dimension: str | None = strawberry.field(
        default=None,
        description="Only responses whose answer in this dimension (a key such as ATTITUDE, "
        "case-insensitive, at most 40 characters) was low (a rating of 1 or 2, an NPS of 0-6, "
        "or no to a yes/no question).",
    )
    limit: int = strawberry.field(
        default=20, description=f"How many terms (1-{MAX_FEEDBACK_TERMS})."
    )
