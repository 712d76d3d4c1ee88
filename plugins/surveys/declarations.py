"""The surveys plugin's permissions, the grants of the built-in roles, its access policy.

Declared through the same hooks core's modules use (see :mod:`plugins.surveys.hooks`). One
policy resource, ``surveys``, covers invitations and responses: OWN reaches those of the
tickets a user handled and of the customers they own; TEAM those of the team; ALL every one.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import ColumnElement, or_

from core.plugin_api import (
    CUSTOMER_MANAGER,
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
    AccessPolicy,
    Grant,
    Permission,
    RequestContext,
    Scope,
    customer_owned_by,
)
from plugins.surveys import models

READ = "surveys:read"
MANAGE = "surveys:manage"
RESOURCE = "surveys"

PERMISSIONS = (
    Permission(
        READ,
        "See survey invitations, responses and satisfaction figures: of the tickets one "
        "handled and the customers one owns (OWN), of one's team (TEAM), or all.",
    ),
    Permission(
        MANAGE,
        "Edit survey templates, send surveys, schedule relationship surveys and follow up "
        "improvement actions.",
    ),
)

ROLE_GRANTS: dict[str, list[Grant]] = {
    SUPPORT_REPRESENTATIVE: [Grant(READ, Scope.OWN)],
    SALES_REPRESENTATIVE: [Grant(READ, Scope.OWN)],
    CUSTOMER_MANAGER: [Grant(READ, Scope.ALL), Grant(MANAGE, Scope.ALL)],
}


def _handled_or_owned(handler_id: Any, customer_id: Any, ids: Any) -> ColumnElement[bool]:
    return or_(handler_id.in_(ids), customer_owned_by(customer_id, ids))


POLICIES = (
    AccessPolicy(
        RESOURCE,
        functools.partial(
            _handled_or_owned,
            models.SurveyInvitation.handler_id,
            models.SurveyInvitation.customer_id,
        ),
    ),
    AccessPolicy(
        "surveys.responses",
        functools.partial(
            _handled_or_owned, models.SurveyResponse.handler_id, models.SurveyResponse.customer_id
        ),
    ),
)
RESPONSES = "surveys.responses"
"""The same rule over ``survey_responses`` (use with :func:`visible`)."""


def visible(context: RequestContext, resource: str = RESPONSES) -> Any:
    """The invitations (``RESOURCE``) or responses (``RESPONSES``) the caller may read."""
    return context.visible(READ, resource)
