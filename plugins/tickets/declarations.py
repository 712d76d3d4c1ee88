"""The tickets plugin's permissions, the grants of the built-in roles, its access policy.

Declared through the same hooks core's modules use (see :mod:`plugins.tickets.hooks`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, select

from core.plugin_api import (
    CUSTOMER_MANAGER,
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
    SYSTEM_ADMINISTRATOR,
    AccessPolicy,
    Grant,
    Permission,
    Scope,
    customer_owned_by,
)
from plugins.tickets import models

PERMISSIONS = (
    Permission("tickets:read", "See service tickets and their timelines."),
    Permission("tickets:write", "Open tickets and work them: notes, status, escalation."),
    Permission("tickets:assign", "Assign and transfer tickets."),
    Permission("tickets:manage", "Set SLA policies, business hours and routing rules."),
    Permission(
        "tickets:handle",
        "Be on the support desk: anyone who assigns tickets may hand one to you (ALL: to "
        "whoever assigns; TEAM: to those of your team).",
    ),
)

ROLE_GRANTS: dict[str, list[Grant]] = {
    SUPPORT_REPRESENTATIVE: [
        Grant("tickets:read", Scope.ALL),
        Grant("tickets:write", Scope.OWN),
        Grant("tickets:assign", Scope.TEAM),
        Grant("tickets:handle", Scope.ALL),
    ],
    SALES_REPRESENTATIVE: [Grant("tickets:read", Scope.OWN), Grant("tickets:write", Scope.OWN)],
    CUSTOMER_MANAGER: [
        Grant("tickets:read", Scope.TEAM),
        Grant("tickets:write", Scope.TEAM),
        Grant("tickets:assign", Scope.TEAM),
    ],
    SYSTEM_ADMINISTRATOR: [
        Grant("tickets:read", Scope.ALL),
        Grant("tickets:manage", Scope.ALL),
    ],
}


def _tickets_owned_by(ids: Any) -> ColumnElement[bool]:
    # OWN: tickets assigned to the user, opened by them, or on customers they own (TEAM: of
    # their team). Who opened a ticket is the actor of its OPENED event.
    opened = select(models.TicketEvent.ticket_id).where(
        models.TicketEvent.kind == "OPENED", models.TicketEvent.actor_id.in_(ids)
    )
    return or_(
        models.Ticket.assignee_id.in_(ids),
        models.Ticket.id.in_(opened),
        customer_owned_by(models.Ticket.customer_id, ids),
    )


POLICIES = (AccessPolicy("tickets", _tickets_owned_by),)
