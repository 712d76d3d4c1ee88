"""A template version's questions, read from their JSON form (``SurveyTemplateVersion.
questions``), and the figures every part of the plugin agrees on.

Kinds: RATING (1-5, with the dimension it rates), NPS (0-10), YES_NO, CHOICE (one of the
question's choices) and TEXT. A YES_NO question whose dimension is ``SATISFIED`` is the
overall answer that closes (yes) or reopens (no) the ticket a survey follows.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class QuestionKind(enum.Enum):
    RATING = "RATING"
    NPS = "NPS"
    YES_NO = "YES_NO"
    CHOICE = "CHOICE"
    TEXT = "TEXT"


RATING_MIN, RATING_MAX = 1, 5
NPS_MIN, NPS_MAX = 0, 10
SATISFIED = "SATISFIED"
"""The dimension of the overall yes/no answer."""
LOW_RATING = 2
"""A rating at or below this is low (the response's comment is mined for feedback)."""
CSAT_GOOD = 4
"""Ratings at or above this count as satisfied in CSAT (the share of 4 and 5)."""
PROMOTER, DETRACTOR = 9, 6
"""NPS: 9-10 promoters, 7-8 passives, 0-6 detractors."""
DEFAULT_DIMENSIONS = ("RESPONSE_SPEED", "RESOLUTION", "ATTITUDE", "PROFESSIONALISM")
TEXT_MAX = 5000
"""The longest TEXT answer kept."""


@dataclass(frozen=True)
class Choice:
    key: str
    text_en: str
    text_zh: str

    def text(self, locale: str) -> str:
        return self.text_zh if locale.startswith("zh") else self.text_en


@dataclass(frozen=True)
class Question:
    key: str
    kind: QuestionKind
    dimension: str | None
    required: bool
    text_en: str
    text_zh: str
    choices: tuple[Choice, ...] = ()

    def text(self, locale: str) -> str:
        return self.text_zh if locale.startswith("zh") else self.text_en

    @classmethod
    def of(cls, data: dict[str, Any]) -> Question:
        return cls(
            key=data["key"],
            kind=QuestionKind(data["kind"]),
            dimension=data.get("dimension"),
            required=bool(data.get("required", False)),
            text_en=data["text_en"],
            text_zh=data["text_zh"],
            choices=tuple(
                Choice(c["key"], c["text_en"], c["text_zh"]) for c in data.get("choices") or ()
            ),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind.value,
            "dimension": self.dimension,
            "required": self.required,
            "text_en": self.text_en,
            "text_zh": self.text_zh,
            "choices": [
                {"key": c.key, "text_en": c.text_en, "text_zh": c.text_zh} for c in self.choices
            ],
        }


def questions_of(stored: list[dict[str, Any]]) -> list[Question]:
    return [Question.of(item) for item in stored]
