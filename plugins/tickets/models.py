"""Tables of the tickets plugin."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.plugin_api import Base, UTCDateTime, utcnow


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_customer_created", "customer_id", "created_at", "id"),
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
        Index("ix_tickets_status_created", "status", "created_at", "id"),
        Index("ix_tickets_updated", "updated_at", "id"),
        Index("ix_tickets_sla_due", "sla_due_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    type: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expected_resolution_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[str | None] = mapped_column(Text)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    first_responded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    waiting_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    paused_seconds: Mapped[float] = mapped_column(default=0.0)
    sla_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sla_grade: Mapped[str | None] = mapped_column(String(16))
    """The customer's grade when the ticket was opened: it picks a grade's SLA policy."""
    sla_risk_told_for: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sla_breach_told_for: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    """The ``sla_due_at`` its people were last told is at risk / breached (the SLA watch)."""
    """The SLA due time that matters now (the first response's until there is one, then the
    resolution's); NULL while the clock stands (WAITING) or once resolved or closed. Kept
    by every change of the ticket, its SLA policy or the business hours, for sorting."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class TicketEvent(Base):
    """A step on a ticket's timeline: a status change, a note, an assignment..."""

    __tablename__ = "ticket_events"
    __table_args__ = (
        Index("ix_ticket_events_ticket", "ticket_id", "created_at", "id"),
        # Who opened a ticket (the actor of its OPENED event) owns it: the access policy asks.
        Index("ix_ticket_events_actor_kind", "actor_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SlaPolicy(Base):
    __tablename__ = "ticket_sla_policies"
    __table_args__ = {"info": {"seeded": True}}

    priority: Mapped[str] = mapped_column(String(8), primary_key=True)
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GradeSlaPolicy(Base):
    """The SLA policy of a priority for the customers of one grade, instead of the
    priority's own (``SlaPolicy``)."""

    __tablename__ = "ticket_grade_sla_policies"

    grade: Mapped[str] = mapped_column(String(16), primary_key=True)
    priority: Mapped[str] = mapped_column(String(8), primary_key=True)
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BusinessHours(Base):
    """The one business-hours calendar (row id 1), when set."""

    __tablename__ = "ticket_business_hours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    weekdays: Mapped[list[int]] = mapped_column(JSON)  # Monday = 0
    spans: Mapped[list[list[str]]] = mapped_column(JSON)  # [["09:00", "12:00"], ...]
    # Spans of the weekdays that differ: {"5": [["09:00", "12:00"]]} (Saturday = 5).
    weekday_spans: Mapped[dict[str, list[list[str]]]] = mapped_column(JSON, default=dict)
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)
    working_days: Mapped[list[str]] = mapped_column(JSON, default=list)
    holiday_calendar: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RoutingRule(Base):
    __tablename__ = "ticket_routing_rules"

    type: Mapped[str] = mapped_column(String(16), primary_key=True)
    strategy: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    user_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    last_user_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
