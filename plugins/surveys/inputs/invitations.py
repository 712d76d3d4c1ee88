"""GraphQL inputs and enums of invitations and responses."""

from __future__ import annotations

import enum

import strawberry
from strawberry import relay

from core.plugin_api import DateTimeRange, OrderDirection


@strawberry.enum(
    description="SENT (a link went out), SKIPPED (nobody was asked; see skipReason) or ANSWERED."
)
class SurveyInvitationStatus(enum.Enum):
    SENT = "SENT"
    SKIPPED = "SKIPPED"
    ANSWERED = "ANSWERED"


@strawberry.enum(
    description="Why an invitation was not sent: NO_CONTACT (no contact given and no primary "
    "contact), NO_EMAIL (the contact has no e-mail address), FATIGUE (the contact was asked "
    "within CRM_SURVEYS_FATIGUE_DAYS), RESPONDENT_IS_HANDLER (the contact is the person who "
    "handled the ticket), TEMPLATE_INACTIVE (the template was switched off)."
)
class SurveySkipReason(enum.Enum):
    NO_CONTACT = "NO_CONTACT"
    NO_EMAIL = "NO_EMAIL"
    FATIGUE = "FATIGUE"
    RESPONDENT_IS_HANDLER = "RESPONDENT_IS_HANDLER"
    TEMPLATE_INACTIVE = "TEMPLATE_INACTIVE"


@strawberry.enum(
    description="What a survey follows: TICKET (a resolved ticket), SCHEDULE (a "
    "relationship-survey schedule) or MANUAL (sendSurvey)."
)
class SurveySubjectKind(enum.Enum):
    TICKET = "TICKET"
    SCHEDULE = "SCHEDULE"
    MANUAL = "MANUAL"


@strawberry.input
class SurveyInvitationFilter:
    template_id: relay.GlobalID | None = None
    status: list[SurveyInvitationStatus] | None = None
    customer_id: relay.GlobalID | None = None
    subject_kind: SurveySubjectKind | None = None
    sent: DateTimeRange | None = strawberry.field(
        default=None, description="Invitations whose sentAt falls in this span."
    )


@strawberry.input
class SurveyResponseFilter:
    template_id: relay.GlobalID | None = None
    customer_id: relay.GlobalID | None = None
    subject_kind: SurveySubjectKind | None = None
    low_scored: bool | None = None
    submitted: DateTimeRange | None = strawberry.field(
        default=None, description="Responses whose submittedAt falls in this span."
    )


@strawberry.input(
    description="Send a template's survey now: to the primary contacts of customerIds, or to "
    "contactIds (one of the two, 1-500 ids)."
)
class SendSurveyInput:
    template_id: relay.GlobalID
    customer_ids: list[relay.GlobalID] | None = None
    contact_ids: list[relay.GlobalID] | None = None


@strawberry.enum(description="What an invitation list sorts by.")
class SurveyInvitationOrderField(enum.Enum):
    CREATED_AT = "CREATED_AT"
    SENT_AT = "SENT_AT"


@strawberry.input(description="One entry of an invitation list's orderBy.")
class SurveyInvitationOrder:
    field: SurveyInvitationOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.enum(description="What a response list sorts by.")
class SurveyResponseOrderField(enum.Enum):
    SUBMITTED_AT = "SUBMITTED_AT"


@strawberry.input(description="One entry of a response list's orderBy.")
class SurveyResponseOrder:
    field: SurveyResponseOrderField
    direction: OrderDirection = OrderDirection.ASC
