"""GraphQL payloads of the customer graph's mutations."""

from __future__ import annotations

import strawberry

from core.customers.types import Contact, Customer, CustomFieldDefinition, Interaction, Tag, Task
from core.errors import UserError, UserErrorCode


@strawberry.type
class CustomerPayload:
    customer: Customer | None
    errors: list[UserError]


@strawberry.type
class ContactPayload:
    contact: Contact | None
    errors: list[UserError]


@strawberry.type
class CustomersPayload:
    customers: list[Customer]
    errors: list[UserError]


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


@strawberry.type
class InteractionPayload:
    interaction: Interaction | None
    errors: list[UserError]


@strawberry.type
class TaskPayload:
    task: Task | None
    errors: list[UserError]


@strawberry.type
class TagPayload:
    tag: Tag | None
    errors: list[UserError]


@strawberry.type
class CustomFieldPayload:
    definition: CustomFieldDefinition | None
    errors: list[UserError]


@strawberry.type
class CreateCustomerPayload(CustomerPayload):
    pass


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
class RenameTagPayload(TagPayload):
    pass


@strawberry.type
class DefineCustomFieldPayload(CustomFieldPayload):
    pass


@strawberry.type(description="A problem with one row of an import.")
class ImportRowError:
    line: int = strawberry.field(description="Line in the CSV (the header is line 1).")
    field: str | None
    message: str
    code: UserErrorCode


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
