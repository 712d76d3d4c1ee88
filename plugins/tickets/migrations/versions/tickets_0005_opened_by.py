"""An index on the timeline's actor and kind: whoever opened a ticket (the actor of its
OPENED event) owns it, and the tickets access policy looks those events up by actor.

Revision ID: tickets_0005
Revises: tickets_0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "tickets_0005"
down_revision: str | Sequence[str] | None = "tickets_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_ticket_events_actor_kind", "ticket_events", ["actor_id", "kind"])


def downgrade() -> None:
    op.drop_index("ix_ticket_events_actor_kind", table_name="ticket_events")
