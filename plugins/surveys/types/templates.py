"""GraphQL types of survey templates: SurveyTemplate, its versions and their questions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Self

import strawberry
from strawberry import relay

from core.plugin_api import (
    ModelNode,
    RequestContext,
    UserError,
    UserSummary,
    batch_field,
    related,
)
from plugins.surveys import models
from plugins.surveys.inputs.templates import SurveyPurpose, SurveyQuestionKind
from plugins.surveys.loaders.templates import (
    CurrentVersionLoader,
    TemplateByIdLoader,
    TemplateVersionByIdLoader,
    TemplateVersionsLoader,
)
from plugins.surveys.questions import Question


def _in(context: RequestContext, en: str, zh: str) -> str:
    return zh if str(context.locale).startswith("zh") else en


async def _texts(
    context: RequestContext, parents: Sequence[SurveyChoice | SurveyQuestion]
) -> list[str]:
    return [_in(context, parent.text_en, parent.text_zh) for parent in parents]


@strawberry.type(description="One choice of a CHOICE question.")
class SurveyChoice:
    key: str
    text_en: str
    text_zh: str
    text: str = batch_field(_texts, description="The text in the request's language.")


@strawberry.type(description="One question of a template version.")
class SurveyQuestion:
    key: str
    kind: SurveyQuestionKind
    dimension: str | None = strawberry.field(
        description="RATING: the aspect rated; YES_NO: SATISFIED for the overall answer."
    )
    required: bool
    text_en: str
    text_zh: str
    choices: list[SurveyChoice] = strawberry.field(description="CHOICE only; else empty.")
    text: str = batch_field(_texts, description="The question in the request's language.")

    @classmethod
    def of(cls, question: Question) -> Self:
        return cls(
            key=question.key,
            kind=SurveyQuestionKind(question.kind.value),
            dimension=question.dimension,
            required=question.required,
            text_en=question.text_en,
            text_zh=question.text_zh,
            choices=[
                SurveyChoice(key=c.key, text_en=c.text_en, text_zh=c.text_zh)
                for c in question.choices
            ],
        )


async def _questions(
    _context: RequestContext, versions: Sequence[SurveyTemplateVersion]
) -> list[list[SurveyQuestion]]:
    return [
        [SurveyQuestion.of(Question.of(item)) for item in version.stored_questions]
        for version in versions
    ]


@strawberry.type(
    description="The questions of a template as they were at one version; each invitation "
    "and response keeps the version it asked."
)
class SurveyTemplateVersion(ModelNode[models.SurveyTemplateVersion]):
    by_id_loader = TemplateVersionByIdLoader
    id: relay.NodeID[int]
    number: int = strawberry.field(description="1, 2, ... within the template.")
    created_at: dt.datetime
    template_id: strawberry.Private[int]
    created_by_id: strawberry.Private[int | None]
    stored_questions: strawberry.Private[list[dict[str, Any]]]
    questions: list[SurveyQuestion] = batch_field(_questions)
    template: SurveyTemplate | None = batch_field(related(lambda: SurveyTemplate, "template_id"))
    created_by: UserSummary | None = batch_field(
        related(UserSummary, "created_by_id"),
        description="Who wrote this version; null for a built-in one.",
    )

    @classmethod
    def from_model(cls, row: models.SurveyTemplateVersion) -> Self:
        return cls(
            id=row.id,
            number=row.number,
            created_at=row.created_at,
            template_id=row.template_id,
            created_by_id=row.created_by_id,
            stored_questions=list(row.questions or []),
        )


async def _names(context: RequestContext, templates: Sequence[SurveyTemplate]) -> list[str]:
    return [_in(context, template.name_en, template.name_zh) for template in templates]


async def _current_versions(
    context: RequestContext, templates: Sequence[SurveyTemplate]
) -> list[SurveyTemplateVersion | None]:
    rows = await context.loader(CurrentVersionLoader).load_level(
        [(template.id, template.current_version_number) for template in templates]
    )
    return [SurveyTemplateVersion.from_model(row) if row is not None else None for row in rows]


async def _versions(
    context: RequestContext, templates: Sequence[SurveyTemplate]
) -> list[list[SurveyTemplateVersion]]:
    found = await context.loader(TemplateVersionsLoader).load_level(
        [template.id for template in templates]
    )
    return [[SurveyTemplateVersion.from_model(row) for row in rows] for rows in found]


@strawberry.type(description="A survey: its questions (in versions), names and purpose.")
class SurveyTemplate(ModelNode[models.SurveyTemplate]):
    by_id_loader = TemplateByIdLoader
    id: relay.NodeID[int]
    key: str = strawberry.field(description="Unique, e.g. CSAT_SERVICE.")
    purpose: SurveyPurpose
    name_en: str
    name_zh: str
    active: bool = strawberry.field(description="false: nothing new is sent with it.")
    built_in: bool = strawberry.field(description="Seeded with the plugin; editable.")
    current_version_number: int = strawberry.field(
        description="The number of the version new invitations ask."
    )
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int = strawberry.field(
        description="The row's version for updates (not the questions' version)."
    )
    name: str = batch_field(_names, description="The name in the request's language.")
    current_version: SurveyTemplateVersion | None = batch_field(
        _current_versions, description="The version new invitations ask."
    )
    versions: list[SurveyTemplateVersion] = batch_field(
        _versions, description="Every version, newest first."
    )

    @classmethod
    def from_model(cls, row: models.SurveyTemplate) -> Self:
        return cls(
            id=row.id,
            key=row.key,
            purpose=SurveyPurpose(row.purpose),
            name_en=row.name_en,
            name_zh=row.name_zh,
            active=row.active,
            built_in=row.built_in,
            current_version_number=row.current_version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
        )


@strawberry.type
class SurveyTemplatePayload:
    template: SurveyTemplate | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.SurveyTemplate | None, errors: list[UserError]) -> Self:
        return cls(template=SurveyTemplate.from_model(row) if row else None, errors=errors)


@strawberry.type
class CreateSurveyTemplatePayload(SurveyTemplatePayload):
    pass


@strawberry.type
class UpdateSurveyTemplatePayload(SurveyTemplatePayload):
    pass


@strawberry.type
class SetSurveyTemplateActivePayload(SurveyTemplatePayload):
    pass


NODES: list[type[Any]] = [SurveyTemplate, SurveyTemplateVersion]
"""Node types of this module (for ``node(id:)``)."""
