"""Business hours with several working spans a day (a lunch break), spans per weekday,
extra working days and a named public holiday calendar: ``start_time``/``end_time`` become
one span.

Revision ID: tickets_0003
Revises: tickets_0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "tickets_0003"
down_revision: str | Sequence[str] | None = "tickets_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

hours = sa.table(
    "ticket_business_hours",
    sa.column("id", sa.Integer()),
    sa.column("start_time", sa.String()),
    sa.column("end_time", sa.String()),
    sa.column("spans", sa.JSON()),
    sa.column("weekday_spans", sa.JSON()),
    sa.column("working_days", sa.JSON()),
)


def upgrade() -> None:
    with op.batch_alter_table("ticket_business_hours") as batch_op:
        batch_op.add_column(sa.Column("spans", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("weekday_spans", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("working_days", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("holiday_calendar", sa.String(length=16), nullable=True))
    bind = op.get_bind()
    for row in bind.execute(sa.select(hours.c.id, hours.c.start_time, hours.c.end_time)).all():
        bind.execute(
            hours.update()
            .where(hours.c.id == row.id)
            .values(spans=[[row.start_time, row.end_time]], weekday_spans={}, working_days=[])
        )
    with op.batch_alter_table("ticket_business_hours") as batch_op:
        batch_op.alter_column("spans", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("weekday_spans", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("working_days", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column("start_time")
        batch_op.drop_column("end_time")


def downgrade() -> None:
    """Back to one span a day: from the start of the first span to the end of the last (a
    lunch break counts as working time again); spans per weekday, extra working days and
    the named calendar are dropped."""
    with op.batch_alter_table("ticket_business_hours") as batch_op:
        batch_op.add_column(sa.Column("start_time", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("end_time", sa.String(length=5), nullable=True))
    bind = op.get_bind()
    for row in bind.execute(sa.select(hours.c.id, hours.c.spans)).all():
        bind.execute(
            hours.update()
            .where(hours.c.id == row.id)
            .values(start_time=row.spans[0][0], end_time=row.spans[-1][1])
        )
    with op.batch_alter_table("ticket_business_hours") as batch_op:
        batch_op.alter_column("start_time", existing_type=sa.String(length=5), nullable=False)
        batch_op.alter_column("end_time", existing_type=sa.String(length=5), nullable=False)
        batch_op.drop_column("holiday_calendar")
        batch_op.drop_column("working_days")
        batch_op.drop_column("weekday_spans")
        batch_op.drop_column("spans")
