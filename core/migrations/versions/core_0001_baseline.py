"""Core baseline: the root of the core branch that every module's branch depends on.

Revision ID: core_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "core_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("core",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to create: core's tables arrive in the revisions that follow."""


def downgrade() -> None:
    """Nothing to drop."""
