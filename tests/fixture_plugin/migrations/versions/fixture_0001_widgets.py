"""Fixture plugin: widgets (owned by users) and their notes.

Revision ID: fixture_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision: str = "fixture_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("fixture",)
depends_on: str | Sequence[str] | None = "core_0002"


def upgrade() -> None:
    op.create_table(
        "fixture_widgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_fixture_widgets_owner_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fixture_widgets")),
    )
    op.create_index(
        op.f("ix_fixture_widgets_owner_id"), "fixture_widgets", ["owner_id"], unique=False
    )
    op.create_index(
        op.f("ix_fixture_widgets_created_at"), "fixture_widgets", ["created_at"], unique=False
    )
    op.create_table(
        "fixture_widget_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("widget_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["widget_id"],
            ["fixture_widgets.id"],
            name=op.f("fk_fixture_widget_notes_widget_id_fixture_widgets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fixture_widget_notes")),
    )
    op.create_index(
        op.f("ix_fixture_widget_notes_widget_id"),
        "fixture_widget_notes",
        ["widget_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_fixture_widget_notes_widget_id"), table_name="fixture_widget_notes")
    op.drop_table("fixture_widget_notes")
    op.drop_index(op.f("ix_fixture_widgets_owner_id"), table_name="fixture_widgets")
    op.drop_index(op.f("ix_fixture_widgets_created_at"), table_name="fixture_widgets")
    op.drop_table("fixture_widgets")
