"""An index in the order of ``tickets(orderBy: {field: UPDATED_AT})``: the list's pages, in
either direction, are range scans of it instead of a sort of every ticket.

Revision ID: tickets_0002
Revises: tickets_0001
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "tickets_0002"
down_revision: str | Sequence[str] | None = "tickets_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tickets_updated", "tickets", ["updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_tickets_updated", table_name="tickets")
