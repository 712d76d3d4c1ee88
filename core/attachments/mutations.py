"""attachFile and deleteAttachment."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.attachments import service
from core.attachments.inputs import (
    AttachFileInput,
    AttachFilePayload,
    DeleteAttachmentInput,
    DeleteAttachmentPayload,
)
from core.attachments.models import Attachment
from core.context import Info
from core.mutations import mutate
from core.node import row_id
from core.validation import Check


@strawberry.type
class AttachmentMutation:
    @strawberry.mutation(
        description="Attach a file (a GraphQL multipart request) to a record the caller may change."
    )
    async def attach_file(self, info: Info, input: AttachFileInput) -> AttachFilePayload | None:
        stored: list[Attachment] = []

        async def work(session: AsyncSession) -> Attachment:
            target_id = row_id(input.target_id.node_id)
            if target_id is None:
                raise service.target_not_found("input.targetId")
            row = await service.attach(
                session,
                info.context,
                input.target_id.type_name,
                target_id,
                input.file,
                input.note,
            )
            stored.append(row)
            return row

        try:
            return await mutate(info, work, AttachFilePayload.of)
        except BaseException:
            # The row was rolled back: its bytes go too (a failing store never hides the
            # error that caused the rollback).
            await service.discard(info.context, [row.storage_key for row in stored])
            raise

    @strawberry.mutation(description="Delete a file from a record the caller may change.")
    async def delete_attachment(
        self, info: Info, input: DeleteAttachmentInput
    ) -> DeleteAttachmentPayload | None:
        deleted: list[Attachment] = []

        async def work(session: AsyncSession) -> Attachment:
            check = Check()
            attachment_id = check.node_id("id", input.id, "Attachment")
            check.done()
            row = await service.delete_attachment(session, info.context, attachment_id)
            deleted.append(row)
            return row

        payload = await mutate(info, work, DeleteAttachmentPayload.of)
        if payload.deleted_attachment_id is not None:
            # Committed, with a purge job: the bytes go now, or when the job runs.
            await service.remove_committed(info.context, [row.storage_key for row in deleted])
        return payload
