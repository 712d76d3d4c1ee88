"""Root mutation fields of the customer graph."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from core.access import requires
from core.background import BackgroundJob
from core.context import Info
from core.customers import decoding, exchange, importing, models, service
from core.customers.followup_mutations import FollowupMutation
from core.customers.inputs import (
    ArchiveContactInput,
    ArchiveCustomerInput,
    CancelCustomerImportInput,
    CreateContactInput,
    CreateCustomerInput,
    DefineCustomFieldInput,
    EraseCustomerInput,
    ImportCustomersInput,
    MergeCustomersInput,
    RenameTagInput,
    RestoreCustomerInput,
    SetPrimaryContactInput,
    StartCustomerImportInput,
    TagCustomersInput,
    TransferCustomersInput,
    UntagCustomersInput,
    UpdateContactInput,
    UpdateCustomerInput,
)
from core.customers.payloads import (
    ArchiveContactPayload,
    ArchiveCustomerPayload,
    CancelCustomerImportPayload,
    CreateContactPayload,
    CreateCustomerPayload,
    DefineCustomFieldPayload,
    EraseCustomerPayload,
    ImportCustomersPayload,
    MergeCustomersPayload,
    RenameTagPayload,
    RestoreCustomerPayload,
    SetPrimaryContactPayload,
    StartCustomerImportPayload,
    TagCustomersPayload,
    TransferCustomersPayload,
    UntagCustomersPayload,
    UpdateContactPayload,
    UpdateCustomerPayload,
)
from core.customers.service.duplicates import Candidate
from core.customers.types import Customer
from core.mutations import mutate
from core.validation import Check


def _given(input: Any, names: list[str]) -> dict[str, Any]:
    return {
        name: getattr(input, name) for name in names if getattr(input, name) is not strawberry.UNSET
    }


CUSTOMER_INPUT_FIELDS = [
    "name",
    "kind",
    "industry",
    "stage",
    "grade",
    "source",
    "phone",
    "email",
    "website",
    "founded_on",
    "address",
    "custom_fields",
    "custom_field_values",
]
CONTACT_INPUT_FIELDS = [
    "name",
    "title",
    "phone",
    "mobile",
    "email",
    "birthday",
    "notes",
    "locale",
    "time_zone",
]


def _ref(check: Check, value: relay.GlobalID, type_name: str, field: str = "id") -> int | None:
    return check.node_id(field, value, type_name)


@strawberry.type
class CustomerMutation(FollowupMutation):
    """The customer graph's root mutations; those of interactions and tasks come from
    :class:`~core.customers.followup_mutations.FollowupMutation`."""

    @strawberry.mutation(
        description="Create or update customers from CSV in this request: all rows or none, "
        "at most CRM_IMPORT_SYNC_MAX_ROWS rows (larger files: startCustomerImport).",
        extensions=requires("customers:write"),
    )
    async def import_customers(
        self, info: Info, input: ImportCustomersInput
    ) -> ImportCustomersPayload | None:
        async def work(session: AsyncSession) -> exchange.ImportResult:
            text, field = decoding.input_text(input.csv, input.csv_base64, input.encoding)
            with decoding.errors_named(field):
                return await exchange.import_customers(
                    session, info.context, text, [m.value for m in input.match_on], input.dry_run
                )

        def kept(done: exchange.ImportResult) -> bool:
            return done.imported  # a dry run, or rows with errors, keep nothing

        return await mutate(
            info,
            work,
            lambda done, errors: ImportCustomersPayload.of(done, errors, dry_run=input.dry_run),
            keep=kept,
        )

    @strawberry.mutation(
        description="Import customers from CSV of any size as a background job: every row is "
        "validated before any is written (all rows or none), then written in chunks. Returns "
        "the job at once; poll it (customerImport) for progress.",
        extensions=requires("customers:write"),
    )
    async def start_customer_import(
        self, info: Info, input: StartCustomerImportInput
    ) -> StartCustomerImportPayload | None:
        async def work(session: AsyncSession) -> BackgroundJob:
            text, field = decoding.input_text(input.csv, input.csv_base64, input.encoding)
            with decoding.errors_named(field):
                return await importing.start_import(
                    session, info.context, text, [m.value for m in input.match_on], input.dry_run
                )

        return await mutate(info, work, StartCustomerImportPayload.of)

    @strawberry.mutation(
        description="Stop an import: a queued one never starts, a running one stops after "
        "its current chunk (what it wrote stays).",
        extensions=requires("customers:write"),
    )
    async def cancel_customer_import(
        self, info: Info, input: CancelCustomerImportInput
    ) -> CancelCustomerImportPayload | None:
        async def work(session: AsyncSession) -> BackgroundJob:
            check = Check()
            job_id = _ref(check, input.id, "CustomerImport")
            check.done()
            return await importing.cancel_import(session, info.context, job_id)

        return await mutate(info, work, CancelCustomerImportPayload.of)

    @strawberry.mutation(extensions=requires("customers:write"))
    async def create_customer(
        self, info: Info, input: CreateCustomerInput
    ) -> CreateCustomerPayload | None:
        found: list[Candidate] = []

        async def work(session: AsyncSession) -> models.Customer:
            check = Check()
            owner_id = check.node_id("ownerId", input.owner_id, "User")
            found.clear()
            return await service.create_customer(
                session,
                info.context,
                _given(input, CUSTOMER_INPUT_FIELDS),
                owner_id,
                input.tags,
                check,
                duplicates=None if input.allow_duplicates else found,
            )

        return await mutate(info, work, CreateCustomerPayload.found(found))

    @strawberry.mutation(extensions=requires("customers:write"))
    async def update_customer(
        self, info: Info, input: UpdateCustomerInput
    ) -> UpdateCustomerPayload | None:
        async def work(session: AsyncSession) -> models.Customer:
            check = Check()
            customer_id = _ref(check, input.id, "Customer")
            raw = _given(input, CUSTOMER_INPUT_FIELDS)
            if input.owner_id is not strawberry.UNSET:
                raw["owner_id"] = (
                    check.node_id("ownerId", input.owner_id, "User") if input.owner_id else None
                )
            check.done()
            return await service.update_customer(
                session, info.context, customer_id, input.version, raw
            )

        return await mutate(info, work, UpdateCustomerPayload.of)

    @strawberry.mutation(
        description="Archive (soft-delete) a customer.", extensions=requires("customers:write")
    )
    async def archive_customer(
        self, info: Info, input: ArchiveCustomerInput
    ) -> ArchiveCustomerPayload | None:
        async def work(session: AsyncSession) -> models.Customer:
            check = Check()
            customer_id = _ref(check, input.id, "Customer")
            check.done()
            return await service.archive_customer(session, info.context, customer_id, input.version)

        return await mutate(info, work, ArchiveCustomerPayload.of)

    @strawberry.mutation(extensions=requires("customers:write"))
    async def restore_customer(
        self, info: Info, input: RestoreCustomerInput
    ) -> RestoreCustomerPayload | None:
        async def work(session: AsyncSession) -> models.Customer:
            check = Check()
            customer_id = _ref(check, input.id, "Customer")
            check.done()
            return await service.restore_customer(session, info.context, customer_id, input.version)

        return await mutate(info, work, RestoreCustomerPayload.of)

    @strawberry.mutation(
        description="Erase a customer's personal data (privacy request); an audit record stays.",
        extensions=requires("customers:delete"),
    )
    async def erase_customer(
        self, info: Info, input: EraseCustomerInput
    ) -> EraseCustomerPayload | None:
        async def work(session: AsyncSession) -> models.Customer:
            check = Check()
            customer_id = _ref(check, input.id, "Customer")
            check.done()
            return await service.erase_customer(
                session, info.context, customer_id, input.version, input.reason
            )

        return await mutate(info, work, EraseCustomerPayload.of)

    @strawberry.mutation(
        description="Move everything of one customer to another and archive the first.",
        extensions=requires("customers:write"),
    )
    async def merge_customers(
        self, info: Info, input: MergeCustomersInput
    ) -> MergeCustomersPayload | None:
        async def work(session: AsyncSession) -> tuple[Customer, dict[str, int]]:
            check = Check()
            source_id = check.node_id("sourceId", input.source_id, "Customer")
            target_id = check.node_id("targetId", input.target_id, "Customer")
            check.done()
            result = await service.merge_customers(
                session, info.context, source_id, target_id, input.dry_run
            )
            # Read the target while its session is open: a dry run's rollback expires it.
            return Customer.from_model(result.target), result.moved

        return await mutate(
            info,
            work,
            lambda merged, errors: MergeCustomersPayload.of(merged, errors, dry_run=input.dry_run),
            keep=lambda _: not input.dry_run,
        )

    @strawberry.mutation(
        description="Give several customers to another owner.",
        extensions=requires("customers:write"),
    )
    async def transfer_customers(
        self, info: Info, input: TransferCustomersInput
    ) -> TransferCustomersPayload | None:
        async def work(session: AsyncSession) -> list[models.Customer]:
            check = Check()
            ids = check.node_ids("customerIds", input.customer_ids, "Customer")
            owner_id = check.node_id("ownerId", input.owner_id, "User")
            check.done()
            return await service.transfer_customers(session, info.context, ids, owner_id)

        return await mutate(info, work, TransferCustomersPayload.of)

    @strawberry.mutation(
        description="Attach tags by name (created on first use).",
        extensions=requires("customers:write"),
    )
    async def tag_customers(
        self, info: Info, input: TagCustomersInput
    ) -> TagCustomersPayload | None:
        async def work(session: AsyncSession) -> list[models.Customer]:
            check = Check()
            ids = check.node_ids("customerIds", input.customer_ids, "Customer")
            check.done()
            return await service.tag_customers(session, info.context, ids, input.tags)

        return await mutate(info, work, TagCustomersPayload.of)

    @strawberry.mutation(extensions=requires("customers:write"))
    async def untag_customers(
        self, info: Info, input: UntagCustomersInput
    ) -> UntagCustomersPayload | None:
        async def work(session: AsyncSession) -> list[models.Customer]:
            check = Check()
            ids = check.node_ids("customerIds", input.customer_ids, "Customer")
            check.done()
            return await service.tag_customers(session, info.context, ids, input.tags, remove=True)

        return await mutate(info, work, UntagCustomersPayload.of)

    @strawberry.mutation(extensions=requires("customers:write"))
    async def rename_tag(self, info: Info, input: RenameTagInput) -> RenameTagPayload | None:
        async def work(session: AsyncSession) -> models.Tag:
            check = Check()
            tag_id = _ref(check, input.id, "Tag")
            check.done()
            return await service.rename_tag(session, info.context, tag_id, input.name)

        return await mutate(info, work, RenameTagPayload.of)

    @strawberry.mutation(extensions=requires("customers:write"))
    async def create_contact(
        self, info: Info, input: CreateContactInput
    ) -> CreateContactPayload | None:
        async def work(session: AsyncSession) -> models.Contact:
            check = Check()
            customer_id = check.node_id("customerId", input.customer_id, "Customer")
            check.done()
            return await service.create_contact(
                session,
                info.context,
                customer_id,
                _given(input, CONTACT_INPUT_FIELDS),
                input.primary,
            )

        return await mutate(info, work, CreateContactPayload.of)

    @strawberry.mutation(extensions=requires("customers:write"))
    async def update_contact(
        self, info: Info, input: UpdateContactInput
    ) -> UpdateContactPayload | None:
        async def work(session: AsyncSession) -> models.Contact:
            check = Check()
            contact_id = _ref(check, input.id, "Contact")
            check.done()
            return await service.update_contact(
                session,
                info.context,
                contact_id,
                input.version,
                _given(input, CONTACT_INPUT_FIELDS),
            )

        return await mutate(info, work, UpdateContactPayload.of)

    @strawberry.mutation(extensions=requires("customers:write"))
    async def archive_contact(
        self, info: Info, input: ArchiveContactInput
    ) -> ArchiveContactPayload | None:
        async def work(session: AsyncSession) -> models.Contact:
            check = Check()
            contact_id = _ref(check, input.id, "Contact")
            check.done()
            return await service.archive_contact(session, info.context, contact_id, input.version)

        return await mutate(info, work, ArchiveContactPayload.of)

    @strawberry.mutation(extensions=requires("customers:write"))
    async def set_primary_contact(
        self, info: Info, input: SetPrimaryContactInput
    ) -> SetPrimaryContactPayload | None:
        async def work(session: AsyncSession) -> models.Contact:
            check = Check()
            contact_id = _ref(check, input.id, "Contact")
            check.done()
            return await service.set_primary_contact(
                session, info.context, contact_id, input.version
            )

        return await mutate(info, work, SetPrimaryContactPayload.of)

    @strawberry.mutation(extensions=requires("settings:manage"))
    async def define_custom_field(
        self, info: Info, input: DefineCustomFieldInput
    ) -> DefineCustomFieldPayload | None:
        async def work(session: AsyncSession) -> models.CustomFieldDefinition:
            return await service.define_custom_field(
                session,
                info.context,
                input.entity.value,
                input.key,
                input.label,
                input.type.value,
                input.options,
                input.required,
            )

        return await mutate(info, work, DefineCustomFieldPayload.of)
