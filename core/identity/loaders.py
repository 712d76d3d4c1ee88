"""Dataloaders of identity and audit; every one filters through the caller's scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditEvent
from core.catalog import catalog_for, merge_grants
from core.extension import Scope
from core.identity import auth
from core.identity.models import ApiToken, Role, Team, User, UserRole
from core.key_lists import among, among_named, among_values
from core.loaders import ByIdLoader, Loader, group_by_key, one_by_key
from core.prepared import Prepared, prepared_column_rows


class UserByIdLoader(ByIdLoader[User]):
    """Users by id, ``None`` for those the caller may not see (``users:read``)."""

    entity = User

    def statement(self) -> Select[Any]:
        return select(User).where(self.context.visible("users:read"))


@dataclass(frozen=True)
class UserCard:
    """What every caller may know of a colleague: the id, the display name, whether active."""

    id: int
    name: str
    active: bool


class UserSummaryLoader(Loader[int, UserCard | None]):
    """Users' names by id for every authenticated caller, unscoped on purpose: a record the
    caller may see names the colleague it points at (its owner, assignee, actor), while the
    full :class:`User` stays behind ``users:read``. ``None`` for an id with no user row."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[UserCard | None]:
        rows = await prepared_column_rows(session, _USER_CARDS, among_values(_IDS, keys))
        found = {row.id: UserCard(row.id, row.name, row.is_active) for row in rows}
        return [found.get(key) for key in keys]


_IDS = "user_ids"
_USER_CARDS = Prepared(select(User.id, User.name, User.is_active).where(among_named(User.id, _IDS)))
"""Users' cards by id, built and compiled once (core.prepared): the ids are a parameter."""


class TeamByIdLoader(ByIdLoader[Team]):
    entity = Team

    def statement(self) -> Select[Any]:
        return select(Team).where(self.context.visible("users:read", "teams"))


class MembersByTeamLoader(Loader[int, list[User]]):
    """A team's members that the caller may see, by name."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[list[User]]:
        rows = (
            await session.scalars(
                select(User)
                .where(among(User.team_id, keys), self.context.visible("users:read"))
                .order_by(User.name, User.id)
            )
        ).all()
        return group_by_key(keys, rows, "team_id")


class RoleByIdLoader(Loader[int, Role | None]):
    """Roles are visible to every authenticated caller (what a role means is not secret)."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[Role | None]:
        if self.context.caller is None:
            return [None for _ in keys]
        rows = (await session.scalars(select(Role).where(among(Role.id, keys)))).all()
        return one_by_key(keys, rows)


class RolesByUserLoader(Loader[int, list[Role]]):
    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[list[Role]]:
        rows = (
            await session.execute(
                select(UserRole.user_id, Role)
                .join(Role, Role.id == UserRole.role_id)
                .where(among(UserRole.user_id, keys))
                .order_by(Role.key)
            )
        ).all()
        grouped: dict[int, list[Role]] = {key: [] for key in keys}
        for user_id, role in rows:
            grouped[user_id].append(role)
        return [grouped[key] for key in keys]


class RoleGrantsLoader(Loader[int, dict[str, Scope]]):
    """Effective grants of roles: built-in defaults plus stored additions."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[dict[str, Scope]]:
        grants = await auth.role_grants(session, catalog_for(self.context.pm), keys)
        return [grants.get(key, {}) for key in keys]


class UserGrantsLoader(Loader[int, dict[str, Scope]]):
    """Effective grants of users: the union of their roles' grants."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[dict[str, Scope]]:
        catalog = catalog_for(self.context.pm)
        links = (
            await session.execute(
                select(UserRole.user_id, UserRole.role_id).where(among(UserRole.user_id, keys))
            )
        ).all()
        per_role = await auth.role_grants(session, catalog, {role for _, role in links})
        result: dict[int, dict[str, Scope]] = {key: {} for key in keys}
        for user_id, role_id in links:
            result[user_id] = merge_grants(result[user_id], per_role.get(role_id, {}))
        return [result[key] for key in keys]


class AuditEventByIdLoader(Loader[int, AuditEvent | None]):
    async def load_batch(
        self, session: AsyncSession, keys: Sequence[int]
    ) -> list[AuditEvent | None]:
        rows = (
            await session.scalars(
                select(AuditEvent).where(
                    among(AuditEvent.id, keys), self.context.visible("audit:read")
                )
            )
        ).all()
        return one_by_key(keys, rows)


class ApiTokenByIdLoader(Loader[int, ApiToken | None]):
    """The caller's own tokens, and those of users they manage."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[int]) -> list[ApiToken | None]:
        caller = self.context.caller
        if caller is None:
            return [None for _ in keys]
        managed = select(User.id).where(self.context.visible("users:manage"))
        rows = (
            await session.scalars(
                select(ApiToken).where(
                    among(ApiToken.id, keys),
                    or_(ApiToken.user_id == caller.user_id, ApiToken.user_id.in_(managed)),
                )
            )
        ).all()
        return one_by_key(keys, rows)
