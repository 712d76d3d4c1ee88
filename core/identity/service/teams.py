"""Teams: created (also by name, for the CLI and demo data) and renamed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import actor_of, require
from core.context import RequestContext
from core.db import utcnow
from core.errors import UserErrorCode
from core.extension import Scope
from core.i18n import _
from core.identity.models import Team
from core.identity.service.common import _forbidden, _not_found
from core.validation import Check, require_version


def _team_key(name: str) -> str:
    return " ".join(name.split()).lower()


async def team_named(session: AsyncSession, name: str, actor: audit.Actor) -> Team:
    """The team of this name, created (and audited) if there is none."""
    team = await session.scalar(select(Team).where(Team.name_key == _team_key(name)))
    return (
        team
        if team is not None
        else await _insert_team(session, actor, name.strip(), actor.at or utcnow())
    )


async def create_team(session: AsyncSession, context: RequestContext, name: str | None) -> Team:
    caller = require(context, "users:manage")
    if not caller.can("users:manage", Scope.ALL):
        raise _forbidden(None, _("creating teams needs users:manage for all users"))
    check = Check()
    cleaned = check.text("name", name, max_length=100)
    if cleaned is not None and await session.scalar(
        select(Team.id).where(Team.name_key == _team_key(cleaned))
    ):
        check.fail("name", _("a team with this name exists"), UserErrorCode.DUPLICATE)
    check.done()
    assert cleaned is not None
    return await _insert_team(session, actor_of(context), cleaned, context.now())


async def _insert_team(
    session: AsyncSession, actor: audit.Actor, name: str, now: dt.datetime
) -> Team:
    team = Team(name=name, name_key=_team_key(name), created_at=now, updated_at=now)
    session.add(team)
    await session.flush()
    audit.record(session, actor, "team.created", "Team", team.id, audit.created({"name": name}))
    return team


async def update_team(
    session: AsyncSession,
    context: RequestContext,
    team_id: int | None,
    version: int,
    name: str | None,
) -> Team:
    require(context, "users:manage")
    team = None
    if team_id is not None:
        team = await session.scalar(
            select(Team)
            .where(Team.id == team_id, context.visible("users:manage", "teams"))
            .with_for_update()
        )
    if team is None:
        raise _not_found("id", "team")
    require_version(team, version)
    check = Check()
    cleaned = check.text("name", name, max_length=100)
    if cleaned is not None and await session.scalar(
        select(Team.id).where(Team.name_key == _team_key(cleaned), Team.id != team.id)
    ):
        check.fail("name", _("a team with this name exists"), UserErrorCode.DUPLICATE)
    check.done()
    assert cleaned is not None
    if cleaned != team.name:
        before = team.name
        team.name, team.name_key, team.updated_at = cleaned, _team_key(cleaned), context.now()
        await session.flush()
        audit.record(
            session,
            actor_of(context),
            "team.updated",
            "Team",
            team.id,
            audit.diff({"name": before}, {"name": cleaned}),
        )
    return team
