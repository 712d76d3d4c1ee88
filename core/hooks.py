"""The kernel's own contributions: core's migration branch, the root fields every
deployment has (``node``, ``nodes``, ``system``), the outbox's clean-up and its e-mail
channel. Registered first, as module ``core``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from core.extension import Migrations
from core.hookspecs import hookimpl
from core.mail import CHANNEL as EMAIL_CHANNEL
from core.mail import deliver_email
from core.outbox import Deliverer, purge_delivered
from core.queries import CoreQuery
from core.schedule import JobContext, PeriodicJob

MIGRATIONS_DIR = Path(__file__).parent / "migrations" / "versions"


@hookimpl
def crm_migrations() -> Migrations:
    # One branch for the kernel and core's domains: their tables were created together.
    return Migrations(branch="core", directory=MIGRATIONS_DIR, package="core")


@hookimpl
def crm_graphql_query() -> type[Any]:
    return CoreQuery


async def _purge_outbox(job: JobContext) -> Mapping[str, int]:
    async with job.db.transaction() as session:
        return {"outbox messages purged": await purge_delivered(session, job.settings, job.now)}


@hookimpl
def crm_periodic_jobs() -> Sequence[PeriodicJob]:
    return [PeriodicJob("outbox.purge", dt.timedelta(hours=6), _purge_outbox)]


@hookimpl
def crm_outbox_channels() -> Mapping[str, Deliverer]:
    return {EMAIL_CHANNEL: deliver_email}
