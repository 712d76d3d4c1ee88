"""The surveys plugin's mutations, one module per aggregate, merged into one type."""

from __future__ import annotations

from strawberry.tools import merge_types

from plugins.surveys.mutations.actions import ActionMutation
from plugins.surveys.mutations.answering import AnsweringMutation
from plugins.surveys.mutations.invitations import InvitationMutation
from plugins.surveys.mutations.schedules import ScheduleMutation
from plugins.surveys.mutations.templates import TemplateMutation

SurveysMutation = merge_types(
    "SurveysMutation",
    (TemplateMutation, InvitationMutation, ScheduleMutation, AnsweringMutation, ActionMutation),
)
