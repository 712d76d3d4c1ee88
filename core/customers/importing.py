"""Customer imports of any size, as a background job (``startCustomerImport``).

The job reads the file once and then works in two phases, recording its progress in the
job (:mod:`core.background`) as it goes:

1. **Validating**: every row is checked before any is written, in batches of
   :data:`VALIDATE_BATCH` rows with one query per batch for owners, matches and duplicate
   emails and phones, and in the file itself for two rows that would give two customers
   the same email or phone. Nothing is locked. A dry run ends here, as does a real run with
   any bad row: then nothing is imported and every problem is listed with its line.
2. **Writing**: rows go through the same service functions as the API (same checks, scope,
   audit and plugin hooks), each in a savepoint, in chunks of at most :data:`CHUNK_ROWS`
   rows or :data:`CHUNK_SECONDS` seconds. Each chunk is one transaction and records how far
   the job got in that same transaction, so other writers take their turn between chunks
   (SQLite has one writer at a time) and a job resumed by another runner carries on from
   the last committed chunk. A row refused at this point (someone changed the data since
   it was validated) is reported with its line; the rows around it are kept.

The cost is linear in the rows: a constant number of queries per batch to validate, and
per row to write.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import actor_of, require
from core.background import (
    FINISHED,
    BackgroundJob,
    JobCancelled,
    JobFailed,
    JobRun,
    JobStatus,
    enqueue,
    request_cancel,
)
from core.catalog import catalog_for
from core.context import RequestContext
from core.csv_import import ParsedRow, RowError, row_errors
from core.customers import exchange
from core.customers.exchange import ImportResult
from core.customers.loaders import IMPORT_KIND
from core.customers.models import Customer
from core.customers.service.common import FIELD_NAMES, duplicate_message, owner_problem
from core.customers.service.customers import _check_customer, _require_fields
from core.customers.service.fields import custom_fields
from core.customers.service.tags import _tag_names
from core.errors import ApiError, UserError, UserErrorCode, UserErrors, not_found
from core.i18n import _
from core.identity.callers import caller_for_email
from core.identity.models import User
from core.validation import Check

KIND = IMPORT_KIND
VALIDATE_BATCH = 500
CHUNK_ROWS = 100
CHUNK_SECONDS = 0.2
MAX_REPORTED_ERRORS = 1000
MAX_ACTIVE_PER_USER = 3


def initial_state(total: int, dry_run: bool) -> dict[str, Any]:
    return {
        "phase": "QUEUED",
        "total": total,
        "validated": 0,
        "written": 0,
        "created": 0,
        "updated": 0,
        "error_count": 0,
        "errors": [],
        "dry_run": dry_run,
        "imported": False,
    }


def _add_errors(state: dict[str, Any], errors: Sequence[RowError]) -> None:
    """Report ``errors`` (all of one batch or row: a line never comes back in a later one)."""
    state["error_count"] += len({e.line for e in errors})
    room = MAX_REPORTED_ERRORS - len(state["errors"])
    state["errors"].extend(
        {"line": e.line, "field": e.field, "message": e.message, "code": e.code.value}
        for e in errors[: max(room, 0)]
    )


async def _context(run: JobRun) -> RequestContext:
    """The context of the user who started the import, with the grants they hold now."""
    async with run.db.read() as session:
        user = await session.get(User, run.created_by) if run.created_by is not None else None
    if user is None or not user.is_active:
        raise JobFailed("the user who started this import is no longer active")
    caller = await caller_for_email(run.db, catalog_for(run.pm), user.email)
    if caller.scope("customers:write") is None:
        raise JobFailed(f"{user.email} no longer holds customers:write")
    return RequestContext(
        settings=run.settings,
        db=run.db,
        pm=run.pm,
        caller=caller,
        request_id=run.request_id or f"job-{run.job_id}",
        clock=run.clock,
    )


async def run_import(run: JobRun) -> Mapping[str, Any]:
    """The job handler of kind ``customers.import``."""
    match_on = list(run.payload["match_on"])
    dry_run = bool(run.payload["dry_run"])
    context = await _context(run)
    rows = exchange.parse(run.payload["csv"], match_on, check_text=False)  # checked on start
    state = dict(run.state)
    if state.get("phase") not in ("WRITING", "DONE"):
        state = initial_state(len(rows), dry_run)
        state["phase"] = "VALIDATING"
        await _validate(run, context, rows, match_on, state)
        if dry_run or state["error_count"]:
            state["phase"] = "DONE"
            await _save(run, state)
            if not dry_run:
                count = state["error_count"]
                which = "1 row has" if count == 1 else f"{count} rows have"
                raise JobFailed(f"{which} errors; nothing was imported")
            return state
        state.update(phase="WRITING", created=0, updated=0)
        await _save(run, state)
    await _write(run, context, rows, match_on, state)
    state["phase"] = "DONE"
    state["imported"] = True
    return state


async def _save(run: JobRun, state: dict[str, Any]) -> bool:
    async with run.db.transaction() as session:
        return await run.checkpoint(session, state)


async def start_import(
    session: AsyncSession,
    context: RequestContext,
    text: str,
    match_on: Sequence[str],
    dry_run: bool,
) -> BackgroundJob:
    """Queue an import of CSV ``text``; the file as a whole (header, columns, match keys, row
    count) is checked now, its rows by the job."""
    caller = require(context, "customers:write")
    # Reading 50,000 rows takes a moment of CPU: off the event loop, other requests go on.
    rows = await asyncio.to_thread(exchange.parse, text, match_on)
    # The user's row is the lock that makes "three at once" hold under concurrent starts
    # (PostgreSQL; SQLite writes one transaction at a time anyway).
    await session.execute(select(User.id).where(User.id == caller.user_id).with_for_update())
    active = await session.scalar(
        select(func.count())
        .select_from(BackgroundJob)
        .where(
            BackgroundJob.kind == KIND,
            BackgroundJob.created_by == caller.user_id,
            BackgroundJob.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]),
        )
    )
    if (active or 0) >= MAX_ACTIVE_PER_USER:
        raise UserErrors.single(
            "csv",
            _(
                "you have {active} imports queued or running, the most at once; wait for one to "
                "finish or cancel one",
                active=active,
            ),
            UserErrorCode.CONFLICT,
        )
    job = await enqueue(
        session,
        KIND,
        {"csv": text, "match_on": list(match_on), "dry_run": dry_run},
        created_by=caller.user_id,
        now=context.now(),
        request_id=context.request_id,
        state=initial_state(len(rows), dry_run),
    )
    audit.record(
        session,
        actor_of(context),
        "customer.import_started",
        "CustomerImport",
        job.id,
        {"rows": len(rows), "dryRun": dry_run, "matchOn": list(match_on)},
    )
    return job


async def cancel_import(
    session: AsyncSession, context: RequestContext, job_id: int | None
) -> BackgroundJob:
    """Ask an import to stop: a queued one never starts, a running one stops after its
    current chunk (the chunks written so far stay)."""
    caller = require(context, "customers:write")
    job = None
    if job_id is not None:
        job = await session.scalar(
            select(BackgroundJob)
            .where(
                BackgroundJob.id == job_id,
                BackgroundJob.kind == KIND,
                BackgroundJob.created_by == caller.user_id,
            )
            .with_for_update()
        )
    if job is None:
        raise not_found("input.id", _("no import of yours has this id"))
    if job.status in FINISHED:
        raise UserErrors.single(
            "id",
            _("the import has already finished ({status})", status=job.status),
            UserErrorCode.CONFLICT,
        )
    await request_cancel(session, job, context.now())
    audit.record(
        session, actor_of(context), "customer.import_cancelled", "CustomerImport", job.id, {}
    )
    return job


# ----------------------------------------------------------------------------- validating


class _Validator:
    """Checks rows batch by batch, remembering what earlier rows of the file claimed."""

    def __init__(self, context: RequestContext, match_on: Sequence[str]) -> None:
        self.context = context
        self.match_on = match_on
        self.claimed: dict[tuple[str, str], tuple[str, int]] = {}  # (column, value) -> row
        self.owner_errors: dict[int, list[UserError]] = {}
        self.identities: set[str] = set()
        self.created = 0  # what the good rows would do (a dry run reports it)
        self.updated = 0

    async def batch(self, session: AsyncSession, rows: Sequence[ParsedRow]) -> list[RowError]:
        readable = [row for row in rows if row.error is None]
        owners = await self._owners(session, readable)
        matches = await self._matches(session, readable)
        errors = [row.error for row in rows if row.error is not None]
        pending: list[tuple[ParsedRow, Check, dict[str, Any], Customer | None, bool]] = []
        for row in readable:
            check = Check()
            existing, writable = matches.get(row.line, (None, True))
            columns = await self._row(session, check, row, existing, writable, owners)
            pending.append((row, check, columns, existing, writable))
        found = await self._taken(session, [columns for _, _, columns, _, _ in pending])
        for row, check, columns, existing, _writable in pending:
            identity = self._identity(row, existing)
            self._duplicates(check, row, identity, columns, existing, found)
            errors.extend(RowError(row.line, e.field, e.message, e.code) for e in check.errors)
            if not check.errors:
                if existing is None and identity not in self.identities:
                    self.created += 1
                else:
                    self.updated += 1
                self.identities.add(identity)
        return sorted(errors, key=lambda e: e.line)

    async def _row(
        self,
        session: AsyncSession,
        check: Check,
        row: ParsedRow,
        existing: Customer | None,
        writable: bool,
        owners: Mapping[str, int],
    ) -> dict[str, Any]:
        if existing is not None and not writable:
            check.fail(
                "id", _("no customer with this id that you may change"), UserErrorCode.INVALID
            )
            return {}
        raw = exchange._row_values(row.values, check)
        await exchange.read_custom_text(session, raw)
        owner_email = (row.values.get("owner_email") or "").lower()
        if owner_email:
            owner_id = owners.get(owner_email)
            if owner_id is None:
                check.fail("owner_email", _("no user has this email"), UserErrorCode.INVALID)
            else:
                check.errors.extend(await self._owner(session, owner_id))
        given = raw if existing is not None else {"address": None, **raw}
        columns = _check_customer(check, self.context, given)
        # As the write will: a new customer needs every required field, an update may not
        # clear one.
        _require_fields(check, self.context, columns, existing)
        tags = [t.strip() for t in (row.values.get("tags") or "").split(";") if t.strip()]
        _tag_names(check, tags, "tags")
        if "custom_fields" in raw:
            current = existing.custom_fields if existing is not None else None
            await custom_fields(session, check, "CUSTOMER", raw["custom_fields"], current)
        return columns

    async def _owner(self, session: AsyncSession, owner_id: int) -> list[UserError]:
        if owner_id not in self.owner_errors:
            check = Check()
            problem = await owner_problem(session, self.context, owner_id)
            if problem is not None:
                check.fail("ownerId", problem, UserErrorCode.INVALID)
            self.owner_errors[owner_id] = check.errors
        return self.owner_errors[owner_id]

    async def _owners(self, session: AsyncSession, rows: Sequence[ParsedRow]) -> dict[str, int]:
        emails = {(r.values.get("owner_email") or "").lower() for r in rows} - {""}
        if not emails:
            return {}
        found = await session.execute(select(User.email, User.id).where(User.email.in_(emails)))
        return {str(email): int(user_id) for email, user_id in found.all()}

    async def _matches(
        self, session: AsyncSession, rows: Sequence[ParsedRow]
    ) -> dict[int, tuple[Customer, bool]]:
        """Line -> the customer the row updates (by its first match key with a value) and
        whether the caller may change it."""
        matched: dict[int, tuple[Customer, bool]] = {}
        writable = case((self.context.visible("customers:write", "customers"), True), else_=False)
        for key in self.match_on:
            wanted: dict[str, list[int]] = {}
            column: Any = None
            for row in rows:
                if row.line in matched:
                    continue
                found = exchange.match_key(self.context, key, row.values)
                if found is not None:
                    column, value = found
                    wanted.setdefault(value, []).append(row.line)
            if not wanted:
                continue
            result = await session.execute(
                select(Customer, writable).where(
                    column.in_(list(wanted)),
                    Customer.archived_at.is_(None),
                    self.context.visible("customers:read", "customers"),
                )
            )
            for customer, may_write in result.all():
                for line in wanted.get(getattr(customer, column.key), []):
                    matched.setdefault(line, (customer, bool(may_write)))
        return matched

    async def _taken(
        self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]
    ) -> dict[tuple[str, str], list[tuple[int, str, bool]]]:
        """(column, value) -> the active customers that already have it: id, number and
        whether the caller may read it."""
        readable = case((self.context.visible("customers:read", "customers"), True), else_=False)
        taken: dict[tuple[str, str], list[tuple[int, str, bool]]] = {}
        for name in ("email", "phone"):
            values = {columns[name] for columns in rows if columns.get(name)}
            if not values:
                continue
            column = getattr(Customer, name)
            result = await session.execute(
                select(column, Customer.id, Customer.number, readable).where(
                    column.in_(values),
                    Customer.archived_at.is_(None),
                    Customer.erased_at.is_(None),
                )
            )
            for value, customer_id, number, may_read in result.all():
                taken.setdefault((name, value), []).append((customer_id, number, bool(may_read)))
        return taken

    def _duplicates(
        self,
        check: Check,
        row: ParsedRow,
        identity: str,
        columns: Mapping[str, Any],
        existing: Customer | None,
        taken: Mapping[tuple[str, str], list[tuple[int, str, bool]]],
    ) -> None:
        for name in ("email", "phone"):
            value = columns.get(name)
            if not value or check.has_error(name):
                continue
            others = [
                t for t in taken.get((name, value), []) if existing is None or t[0] != existing.id
            ]
            if others:
                _other, number, may_read = max(others, key=lambda t: t[2])
                check.fail(name, duplicate_message(name, number, may_read), UserErrorCode.DUPLICATE)
                continue
            first = self.claimed.setdefault((name, value), (identity, row.line))
            if first[0] != identity:
                check.fail(
                    name,
                    _(
                        "line {line} of this file already has this {name}",
                        line=first[1],
                        name=FIELD_NAMES.get(name, name),
                    ),
                    UserErrorCode.DUPLICATE,
                )

    def _identity(self, row: ParsedRow, existing: Customer | None) -> str:
        """Which customer the row ends as: two rows with one identity are one customer.

        A new row is the customer an earlier row of the file created when one of its match
        keys (email or phone, in ``matchOn`` order) has the value that row had: the write
        finds that customer then. A number never matches a new customer (numbers are
        assigned by the service, not taken from the file).
        """
        if existing is not None:
            return f"id:{existing.id}"
        for key in self.match_on:
            if key == "NUMBER":
                continue
            found = exchange.match_key(self.context, key, row.values)
            if found is not None and (key.lower(), found[1]) in self.claimed:
                return self.claimed[(key.lower(), found[1])][0]
        return f"line:{row.line}"


async def _validate(
    run: JobRun,
    context: RequestContext,
    rows: Sequence[ParsedRow],
    match_on: Sequence[str],
    state: dict[str, Any],
) -> None:
    validator = _Validator(context, match_on)
    for start in range(0, len(rows), VALIDATE_BATCH):
        batch = rows[start : start + VALIDATE_BATCH]
        async with run.db.read() as session:
            _add_errors(state, await validator.batch(session, batch))
        state["validated"] = start + len(batch)
        # What the good rows would do; writing counts what they did.
        state["created"], state["updated"] = validator.created, validator.updated
        if await _save(run, state):
            raise JobCancelled
        await asyncio.sleep(0)  # let requests in between batches


# ----------------------------------------------------------------------------- writing


async def _write(
    run: JobRun,
    context: RequestContext,
    rows: Sequence[ParsedRow],
    match_on: Sequence[str],
    state: dict[str, Any],
) -> None:
    require(context, "customers:write")
    index = int(state["written"])
    while index < len(rows):
        started = time.monotonic()
        async with run.db.transaction() as session:
            count = 0
            while (
                index < len(rows)
                and count < CHUNK_ROWS
                and time.monotonic() - started < CHUNK_SECONDS
            ):
                row = rows[index]
                index += 1
                count += 1
                done = ImportResult()
                try:
                    async with session.begin_nested():
                        await exchange.import_row(session, context, row.values, match_on, done)
                except (UserErrors, ApiError) as exc:
                    _add_errors(state, row_errors(row.line, exc))
                state["created"] += done.created
                state["updated"] += done.updated
            state["written"] = index
            stop = await run.checkpoint(session, state)
        if stop:
            raise JobCancelled
        await asyncio.sleep(0)  # writers waiting for their turn go first
