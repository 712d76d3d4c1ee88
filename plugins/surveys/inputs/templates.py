"""GraphQL inputs and enums of survey templates."""

from __future__ import annotations

import enum

import strawberry
from strawberry import relay


@strawberry.enum(
    name="SurveyQuestionKind",
    description="RATING (1-5, with the dimension it rates), NPS (0-10), YES_NO, CHOICE (one "
    "of the question's choices) or TEXT.",
)
class SurveyQuestionKind(enum.Enum):
    RATING = "RATING"
    NPS = "NPS"
    YES_NO = "YES_NO"
    CHOICE = "CHOICE"
    TEXT = "TEXT"


@strawberry.enum(
    description="What a template is for: TICKET (asked after a resolved ticket), "
    "RELATIONSHIP (periodic loyalty surveys) or GENERAL."
)
class SurveyPurpose(enum.Enum):
    TICKET = "TICKET"
    RELATIONSHIP = "RELATIONSHIP"
    GENERAL = "GENERAL"


@strawberry.input(description="One choice of a CHOICE question.")
class SurveyChoiceInput:
    key: str = strawberry.field(
        description="Unique within the question: lower case letters, digits and _, from a "
        "letter, at most 40."
    )
    text_en: str = strawberry.field(description="The choice in English (at most 500).")
    text_zh: str = strawberry.field(description="The choice in Chinese (at most 500).")


@strawberry.input(description="One question of a template.")
class SurveyQuestionInput:
    key: str = strawberry.field(
        description="Unique within the template: lower case letters, digits and _, from a "
        "letter, at most 40."
    )
    kind: SurveyQuestionKind
    text_en: str = strawberry.field(description="The question in English (at most 500).")
    text_zh: str = strawberry.field(description="The question in Chinese (at most 500).")
    required: bool = False
    dimension: str | None = strawberry.field(
        default=None,
        description="RATING: the aspect rated (required, e.g. ATTITUDE); YES_NO: SATISFIED "
        "marks the overall answer that closes or reopens a ticket (at most one, and only on "
        "a YES_NO question).",
    )
    choices: list[SurveyChoiceInput] | None = strawberry.field(
        default=None, description="CHOICE only: 2-20 choices with unique keys."
    )


@strawberry.input
class CreateSurveyTemplateInput:
    key: str = strawberry.field(
        description="Unique: upper case letters, digits and _, from a letter, 2-40."
    )
    purpose: SurveyPurpose
    name_en: str = strawberry.field(description="The name in English (at most 200).")
    name_zh: str = strawberry.field(description="The name in Chinese (at most 200).")
    questions: list[SurveyQuestionInput] = strawberry.field(description="1-50 questions.")
    active: bool = strawberry.field(
        default=True, description="false: nothing is sent with it until it is switched on."
    )


@strawberry.input(
    description="Fields not given stay as they are. Changing the questions of a template "
    "whose current version was sent (an invitation went out with it, answered or not) makes "
    "a new version; otherwise the current version is edited in place."
)
class UpdateSurveyTemplateInput:
    id: relay.GlobalID
    version: int = strawberry.field(description="The version you read; a stale one is refused.")
    purpose: SurveyPurpose | None = strawberry.UNSET
    name_en: str | None = strawberry.UNSET
    name_zh: str | None = strawberry.UNSET
    questions: list[SurveyQuestionInput] | None = strawberry.UNSET


@strawberry.input
class SetSurveyTemplateActiveInput:
    id: relay.GlobalID
    version: int
    active: bool


@strawberry.input
class SurveyTemplateFilter:
    purpose: SurveyPurpose | None = None
    active: bool | None = None
