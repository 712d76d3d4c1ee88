"""GraphQL inputs and enums of identity and audit."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry
from strawberry import relay

from core.extension import Scope as ScopeValue
from core.ordering import OrderDirection
from core.types import DateTimeRange

Scope = strawberry.enum(
    ScopeValue,
    name="Scope",
    description="How far a grant reaches: OWN records (owned by or assigned to the user), "
    "the TEAM's (owned by anyone in the user's team), or ALL.",
)


LOCALE_HELP = "`en` or `zh-CN`; null: the deployment's (`CRM_LOCALE`)."
ZONE_HELP = "IANA time zone, e.g. `Asia/Shanghai`; null: the deployment's (`CRM_TIME_ZONE`)."


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.input
class RefreshTokenInput:
    refresh_token: str


@strawberry.input
class LogoutInput:
    refresh_token: str | None = strawberry.field(
        default=None,
        description="The session to end; without it, the session of the access token.",
    )


@strawberry.input
class CreateApiTokenInput:
    name: str
    expires_at: dt.datetime | None = None
    permissions: list[str] | None = strawberry.field(
        default=None, description="Narrow the token to these of your permissions."
    )


@strawberry.input
class RevokeApiTokenInput:
    id: relay.GlobalID


@strawberry.input
class CreateUserInput:
    email: str
    name: str
    password: str
    team_id: relay.GlobalID | None = None
    role_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)
    active: bool = True


@strawberry.input
class UpdateUserInput:
    id: relay.GlobalID
    version: int
    email: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    team_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A team, or null to leave the team."
    )
    active: bool | None = strawberry.UNSET
    locale: str | None = strawberry.field(default=strawberry.UNSET, description=LOCALE_HELP)
    time_zone: str | None = strawberry.field(default=strawberry.UNSET, description=ZONE_HELP)


@strawberry.input(description="The signed-in user's own preferences; a field left out stays.")
class UpdateMyPreferencesInput:
    locale: str | None = strawberry.field(default=strawberry.UNSET, description=LOCALE_HELP)
    time_zone: str | None = strawberry.field(default=strawberry.UNSET, description=ZONE_HELP)


@strawberry.input
class DeactivateUserInput:
    id: relay.GlobalID
    version: int


@strawberry.input
class SetUserPasswordInput:
    user_id: relay.GlobalID
    password: str
    current_password: str | None = strawberry.field(
        default=None, description="Required when changing your own password."
    )


@strawberry.input
class AssignRolesInput:
    user_id: relay.GlobalID
    role_ids: list[relay.GlobalID] = strawberry.field(
        description="The complete set of roles the user will hold."
    )


@strawberry.input
class CreateTeamInput:
    name: str


@strawberry.input
class UpdateTeamInput:
    id: relay.GlobalID
    version: int
    name: str


@strawberry.input
class GrantInput:
    permission: str
    scope: Scope  # type: ignore[valid-type]


@strawberry.input
class CreateRoleInput:
    name: str
    key: str | None = strawberry.field(
        default=None, description="Defaults to the name in SCREAMING_SNAKE_CASE."
    )
    description: str | None = None
    grants: list[GrantInput] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateRoleInput:
    id: relay.GlobalID
    version: int
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    grants: list[GrantInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The complete set of stored grants (for a built-in role: its additions).",
    )


@strawberry.input
class DeleteRoleInput:
    id: relay.GlobalID
    version: int


@strawberry.input
class UserFilter:
    search: str | None = strawberry.field(default=None, description="Part of name or email.")
    active: bool | None = None
    team_id: relay.GlobalID | None = None
    role_id: relay.GlobalID | None = None


@strawberry.enum(
    description="What a user list sorts by; by LAST_LOGIN_AT, users who never signed in "
    "come after the others."
)
class UserOrderField(enum.Enum):
    NAME = "NAME"
    EMAIL = "EMAIL"
    CREATED_AT = "CREATED_AT"
    LAST_LOGIN_AT = "LAST_LOGIN_AT"


@strawberry.input(description="One entry of a user list's orderBy.")
class UserOrder:
    field: UserOrderField = UserOrderField.NAME
    direction: OrderDirection = OrderDirection.ASC


@strawberry.enum(description="What a team list sorts by; NAME ignores case.")
class TeamOrderField(enum.Enum):
    NAME = "NAME"
    CREATED_AT = "CREATED_AT"


@strawberry.input(description="One entry of a team list's orderBy.")
class TeamOrder:
    field: TeamOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.enum(description="What the audit trail sorts by.")
class AuditEventOrderField(enum.Enum):
    OCCURRED_AT = "OCCURRED_AT"


@strawberry.input(description="One entry of the audit trail's orderBy.")
class AuditEventOrder:
    field: AuditEventOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input
class AuditEventFilter:
    action: str | None = strawberry.field(
        default=None, description="Exact action, or a prefix ending in `.` (`user.`)."
    )
    entity_type: str | None = None
    entity_id: relay.GlobalID | None = None
    actor_id: relay.GlobalID | None = None
    occurred: DateTimeRange | None = strawberry.field(
        default=None, description="When the change happened: `from` inclusive, `to` exclusive."
    )
