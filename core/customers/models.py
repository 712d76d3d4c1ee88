"""Tables of the customer graph: customers, contacts, tags, interactions, tasks, custom fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, event, text
from sqlalchemy.orm import Mapped, mapped_column

from core.customers.match_keys import KEY_LENGTH, email_host, name_key, website_host
from core.db import Base, UTCDateTime, utcnow
from core.text_keys import SORT_KEY_LENGTH, search_key, sort_key

NAME_SORT = String(SORT_KEY_LENGTH).with_variant(
    String(SORT_KEY_LENGTH, collation="C"), "postgresql"
)
"""A name's sort key (:func:`core.text_keys.sort_key`), compared by code point on both
databases (SQLite compares so by default)."""


def _search_default(*columns: str) -> Any:
    """A column default: the search key of the row's ``columns`` (for inserts that skip the
    ORM, such as ``insert(Customer)`` and ``bulk_insert``)."""

    def default(context: Any) -> str:
        values = context.get_current_parameters()
        return search_key(*(values.get(column) for column in columns))

    return default


def _match_default(key: str) -> Any:
    """A column default: the ``key`` (:func:`_match_keys`) of the row's name, email and
    website."""

    def default(context: Any) -> str | None:
        values = context.get_current_parameters()
        keys = _match_keys(values.get("name"), values.get("email"), values.get("website"))
        value: str | None = keys[key]
        return value

    return default


def _match_keys(name: str | None, email: str | None, website: str | None) -> dict[str, str | None]:
    """What likely duplicates compare (:mod:`core.customers.match_keys`), by column."""
    key = name_key(name)
    return {
        "name_core": key.core,
        "name_digits": key.digits,
        "email_domain": email_host(email),
        "website_domain": website_host(website),
    }


def _sort_default(column: str) -> Any:
    """A column default: the sort key of the row's ``column``."""

    def default(context: Any) -> str:
        return sort_key(context.get_current_parameters().get(column))

    return default


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_name_sort", "name_sort", "id"),
        Index("ix_customers_owner_name_sort", "owner_id", "name_sort", "id"),
        Index("ix_customers_last_interaction", "last_interaction_at", "id"),
        Index("ix_customers_updated", "updated_at", "id"),
        Index("ix_customers_name_key", "name_digits", "name_core"),
        Index("ix_customers_email_domain", "email_domain"),
        Index("ix_customers_website_domain", "website_domain"),
        # Indexes the migrations create but the models cannot declare: trigram indexes for
        # search and likely duplicates (PostgreSQL only, core_0004, core_0008, core_0015) and
        # the expression index in the order of last interaction (core_0005).
        {
            "info": {
                "database_only_indexes": (
                    "ix_customers_search_trgm",
                    "ix_customers_name_core_trgm",
                    "ix_customers_phone_trgm",
                    "ix_customers_last_interaction_order",
                )
            }
        },
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    industry: Mapped[str | None] = mapped_column(String(100), index=True)
    stage: Mapped[str] = mapped_column(String(16), index=True)
    grade: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str | None] = mapped_column(String(16), index=True)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    website: Mapped[str | None] = mapped_column(String(500))
    founded_on: Mapped[dt.date | None] = mapped_column(Date)
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL")
    )
    last_interaction_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer)
    search_key: Mapped[str] = mapped_column(
        Text, default=_search_default("name", "number", "email"), server_default=""
    )
    """Name, number and email as searches compare them (:func:`core.text_keys.search_key`),
    kept up to date on every write (see :func:`_keep_keys`)."""
    name_sort: Mapped[str] = mapped_column(
        NAME_SORT, default=_sort_default("name"), server_default=""
    )
    """The name as lists sort it (:func:`core.text_keys.sort_key`)."""
    name_core: Mapped[str] = mapped_column(
        String(KEY_LENGTH), default=_match_default("name_core"), server_default=""
    )
    """The name's letters as likely duplicates compare them
    (:func:`core.customers.match_keys.name_key`)."""
    name_digits: Mapped[str] = mapped_column(
        String(KEY_LENGTH), default=_match_default("name_digits"), server_default=""
    )
    """The name's digits (:func:`core.customers.match_keys.name_key`)."""
    email_domain: Mapped[str | None] = mapped_column(
        String(254), default=_match_default("email_domain")
    )
    """The email's domain, lower-cased (:func:`core.customers.match_keys.email_host`)."""
    website_domain: Mapped[str | None] = mapped_column(
        String(500), default=_match_default("website_domain")
    )
    """The website's host without ``www.`` (:func:`core.customers.match_keys.website_host`)."""

    __mapper_args__ = {"version_id_col": version}


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        # At most one primary contact per customer (among contacts not archived).
        Index(
            "uq_contacts_one_primary",
            "customer_id",
            unique=True,
            sqlite_where=text("is_primary AND archived_at IS NULL"),
            postgresql_where=text("is_primary AND archived_at IS NULL"),
        ),
        Index("ix_contacts_customer_name_sort", "customer_id", "name_sort", "id"),
        Index("ix_contacts_name_sort", "name_sort", "id"),
        {"info": {"database_only_indexes": ("ix_contacts_search_trgm",)}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    mobile: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    birthday: Mapped[dt.date | None] = mapped_column(Date)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str | None] = mapped_column(String(16))
    """For what the contact reads (emails, surveys); null: the deployment's."""
    time_zone: Mapped[str | None] = mapped_column(String(64))
    """An IANA name for times shown to the contact; null: the deployment's."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer)
    search_key: Mapped[str] = mapped_column(
        Text, default=_search_default("name"), server_default=""
    )
    """The name as searches compare it (:func:`core.text_keys.search_key`)."""
    name_sort: Mapped[str] = mapped_column(
        NAME_SORT, default=_sort_default("name"), server_default=""
    )
    """The name as lists sort it (:func:`core.text_keys.sort_key`)."""

    __mapper_args__ = {"version_id_col": version}


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    name_key: Mapped[str] = mapped_column(String(50), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    name_sort: Mapped[str] = mapped_column(
        NAME_SORT, default=_sort_default("name"), server_default=""
    )
    """The name as the tag list sorts it (:func:`core.text_keys.sort_key`)."""


class CustomerTag(Base):
    __tablename__ = "customer_tags"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Interaction(Base):
    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_customer_time", "customer_id", "occurred_at", "id"),
        # The root ``interactions`` list: newest first across customers (core_0012).
        Index("ix_interactions_time", "occurred_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    next_follow_up_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InteractionParticipant(Base):
    __tablename__ = "interaction_participants"

    interaction_id: Mapped[int] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_assignee_due", "assignee_id", "due_at", "id"),
        Index("ix_tasks_customer_due", "customer_id", "due_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    remind_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    """When the assignee was reminded (``core.customers.reminders``); cleared when the task
    is handed to a new assignee with its customer."""
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    """When the task was cancelled: neither open nor done (``done_at`` stays null)."""
    type: Mapped[str] = mapped_column(String(16), default="OTHER", server_default="OTHER")
    """CALL, EMAIL, VISIT, PROPOSAL or OTHER (``TaskType``)."""
    dedupe_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class CustomFieldDefinition(Base):
    __tablename__ = "custom_field_definitions"
    __table_args__ = (Index("uq_custom_fields_entity_key", "entity", "key", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(16))
    options: Mapped[list[str] | None] = mapped_column(JSON)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


@event.listens_for(Customer, "before_insert")
@event.listens_for(Customer, "before_update")
@event.listens_for(Contact, "before_insert")
@event.listens_for(Contact, "before_update")
@event.listens_for(Tag, "before_insert")
@event.listens_for(Tag, "before_update")
def _keep_keys(mapper: Any, connection: Any, row: Customer | Contact | Tag) -> None:
    """Set a row's search and sort keys from its values whenever the ORM writes it (create,
    update, merge, import, erase): the keys can never lag behind the name. Writes that skip
    the ORM get them from the columns' defaults on insert; none changes a name, an email or
    a website otherwise."""
    row.name_sort = sort_key(row.name)
    if isinstance(row, Customer):
        row.search_key = search_key(row.name, row.number, row.email)
        for column, value in _match_keys(row.name, row.email, row.website).items():
            setattr(row, column, value)
    elif isinstance(row, Contact):
        row.search_key = search_key(row.name)
