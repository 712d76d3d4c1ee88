"""The identity module's demo data: teams and one or more users in every built-in role.

The logins are fixed so that ``crm demo`` can print them and a README can name them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import catalog
from core.audit import Actor
from core.config import Settings
from core.identity import passwords, service
from core.identity.models import Role, Team, User
from core.identity.models import UserRole as UserRoleLink

DEMO_PASSWORD = "Demo-Lantern-Walrus-2026"
DEMO_DOMAIN = "demo.example"
"""The email domain of every demo login, core's and the plugins' alike."""
DEMO_ACTOR = Actor(label="crm demo")


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: str
    team: str | None


def demo_users(size: int) -> list[DemoUser]:
    """The demo's users: one per built-in role, plus a sales team that grows with ``size``."""
    users = [
        DemoUser("admin@demo.example", "Avery Admin", catalog.ADMINISTRATOR, None),
        DemoUser("sysadmin@demo.example", "Sam Sysadmin", catalog.SYSTEM_ADMINISTRATOR, None),
        DemoUser("manager@demo.example", "Morgan Manager", catalog.CUSTOMER_MANAGER, "North"),
        DemoUser("support@demo.example", "Skyler Support", catalog.SUPPORT_REPRESENTATIVE, None),
        DemoUser("finance@demo.example", "Frankie Finance", catalog.FINANCE, None),
    ]
    reps = max(2, min(size // 25, 50))
    first_names = ["Riley", "Jordan", "Casey", "Quinn", "Rowan", "Emerson", "Harper", "Parker"]
    for n in range(1, reps + 1):
        team = "North" if n % 2 else "South"
        name = f"{first_names[(n - 1) % len(first_names)]} Seller {n}"
        users.append(DemoUser(f"sales{n}@demo.example", name, catalog.SALES_REPRESENTATIVE, team))
    return users


async def load(session: AsyncSession, size: int, settings: Settings) -> None:
    teams = {}
    users = demo_users(size)
    # The hashes are made in worker threads, several at once, not one by one on the loop.
    hashes = await asyncio.gather(
        *(
            passwords.hash_off_loop(DEMO_PASSWORD, limit=settings.password_hash_concurrency)
            for _ in users
        )
    )
    for user, password_hash in zip(users, hashes, strict=True):
        team_id = None
        if user.team is not None:
            if user.team not in teams:
                teams[user.team] = await service.team_named(session, user.team, DEMO_ACTOR)
            team_id = teams[user.team].id
        roles = await service.roles_by_key(session, [user.role])
        await service.add_user(
            session,
            settings,
            DEMO_ACTOR,
            service.NewUser(
                user.email,
                user.name,
                DEMO_PASSWORD,
                team_id=team_id,
                password_hash=password_hash,
            ),
            roles,
        )


async def demo_logins(session: AsyncSession) -> list[DemoUser]:
    """The demo's logins as the database holds them once every module loaded its demo data
    (plugins add users and move them into teams): email, name, roles (comma-separated) and
    team, in the order they were made."""
    rows = (
        await session.execute(
            select(User.email, User.name, Role.key, Team.name)
            .outerjoin(UserRoleLink, UserRoleLink.user_id == User.id)
            .outerjoin(Role, Role.id == UserRoleLink.role_id)
            .outerjoin(Team, Team.id == User.team_id)
            .where(User.email.like(f"%@{DEMO_DOMAIN}"))
            .order_by(User.id, Role.key)
        )
    ).all()
    logins: dict[str, DemoUser] = {}
    for email, name, role, team in rows:
        known = logins.get(email)
        roles = f"{known.role}, {role}" if known and role else (known.role if known else role)
        logins[email] = DemoUser(email, name, roles or "", team)
    return list(logins.values())
