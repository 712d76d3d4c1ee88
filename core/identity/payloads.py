"""GraphQL payloads of identity's mutations."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry import relay

from core.errors import UserError
from core.identity.types import ApiToken, Role, Team, User


@strawberry.type
class AuthTokens:
    access_token: str | None = None
    access_token_expires_at: dt.datetime | None = None
    refresh_token: str | None = None
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LoginPayload(AuthTokens):
    pass


@strawberry.type
class RefreshTokenPayload(AuthTokens):
    pass


@strawberry.type
class LogoutPayload:
    revoked: bool
    errors: list[UserError]


@strawberry.type
class CreateApiTokenPayload:
    api_token: ApiToken | None
    secret: str | None = strawberry.field(description="The token itself; shown only this once.")
    errors: list[UserError]


@strawberry.type
class RevokeApiTokenPayload:
    api_token: ApiToken | None
    errors: list[UserError]


@strawberry.type
class UserPayload:
    user: User | None
    errors: list[UserError]


@strawberry.type
class CreateUserPayload(UserPayload):
    pass


@strawberry.type
class UpdateUserPayload(UserPayload):
    pass


@strawberry.type
class DeactivateUserPayload(UserPayload):
    pass


@strawberry.type
class SetUserPasswordPayload(UserPayload):
    pass


@strawberry.type
class AssignRolesPayload(UserPayload):
    pass


@strawberry.type
class TeamPayload:
    team: Team | None
    errors: list[UserError]


@strawberry.type
class CreateTeamPayload(TeamPayload):
    pass


@strawberry.type
class UpdateTeamPayload(TeamPayload):
    pass


@strawberry.type
class RolePayload:
    role: Role | None
    errors: list[UserError]


@strawberry.type
class CreateRolePayload(RolePayload):
    pass


@strawberry.type
class UpdateRolePayload(RolePayload):
    pass


@strawberry.type
class DeleteRolePayload:
    deleted_role_id: relay.GlobalID | None
    affected_users: int = strawberry.field(description="How many users held the role.")
    errors: list[UserError]
