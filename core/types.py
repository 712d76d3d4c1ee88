"""Core GraphQL types that are not tied to one entity."""

from __future__ import annotations

import strawberry

from core import background

JobStatus = background.JobStatus
strawberry.enum(  # marks the kernel's enum as the GraphQL enum (it returns the same class)
    JobStatus,
    description="Where a background job stands: QUEUED (waiting for a runner), RUNNING, or "
    "finished as SUCCEEDED, FAILED or CANCELLED.",
)


@strawberry.type(description="An enabled module of this deployment.")
class Module:
    name: str
    version: str


@strawberry.type(description="What this deployment runs: its version and enabled modules.")
class System:
    version: str
    modules: list[Module] = strawberry.field(
        description="Core and every enabled plugin, so a frontend can show what exists."
    )
