"""The identity module's wiring: users, teams, roles, tokens and the audit trail's API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.config import Settings
from core.extension import AccessPolicy, Grant, Identity, Permission
from core.hookspecs import hookimpl
from core.identity import declarations, demo, types
from core.identity.callers import authenticate
from core.identity.models import User
from core.identity.mutations import IdentityMutation
from core.identity.queries import IdentityQuery


def _team_members(team_id: int) -> Any:
    return select(User.id).where(User.team_id == team_id)


IDENTITY = Identity(authenticate=authenticate, team_members=_team_members)


@hookimpl
def crm_identity() -> Identity:
    return IDENTITY


@hookimpl
def crm_graphql_query() -> type[Any]:
    return IdentityQuery


@hookimpl
def crm_graphql_mutation() -> type[Any]:
    return IdentityMutation


@hookimpl
def crm_graphql_types() -> Sequence[type[Any]]:
    return [types.User, types.Team, types.Role, types.ApiToken, types.AuditEvent]


@hookimpl
def crm_permissions() -> Sequence[Permission]:
    return declarations.PERMISSIONS


@hookimpl
def crm_role_grants() -> Mapping[str, Sequence[Grant]]:
    return declarations.ROLE_GRANTS


@hookimpl
def crm_access_policies() -> Sequence[AccessPolicy]:
    return declarations.POLICIES


@hookimpl
async def crm_demo_data(session: AsyncSession, size: int, settings: Settings) -> None:
    await demo.load(session, size, settings)
