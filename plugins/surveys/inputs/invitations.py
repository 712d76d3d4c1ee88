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


@strawberry.input(description="Which invitations a list shows; every field given must match.")
class SurveyInvitationFilter:
    template_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Of this template (any version)."
    )
    status: list[SurveyInvitationStatus] | None = strawberry.field(
        default=None, description="In any of these statuses."
    )
    customer_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Of this customer."
    )
    subject_kind: SurveySubjectKind | None = strawberry.field(
        default=None, description="Following this kind of subject."
    )
    sent: DateTimeRange | None = strawberry.field(
        default=None, description="Invitations whose sentAt falls in this span."
    )


@strawberry.input(description="Which responses a list shows; every field given must match.")
class SurveyResponseFilter:
    template_id: relay.GlobalID | None = strawberry.field(
        default=None, description="To this template (any version)."
    )
    customer_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Of this customer."
    )
    subject_kind: SurveySubjectKind | None = strawberry.field(
        default=None, description="Following this kind of subject."
    )
    low_scored: bool | None = strawberry.field(
        default=None,
        description="true: only those not satisfied, with a rating of 1 or 2, or an NPS of "
        "0-6; false: only the others.",
    )
    submitted: DateTimeRange | None = strawberry.field(
        default=None, description="Responses whose submittedAt falls in this span."
    )


@strawberry.input(
    description="Send a template's survey now: to the primary contacts of customerIds, or to "
    "contactIds (one of the two, 1-500 ids)."
)
class SendSurveyInput:
    template_id: relay.GlobalID = strawberry.field(description="An active template.")
    customer_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="Customers whose primary contact is asked."
    )
    contact_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="Contacts asked (not archived)."
    )


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
