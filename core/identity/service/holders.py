"""Who holds a permission: the people to tell about work that needs it (an SLA breach goes
to those who manage tickets)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.catalog import catalog_for
from core.extension import Scope
from core.host import CRMPluginManager
from core.identity.auth import role_grants
from core.identity.models import User
from core.identity.models import UserRole as UserRoleLink


async def users_with_permission(
    session: AsyncSession,
    pm: CRMPluginManager,
    permission: str,
    *,
    team_id: int | None = None,
) -> list[int]:
    """The active users holding ``permission`` whose scope reaches a record of ``team_id``:
    at ALL scope, or at TEAM scope as a member of that team. Without ``team_id``, those at
    ALL scope only. Ids in ascending order."""
    grants = await role_grants(session, catalog_for(pm))
    wide = [role for role, held in grants.items() if held.get(permission) is Scope.ALL]
    team = [role for role, held in grants.items() if held.get(permission) is Scope.TEAM]
    chosen: ColumnElement[bool] = UserRoleLink.role_id.in_(wide)
    if team_id is not None and team:
        chosen = chosen | (UserRoleLink.role_id.in_(team) & (User.team_id == team_id))
    rows = await session.scalars(
        select(User.id)
        .join(UserRoleLink, UserRoleLink.user_id == User.id)
        .where(User.is_active, chosen)
        .distinct()
        .order_by(User.id)
    )
    return list(rows.all())
