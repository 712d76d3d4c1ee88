"""Dataloaders of the customer graph. Each one filters through the caller's scope.

A contact, interaction or task is visible exactly when its customer is (``customers:read``
in scope); a customer's relationships are therefore filtered by :func:`customer_visible`,
the same condition its root list uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, String, cast, false, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import False_, True_

from core.audit import AuditEvent
from core.background import BackgroundJob
from core.context import RequestContext
from core.customers.models import (
    Contact,
    Customer,
    CustomerTag,
    CustomFieldDefinition,
    Interaction,
    InteractionParticipant,
    Tag,
    Task,
)
from core.extension import Scope
from core.identity.loaders import UserCard
from core.identity.models import User
from core.key_lists import among, among_named, among_values
from core.loaders import (
    ByIdLoader,
    ChildCountLoader,
    ChildPageLoader,
    Loader,
    group_by_key,
    one_by_key,
)
from core.ordering import SortKey
from core.prepared import Prepared, prepared_column_rows
from core.rows import ColumnRow
from core.shapes import Shapes, identity

IMPORT_KIND = "customers.import"


def customer_visible(context: RequestContext, column: Any) -> ColumnElement[bool]:
    """``column`` (a customer id) names a customer the caller may read.

    When the caller's scope makes the condition a constant (ALL, or no grant), the constant
    is used as it is, so a nested list does not pay for a semi-join that filters nothing.
    """
    condition = context.visible("customers:read", "customers")
    if isinstance(condition, True_ | False_):
        return condition
    return column.in_(select(Customer.id).where(condition))  # type: ignore[no-any-return]


class CustomerByIdLoader(ByIdLoader[Customer]):
    entity = Customer

    def statement(self) -> Select[Any]:
        return select(Customer).where(self.context.visible("customers:read", "customers"))


class ContactByIdLoader(ByIdLoader[Contact]):
    """Contacts archived or not, with their customer."""

    entity = Contact

    def statement(self) -> Select[Any]:
        return select(Contact).where(customer_visible(self.context, Contact.customer_id))


def unattached_task_reach(context: RequestContext) -> ColumnElement[bool]:
    """Who reaches a task without a customer: its assignee, and whoever's
    ``followups:write`` scope reaches the assignee (a team's manager; ALL: everyone)."""
    caller = context.caller
    if caller is None:
        return false()
    own = Task.assignee_id == caller.user_id
    scope = caller.scope("followups:write")
    if scope is Scope.ALL:
        return true()
    if scope is Scope.TEAM:
        return own | Task.assignee_id.in_(context.owner_ids(scope))
    return own


def task_visible(context: RequestContext) -> ColumnElement[bool]:
    """A task is visible with its customer, or, without one, as
    :func:`unattached_task_reach` says."""
    return (Task.customer_id.is_(None) & unattached_task_reach(context)) | customer_visible(
        context, Task.customer_id
    )


class TaskByIdLoader(ByIdLoader[Task]):
    entity = Task

    def statement(self) -> Select[Any]:
        return select(Task).where(task_visible(self.context))


class TagByIdLoader(Loader[int, Tag | None]):
    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[Tag | None]:
        if self.context.caller is None:
            return [None for _ in keys]
        rows = (await session.scalars(select(Tag).where(among(Tag.id, keys)))).all()
        return one_by_key(keys, rows)


class CustomFieldDefinitionByIdLoader(Loader[int, CustomFieldDefinition | None]):
    """Custom field definitions by id: any signed-in caller may read them, as the
    ``customFieldDefinitions`` list shows them to everyone signed in."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[CustomFieldDefinition | None]:
        if self.context.caller is None:
            return [None for _ in keys]
        d = CustomFieldDefinition
        rows = (await session.scalars(select(d).where(among(d.id, keys)))).all()
        return one_by_key(keys, rows)


class CustomFieldDefinitionsByEntityLoader(Loader[str, list[CustomFieldDefinition]]):
    """The custom field definitions of an entity (``CUSTOMER``, ``CONTACT``), in the order
    ``customFieldDefinitions`` lists them (by key): one statement per request for all the
    records of a page."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[str]
    ) -> list[list[CustomFieldDefinition]]:
        if self.context.caller is None:
            return [[] for _ in keys]
        d = CustomFieldDefinition
        rows = (
            await session.scalars(select(d).where(d.entity.in_(keys)).order_by(d.entity, d.key))
        ).all()
        return group_by_key(keys, rows, "entity")


_CUSTOMERS = "tag_customers"
_TAG_STATEMENTS: Shapes[Prepared] = Shapes(256)


class TagsByCustomerLoader(Loader[int, list[ColumnRow]]):
    """Each customer's tags by name, as rows of the tag's ``id`` and ``name``."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[list[ColumnRow]]:
        statement = (
            select(CustomerTag.customer_id, Tag.id, Tag.name)
            .join(Tag, Tag.id == CustomerTag.tag_id)
            .where(
                among_named(CustomerTag.customer_id, _CUSTOMERS),
                customer_visible(self.context, CustomerTag.customer_id),
            )
            .order_by(Tag.name_sort, Tag.id)
        )
        # Kept by its identity (the caller's scope among its values): core.shapes.
        prepared = _TAG_STATEMENTS.get(identity(statement), lambda: Prepared(statement))
        rows = await prepared_column_rows(session, prepared, among_values(_CUSTOMERS, keys))
        grouped: dict[int, list[ColumnRow]] = {key: [] for key in keys}
        for row in rows:
            grouped[row.customer_id].append(row)
        return [grouped[key] for key in keys]


class PrimaryContactLoader(Loader[int, Contact | None]):
    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[Contact | None]:
        rows = (
            await session.scalars(
                select(Contact).where(
                    among(Contact.customer_id, keys),
                    Contact.is_primary.is_(True),
                    Contact.archived_at.is_(None),
                    customer_visible(self.context, Contact.customer_id),
                )
            )
        ).all()
        return one_by_key(keys, rows, "customer_id")


class ParticipantsLoader(Loader[int, list[UserCard]]):
    """Who took part in each interaction, by name: every participant, as the names a visible
    record shows (the full users stay behind ``users:read``)."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[list[UserCard]]:
        rows = (
            await session.execute(
                select(InteractionParticipant.interaction_id, User.id, User.name, User.is_active)
                .join(User, User.id == InteractionParticipant.user_id)
                .where(among(InteractionParticipant.interaction_id, keys))
                .order_by(User.name, User.id)
            )
        ).all()
        grouped: dict[int, list[UserCard]] = {key: [] for key in keys}
        for interaction_id, user_id, name, active in rows:
            grouped[interaction_id].append(UserCard(user_id, name, active))
        return [grouped[key] for key in keys]


class _ActiveContacts:
    entity = Contact
    parent = Contact.customer_id

    context: RequestContext

    def statement(self) -> Select[Any]:
        return select(Contact).where(
            Contact.archived_at.is_(None), customer_visible(self.context, Contact.customer_id)
        )


class ContactPagesLoader(_ActiveContacts, ChildPageLoader):
    keys = (SortKey(Contact.name_sort), SortKey(Contact.id))  # CONTACT_ORDER's default


class ContactCountLoader(_ActiveContacts, ChildCountLoader):
    pass


class _CustomerInteractions:
    entity = Interaction
    parent = Interaction.customer_id

    context: RequestContext

    def statement(self) -> Select[Any]:
        return select(Interaction).where(customer_visible(self.context, Interaction.customer_id))


class InteractionByIdLoader(_CustomerInteractions, ByIdLoader[Interaction]):
    pass


class InteractionPagesLoader(_CustomerInteractions, ChildPageLoader):
    keys = (SortKey(Interaction.occurred_at, True), SortKey(Interaction.id, True))


class InteractionCountLoader(_CustomerInteractions, ChildCountLoader):
    pass


class _CustomerTasks:
    entity = Task
    parent = Task.customer_id

    context: RequestContext

    def statement(self) -> Select[Any]:
        return select(Task).where(customer_visible(self.context, Task.customer_id))


class TaskPagesLoader(_CustomerTasks, ChildPageLoader):
    keys = (SortKey(Task.due_at), SortKey(Task.id))  # TASK_ORDER's default


class TaskCountLoader(_CustomerTasks, ChildCountLoader):
    pass


class _CustomerHistory:
    """A customer's audit events (keys are customer ids as text, as the trail stores them)."""

    entity = AuditEvent
    parent = AuditEvent.entity_id

    context: RequestContext

    def statement(self) -> Select[Any]:
        visible_ids = select(cast(Customer.id, String)).where(
            self.context.visible("customers:read", "customers")
        )
        return select(AuditEvent).where(
            AuditEvent.entity_type == "Customer", AuditEvent.entity_id.in_(visible_ids)
        )


class HistoryPagesLoader(_CustomerHistory, ChildPageLoader):
    keys = (SortKey(AuditEvent.occurred_at, True), SortKey(AuditEvent.id, True))


class HistoryCountLoader(_CustomerHistory, ChildCountLoader):
    pass


class CustomerImportByIdLoader(ByIdLoader[BackgroundJob]):
    """Customer imports by id: each user sees the imports they started."""

    entity = BackgroundJob

    def statement(self) -> Select[Any]:
        caller = self.context.caller
        return select(BackgroundJob).where(
            BackgroundJob.kind == IMPORT_KIND,
            BackgroundJob.created_by == (caller.user_id if caller is not None else -1),
        )
