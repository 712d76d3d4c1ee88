"""GraphQL types of the survey analysis: SurveyStats and its parts, FeedbackTerm and
CustomerSatisfaction. Every figure's definition is in its description."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from core.plugin_api import RequestContext, batch_field
from plugins.surveys.inputs.analysis import SurveyGroupBy

if TYPE_CHECKING:
    from plugins.surveys.types.invitations import SurveyResponse

NODES: list[type[Any]] = []
"""Node types of this module (for ``node(id:)``): none."""

LazyResponse = Annotated["SurveyResponse", strawberry.lazy("plugins.surveys.types.invitations")]


@strawberry.type(description="One part of a group's key.")
class SurveyGroupKey:
    by: SurveyGroupBy
    value: str | None = strawberry.field(
        description="HANDLER: the user's global id; TICKET_TYPE: the ticket type; CUSTOMER_*: "
        "the stage, grade or kind key; DIMENSION: the dimension key; WEEK: '2026-W14'; "
        "MONTH: '2026-04'. null for none (no handler, no ticket type)."
    )
    label: str | None = strawberry.field(
        description="What to show: the handler's name when you may see that user (else the "
        "global id), otherwise the value; null when the value is."
    )


@strawberry.type(description="The scores of one dimension (RATING answers, 1-5).")
class SurveyDimensionStats:
    dimension: str
    mean: float | None = strawberry.field(
        description="The mean rating, to 2 places (halves rounded up); null with no ratings."
    )
    count: int = strawberry.field(description="How many ratings.")
    csat: float | None = strawberry.field(
        description="The share (0-1, 4 places) of the ratings that are 4 or 5; null with no "
        "ratings."
    )


@strawberry.type(
    description="Net Promoter Score of the NPS answers (0-10): promoters 9-10, passives 7-8, "
    "detractors 0-6."
)
class SurveyNps:
    score: float | None = strawberry.field(
        description="Promoters% minus detractors% (-100..100, to 1 place, halves away from "
        "zero); null with no answers."
    )
    promoters: int
    passives: int
    detractors: int
    responses: int = strawberry.field(description="How many NPS answers.")


@strawberry.type(
    description="The figures of one group (or of the whole filter). Invitations are counted "
    "by the time they were sent (sentAt in the period), responses and every score by the "
    "time they were submitted (submittedAt in the period): a response to an invitation sent "
    "before the period counts in responses but not in invitations or answered. With "
    "DIMENSION in groupBy, the scores of a group are those of its dimension only, while "
    "invitations, answered, responseRate and responses are not split by dimension (a "
    "response answers every dimension): each dimension's group repeats the counts of its "
    "other key parts."
)
class SurveyStatsGroup:
    key: list[SurveyGroupKey] = strawberry.field(
        description="One entry per groupBy entry, in its order; empty for the total."
    )
    invitations: int = strawberry.field(
        description="Invitations sent in the period (SENT or ANSWERED now; SKIPPED ones are "
        "not counted)."
    )
    answered: int = strawberry.field(description="Of those invitations, how many are answered.")
    response_rate: float | None = strawberry.field(
        description="answered / invitations (0-1, 4 places); null with no invitations."
    )
    responses: int = strawberry.field(description="Responses submitted in the period.")
    csat: float | None = strawberry.field(
        description="The share (0-1, 4 places) of the RATING answers, of every dimension, "
        "that are 4 or 5; null with no ratings."
    )
    dimensions: list[SurveyDimensionStats] = strawberry.field(
        description="Each rated dimension's mean, count and CSAT, by dimension key."
    )
    nps: SurveyNps


@strawberry.type(
    description="Survey figures of one template over a period, counting only the invitations "
    "and responses you may see."
)
class SurveyStats:
    total: SurveyStatsGroup
    groups: list[SurveyStatsGroup] = strawberry.field(
        description="One per key found (empty without groupBy), ordered by key: handlers by "
        "name, weeks and months in time order, other values alphabetically, none last. With "
        "DIMENSION, only the keys with rated answers have groups."
    )


@strawberry.enum(description="The language of a feedback term.")
class FeedbackLanguage(enum.Enum):
    EN = "EN"
    ZH = "ZH"


async def _examples(
    context: RequestContext, terms: Sequence[FeedbackTerm]
) -> list[list[SurveyResponse]]:
    from plugins.surveys.types.invitations import SurveyResponse

    rows = await context.loader(SurveyResponse.by_id_loader).load_level(
        [response_id for term in terms for response_id in term.example_ids]
    )
    found = iter(rows)
    return [
        [
            SurveyResponse.from_model(row)
            for row in [next(found) for _ in term.example_ids]
            if row is not None
        ]
        for term in terms
    ]


@strawberry.type(description="A word or phrase frequent in the comments of low scores.")
class FeedbackTerm:
    term: str = strawberry.field(
        description="English: a lower-cased word or two-word phrase ('slow response'), or a "
        "negated word ('not solved'); Chinese: a word of two or more characters as segmented, "
        "or a negated word ('没有解决')."
    )
    language: FeedbackLanguage
    count: int = strawberry.field(description="How many responses' comments have it.")
    example_ids: strawberry.Private[list[int]]
    examples: list[LazyResponse] = batch_field(
        _examples, description="Up to 3 of those responses, the newest first."
    )


@strawberry.type(description="A customer's satisfaction, from their responses you may see.")
class CustomerSatisfaction:
    csat: float | None = strawberry.field(
        description="The share (0-1, 4 places) of RATING answers that are 4 or 5; null with none."
    )
    nps: float | None = strawberry.field(
        description="Promoters% minus detractors% of the NPS answers (-100..100, 1 place); null "
        "with none."
    )
    responses: int = strawberry.field(description="How many responses.")
    last_response_at: dt.datetime | None = strawberry.field(
        description="When the latest was submitted."
    )
