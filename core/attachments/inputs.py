"""attachFile and deleteAttachment: inputs and payloads."""

from __future__ import annotations

from typing import Self

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from core.attachments.models import Attachment as AttachmentRow
from core.attachments.types import Attachment
from core.errors import UserError


@strawberry.input
class AttachFileInput:
    target_id: relay.GlobalID = strawberry.field(
        description="The Customer, Interaction or Ticket (or another module's record) to "
        "attach the file to."
    )
    file: Upload = strawberry.field(
        description="The file, sent as a GraphQL multipart request. Its kind is told by its "
        "content and must match its name's extension."
    )
    note: str | None = None


@strawberry.type
class AttachFilePayload:
    attachment: Attachment | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: AttachmentRow | None, errors: list[UserError]) -> Self:
        return cls(attachment=Attachment.from_model(row) if row else None, errors=errors)


@strawberry.input
class DeleteAttachmentInput:
    id: relay.GlobalID


@strawberry.type
class DeleteAttachmentPayload:
    deleted_attachment_id: relay.GlobalID | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: AttachmentRow | None, errors: list[UserError]) -> Self:
        deleted = relay.GlobalID("Attachment", str(row.id)) if row else None
        return cls(deleted_attachment_id=deleted, errors=errors)
