"""``/s/<token>``: the survey a link names, as a form (GET), its answers (POST, form-encoded,
then 303 to the thank-you page, or the form again with each error beside its question),
and ``/s/<token>/thanks``.

No login: the token is the key. Every request counts against the client address's rate
limit. An unknown link is a 404 page, an expired one 410, one already answered 409, too
many requests 429 with ``Retry-After``; never a stack trace.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from core.plugin_api import (
    Contact,
    RequestContext,
    UserErrorCode,
    UserErrors,
    render,
    translator,
)
from plugins.surveys import models, questions
from plugins.surveys.page.render import LANGUAGES, SECURITY_HEADERS, choose_language, page
from plugins.surveys.questions import Question, QuestionKind
from plugins.surveys.service import answering, ratelimit, tokens

_ = translator(__name__)
logger = logging.getLogger("crm.surveys.page")

MAX_FORM_BYTES = 256 * 1024
"""The largest form accepted (a few long text answers, percent-encoded)."""
FIELD_PREFIX = "q."
FORM_TYPE = "application/x-www-form-urlencoded"


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


@dataclass
class Found:
    """What a request found: the invitation (if the link names one), its language."""

    invitation: models.SurveyInvitation | None
    locale: str


def _dom_id(key: str) -> str:
    return "q-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in key)


def _rating_label(value: int, kind: QuestionKind) -> str:
    if kind is QuestionKind.RATING:
        ends = {questions.RATING_MIN: _("Very poor"), questions.RATING_MAX: _("Excellent")}
    else:
        ends = {questions.NPS_MIN: _("Not at all likely"), questions.NPS_MAX: _("Extremely likely")}
    return f"{value} · {ends[value]}" if value in ends else str(value)


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
                Option(f"{dom}-{n}", str(n), render(_rating_label(n, question.kind), locale))
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
    errors: UserErrors, keys: Sequence[str], locale: str
) -> tuple[dict[str, str], list[str]]:
    """Each error's message by the question it is about, and those about none."""
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


# --- requests ----------------------------------------------------------------------------------


def _links(token: str, locale: str, suffix: str = "") -> list[tuple[str, str]]:
    base = f"/s/{quote(token, safe='')}{suffix}"
    return [(code, f"{base}?{urlencode({'lang': code})}") for code in LANGUAGES if code != locale]


async def _find(request: Request, context: RequestContext, token: str) -> Found:
    invitation = None
    contact_locale = None
    if token and len(token) <= tokens.MAX_TOKEN_LENGTH:
        async with context.db.read() as session:
            invitation = await session.scalar(
                select(models.SurveyInvitation).where(
                    models.SurveyInvitation.token_hash == tokens.hash_token(token)
                )
            )
            if invitation is not None and invitation.contact_id is not None:
                contact_locale = await session.scalar(
                    select(Contact.locale).where(Contact.id == invitation.contact_id)
                )
    locale = choose_language(
        request.query_params.get("lang"),
        contact_locale,
        request.headers.get("accept-language"),
        context.settings.locale,
    )
    return Found(invitation, locale)


def refused_page(token: str, error: answering.LinkRefused, locale: str) -> Response:
    status, title = {
        "unknown": (404, _("Survey not found")),
        "expired": (410, _("This survey has closed")),
        "answered": (409, _("Already answered")),
    }[error.state]
    detail = {
        "unknown": _("Please check that the whole link from the e-mail was opened."),
        "expired": _("Thank you for your interest; this survey no longer takes answers."),
        "answered": _("Thank you: your answers were received. Each survey link is answered once."),
    }[error.state]
    return page(
        "message.html.j2",
        locale,
        status,
        title=title,
        message=_capital(error.errors[0].message, locale),
        detail=detail,
        switch_links=_links(token, locale) if error.state != "unknown" else [],
    )


def _capital(message: str, locale: str) -> str:
    text = render(message, locale)
    return text[:1].upper() + text[1:]


def rate_limited_page(locale: str, retry_after: int) -> Response:
    minutes = max(1, math.ceil(retry_after / 60))
    return page(
        "message.html.j2",
        locale,
        429,
        headers={"Retry-After": str(retry_after)},
        title=_("Too many requests"),
        message=_(
            "Too many survey pages were asked for from your address. Please try again in "
            "{minutes} minutes.",
            minutes=minutes,
        ),
        detail="",
        switch_links=[],
    )


async def _survey_title(
    context: RequestContext, invitation: models.SurveyInvitation, locale: str
) -> str:
    async with context.db.read() as session:
        template = await session.get(models.SurveyTemplate, invitation.template_id)
    if template is None:
        return render(_("Survey"), locale)
    return template.name_zh if locale == "zh-CN" else template.name_en


async def _form(
    context: RequestContext,
    token: str,
    found: Found,
    asked: Sequence[Question],
    values: Mapping[str, str],
    errors: Mapping[str, str],
    general: Sequence[str],
    status: int,
) -> Response:
    invitation = found.invitation
    assert invitation is not None
    locale = found.locale
    subject = ""
    if invitation.subject_kind == "TICKET" and invitation.subject_number:
        subject = render(
            _("About your service request {number}", number=invitation.subject_number), locale
        )
    return page(
        "form.html.j2",
        locale,
        status,
        title=await _survey_title(context, invitation, locale),
        subject=subject,
        items=items_of(asked, locale, values),
        errors=dict(errors),
        general_errors=list(general),
        action=f"/s/{quote(token, safe='')}?{urlencode({'lang': locale})}",
        text_max=questions.TEXT_MAX,
        switch_links=_links(token, locale),
    )


async def _read_form(request: Request) -> dict[str, str] | None:
    """The question values of a form-encoded body (``q.<key>``); ``None`` if the body is not
    such a form or is too large."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        return None
    values: dict[str, str] = {}
    for name, value in pairs:
        if name.startswith(FIELD_PREFIX) and name[len(FIELD_PREFIX) :] not in values:
            values[name[len(FIELD_PREFIX) :]] = value.replace("\x00", "")
    return values


async def survey(request: Request) -> Response:
    """GET shows the form; POST takes its answers."""
    return await _safely(request, _serve)


async def thanks(request: Request) -> Response:
    """After the answers: thank you (for a link that was answered; others go to the form)."""
    return await _safely(request, _thank)


async def _safely(
    request: Request,
    serve: Callable[[Request, RequestContext, str], Awaitable[Response]],
) -> Response:
    """``serve`` the request; anything unexpected is a plain page with the request's id
    (the traceback goes to the log under the same id), never a stack trace."""
    context: RequestContext = await request.app.state.crm.make_context(request)
    token = str(request.path_params.get("token", ""))
    try:
        return await serve(request, context, token)
    except Exception:
        logger.exception("survey page failed", extra={"request_id": context.request_id})
        return page(
            "message.html.j2",
            "en",
            500,
            title=_("Something went wrong"),
            message=_("This page could not be shown just now. Please try again later."),
            detail=_("Reference: {request_id}", request_id=context.request_id),
            switch_links=[],
        )


async def _serve(request: Request, context: RequestContext, token: str) -> Response:
    verdict = await ratelimit.check(context.db, context.client_address, context.now())
    found = await _find(request, context, token)
    if not verdict.allowed:
        return rate_limited_page(found.locale, verdict.retry_after)
    zone = context.settings.zone
    try:
        async with context.db.read() as session:
            _invitation, asked = await answering.open_invitation(
                session, token, context.now(), zone
            )
    except answering.LinkRefused as refused:
        return refused_page(token, refused, found.locale)
    if request.method != "POST":
        return await _form(context, token, found, asked, {}, {}, [], 200)
    values = await _read_form(request)
    if values is None:
        return page(
            "message.html.j2",
            found.locale,
            400,
            title=_("The answers could not be read"),
            message=_("Please go back to the survey and send the form again."),
            detail="",
            switch_links=_links(token, found.locale),
        )
    answers, keys = answers_of(asked, values)
    try:
        async with context.db.transaction() as session:
            await answering.submit(
                session,
                context.pm,
                token=token,
                answers=answers,
                locale=found.locale,
                client_address=context.client_address,
                now=context.now(),
                context=context,
            )
    except answering.LinkRefused as refused:
        return refused_page(token, refused, found.locale)
    except UserErrors as refused:
        errors, general = errors_by_question(refused, keys, found.locale)
        return await _form(context, token, found, asked, values, errors, general, 422)
    target = f"/s/{quote(token, safe='')}/thanks?{urlencode({'lang': found.locale})}"
    return RedirectResponse(target, status_code=303, headers=dict(SECURITY_HEADERS))


async def _thank(request: Request, context: RequestContext, token: str) -> Response:
    verdict = await ratelimit.check(context.db, context.client_address, context.now())
    found = await _find(request, context, token)
    if not verdict.allowed:
        return rate_limited_page(found.locale, verdict.retry_after)
    if found.invitation is None or found.invitation.status != answering.ANSWERED:
        return RedirectResponse(
            f"/s/{quote(token, safe='')}", status_code=303, headers=dict(SECURITY_HEADERS)
        )
    return page(
        "message.html.j2",
        found.locale,
        200,
        title=_("Thank you"),
        message=_("Your answers were received. Thank you for taking the time."),
        detail="",
        switch_links=_links(token, found.locale, "/thanks"),
    )


ROUTES = [
    Route("/s/{token}", survey, methods=["GET", "POST"]),
    Route("/s/{token}/thanks", thanks, methods=["GET"]),
]
