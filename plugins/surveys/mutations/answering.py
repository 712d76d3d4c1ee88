"""Answering a survey (public: no login, rate-limited per client address)."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Info, UserError, UserErrorCode, mutate, translator
from plugins.surveys import models
from plugins.surveys.inputs.answering import SubmitSurveyResponseInput
from plugins.surveys.service import answering, ratelimit
from plugins.surveys.types.answering import SubmitSurveyResponsePayload

_ = translator(__name__)


def rate_limited(retry_after: int) -> UserError:
    return UserError(
        field=None,
        message=_(
            "too many survey requests from your address; try again in {seconds} seconds",
            seconds=retry_after,
        ),
        code=UserErrorCode.RATE_LIMITED,
    )


@strawberry.type
class AnsweringMutation:
    @strawberry.mutation(
        description="Answer the survey a link names, with the token from the link. Needs no "
        "login; each link is answered once, before it expires. Requests are limited per "
        "client address (CRM_SURVEYS_RATE_LIMIT per CRM_SURVEYS_RATE_WINDOW_MINUTES)."
    )
    async def submit_survey_response(
        self, info: Info, input: SubmitSurveyResponseInput
    ) -> SubmitSurveyResponsePayload | None:
        context = info.context
        verdict = await ratelimit.check(context.db, context.client_address, context.now())
        if not verdict.allowed:
            return SubmitSurveyResponsePayload.of(None, [rate_limited(verdict.retry_after)])
        answers = [
            answering.Answer(
                question_key=item.question_key,
                score=item.score,
                yes=item.yes,
                choice=item.choice,
                text=item.text,
            )
            for item in input.answers
        ]

        async def work(session: AsyncSession) -> models.SurveyResponse:
            return await answering.submit(
                session,
                context.pm,
                token=input.token,
                answers=answers,
                locale=context.locale,
                client_address=context.client_address,
                now=context.now(),
                context=context,
            )

        return await mutate(info, work, SubmitSurveyResponsePayload.of)
