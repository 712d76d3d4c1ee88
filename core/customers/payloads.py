"""GraphQL payloads of the customer graph's mutations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

import strawberry

from core import background as models_background
from core.context import Info
from core.csv_import import ImportRowError
from core.customers import exchange, models
from core.customers.import_types import CustomerImport
from core.customers.service.duplicates import Candidate, DuplicateReason
from core.customers.types import (
    Contact,
    Customer,
    CustomFieldDefinition,
    Interaction,
    Tag,
    Task,
)
from core.errors import UserError
from core.i18n import render


@strawberry.type
class CustomerPayload:
    customer: Customer | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Customer | None, errors: list[UserError]) -> Self:
        return cls(customer=Customer.from_model(row) if row else None, errors=errors)


@strawberry.type
class ContactPayload:
    contact: Contact | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Contact | None, errors: list[UserError]) -> Self:
        return cls(contact=Contact.from_model(row) if row else None, errors=errors)


@strawberry.type
class CustomersPayload:
    customers: list[Customer]
    errors: list[UserError]

    @classmethod
    def of(cls, rows: list[models.Customer] | None, errors: list[UserError]) -> Self:
        return cls(customers=[Customer.from_model(r) for r in rows or []], errors=errors)


@strawberry.type(description="What a merge moves (or, on a dry run, would move).")
class MergeCount:
    kind: str = strawberry.field(description="`contacts`, `interactions`, `tasks`, `tags`...")
    count: int


@strawberry.type
class MergeCustomersPayload:
    target: Customer | None
    moved: list[MergeCount]
    dry_run: bool
    errors: list[UserError]

    @classmethod
    def of(
        cls,
        merged: tuple[Customer, dict[str, int]] | None,
        errors: list[UserError],
        *,
        dry_run: bool,
    ) -> Self:
        """``merged`` is the target, already a node (a dry run's rollback expires its row),
        and the counts moved."""
        target, moved = merged if merged else (None, {})
        return cls(
            target=target,
            moved=[MergeCount(kind=k, count=v) for k, v in sorted(moved.items())],
            dry_run=dry_run,
            errors=errors,
        )


@strawberry.type
class InteractionPayload:
    interaction: Interaction | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Interaction | None, errors: list[UserError]) -> Self:
        return cls(interaction=Interaction.from_model(row) if row else None, errors=errors)


@strawberry.type
class TaskPayload:
    task: Task | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Task | None, errors: list[UserError]) -> Self:
        return cls(task=Task.from_model(row) if row else None, errors=errors)


@strawberry.type
class TagPayload:
    tag: Tag | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.Tag | None, errors: list[UserError]) -> Self:
        return cls(tag=Tag.from_model(row) if row else None, errors=errors)


@strawberry.type
class CustomFieldPayload:
    definition: CustomFieldDefinition | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.CustomFieldDefinition | None, errors: list[UserError]) -> Self:
        definition = CustomFieldDefinition.from_model(row) if row else None
        return cls(definition=definition, errors=errors)


strawberry.enum(DuplicateReason, description="Why a customer looks like the one being created.")


@strawberry.type(description="A customer that looks like the one being created, and why.")
class CustomerDuplicate:
    reasons: list[DuplicateReason]
    customer_id: strawberry.Private[int]

    @strawberry.field(description="Null only if it has meanwhile left your reach.")
    async def customer(self, info: Info) -> Customer | None:
        return await Customer.load(info, self.customer_id)


@strawberry.type
class CreateCustomerPayload(CustomerPayload):
    duplicates: list[CustomerDuplicate] = strawberry.field(
        default_factory=list,
        description="Likely duplicates that you may read (a similar name, the same phone, the "
        "same email or website domain): the customer is not created while there are any, "
        "unless the input sets allowDuplicates.",
    )

    @classmethod
    def found(
        cls, candidates: list[Candidate]
    ) -> Callable[[models.Customer | None, list[UserError]], CreateCustomerPayload]:
        """The payload builder for :func:`~core.mutations.mutate` that also shows
        ``candidates`` (filled by the service when it refused them)."""

        def build(row: models.Customer | None, errors: list[UserError]) -> CreateCustomerPayload:
            shown = [
                CustomerDuplicate(reasons=list(c.reasons), customer_id=c.customer_id)
                for c in candidates
            ]
            return cls(
                customer=Customer.from_model(row) if row else None,
                errors=errors,
                duplicates=shown if errors else [],
            )

        return build


@strawberry.type
class UpdateCustomerPayload(CustomerPayload):
    pass


@strawberry.type
class ArchiveCustomerPayload(CustomerPayload):
    pass


@strawberry.type
class RestoreCustomerPayload(CustomerPayload):
    pass


@strawberry.type
class EraseCustomerPayload(CustomerPayload):
    pass


@strawberry.type
class TransferCustomersPayload(CustomersPayload):
    pass


@strawberry.type
class TagCustomersPayload(CustomersPayload):
    pass


@strawberry.type
class UntagCustomersPayload(CustomersPayload):
    pass


@strawberry.type
class CreateContactPayload(ContactPayload):
    pass


@strawberry.type
class UpdateContactPayload(ContactPayload):
    pass


@strawberry.type
class ArchiveContactPayload(ContactPayload):
    pass


@strawberry.type
class SetPrimaryContactPayload(ContactPayload):
    pass


@strawberry.type
class LogInteractionPayload(InteractionPayload):
    pass


@strawberry.type
class CreateTaskPayload(TaskPayload):
    pass


@strawberry.type
class CompleteTaskPayload(TaskPayload):
    pass


@strawberry.type
class RescheduleTaskPayload(TaskPayload):
    pass


@strawberry.type
class ReassignTaskPayload(TaskPayload):
    pass


@strawberry.type
class CancelTaskPayload(TaskPayload):
    pass


@strawberry.type
class RenameTagPayload(TagPayload):
    pass


@strawberry.type
class DefineCustomFieldPayload(CustomFieldPayload):
    pass


@strawberry.type
class ImportCustomersPayload:
    created: int = strawberry.field(description="Rows that created (or would create) a customer.")
    updated: int = strawberry.field(description="Rows that updated (or would update) one.")
    imported: bool = strawberry.field(description="Whether the changes were kept.")
    dry_run: bool
    row_errors: list[ImportRowError] = strawberry.field(
        description="Every bad row; if there are any, nothing is imported."
    )
    errors: list[UserError]

    @classmethod
    def of(
        cls, result: exchange.ImportResult | None, errors: list[UserError], *, dry_run: bool
    ) -> Self:
        return cls(
            created=result.created if result else 0,
            updated=result.updated if result else 0,
            imported=bool(result and result.imported),
            dry_run=dry_run,
            row_errors=[
                ImportRowError(line=e.line, field=e.field, message=render(e.message), code=e.code)
                for e in (result.errors if result else [])
            ],
            errors=errors,
        )


@strawberry.type
class StartCustomerImportPayload:
    customer_import: CustomerImport | None = strawberry.field(
        description="The queued import; poll it for progress."
    )
    errors: list[UserError]

    @classmethod
    def of(cls, result: models_background.BackgroundJob | None, errors: list[UserError]) -> Self:
        return cls(
            customer_import=CustomerImport.from_model(result) if result is not None else None,
            errors=errors,
        )


@strawberry.type
class CancelCustomerImportPayload(StartCustomerImportPayload):
    pass
