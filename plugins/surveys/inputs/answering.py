"""Inputs: answering a survey (``submitSurveyResponse``)."""

from __future__ import annotations

import strawberry


@strawberry.input(
    description="One answer: the question's key and the field that fits its kind (score for "
    "RATING 1-5 and NPS 0-10, yes for YES_NO, choice for CHOICE, text for TEXT)."
)
class SurveyAnswerInput:
    question_key: str
    score: int | None = None
    yes: bool | None = None
    choice: str | None = None
    text: str | None = None


@strawberry.input(description="The answers to the survey a link's token names.")
class SubmitSurveyResponseInput:
    token: str = strawberry.field(description="The token of the survey link (after /s/).")
    answers: list[SurveyAnswerInput]
