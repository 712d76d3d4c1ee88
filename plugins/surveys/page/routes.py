"""``/s/<token>``: the survey a link names, as a form (GET), its answers (POST, form-encoded,
then 303 to the thank-you page, or the form again with each error beside its question),
and ``/s/<token>/thanks``.

No login: the token is the key, so the access log is told ``/s/{token}`` instead of the
path. Every request counts against the client address's rate limit. An unknown link is a
404 page, an expired one 410, one already answered 409, too many requests 429 with
``Retry-After``, a body that is not the form 400, another method 405 (HEAD is GET without
the body); never a stack trace.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from core.plugin_api import Contact, RequestContext, UserErrors, render, translator
from plugins.surveys import models, questions
from plugins.surveys.page.form import answers_of, errors_by_question, items_of, read_form
from plugins.surveys.page.render import LANGUAGES, SECURITY_HEADERS, choose_language, page
from plugins.surveys.questions import Question
from plugins.surveys.service import answering, ratelimit, tokens

_ = translator(__name__)
logger = logging.getLogger("crm.surveys.page")

METHODS = ("GET", "HEAD", "POST")
LOGGED_PATH = "/s/{token}"
"""What the access log is told the path was: the token is the key to the survey."""


@dataclass
class Found:
    """What a request found: the invitation (if the link names one), its language."""

    invitation: models.SurveyInvitation | None
    locale: str


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


async def survey(request: Request) -> Response:
    """GET shows the form; POST takes its answers."""
    return await _safely(request, _serve, METHODS)


async def thanks(request: Request) -> Response:
    """After the answers: thank you (for a link that was answered; others go to the form)."""
    return await _safely(request, _thank, ("GET", "HEAD"))


async def _safely(
    request: Request,
    serve: Callable[[Request, RequestContext, str], Awaitable[Response]],
    methods: Sequence[str],
) -> Response:
    """``serve`` the request; anything unexpected is a plain page with the request's id
    (the traceback goes to the log under the same id), never a stack trace."""
    token = str(request.path_params.get("token", ""))
    _hide_token(request, token)
    if request.method not in methods:
        return Response(status_code=405, headers={**SECURITY_HEADERS, "Allow": ", ".join(methods)})
    try:
        context: RequestContext = await request.app.state.crm.make_context(request)
        return await serve(request, context, token)
    except Exception:
        request_id = str(getattr(request.state, "request_id", ""))
        logger.exception("survey page failed", extra={"request_id": request_id})
        return page(
            "message.html.j2",
            "en",
            500,
            title=_("Something went wrong"),
            message=_("This page could not be shown just now. Please try again later."),
            detail=_("Reference: {request_id}", request_id=request_id),
            switch_links=[],
        )


def _hide_token(request: Request, token: str) -> None:
    """Keep the token out of the access log, which reads the request's path once answered."""
    path = str(request.scope.get("path", ""))
    hidden = LOGGED_PATH + path.rsplit(token, 1)[1] if token and token in path else LOGGED_PATH
    request.scope["path"] = hidden
    request.scope["raw_path"] = hidden.encode()


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
    values = await read_form(request)
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
        errors, general = errors_by_question(
            refused, keys, {question.key for question in asked}, found.locale
        )
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


class _Endpoint:
    """An ASGI endpoint every method reaches (Starlette routes a plain function for GET and
    HEAD only and answers the rest itself, logging the token): ``handler`` answers 405 to
    the methods it does not take, and HEAD with the headers of GET and no body."""

    def __init__(self, handler: Callable[[Request], Awaitable[Response]]) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handler(Request(scope, receive))

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await response(scope, receive, without_body if scope.get("method") == "HEAD" else send)


ROUTES = [
    Route("/s/{token}", _Endpoint(survey)),
    Route("/s/{token}/thanks", _Endpoint(thanks)),
]
