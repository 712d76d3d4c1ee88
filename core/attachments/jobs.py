"""Removing stored files' bytes once the rows that named them are gone (a background job).

Deleting attachment rows (one file, or every file of an erased customer) queues a job of
kind :data:`PURGE_KIND` in the same transaction, naming the storage keys. The bytes are
therefore removed only after that transaction commits, and never when it rolls back. The
job is idempotent (a key that is already gone is fine), so a store that fails is simply
tried again by the job runner, which resumes from the last checkpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.attachments.storage import store_for
from core.background import JobFailed, JobRun, enqueue
from core.context import RequestContext

logger = logging.getLogger("crm.attachments")

PURGE_KIND = "attachments.purge"
CHECKPOINT_EVERY = 100
"""Keys removed between two checkpoints (each renews the runner's lease)."""


async def enqueue_purge(
    session: AsyncSession, context: RequestContext, keys: Sequence[str]
) -> None:
    """Queue the removal of ``keys``' bytes in ``session``'s transaction (nothing for none)."""
    if not keys:
        return
    caller = context.caller
    await enqueue(
        session,
        PURGE_KIND,
        {"keys": list(keys)},
        created_by=caller.user_id if caller is not None else None,
        now=context.now(),
        request_id=context.request_id,
        state={"purged": 0, "total": len(keys)},
    )


async def purge_stored_files(run: JobRun) -> Mapping[str, Any]:
    """The handler of :data:`PURGE_KIND`: delete every key of ``payload["keys"]`` from the
    store, from where the last checkpoint left off. A store error ends this attempt; the
    runner tries the job again."""
    keys = run.payload.get("keys")
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        raise JobFailed("the job names no storage keys")
    store = store_for(run.settings)
    done = int(run.state.get("purged", 0))
    while done < len(keys):
        batch = keys[done : done + CHECKPOINT_EVERY]
        for key in batch:
            await store.delete(key)
        done += len(batch)
        async with run.db.transaction() as session:
            await run.checkpoint(session, {"purged": done, "total": len(keys)})
    return {"purged": done, "total": len(keys)}
