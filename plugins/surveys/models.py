"""Tables of the surveys plugin: templates and their versions, invitations (one per contact
asked, sent or skipped with the reason), responses with their answers, relationship-survey
schedules, improvement actions, and the per-address rate limit of the public page.

A template's questions live in its versions: editing a template whose current version has
answers makes a new version, and each invitation and response keeps the version it asked.
Only a hash of an invitation's token is stored; the token itself is in the link sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.plugin_api import Base, UTCDateTime, utcnow


class SurveyTemplate(Base):
    __tablename__ = "survey_templates"
    __table_args__ = {"info": {"seeded": True}}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    """TICKET (asked after a resolved ticket), RELATIONSHIP (periodic loyalty) or GENERAL."""
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    built_in: Mapped[bool] = mapped_column(Boolean, default=False)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    """The number of the version new invitations ask."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer)
    """The row's version for optimistic concurrency (not the questions' version)."""


class SurveyTemplateVersion(Base):
    __tablename__ = "survey_template_versions"
    __table_args__ = (UniqueConstraint("template_id", "number"), {"info": {"seeded": True}})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("survey_templates.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """Each question: ``key``, ``kind`` (RATING, NPS, YES_NO, CHOICE, TEXT), ``dimension``
    (RATING: the aspect rated; YES_NO: ``SATISFIED`` marks the overall answer that closes or
    reopens a ticket), ``required``, ``text_en``, ``text_zh`` and, for CHOICE, ``choices``
    (each ``key``, ``text_en``, ``text_zh``)."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class SurveySchedule(Base):
    """A relationship survey sent to a filtered set of customers every month or quarter."""

    __tablename__ = "survey_schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    template_id: Mapped[int] = mapped_column(
        ForeignKey("survey_templates.id", ondelete="CASCADE"), index=True
    )
    frequency: Mapped[str] = mapped_column(String(16))
    """MONTHLY or QUARTERLY."""
    stages: Mapped[list[str]] = mapped_column(JSON, default=list)
    grades: Mapped[list[str]] = mapped_column(JSON, default=list)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Customer filters; an empty list does not filter."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    next_run_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    last_run_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer)


class SurveyInvitation(Base):
    """One contact asked one survey: SENT (a link went out), SKIPPED (with the reason: no
    contact, no email, asked too recently, the handler themselves) or ANSWERED."""

    __tablename__ = "survey_invitations"
    __table_args__ = (
        Index("ix_survey_invitations_contact_sent", "contact_id", "sent_at"),
        Index("ix_survey_invitations_subject", "subject_kind", "subject_id"),
        Index("ix_survey_invitations_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("survey_templates.id"), index=True)
    template_version_id: Mapped[int] = mapped_column(ForeignKey("survey_template_versions.id"))
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    email: Mapped[str | None] = mapped_column(String(254))
    """The address the link was sent to (``None`` when skipped)."""
    locale: Mapped[str] = mapped_column(String(16))
    subject_kind: Mapped[str] = mapped_column(String(16))
    """TICKET (after a resolved ticket), SCHEDULE (a relationship schedule) or MANUAL."""
    subject_id: Mapped[int | None] = mapped_column(Integer)
    """The ticket's id for TICKET (no foreign key: the tickets plugin may be disabled)."""
    subject_number: Mapped[str | None] = mapped_column(String(32))
    subject_type: Mapped[str | None] = mapped_column(String(32))
    """The ticket's type, as the tickets plugin announced it."""
    handler_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    """Who handled the ticket (never the respondent)."""
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_schedules.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    skip_reason: Mapped[str | None] = mapped_column(String(32))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class SurveyResponse(Base):
    """The answers to one invitation (one response per invitation). The subject, handler
    and customer are copied from the invitation so the analysis groups without joins."""

    __tablename__ = "survey_responses"
    __table_args__ = (Index("ix_survey_responses_submitted", "submitted_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("survey_invitations.id", ondelete="CASCADE"), unique=True
    )
    template_id: Mapped[int] = mapped_column(ForeignKey("survey_templates.id"), index=True)
    template_version_id: Mapped[int] = mapped_column(ForeignKey("survey_template_versions.id"))
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    subject_type: Mapped[str | None] = mapped_column(String(32))
    handler_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    locale: Mapped[str] = mapped_column(String(16))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    """The answer to the template's SATISFIED yes/no question, if it has one."""
    nps: Mapped[int | None] = mapped_column(Integer)
    """The NPS answer (0-10), if the template has one."""
    comment: Mapped[str | None] = mapped_column(Text)
    """The TEXT answers, joined."""
    low_scored: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    """Not satisfied, a rating of 1 or 2, or an NPS of 0-6: the comments mined for
    frequent negative feedback."""


class SurveyAnswer(Base):
    __tablename__ = "survey_answers"
    __table_args__ = (Index("ix_survey_answers_dimension", "dimension", "response_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), index=True
    )
    question_key: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(8))
    dimension: Mapped[str | None] = mapped_column(String(40))
    score: Mapped[int | None] = mapped_column(Integer)
    """RATING (1-5) and NPS (0-10)."""
    yes: Mapped[bool | None] = mapped_column(Boolean)
    choice: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str | None] = mapped_column(Text)


class ImprovementAction(Base):
    """An action taken on frequent negative feedback, followed up to DONE; the trend of the
    dimension it targets is shown beside it."""

    __tablename__ = "survey_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), index=True)
    """OPEN, IN_PROGRESS, DONE or CANCELLED."""
    dimension: Mapped[str | None] = mapped_column(String(40))
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_templates.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer)


class ImprovementActionResponse(Base):
    """The responses an improvement action answers."""

    __tablename__ = "survey_action_responses"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("survey_actions.id", ondelete="CASCADE"), primary_key=True
    )
    response_id: Mapped[int] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SurveyRateLimit(Base):
    """Requests to the public page and ``submitSurveyResponse`` per client address, counted
    in fixed windows in the database so every app process sees the same count."""

    __tablename__ = "survey_rate_limits"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(Integer)
