"""Root query fields of the survey analysis, ``surveyStats`` and
``frequentNegativeFeedback`` (``surveys:read``, over the invitations and responses the
caller may see), and ``Customer.satisfaction``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from core.plugin_api import (
    CustomerNode,
    Info,
    RequestContext,
    argument_id,
    bad_argument,
    batch_field,
    in_range,
    not_found,
    requires,
    translator,
)
from plugins.surveys import declarations, models
from plugins.surveys.inputs.analysis import (
    MAX_FEEDBACK_TERMS,
    NegativeFeedbackFilter,
    SurveyGroupBy,
    SurveyStatsFilter,
)
from plugins.surveys.loaders.analysis import SatisfactionByCustomerLoader
from plugins.surveys.service import analysis, feedback
from plugins.surveys.types.analysis import (
    CustomerSatisfaction,
    FeedbackLanguage,
    FeedbackTerm,
    SurveyStats,
)

_ = translator(__name__)

READ = requires(declarations.READ)
MAX_FILTER_IDS = 500
"""The most ids a filter list takes (each is a bound parameter of the statements)."""
MAX_DIMENSION_LENGTH = 40


def _ids(values: list[relay.GlobalID] | None, type_name: str, argument: str) -> list[int] | None:
    if values is None:
        return None
    if len(values) > MAX_FILTER_IDS:
        raise bad_argument(argument, _("at most {max} ids", max=MAX_FILTER_IDS))
    found = []
    for index, value in enumerate(values):
        item = argument_id(value, type_name, f"{argument}.{index}")
        assert item is not None
        found.append(item)
    return found


def _template_id(value: relay.GlobalID) -> int:
    found = argument_id(value, "SurveyTemplate", "filter.templateId")
    assert found is not None
    return found


async def _existing_template(session: AsyncSession, template_id: int) -> None:
    """NOT_FOUND naming ``filter.templateId`` when there is no such template (rather than
    figures of nothing)."""
    if await session.get(models.SurveyTemplate, template_id) is None:
        raise not_found("filter.templateId", _("no survey template with this id"))


def _dimension(value: str | None) -> str | None:
    cleaned = (value or "").strip().upper() or None
    if cleaned is not None and len(cleaned) > MAX_DIMENSION_LENGTH:
        raise bad_argument(
            "filter.dimension",
            _("must be at most {max} characters", max=MAX_DIMENSION_LENGTH),
        )
    return cleaned


@strawberry.type
class AnalysisQuery:
    @strawberry.field(
        description="Survey figures of one template over a period: invitations (by sentAt), "
        "responses and scores (by submittedAt), response rate, CSAT, the mean of each "
        "dimension and NPS, in total and per group of groupBy (at most 3 entries, none "
        "twice). Counts only the invitations and responses you may see.",
        extensions=READ,
    )
    async def survey_stats(
        self,
        info: Info,
        filter: SurveyStatsFilter,
        group_by: list[SurveyGroupBy] | None = None,
    ) -> SurveyStats | None:
        in_range(models.SurveyResponse.submitted_at, filter.period, "filter.period")
        query = analysis.StatsQuery(
            template_id=_template_id(filter.template_id),
            start=filter.period.from_,
            end=filter.period.to,
            customer_ids=_ids(filter.customer_ids, "Customer", "filter.customerIds"),
            handler_ids=_ids(filter.handler_ids, "User", "filter.handlerIds"),
            subject_kinds=(
                [kind.value for kind in filter.subject_kinds]
                if filter.subject_kinds is not None
                else None
            ),
        )
        async with info.context.db.read() as session:
            await _existing_template(session, query.template_id)
            return await analysis.stats(session, info.context, query, group_by or [])

    @strawberry.field(
        description="The words and two-word phrases (English) and words (Chinese, segmented "
        "with jieba) most frequent in the comments of low-scored responses (not satisfied, a "
        "rating of 1 or 2, or an NPS of 0-6) of one template submitted in the period, that "
        "you may see; each counted once per response, the most frequent first, ties by term. "
        "A negation is joined to the word it negates ('not solved', '没有解决'), which then "
        "does not count alone. Reads the first "
        f"{feedback.MAX_COMMENT_CHARS} characters of the newest {feedback.MAX_COMMENTS} such "
        "comments of the period at most.",
        extensions=READ,
    )
    async def frequent_negative_feedback(
        self, info: Info, filter: NegativeFeedbackFilter
    ) -> list[FeedbackTerm] | None:
        if not 1 <= filter.limit <= MAX_FEEDBACK_TERMS:
            raise bad_argument("filter.limit", _("must be from 1 to {max}", max=MAX_FEEDBACK_TERMS))
        r = models.SurveyResponse
        template_id = _template_id(filter.template_id)
        conditions = [r.template_id == template_id]
        conditions += in_range(r.submitted_at, filter.period, "filter.period")
        dimension = _dimension(filter.dimension)
        async with info.context.db.read() as session:
            await _existing_template(session, template_id)
            comments = await feedback.low_scored_comments(
                session, info.context, conditions, dimension
            )
        # Segmented once the connection is back in the pool.
        found = await feedback.frequent_terms(comments, filter.limit)
        return [
            FeedbackTerm(
                term=item.term,
                language=FeedbackLanguage(item.language),
                count=item.count,
                example_ids=item.example_ids,
            )
            for item in found
        ]


async def customer_satisfaction(
    context: RequestContext, customers: Sequence[CustomerNode]
) -> list[CustomerSatisfaction]:
    """Each customer's CSAT, NPS, number of responses and latest response, from the responses
    you may see; null (FORBIDDEN) without surveys:read."""
    found = await context.loader(SatisfactionByCustomerLoader).load_level(
        [customer.id for customer in customers]
    )
    return [
        CustomerSatisfaction(
            csat=figures.csat,
            nps=figures.nps,
            responses=figures.responses,
            last_response_at=figures.last_response_at,
        )
        for figures in found
    ]


CUSTOMER_FIELDS: dict[str, Any] = {
    "satisfaction": batch_field(
        customer_satisfaction,
        graphql_type=CustomerSatisfaction | None,
        extensions=READ,
        description="The customer's CSAT, NPS, number of responses and latest response, from "
        "the responses you may see; null (FORBIDDEN) without surveys:read.",
    )
}
"""What the analysis adds to core's Customer type (``crm_graphql_type_fields``)."""
