"""Survey responses as CSV or XLSX downloads (``GET /export/survey-responses.csv`` and
``.xlsx``): the rows of ``surveyResponses`` with the same ``filter`` and ``orderBy``, in the
caller's scope, date-times in the caller's time zone, one column per rated dimension."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import select

from core.plugin_api import (
    Contact,
    ListExport,
    RequestContext,
    SortKey,
    User,
    global_id,
    require,
)
from core.plugin_api import Customer as CustomerRow
from plugins.surveys import declarations, models
from plugins.surveys.inputs.invitations import SurveyResponseFilter, SurveyResponseOrder
from plugins.surveys.queries.invitations import RESPONSE_ORDER, response_statement

BATCH = 1000

COLUMNS = [
    "response_id",
    "submitted_at",
    "customer_number",
    "customer_name",
    "contact_name",
    "contact_email",
    "template_key",
    "template_version",
    "subject_kind",
    "subject_number",
    "subject_type",
    "handler_email",
    "satisfied",
    "nps",
]
LAST = ["comment"]
SCORE_PREFIX = "score_"
"""Each RATING dimension answered in the exported responses has a column ``score_<KEY>``."""


def header(dimensions: Sequence[str], zone_name: str) -> list[str]:
    return [
        *(f"{c} ({zone_name})" if c == "submitted_at" else c for c in COLUMNS),
        *(SCORE_PREFIX + d for d in dimensions),
        *LAST,
    ]


async def _statement(
    context: RequestContext, filter: SurveyResponseFilter | None, order: list[SurveyResponseOrder]
) -> tuple[Any, Sequence[SortKey]]:
    require(context, declarations.READ)
    return response_statement(context, filter), RESPONSE_ORDER.keys(order)


async def _dimensions(context: RequestContext, statement: Any) -> list[str]:
    ids = statement.with_only_columns(models.SurveyResponse.id).order_by(None).subquery()
    answer = models.SurveyAnswer
    async with context.db.read() as session:
        found = await session.scalars(
            select(answer.dimension)
            .where(
                answer.response_id.in_(select(ids.c.id)),
                answer.kind == "RATING",
                answer.dimension.is_not(None),
            )
            .distinct()
        )
        return sorted(str(d) for d in found.all())


async def _details(
    context: RequestContext, batch: Sequence[models.SurveyResponse]
) -> tuple[
    dict[int, tuple[str, str]],
    dict[int, tuple[str, str]],
    dict[int, str],
    dict[int, tuple[str, int]],
    dict[int, str | None],
    dict[int, dict[str, int]],
]:
    """Of one batch: customers' number and name (those the caller may read), contacts' name
    and e-mail (of those customers), handlers' e-mail, versions' template key and number,
    invitations' subject number, and each response's rating per dimension."""
    customer_ids = {row.customer_id for row in batch}
    async with context.db.read() as session:
        customers = {
            row.id: (row.number, row.name)
            for row in await session.execute(
                select(CustomerRow.id, CustomerRow.number, CustomerRow.name).where(
                    CustomerRow.id.in_(customer_ids),
                    context.visible("customers:read", "customers"),
                )
            )
        }
        contacts = {
            row.id: (row.name, row.email or "")
            for row in await session.execute(
                select(Contact.id, Contact.name, Contact.email).where(
                    Contact.id.in_({row.contact_id for row in batch if row.contact_id}),
                    Contact.customer_id.in_(set(customers)),
                )
            )
        }
        handlers: dict[int, str] = dict(
            (
                await session.execute(
                    select(User.id, User.email).where(
                        User.id.in_({row.handler_id for row in batch if row.handler_id})
                    )
                )
            ).all()
        )
        versions = {
            row.id: (row.key, row.number)
            for row in await session.execute(
                select(
                    models.SurveyTemplateVersion.id,
                    models.SurveyTemplate.key,
                    models.SurveyTemplateVersion.number,
                )
                .join(
                    models.SurveyTemplate,
                    models.SurveyTemplate.id == models.SurveyTemplateVersion.template_id,
                )
                .where(
                    models.SurveyTemplateVersion.id.in_({row.template_version_id for row in batch})
                )
            )
        }
        numbers: dict[int, str | None] = dict(
            (
                await session.execute(
                    select(
                        models.SurveyInvitation.id, models.SurveyInvitation.subject_number
                    ).where(models.SurveyInvitation.id.in_({row.invitation_id for row in batch}))
                )
            ).all()
        )
        scores: dict[int, dict[str, int]] = {}
        answers = await session.execute(
            select(
                models.SurveyAnswer.response_id,
                models.SurveyAnswer.dimension,
                models.SurveyAnswer.score,
            ).where(
                models.SurveyAnswer.response_id.in_([row.id for row in batch]),
                models.SurveyAnswer.kind == "RATING",
            )
        )
        for response_id, dimension, score in answers:
            if dimension is not None and score is not None:
                scores.setdefault(response_id, {})[dimension] = score
    return customers, contacts, handlers, versions, numbers, scores


async def response_rows(context: RequestContext, statement: Any) -> AsyncIterator[list[Any]]:
    zone = context.zone
    dimensions = await _dimensions(context, statement)
    yield header(dimensions, zone.key)
    async with context.db.read() as session:
        result = await session.stream_scalars(statement.execution_options(yield_per=BATCH))
        async for batch in result.partitions(BATCH):
            customers, contacts, handlers, versions, numbers, scores = await _details(
                context, batch
            )
            for row in batch:
                number, name = customers.get(row.customer_id, ("", ""))
                contact_name, contact_email = contacts.get(row.contact_id or 0, ("", ""))
                key, version = versions.get(row.template_version_id, ("", 0))
                rated = scores.get(row.id, {})
                yield [
                    global_id("SurveyResponse", row.id),
                    row.submitted_at.astimezone(zone),
                    number,
                    name,
                    contact_name,
                    contact_email,
                    key,
                    version,
                    row.subject_kind,
                    numbers.get(row.invitation_id) or "",
                    row.subject_type or "",
                    handlers.get(row.handler_id or 0, ""),
                    "" if row.satisfied is None else ("yes" if row.satisfied else "no"),
                    "" if row.nps is None else row.nps,
                    *(rated.get(d, "") for d in dimensions),
                    row.comment or "",
                ]


RESPONSES = ListExport(
    name="survey-responses",
    permission=declarations.READ,
    filter_input=("SurveyResponseFilter", SurveyResponseFilter),
    order_input=("SurveyResponseOrder", SurveyResponseOrder),
    statement=_statement,
    rows=response_rows,
)
EXPORTS: list[ListExport] = [RESPONSES]
