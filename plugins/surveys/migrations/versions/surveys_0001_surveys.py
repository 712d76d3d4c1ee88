"""Surveys plugin: templates and their versions (seeded with the service CSAT survey and the
relationship NPS survey), invitations, responses and answers, relationship-survey schedules,
improvement actions, and the public page's per-address rate limit.

Revision ID: surveys_0001
Revises:
Create Date: 2026-12-05
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from core.plugin_api import UTCDateTime

revision: str = "surveys_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("surveys",)
depends_on: str | Sequence[str] | None = "core_0003"


def _rating(key: str, dimension: str, en: str, zh: str) -> dict[str, Any]:
    return {
        "key": key,
        "kind": "RATING",
        "dimension": dimension,
        "required": True,
        "text_en": en,
        "text_zh": zh,
        "choices": [],
    }


CSAT_QUESTIONS: list[dict[str, Any]] = [
    _rating(
        "response_speed",
        "RESPONSE_SPEED",
        "How quickly did we respond to you?",
        "我们的响应速度如何？",
    ),
    _rating(
        "resolution", "RESOLUTION", "How well was your problem solved?", "问题解决的效果如何？"
    ),
    _rating(
        "attitude",
        "ATTITUDE",
        "How was the attitude of the staff who helped you?",
        "服务人员的态度如何？",
    ),
    _rating(
        "professionalism",
        "PROFESSIONALISM",
        "How professional was the staff who helped you?",
        "服务人员的专业水平如何？",
    ),
    {
        "key": "satisfied",
        "kind": "YES_NO",
        "dimension": "SATISFIED",
        "required": True,
        "text_en": "Are you satisfied with the resolution?",
        "text_zh": "您对问题的解决结果满意吗？",
        "choices": [],
    },
    {
        "key": "comment",
        "kind": "TEXT",
        "dimension": None,
        "required": False,
        "text_en": "Anything else you would like to tell us?",
        "text_zh": "您还有其他意见或建议吗？",
        "choices": [],
    },
]
NPS_QUESTIONS: list[dict[str, Any]] = [
    {
        "key": "recommend",
        "kind": "NPS",
        "dimension": "RECOMMEND",
        "required": True,
        "text_en": "How likely are you to recommend us to a friend or colleague?",
        "text_zh": "您向朋友或同事推荐我们的可能性有多大？",
        "choices": [],
    },
    {
        "key": "reason",
        "kind": "TEXT",
        "dimension": None,
        "required": False,
        "text_en": "What is the main reason for your score?",
        "text_zh": "您给出这个分数的主要原因是什么？",
        "choices": [],
    },
]
BUILT_IN = [  # key, purpose, English name, Chinese name, questions
    ("CSAT_SERVICE", "TICKET", "Service satisfaction", "服务满意度调查", CSAT_QUESTIONS),
    (
        "NPS_RELATIONSHIP",
        "RELATIONSHIP",
        "Relationship survey (NPS)",
        "客户关系调查（NPS）",
        NPS_QUESTIONS,
    ),
]


def upgrade() -> None:
    op.create_table(
        "survey_rate_limits",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_survey_rate_limits")),
    )
    op.create_table(
        "survey_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("built_in", sa.Boolean(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_templates")),
        sa.UniqueConstraint("key", name=op.f("uq_survey_templates_key")),
        info={"seeded": True},
    )
    op.create_table(
        "survey_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("dimension", sa.String(length=40), nullable=True),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_survey_actions_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_survey_actions_owner_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["survey_templates.id"],
            name=op.f("fk_survey_actions_template_id_survey_templates"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_actions")),
    )
    with op.batch_alter_table("survey_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_actions_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_actions_status"), ["status"], unique=False)

    op.create_table(
        "survey_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("stages", sa.JSON(), nullable=False),
        sa.Column("grades", sa.JSON(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("next_run_at", UTCDateTime(), nullable=False),
        sa.Column("last_run_at", UTCDateTime(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_survey_schedules_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["survey_templates.id"],
            name=op.f("fk_survey_schedules_template_id_survey_templates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_schedules")),
    )
    with op.batch_alter_table("survey_schedules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_schedules_next_run_at"), ["next_run_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_schedules_template_id"), ["template_id"], unique=False
        )

    op.create_table(
        "survey_template_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_survey_template_versions_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["survey_templates.id"],
            name=op.f("fk_survey_template_versions_template_id_survey_templates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_template_versions")),
        sa.UniqueConstraint(
            "template_id", "number", name=op.f("uq_survey_template_versions_template_id_number")
        ),
        info={"seeded": True},
    )
    with op.batch_alter_table("survey_template_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_template_versions_template_id"), ["template_id"], unique=False
        )

    op.create_table(
        "survey_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("template_version_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("subject_number", sa.String(length=32), nullable=True),
        sa.Column("subject_type", sa.String(length=32), nullable=True),
        sa.Column("handler_id", sa.Integer(), nullable=True),
        sa.Column("schedule_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("skip_reason", sa.String(length=32), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_survey_invitations_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_survey_invitations_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_survey_invitations_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["handler_id"],
            ["users.id"],
            name=op.f("fk_survey_invitations_handler_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["survey_schedules.id"],
            name=op.f("fk_survey_invitations_schedule_id_survey_schedules"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["survey_templates.id"],
            name=op.f("fk_survey_invitations_template_id_survey_templates"),
        ),
        sa.ForeignKeyConstraint(
            ["template_version_id"],
            ["survey_template_versions.id"],
            name=op.f("fk_survey_invitations_template_version_id_survey_template_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_survey_invitations_token_hash")),
    )
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_invitations_contact_sent", ["contact_id", "sent_at"], unique=False
        )
        batch_op.create_index("ix_survey_invitations_created", ["created_at", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_survey_invitations_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_invitations_handler_id"), ["handler_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_survey_invitations_status"), ["status"], unique=False)
        batch_op.create_index(
            "ix_survey_invitations_subject", ["subject_kind", "subject_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_invitations_template_id"), ["template_id"], unique=False
        )

    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("template_version_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("subject_type", sa.String(length=32), nullable=True),
        sa.Column("handler_id", sa.Integer(), nullable=True),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("satisfied", sa.Boolean(), nullable=True),
        sa.Column("nps", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("low_scored", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_survey_responses_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_survey_responses_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["handler_id"],
            ["users.id"],
            name=op.f("fk_survey_responses_handler_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["survey_invitations.id"],
            name=op.f("fk_survey_responses_invitation_id_survey_invitations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["survey_templates.id"],
            name=op.f("fk_survey_responses_template_id_survey_templates"),
        ),
        sa.ForeignKeyConstraint(
            ["template_version_id"],
            ["survey_template_versions.id"],
            name=op.f("fk_survey_responses_template_version_id_survey_template_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("invitation_id", name=op.f("uq_survey_responses_invitation_id")),
    )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_responses_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_responses_handler_id"), ["handler_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_responses_low_scored"), ["low_scored"], unique=False
        )
        batch_op.create_index("ix_survey_responses_submitted", ["submitted_at", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_survey_responses_template_id"), ["template_id"], unique=False
        )

    op.create_table(
        "survey_action_responses",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["survey_actions.id"],
            name=op.f("fk_survey_action_responses_action_id_survey_actions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_survey_action_responses_response_id_survey_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "action_id", "response_id", name=op.f("pk_survey_action_responses")
        ),
    )
    with op.batch_alter_table("survey_action_responses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_action_responses_response_id"), ["response_id"], unique=False
        )

    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_key", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("dimension", sa.String(length=40), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("yes", sa.Boolean(), nullable=True),
        sa.Column("choice", sa.String(length=40), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_survey_answers_response_id_survey_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answers")),
    )
    with op.batch_alter_table("survey_answers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_answers_dimension", ["dimension", "response_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_answers_response_id"), ["response_id"], unique=False
        )

    now = dt.datetime.now(dt.UTC)
    templates = sa.table(
        "survey_templates",
        sa.column("id", sa.Integer()),
        sa.column("key", sa.String()),
        sa.column("purpose", sa.String()),
        sa.column("name_en", sa.String()),
        sa.column("name_zh", sa.String()),
        sa.column("active", sa.Boolean()),
        sa.column("built_in", sa.Boolean()),
        sa.column("current_version", sa.Integer()),
        sa.column("created_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
        sa.column("version", sa.Integer()),
    )
    versions = sa.table(
        "survey_template_versions",
        sa.column("id", sa.Integer()),
        sa.column("template_id", sa.Integer()),
        sa.column("number", sa.Integer()),
        sa.column("questions", sa.JSON()),
        sa.column("created_at", UTCDateTime()),
    )
    for index, (key, purpose, name_en, name_zh, questions) in enumerate(BUILT_IN, start=1):
        op.bulk_insert(
            templates,
            [
                {
                    "id": index,
                    "key": key,
                    "purpose": purpose,
                    "name_en": name_en,
                    "name_zh": name_zh,
                    "active": True,
                    "built_in": True,
                    "current_version": 1,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            ],
        )
        op.bulk_insert(
            versions,
            [
                {
                    "id": index,
                    "template_id": index,
                    "number": 1,
                    "questions": questions,
                    "created_at": now,
                }
            ],
        )
    if op.get_bind().dialect.name == "postgresql":  # the seeded ids are taken
        for table in ("survey_templates", "survey_template_versions"):
            op.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )


def downgrade() -> None:
    op.drop_table("survey_answers")
    op.drop_table("survey_action_responses")
    op.drop_table("survey_responses")
    op.drop_table("survey_invitations")
    op.drop_table("survey_template_versions")
    op.drop_table("survey_schedules")
    op.drop_table("survey_actions")
    op.drop_table("survey_templates")
    op.drop_table("survey_rate_limits")
