"""GraphQL types of customer imports run as background jobs."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry
from strawberry import relay

from core.background import BackgroundJob
from core.csv_import import ImportRowError
from core.customers import loaders
from core.errors import UserErrorCode
from core.node import ModelNode
from core.types import JobStatus


@strawberry.enum(description="What a customer import is doing.")
class ImportPhase(enum.Enum):
    QUEUED = "QUEUED"
    VALIDATING = "VALIDATING"
    WRITING = "WRITING"
    DONE = "DONE"


@strawberry.type(
    description="A customer import running as a background job (startCustomerImport): poll "
    "it (node or customerImport) for its progress. Every row is validated before any is "
    "written; if any row is bad, nothing is imported."
)
class CustomerImport(ModelNode[BackgroundJob]):
    by_id_loader = loaders.CustomerImportByIdLoader
    id: relay.NodeID[int]
    status: JobStatus
    phase: ImportPhase
    dry_run: bool = strawberry.field(description="Validates every row, writes nothing.")
    total_rows: int
    validated_rows: int
    written_rows: int = strawberry.field(description="Rows written (committed) so far.")
    progress: float = strawberry.field(
        description="From 0 to 1: validating is the first half of a real import, writing "
        "the second; a dry run only validates."
    )
    created: int = strawberry.field(description="Rows that created (or would create) one.")
    updated: int = strawberry.field(description="Rows that updated (or would update) one.")
    imported: bool = strawberry.field(description="Whether the rows were written.")
    error_count: int = strawberry.field(description="Rows with problems, all of them.")
    row_errors: list[ImportRowError] = strawberry.field(
        description="The problems, in line order (the first 1,000)."
    )
    failure: str | None = strawberry.field(description="Why the import failed, if it did.")
    cancel_requested: bool
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @classmethod
    def from_model(cls, row: BackgroundJob) -> CustomerImport:
        state = row.state or {}
        total = int(state.get("total", 0))
        validated = int(state.get("validated", 0))
        written = int(state.get("written", 0))
        dry_run = bool(state.get("dry_run", False))
        phase = ImportPhase(state.get("phase", "QUEUED"))
        if phase is ImportPhase.DONE or not total:
            progress = 1.0 if phase is ImportPhase.DONE else 0.0
        elif dry_run:
            progress = validated / total
        else:
            progress = (validated + written) / (2 * total)
        return cls(
            id=row.id,
            status=JobStatus(row.status),
            phase=phase,
            dry_run=dry_run,
            total_rows=total,
            validated_rows=validated,
            written_rows=written,
            progress=round(progress, 4),
            created=int(state.get("created", 0)),
            updated=int(state.get("updated", 0)),
            imported=bool(state.get("imported", False)),
            error_count=int(state.get("error_count", 0)),
            row_errors=[
                ImportRowError(
                    line=e["line"],
                    field=e["field"],
                    message=e["message"],
                    code=UserErrorCode(e["code"]),
                )
                for e in state.get("errors", [])
            ],
            failure=row.error,
            cancel_requested=row.cancel_requested,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
        )
