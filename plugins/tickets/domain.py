"""The rules of a ticket: its states and transitions, SLA targets and their state."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import strawberry

from plugins.tickets.calendar import Calendar


@strawberry.enum(description="What a ticket is about.")
class TicketType(enum.Enum):
    CONSULTATION = "CONSULTATION"
    FAULT = "FAULT"
    COMPLAINT = "COMPLAINT"
    SUGGESTION = "SUGGESTION"
    OTHER = "OTHER"


@strawberry.enum(description="How urgent a ticket is.")
class TicketPriority(enum.Enum):
    URGENT = "URGENT"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


@strawberry.enum(description="Where a ticket is in its life.")
class TicketStatus(enum.Enum):
    NEW = "NEW"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    IN_PROGRESS = "IN_PROGRESS"
    WAITING = "WAITING"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"


@strawberry.enum(description="How a ticket stands against its SLA.")
class SlaState(enum.Enum):
    ON_TRACK = "ON_TRACK"
    AT_RISK = "AT_RISK"
    BREACHED = "BREACHED"
    MET = "MET"


OPEN_STATUSES = frozenset({"NEW", "ACKNOWLEDGED", "IN_PROGRESS", "WAITING"})
TRANSITIONS: dict[str, frozenset[str]] = {
    "NEW": frozenset({"ACKNOWLEDGED"}),
    "ACKNOWLEDGED": frozenset({"IN_PROGRESS"}),
    "IN_PROGRESS": frozenset({"WAITING", "RESOLVED"}),
    "WAITING": frozenset({"IN_PROGRESS", "RESOLVED"}),
    "RESOLVED": frozenset({"CLOSED", "IN_PROGRESS"}),
    "CLOSED": frozenset(),
}
PRIORITY_ORDER = ["LOW", "MEDIUM", "HIGH", "URGENT"]

# Minutes: (first response, resolution).
DEFAULT_SLA: dict[str, tuple[int, int]] = {
    "URGENT": (30, 4 * 60),
    "HIGH": (120, 24 * 60),
    "MEDIUM": (120, 72 * 60),
    "LOW": (120, 120 * 60),
}
AT_RISK_SHARE = 0.2  # less than a fifth of the target left


@dataclass(frozen=True)
class SlaTargets:
    """The SLA policies in force, in minutes (first response, resolution): each priority's,
    and the policies of a customer grade that replace a priority's for that grade."""

    by_priority: Mapping[str, tuple[int, int]]
    by_grade: Mapping[tuple[str, str], tuple[int, int]]

    def policy(self, priority: str, grade: str | None) -> tuple[str | None, tuple[int, int]]:
        """The grade whose policy a ticket of ``priority`` and ``grade`` follows (``None``:
        the priority's own policy), and its targets."""
        if grade is not None and (grade, priority) in self.by_grade:
            return grade, self.by_grade[(grade, priority)]
        return None, self.by_priority[priority]

    def of(self, priority: str, grade: str | None) -> tuple[int, int]:
        """The targets a ticket of ``priority`` and ``grade`` works to."""
        return self.policy(priority, grade)[1]


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


@dataclass(frozen=True)
class Clock:
    """One ticket's SLA clock: opened, paused time, and the moments that stop each target."""

    opened_at: dt.datetime
    paused_seconds: float
    waiting_since: dt.datetime | None
    first_responded_at: dt.datetime | None
    resolved_at: dt.datetime | None

    @classmethod
    def of(cls, row: ClockedRow) -> Clock:
        """The clock of a ticket row."""
        return cls(
            row.created_at,
            row.paused_seconds or 0.0,
            row.waiting_since,
            row.first_responded_at,
            row.resolved_at,
        )


class ClockedRow(Protocol):
    """What :meth:`Clock.of` reads of a ticket row."""

    @property
    def created_at(self) -> dt.datetime: ...
    @property
    def paused_seconds(self) -> float | None: ...
    @property
    def waiting_since(self) -> dt.datetime | None: ...
    @property
    def first_responded_at(self) -> dt.datetime | None: ...
    @property
    def resolved_at(self) -> dt.datetime | None: ...


@dataclass(frozen=True)
class SlaView:
    first_response_due_at: dt.datetime
    resolution_due_at: dt.datetime
    first_responded_at: dt.datetime | None
    state: SlaState


def _target_state(
    due: dt.datetime,
    done_at: dt.datetime | None,
    now: dt.datetime,
    target_seconds: float,
    calendar: Calendar,
) -> SlaState:
    if done_at is not None:
        return SlaState.MET if done_at <= due else SlaState.BREACHED
    if now > due:
        return SlaState.BREACHED
    left = calendar.between(now, due)
    return SlaState.AT_RISK if left < target_seconds * AT_RISK_SHARE else SlaState.ON_TRACK


WORST_FIRST = [SlaState.BREACHED, SlaState.AT_RISK, SlaState.ON_TRACK, SlaState.MET]


def due_that_matters(
    clock: Clock, status: str, targets: tuple[int, int], calendar: Calendar
) -> dt.datetime | None:
    """The due time a ticket works towards: the first response's until there is one, then
    the resolution's; None while its clock stands (WAITING) or once RESOLVED or CLOSED."""
    if status in ("RESOLVED", "CLOSED") or clock.waiting_since is not None:
        return None
    view = sla_view(clock, targets, calendar, clock.opened_at)  # no running pause: any now
    return (
        view.first_response_due_at if clock.first_responded_at is None else view.resolution_due_at
    )


def sla_view(
    clock: Clock, targets: tuple[int, int], calendar: Calendar, now: dt.datetime
) -> SlaView:
    """Due times and state, from stored times only (always right, no job needed).

    Time spent WAITING on the customer does not count: paused business seconds push both
    due times back, including a pause still running now.
    """
    paused = clock.paused_seconds
    if clock.waiting_since is not None:
        paused += calendar.between(clock.waiting_since, now)
    first_seconds, resolution_seconds = targets[0] * 60.0, targets[1] * 60.0
    first_due = calendar.add(clock.opened_at, first_seconds + paused)
    resolution_due = calendar.add(clock.opened_at, resolution_seconds + paused)
    states = [
        _target_state(first_due, clock.first_responded_at, now, first_seconds, calendar),
        _target_state(resolution_due, clock.resolved_at, now, resolution_seconds, calendar),
    ]
    # The worse of the two targets: BREACHED, then AT_RISK, then ON_TRACK; MET when both are.
    state = next(s for s in WORST_FIRST if s in states)
    return SlaView(
        first_response_due_at=first_due,
        resolution_due_at=resolution_due,
        first_responded_at=clock.first_responded_at,
        state=state,
    )
