"""GraphQL node and object types of identity and audit."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from core import audit
from core.audit import ERASED
from core.batch_fields import BatchLoad, batch_field, related
from core.catalog import catalog_for
from core.context import Info, RequestContext
from core.extension import Scope as ScopeValue
from core.identity import loaders, models
from core.identity.inputs import Scope
from core.node import ModelNode


async def _role_grants(context: RequestContext, roles: Sequence[Role]) -> list[list[RoleGrant]]:
    found = await context.loader(loaders.RoleGrantsLoader).load_level([role.id for role in roles])
    catalog = catalog_for(context.pm)
    grants = []
    for role, effective in zip(roles, found, strict=True):
        defaults = catalog.default_grants(role.key) if role.builtin else {}
        grants.append(
            [
                RoleGrant(permission=p, scope=s, builtin=p in defaults and defaults[p] == s)
                for p, s in sorted(effective.items())
            ]
        )
    return grants


async def _members(context: RequestContext, teams: Sequence[Team]) -> list[list[User]]:
    found = await context.loader(loaders.MembersByTeamLoader).load_level(
        [team.id for team in teams]
    )
    return [[User.from_model(row) for row in rows] for rows in found]


async def _effective_locales(context: RequestContext, users: Sequence[User]) -> list[str]:
    return [user.locale or context.settings.locale for user in users]


async def _effective_time_zones(context: RequestContext, users: Sequence[User]) -> list[str]:
    return [user.time_zone or context.settings.time_zone for user in users]


async def _roles(context: RequestContext, users: Sequence[User]) -> list[list[Role]]:
    found = await context.loader(loaders.RolesByUserLoader).load_level([user.id for user in users])
    return [[Role.from_model(row) for row in rows] for rows in found]


async def _user_grants(context: RequestContext, users: Sequence[User]) -> list[list[Grant]]:
    found = await context.loader(loaders.UserGrantsLoader).load_level([user.id for user in users])
    return [Grant.listed(grants) for grants in found]


async def _audit_readable(context: RequestContext, events: Sequence[AuditEvent]) -> list[bool]:
    """Whether the caller's ``audit:read`` reaches each event (``history`` shows events to
    whoever reads the customer; where from and the actor's label need the grant)."""
    caller = context.caller
    scope = caller.scope("audit:read") if caller is not None else None
    if scope is None:
        return [False] * len(events)
    if scope is ScopeValue.ALL:
        return [True] * len(events)
    found = await context.loader(loaders.AuditEventByIdLoader).load_level(
        [event.id for event in events]
    )
    return [row is not None for row in found]


def _audited(attribute: str) -> BatchLoad:
    """The batch function of an audit detail shown only within the caller's ``audit:read``."""

    async def load(context: RequestContext, events: Sequence[AuditEvent]) -> list[str | None]:
        readable = await _audit_readable(context, events)
        return [
            getattr(event, attribute) if shown else None
            for event, shown in zip(events, readable, strict=True)
        ]

    load.__qualname__ = load.__name__ = f"audited_{attribute}"
    return load


async def _actor_kinds(
    _context: RequestContext, events: Sequence[AuditEvent]
) -> list[AuditActorKind]:
    return [
        AuditActorKind.SYSTEM if event.actor_id is None else AuditActorKind.USER for event in events
    ]


async def _changes(
    _context: RequestContext, events: Sequence[AuditEvent]
) -> list[list[FieldChange]]:
    return [_field_changes(event.raw_changes) for event in events]


def _field_changes(raw_changes: Mapping[str, Any]) -> list[FieldChange]:
    result = []
    for name, value in sorted(raw_changes.items()):
        if isinstance(value, dict) and value.get("changed") is True:
            result.append(FieldChange(field=name, before=None, after=None, secret=True))
        elif isinstance(value, dict) and ("before" in value or "after" in value):
            result.append(
                FieldChange(
                    field=name,
                    before=value.get("before"),
                    after=value.get("after"),
                    secret=False,
                )
            )
        else:
            result.append(FieldChange(field=name, before=None, after=value, secret=False))
    return result


@strawberry.type(description="A permission with the scope it reaches.")
class Grant:
    permission: str
    scope: Scope  # type: ignore[valid-type]

    @staticmethod
    def listed(grants: Mapping[str, ScopeValue]) -> list[Grant]:
        return [Grant(permission=p, scope=s) for p, s in sorted(grants.items())]


@strawberry.type(name="Permission", description="A permission a module declares.")
class PermissionInfo:
    name: str = strawberry.field(description="`resource:action`, e.g. `customers:read`.")
    description: str
    module: str = strawberry.field(description="The module that declared it (`core` or a plugin).")


@strawberry.type(description="A grant of a role, and whether it comes with a built-in role.")
class RoleGrant:
    permission: str
    scope: Scope  # type: ignore[valid-type]
    builtin: bool = strawberry.field(
        description="Part of the built-in role's defaults (cannot be removed)."
    )


@strawberry.type(description="A named set of grants that users hold.")
class Role(ModelNode[models.Role]):
    by_id_loader = loaders.RoleByIdLoader
    id: relay.NodeID[int]
    key: str = strawberry.field(description="Stable identifier, e.g. `SALES_REPRESENTATIVE`.")
    name: str
    description: str
    builtin: bool = strawberry.field(description="Built-in roles can be extended, not deleted.")
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    grants: list[RoleGrant] = batch_field(
        _role_grants, description="Effective grants: built-in defaults plus additions."
    )

    @classmethod
    def from_model(cls, row: models.Role) -> Role:
        return cls(
            id=row.id,
            key=row.key,
            name=row.name,
            description=row.description,
            builtin=row.builtin,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type(description="A group of users; TEAM scope reaches the records of its members.")
class Team(ModelNode[models.Team]):
    by_id_loader = loaders.TeamByIdLoader
    id: relay.NodeID[int]
    name: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    members: list[User] = batch_field(_members, description="Members the caller may see, by name.")

    @classmethod
    def from_model(cls, row: models.Team) -> Team:
        return cls(
            id=row.id,
            name=row.name,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type(description="A person who signs in.")
class User(ModelNode[models.User]):
    by_id_loader = loaders.UserByIdLoader
    id: relay.NodeID[int]
    email: str
    name: str
    active: bool
    locale: str | None = strawberry.field(
        description="The user's own locale (`en`, `zh-CN`); null: the deployment's "
        "(`effectiveLocale`)."
    )
    time_zone: str | None = strawberry.field(
        description="The user's own IANA time zone; null: the deployment's (`effectiveTimeZone`)."
    )
    last_login_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    team_id: strawberry.Private[int | None]
    effective_locale: str = batch_field(
        _effective_locales,
        description="The locale in force: the user's own, else `CRM_LOCALE`.",
    )
    effective_time_zone: str = batch_field(
        _effective_time_zones,
        description="The IANA time zone in force: the user's own, else `CRM_TIME_ZONE`. "
        "Date-times the user reads are written in it.",
    )
    team: Team | None = batch_field(
        related(Team, "team_id"),
        description="The user's team, if they have one and it is visible.",
    )
    roles: list[Role] = batch_field(_roles)
    grants: list[Grant] = batch_field(
        _user_grants, description="What the user may do: the union of their roles' grants."
    )

    @classmethod
    def from_model(cls, row: models.User) -> User:
        return cls(
            id=row.id,
            email=row.email,
            name=row.name,
            active=row.is_active,
            locale=row.locale,
            time_zone=row.time_zone,
            last_login_at=row.last_login_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
            team_id=row.team_id,
        )


@strawberry.enum(description="Who performed an audited action.")
class AuditActorKind(enum.Enum):
    USER = "USER"
    SYSTEM = "SYSTEM"


@strawberry.type(
    description="A colleague as the records they own, are assigned or acted on name them: "
    "visible with every record the caller may see, while the full `User` stays scoped by "
    "`users:read`. It carries no email or other private data."
)
class UserSummary:
    id: strawberry.ID = strawberry.field(description="The user's global id (as `User.id`).")
    name: str = strawberry.field(
        description=f"Display name; `{ERASED}` for a user no longer on record."
    )
    active: bool = strawberry.field(description="false: deactivated (or no longer on record).")
    user_id: strawberry.Private[int]
    user: User | None = batch_field(
        related(lambda: User, "user_id"),
        description="The full user; null outside the caller's `users:read` scope.",
    )

    @classmethod
    def of(cls, user_id: int, card: loaders.UserCard | None) -> UserSummary:
        """The summary of ``user_id`` from its card (``None``: no user row, shown as erased)."""
        return cls(
            id=strawberry.ID(relay.to_base64("User", user_id)),
            name=card.name if card is not None else ERASED,
            active=card.active if card is not None else False,
            user_id=user_id,
        )

    @classmethod
    async def load(cls, info: Info, user_id: int | None) -> UserSummary | None:
        """The summary of ``user_id``, batched; ``None`` only when there is no user
        (``user_id`` is ``None``), never because the caller may not see the full user."""
        if user_id is None:
            return None
        return cls.of(user_id, await info.context.loader(loaders.UserSummaryLoader).load(user_id))

    @classmethod
    async def load_many(
        cls, context: RequestContext, user_ids: Sequence[int | None]
    ) -> list[UserSummary | None]:
        """The batch form of :meth:`load` (for :func:`core.batch_fields.related`)."""
        wanted = list(dict.fromkeys(user_id for user_id in user_ids if user_id is not None))
        cards = await context.loader(loaders.UserSummaryLoader).load_level(wanted)
        # One summary per user, however many records name them (a page of customers has
        # a handful of owners): a summary is read, never changed.
        found = {
            user_id: cls.of(user_id, card) for user_id, card in zip(wanted, cards, strict=True)
        }
        return [None if user_id is None else found[user_id] for user_id in user_ids]


@strawberry.type(description="A token for an integration; the secret is shown only once.")
class ApiToken(ModelNode[models.ApiToken]):
    by_id_loader = loaders.ApiTokenByIdLoader
    id: relay.NodeID[int]
    name: str
    prefix: str = strawberry.field(description="The secret's first characters, to recognise it.")
    permissions: list[str] | None = strawberry.field(
        description="The subset of the user's permissions it may use; null: all of them."
    )
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @classmethod
    def from_model(cls, row: models.ApiToken) -> ApiToken:
        return cls(
            id=row.id,
            name=row.name,
            prefix=row.prefix,
            permissions=row.permissions,
            created_at=row.created_at,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )


@strawberry.type(description="One field's change: its value before and after.")
class FieldChange:
    field: str
    before: JSON | None
    after: JSON | None
    secret: bool = strawberry.field(description="A secret changed; its values are never kept.")


@strawberry.type(description="An audited action: who did what to which record, and what changed.")
class AuditEvent(ModelNode[audit.AuditEvent]):
    by_id_loader = loaders.AuditEventByIdLoader
    id: relay.NodeID[int]
    occurred_at: dt.datetime
    action: str = strawberry.field(description="`<entity>.<verb>`, e.g. `user.created`.")
    entity_type: str
    entity_id: strawberry.ID | None = strawberry.field(
        description="The global id of the record acted on, when there is one."
    )
    actor_id: strawberry.Private[int | None]
    raw_changes: strawberry.Private[dict[str, Any]]
    label: strawberry.Private[str | None]
    address: strawberry.Private[str | None]
    request: strawberry.Private[str | None]
    actor_label: str | None = batch_field(
        _audited("label"),
        description="The actor's email at the time; null without `audit:read`.",
    )
    client_address: str | None = batch_field(
        _audited("address"), description="The client's address; null without `audit:read`."
    )
    request_id: str | None = batch_field(
        _audited("request"), description="The request's id; null without `audit:read`."
    )
    actor_kind: AuditActorKind = batch_field(
        _actor_kinds, description="USER: `actor` names who acted; SYSTEM: no user did."
    )
    actor: UserSummary | None = batch_field(
        related(UserSummary, "actor_id"),
        description="The acting user; null only for a SYSTEM action.",
    )
    changes: list[FieldChange] = batch_field(_changes)

    @classmethod
    def from_model(cls, row: audit.AuditEvent) -> AuditEvent:
        entity_id = (
            relay.to_base64(row.entity_type, row.entity_id) if row.entity_id is not None else None
        )
        return cls(
            id=row.id,
            occurred_at=row.occurred_at,
            action=row.action,
            entity_type=row.entity_type,
            entity_id=strawberry.ID(entity_id) if entity_id else None,
            actor_id=row.actor_id,
            raw_changes=row.changes or {},
            label=row.actor_label,
            address=row.client_address,
            request=row.request_id,
        )
