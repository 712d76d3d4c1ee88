"""The attachments' dataloader: the files of many records in one statement.

The parent field that asks (``Customer.attachments``...) has already been resolved for
the caller, so the parent is visible; the loader only groups its files.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.attachments.models import Attachment
from core.key_lists import among
from core.loaders import Loader

TargetKey = tuple[str, int]


class AttachmentsByTargetLoader(Loader[TargetKey, list[Attachment]]):
    """Files by ``(GraphQL type name, record id)``, newest first."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[TargetKey]
    ) -> list[list[Attachment]]:
        by_type: dict[str, list[int]] = {}
        for target_type, target_id in keys:
            by_type.setdefault(target_type, []).append(target_id)
        rows = await session.scalars(
            select(Attachment)
            .where(
                or_(
                    *(
                        (Attachment.target_type == name) & among(Attachment.target_id, ids)
                        for name, ids in by_type.items()
                    )
                )
            )
            .order_by(Attachment.created_at.desc(), Attachment.id.desc())
        )
        groups: dict[TargetKey, list[Attachment]] = {key: [] for key in keys}
        for row in rows:
            bucket = groups.get((row.target_type, row.target_id))
            if bucket is not None:
                bucket.append(row)
        return [groups[key] for key in keys]
