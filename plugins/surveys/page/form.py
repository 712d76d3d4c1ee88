"""The answer page's form: the questions as it shows them, the answers it sends (read from a
form-encoded body) and the errors put back beside their questions."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from starlette.requests import Request

from core.plugin_api import UserErrorCode, UserErrors, render, translator
from plugins.surveys import questions
from plugins.surveys.questions import Question, QuestionKind
from plugins.surveys.service import answering

_ = translator(__name__)

MAX_FORM_BYTES = 256 * 1024
"""The largest form accepted (a few long text answers, percent-encoded)."""
MAX_FIELDS = 200
FIELD_PREFIX = "q."
FORM_TYPE = "application/x-www-form-urlencoded"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters a text answer loses (tab, line feed and carriage return stay)."""


@dataclass
class Option:
    id: str
    value: str
    label: str


@dataclass
class Item:
    """A question as the form shows it."""

    key: str
    id: str
    name: str
    kind: str
    text: str
    required: bool
    value: str = ""
    options: list[Option] = field(default_factory=list)


def _dom_id(key: str) -> str:
    return "q-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in key)


def _rating_label(value: int, kind: QuestionKind, locale: str) -> str:
    if kind is QuestionKind.RATING:
        ends = {questions.RATING_MIN: _("Very poor"), questions.RATING_MAX: _("Excellent")}
    else:
        ends = {questions.NPS_MIN: _("Not at all likely"), questions.NPS_MAX: _("Extremely likely")}
    return f"{value} · {render(ends[value], locale)}" if value in ends else str(value)


def items_of(asked: Sequence[Question], locale: str, values: Mapping[str, str]) -> list[Item]:
    shown = []
    for question in asked:
        dom = _dom_id(question.key)
        item = Item(
            key=question.key,
            id=dom,
            name=FIELD_PREFIX + question.key,
            kind=question.kind.value,
            text=question.text(locale),
            required=question.required,
            value=values.get(question.key, ""),
        )
        if question.kind in (QuestionKind.RATING, QuestionKind.NPS):
            low, high = (
                (questions.RATING_MIN, questions.RATING_MAX)
                if question.kind is QuestionKind.RATING
                else (questions.NPS_MIN, questions.NPS_MAX)
            )
            item.options = [
                Option(f"{dom}-{n}", str(n), _rating_label(n, question.kind, locale))
                for n in range(low, high + 1)
            ]
        elif question.kind is QuestionKind.YES_NO:
            item.options = [
                Option(f"{dom}-yes", "yes", render(_("Yes"), locale)),
                Option(f"{dom}-no", "no", render(_("No"), locale)),
            ]
        elif question.kind is QuestionKind.CHOICE:
            item.options = [
                Option(f"{dom}-{index}", choice.key, choice.text(locale))
                for index, choice in enumerate(question.choices)
            ]
        shown.append(item)
    return shown


def answers_of(
    asked: Sequence[Question], values: Mapping[str, str]
) -> tuple[list[answering.Answer], list[str]]:
    """The answers a form gives, in the order asked, and the question key of each (to put
    an error on ``answers.<index>`` beside its question)."""
    answers: list[answering.Answer] = []
    keys: list[str] = []
    for question in asked:
        raw = values.get(question.key, "")
        if not raw.strip():
            continue
        if question.kind in (QuestionKind.RATING, QuestionKind.NPS):
            try:
                score = int(raw.strip())
            except ValueError:
                score = -1  # refused as out of range
            answer = answering.Answer(question.key, score=score)
        elif question.kind is QuestionKind.YES_NO:
            yes = {"yes": True, "no": False}.get(raw.strip())
            answer = answering.Answer(question.key, yes=yes)
            if yes is None:
                answer = answering.Answer(question.key, choice=raw.strip()[:40])  # refused
        elif question.kind is QuestionKind.CHOICE:
            answer = answering.Answer(question.key, choice=raw.strip())
        else:
            answer = answering.Answer(question.key, text=raw)
        answers.append(answer)
        keys.append(question.key)
    return answers, keys


def errors_by_question(
    errors: UserErrors, keys: Sequence[str], asked: Collection[str], locale: str
) -> tuple[dict[str, str], list[str]]:
    """Each error's message by the question it is about (one of ``asked``), and those about
    none (shown above the form, so that no message is lost)."""
    by_key: dict[str, str] = {}
    general: list[str] = []
    for error in errors.errors:
        parts = (error.field or "").split(".")
        key: str | None = None
        if len(parts) >= 2 and parts[0] == "answers":
            key = (
                keys[int(parts[1])]
                if parts[1].isdigit() and int(parts[1]) < len(keys)
                else parts[1]
            )
        if key not in asked:
            key = None
        if key is not None and error.code is UserErrorCode.REQUIRED:
            message = render(_("Please answer this question."), locale)
        else:
            text = render(error.message, locale)
            message = text[:1].upper() + text[1:]
        if key is not None and key not in by_key:
            by_key[key] = message
        else:
            general.append(message)
    return by_key, general


async def read_form(request: Request) -> dict[str, str] | None:
    """The question values of a form-encoded body (``q.<key>``), control characters dropped;
    ``None`` if the body is not such a form: another type, too large, not UTF-8 (raw or
    percent-encoded), too many fields, or a question named twice."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        return None
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        return None  # not read at all
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            max_num_fields=MAX_FIELDS,
            encoding="utf-8",
            errors="strict",  # percent-encoded bytes that are not UTF-8 too
        )
    except (UnicodeDecodeError, ValueError):
        return None
    values: dict[str, str] = {}
    for name, value in pairs:
        if not name.startswith(FIELD_PREFIX):
            continue
        key = name[len(FIELD_PREFIX) :]
        if key in values:  # no form of this page sends a question twice
            return None
        values[key] = _CONTROL.sub("", value.replace("\r\n", "\n"))
    return values
