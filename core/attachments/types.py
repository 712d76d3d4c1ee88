"""The Attachment type and the ``attachments`` field that records which take files get."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry import relay

from core.attachments import loaders, service
from core.attachments.models import Attachment as AttachmentRow
from core.context import Info
from core.identity.types import UserSummary


@strawberry.type(description="A file attached to a customer, an interaction or a ticket.")
class Attachment:
    id: relay.GlobalID
    name: str = strawberry.field(description="The file's name as uploaded.")
    content_type: str = strawberry.field(description="Told by the content, not by the name.")
    size: int = strawberry.field(description="In bytes.")
    note: str | None
    created_at: dt.datetime
    uploader_id: strawberry.Private[int | None]
    row_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: AttachmentRow) -> Attachment:
        return cls(
            id=relay.GlobalID("Attachment", str(row.id)),
            name=row.name,
            content_type=row.content_type,
            size=row.size,
            note=row.note,
            created_at=row.created_at,
            uploader_id=row.uploader_id,
            row_id=row.id,
        )

    @strawberry.field(description="Who attached it; null once that user is deleted.")
    async def uploader(self, info: Info) -> UserSummary | None:
        return await UserSummary.load(info, self.uploader_id)

    @strawberry.field(
        description="A link that downloads the file for the caller: signed, valid for five "
        "minutes, and checked against the caller's access to the record again when used."
    )
    def download_url(self, info: Info) -> str | None:
        return service.download_url(info.context, self.row_id)


def attachments_field(type_name: str) -> Any:
    """The ``attachments`` field for the GraphQL type ``type_name`` (whose Python objects
    have an ``id`` holding the record's database id), for ``crm_graphql_type_fields``."""

    async def resolve(root: Any, info: Info) -> list[Attachment]:
        record_id = (
            int(root.id) if not isinstance(root.id, relay.GlobalID) else int(root.id.node_id)
        )
        rows = await info.context.loader(loaders.AttachmentsByTargetLoader).load(
            (type_name, record_id)
        )
        return [Attachment.from_model(row) for row in rows]

    return strawberry.field(resolver=resolve, description="Files attached, newest first.")
