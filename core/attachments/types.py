"""The Attachment type and the ``attachments`` field that records which take files get."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry import relay

from core.attachments import loaders, service
from core.attachments.models import Attachment as AttachmentRow
from core.batch_fields import batch_field, related
from core.context import RequestContext
from core.identity.types import UserSummary


async def _download_urls(
    context: RequestContext, attachments: Sequence[Attachment]
) -> list[str | None]:
    return [service.download_url(context, attachment.row_id) for attachment in attachments]


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
    uploader: UserSummary | None = batch_field(
        related(UserSummary, "uploader_id"),
        description="Who attached it; null once that user is deleted.",
    )
    download_url: str | None = batch_field(
        _download_urls,
        description="A link that downloads the file for the caller: signed, valid for five "
        "minutes, and checked against the caller's access to the record again when used.",
    )

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


def attachments_field(type_name: str) -> Any:
    """The ``attachments`` field for the GraphQL type ``type_name`` (whose Python objects
    have an ``id`` holding the record's database id), for ``crm_graphql_type_fields``."""

    async def load(context: RequestContext, records: Sequence[Any]) -> list[list[Attachment]]:
        found = await context.loader(loaders.AttachmentsByTargetLoader).load_level(
            [(type_name, _record_id(record)) for record in records]
        )
        return [[Attachment.from_model(row) for row in rows] for rows in found]

    load.__qualname__ = load.__name__ = f"attachments_of_{type_name.lower()}"
    return batch_field(
        load, graphql_type=list[Attachment], description="Files attached, newest first."
    )


def _record_id(record: Any) -> int:
    return int(record.id) if not isinstance(record.id, relay.GlobalID) else int(record.id.node_id)
