"""Roles and their grants: a caller builds and changes only roles within their own grants."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Caller, actor_of, require
from core.catalog import catalog_for
from core.context import RequestContext
from core.errors import UserErrorCode, UserErrors
from core.extension import Scope
from core.i18n import _
from core.identity import auth
from core.identity.models import Role, RoleGrant, UserRole
from core.identity.service.common import _forbidden, _not_found, _uncovered
from core.validation import Check, global_id, require_version

ROLE_KEY = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")


async def roles_by_key(
    session: AsyncSession, keys: Sequence[str], field: str = "roles"
) -> list[Role]:
    """Roles named by key; an unknown key is a :class:`UserErrors` listing the known ones."""
    wanted = list(dict.fromkeys(k.strip().upper() for k in keys))
    rows = list((await session.scalars(select(Role).where(Role.key.in_(wanted)))).all())
    missing = sorted(set(wanted) - {r.key for r in rows})
    if missing:
        known = ", ".join((await session.scalars(select(Role.key).order_by(Role.key))).all())
        raise UserErrors.single(
            field,
            _("unknown role {keys} (roles: {known})", keys=", ".join(missing), known=known),
            UserErrorCode.INVALID,
        )
    return rows


@dataclass(frozen=True)
class GrantInput:
    permission: str
    scope: Scope


def _grant_map(
    check: Check, context: RequestContext, grants: Sequence[GrantInput]
) -> dict[str, Scope]:
    catalog = catalog_for(context.pm)
    result: dict[str, Scope] = {}
    for index, grant in enumerate(grants):
        if grant.permission not in catalog.permissions:
            check.fail(
                f"grants.{index}.permission",
                _("{permission!r} is not a permission", permission=grant.permission),
                UserErrorCode.INVALID,
            )
        elif grant.permission in result:
            check.fail(
                f"grants.{index}.permission",
                _("{permission} is granted twice", permission=grant.permission),
                UserErrorCode.DUPLICATE,
            )
        else:
            result[grant.permission] = grant.scope
    return result


def _role_key_from(name: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")[:64]


async def _store_grants(session: AsyncSession, role: Role, grants: Mapping[str, Scope]) -> None:
    await session.execute(delete(RoleGrant).where(RoleGrant.role_id == role.id))
    session.add_all(
        RoleGrant(role_id=role.id, permission=p, scope=s.value) for p, s in grants.items()
    )


def _grants_doc(grants: Mapping[str, Scope]) -> dict[str, str]:
    return {p: s.value for p, s in sorted(grants.items())}


async def create_role(
    session: AsyncSession,
    context: RequestContext,
    name: str | None,
    key: str | None,
    description: str | None,
    grants: Sequence[GrantInput],
) -> Role:
    caller = require(context, "roles:manage")
    check = Check()
    cleaned_name = check.text("name", name, max_length=100)
    cleaned_key = (key or "").strip() or (_role_key_from(cleaned_name) if cleaned_name else "")
    if cleaned_name is not None and not ROLE_KEY.match(cleaned_key):
        check.fail(
            "key",
            _("must be 2-64 characters of A-Z, 0-9 and _, starting with a letter"),
            UserErrorCode.INVALID,
        )
    elif cleaned_name is not None and await session.scalar(
        select(Role.id).where(Role.key == cleaned_key)
    ):
        check.fail(
            "key",
            _("a role with key {key} exists", key=cleaned_key),
            UserErrorCode.DUPLICATE,
        )
    cleaned_description = (
        check.text("description", description, max_length=500, required=False) or ""
    )
    grant_map = _grant_map(check, context, grants)
    check.done()
    assert cleaned_name is not None
    beyond = _uncovered(grant_map, caller.grants)
    if beyond:
        raise _forbidden(
            "grants", _("you cannot grant what you do not hold: {grants}", grants=", ".join(beyond))
        )
    now = context.now()
    role = Role(
        key=cleaned_key,
        name=cleaned_name,
        description=cleaned_description,
        builtin=False,
        created_at=now,
        updated_at=now,
    )
    session.add(role)
    await session.flush()
    await _store_grants(session, role, grant_map)
    audit.record(
        session,
        actor_of(context),
        "role.created",
        "Role",
        role.id,
        audit.created(
            {
                "key": role.key,
                "name": role.name,
                "description": role.description,
                "grants": _grants_doc(grant_map),
            }
        ),
    )
    return role


async def _managed_role(
    session: AsyncSession, context: RequestContext, caller: Caller, role_id: int | None
) -> Role:
    """A role the caller may change: one that grants nothing beyond the caller's own."""
    role = await session.get(Role, role_id, with_for_update=True) if role_id is not None else None
    if role is None:
        raise _not_found("id", "role")
    grants = await auth.role_grants(session, catalog_for(context.pm), [role.id])
    beyond = _uncovered(grants.get(role.id, {}), caller.grants)
    if beyond:
        raise _forbidden(
            "id",
            _(
                "role {key} grants what you do not hold yourself: {grants}",
                key=role.key,
                grants=", ".join(beyond),
            ),
        )
    return role


async def _stored_grants(session: AsyncSession, role_id: int) -> dict[str, Scope]:
    rows = (
        await session.execute(
            select(RoleGrant.permission, RoleGrant.scope).where(RoleGrant.role_id == role_id)
        )
    ).all()
    return {p: Scope(s) for p, s in rows}


async def update_role(
    session: AsyncSession,
    context: RequestContext,
    role_id: int | None,
    version: int,
    changes: Mapping[str, Any],
) -> Role:
    """Change a role. A built-in role keeps its name and its grants from code; its stored
    grants (``grants``) are additions to them."""
    caller = require(context, "roles:manage")
    role = await _managed_role(session, context, caller, role_id)
    require_version(role, version)
    check = Check()
    before = {
        "name": role.name,
        "description": role.description,
        "grants": _grants_doc(await _stored_grants(session, role.id)),
    }
    if "name" in changes:
        if role.builtin:
            check.fail("name", _("a built-in role keeps its name"), UserErrorCode.BUSINESS_RULE)
        else:
            cleaned = check.text("name", changes["name"], max_length=100)
            if cleaned is not None:
                role.name = cleaned
    if "description" in changes:
        role.description = (
            check.text("description", changes["description"], max_length=500, required=False) or ""
        )
    grant_map: dict[str, Scope] | None = None
    if "grants" in changes:
        grant_map = _grant_map(check, context, changes["grants"])
    check.done()
    if grant_map is not None:
        beyond = _uncovered(grant_map, caller.grants)
        if beyond:
            raise _forbidden(
                "grants",
                _("you cannot grant what you do not hold: {grants}", grants=", ".join(beyond)),
            )
        await _store_grants(session, role, grant_map)
    after = {
        "name": role.name,
        "description": role.description,
        "grants": _grants_doc(grant_map) if grant_map is not None else before["grants"],
    }
    diff = audit.diff(before, after)
    if diff:
        role.updated_at = context.now()
        await session.flush()
        audit.record(session, actor_of(context), "role.updated", "Role", role.id, diff)
    return role


async def delete_role(
    session: AsyncSession, context: RequestContext, role_id: int | None, version: int
) -> int:
    """Delete a custom role; its holders lose it. Returns how many users held it."""
    caller = require(context, "roles:manage")
    role = await _managed_role(session, context, caller, role_id)
    require_version(role, version)
    if role.builtin:
        raise UserErrors.single(
            "id",
            _("{key} is a built-in role and cannot be deleted", key=role.key),
            UserErrorCode.BUSINESS_RULE,
        )
    holders = list(
        (await session.scalars(select(UserRole.user_id).where(UserRole.role_id == role.id))).all()
    )
    grants = _grants_doc(await _stored_grants(session, role.id))
    await session.delete(role)
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "role.deleted",
        "Role",
        role.id,
        audit.diff(
            {
                "key": role.key,
                "name": role.name,
                "grants": grants,
                "holders": [global_id("User", h) for h in holders],
            },
            {},
        ),
    )
    return len(holders)
