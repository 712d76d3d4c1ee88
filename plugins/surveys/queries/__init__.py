"""The surveys plugin's root query fields, one module per aggregate, merged into one type."""

from __future__ import annotations

from strawberry.tools import merge_types

from plugins.surveys.queries.actions import ActionQuery
from plugins.surveys.queries.analysis import AnalysisQuery
from plugins.surveys.queries.invitations import InvitationQuery
from plugins.surveys.queries.schedules import ScheduleQuery
from plugins.surveys.queries.templates import TemplateQuery

SurveysQuery = merge_types(
    "SurveysQuery", (TemplateQuery, InvitationQuery, ScheduleQuery, AnalysisQuery, ActionQuery)
)
