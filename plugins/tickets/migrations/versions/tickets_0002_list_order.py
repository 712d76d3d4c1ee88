"""What the ticket list's orderings need: an index in the order of
``tickets(orderBy: {field: UPDATED_AT})``, and the stored SLA due time (``sla_due_at``, with
its index) that ``orderBy: {field: SLA_DUE}`` sorts by, filled in for the open tickets.

Revision ID: tickets_0002
Revises: tickets_0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.plugin_api import UTCDateTime
from plugins.tickets.calendar import AlwaysOpen, BusinessCalendar, Calendar
from plugins.tickets.domain import DEFAULT_SLA, Clock, due_that_matters

revision: str = "tickets_0002"
down_revision: str | Sequence[str] | None = "tickets_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

tickets = sa.table(
    "tickets",
    sa.column("id", sa.Integer()),
    sa.column("priority", sa.String()),
    sa.column("status", sa.String()),
    sa.column("created_at", UTCDateTime()),
    sa.column("paused_seconds", sa.Float()),
    sa.column("waiting_since", UTCDateTime()),
    sa.column("first_responded_at", UTCDateTime()),
    sa.column("resolved_at", UTCDateTime()),
    sa.column("sla_due_at", UTCDateTime()),
)


def _calendar(bind: sa.Connection) -> Calendar:
    row = bind.execute(
        sa.text(
            "SELECT time_zone, weekdays, start_time, end_time, holidays "
            "FROM ticket_business_hours WHERE id = 1"
        ).columns(
            sa.column("time_zone", sa.String()),
            sa.column("weekdays", sa.JSON()),
            sa.column("start_time", sa.String()),
            sa.column("end_time", sa.String()),
            sa.column("holidays", sa.JSON()),
        )
    ).first()
    if row is None:
        return AlwaysOpen()
    return BusinessCalendar(
        time_zone=row.time_zone,
        weekdays=frozenset(row.weekdays),
        # One working span: what the table held at this revision (tickets_0003 made spans).
        spans=((dt.time.fromisoformat(row.start_time), dt.time.fromisoformat(row.end_time)),),
        holidays=frozenset(dt.date.fromisoformat(d) for d in row.holidays or []),
    )


def upgrade() -> None:
    op.create_index("ix_tickets_updated", "tickets", ["updated_at", "id"])
    op.add_column("tickets", sa.Column("sla_due_at", UTCDateTime(), nullable=True))
    op.create_index("ix_tickets_sla_due", "tickets", ["sla_due_at", "id"])
    bind = op.get_bind()
    targets = dict(DEFAULT_SLA)
    policies = sa.text(
        "SELECT priority, first_response_minutes, resolution_minutes FROM ticket_sla_policies"
    )
    for priority, first, resolution in bind.execute(policies):
        targets[priority] = (first, resolution)
    calendar = _calendar(bind)
    open_rows = bind.execute(
        sa.select(tickets).where(tickets.c.status.not_in(("RESOLVED", "CLOSED")))
    ).all()
    changes = [
        {
            "ticket_id": row.id,
            "due": due_that_matters(
                Clock(
                    row.created_at,
                    row.paused_seconds or 0.0,
                    row.waiting_since,
                    row.first_responded_at,
                    row.resolved_at,
                ),
                row.status,
                targets[row.priority],
                calendar,
            ),
        }
        for row in open_rows
    ]
    if changes:
        bind.execute(
            tickets.update()
            .where(tickets.c.id == sa.bindparam("ticket_id"))
            .values(sla_due_at=sa.bindparam("due")),
            changes,
        )


def downgrade() -> None:
    op.drop_index("ix_tickets_sla_due", table_name="tickets")
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_column("sla_due_at")
    op.drop_index("ix_tickets_updated", table_name="tickets")
