"""Core GraphQL types that are not tied to one entity."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from core import background
from core.errors import bad_argument
from core.i18n import _

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


@strawberry.input(
    description="A span of time: `from` inclusive, `to` exclusive (from <= t < to); either "
    "bound may be left out. `to` may not be before `from`."
)
class DateTimeRange:
    from_: dt.datetime | None = strawberry.field(default=None, name="from")
    to: dt.datetime | None = None


def in_range(column: Any, window: DateTimeRange | None, argument: str) -> list[Any]:
    """The conditions putting ``column`` in ``window`` (none for no window); a ``to`` before
    ``from`` is a BAD_USER_INPUT error naming ``argument.to``."""
    if window is None:
        return []
    if window.from_ is not None and window.to is not None and window.to < window.from_:
        raise bad_argument(f"{argument}.to", _("must not be before from"))
    conditions = []
    if window.from_ is not None:
        conditions.append(column >= window.from_)
    if window.to is not None:
        conditions.append(column < window.to)
    return conditions
