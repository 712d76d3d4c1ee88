"""Ticket changes: the state machine, notes, routing, assignment, SLA settings.

Every change runs in the caller's transaction, checks the caller's scope (``tickets:write``
for work on a ticket, ``tickets:assign`` to assign or transfer, ``tickets:manage`` for SLA
policies, business hours and routing rules), writes an event on the ticket's timeline and
an audit event, and announces itself through the plugin's hooks.

The rules are split per concern: :mod:`.lifecycle` (open, status steps, confirmation),
:mod:`.assignment` (routing, assignment, transfer, escalation), :mod:`.notes`, :mod:`.sla`
(SLA targets and business hours), :mod:`.customers` (archive, merge, erasure of a
customer) and :mod:`.jobs` (auto-close); this package re-exports their public names.
"""

from __future__ import annotations

from plugins.tickets.service.assignment import (
    assign,
    assignable_users,
    escalate,
    set_routing_rule,
)
from plugins.tickets.service.common import COUNTER, NUMBER_PREFIX, writable_ticket
from plugins.tickets.service.customers import erase_tickets, open_count, profile_section
from plugins.tickets.service.jobs import auto_close
from plugins.tickets.service.lifecycle import confirm_resolution, move, open_ticket, transition
from plugins.tickets.service.notes import add_note
from plugins.tickets.service.sla import (
    calendar,
    refresh_open_sla_due,
    set_business_hours,
    set_sla_policy,
    sla_targets,
)

__all__ = [
    "COUNTER",
    "NUMBER_PREFIX",
    "add_note",
    "assign",
    "assignable_users",
    "auto_close",
    "calendar",
    "confirm_resolution",
    "erase_tickets",
    "escalate",
    "move",
    "open_count",
    "open_ticket",
    "profile_section",
    "refresh_open_sla_due",
    "set_business_hours",
    "set_routing_rule",
    "set_sla_policy",
    "sla_targets",
    "transition",
    "writable_ticket",
]
