"""GraphQL payloads of identity's mutations."""

from __future__ import annotations

import datetime as dt
from typing import Self

import strawberry
from strawberry import relay

from core.errors import UserError
from core.identity import models
from core.identity.auth import Issued
from core.identity.service import NewApiToken
from core.identity.types import ApiToken, Role, Team, User


@strawberry.type
class AuthTokens:
    access_token: str | None = None
    access_token_expires_at: dt.datetime | None = None
    refresh_token: str | None = None
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def of(cls, issued: Issued | None, errors: list[UserError]) -> Self:
        if issued is None:
            return cls(errors=errors)
        return cls(
            access_token=issued.access_token,
            access_token_expires_at=issued.access_token_expires_at,
            refresh_token=issued.refresh_token,
            user=User.from_model(issued.user),
            errors=errors,
        )


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

    @classmethod
    def of(cls, revoked: bool | None, errors: list[UserError]) -> Self:
        return cls(revoked=bool(revoked), errors=errors)


@strawberry.type
class CreateApiTokenPayload:
    api_token: ApiToken | None
    secret: str | None = strawberry.field(description="The token itself; shown only this once.")
    errors: list[UserError]

    @classmethod
    def of(cls, created: NewApiToken | None, errors: list[UserError]) -> Self:
        if created is None:
            return cls(api_token=None, secret=None, errors=errors)
        return cls(
            api_token=ApiToken.from_model(created.token), secret=created.secret, errors=errors
        )


@strawberry.type
class RevokeApiTokenPayload:
    api_token: ApiToken | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.ApiToken | None, errors: list[UserError]) -> Self:
        return cls(api_token=ApiToken.from_model(row) if row else None, errors=errors)


@strawberry.type
class UserPayload:
    user: User | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.User | None, errors: list[UserError]) -> Self:
        return cls(user=User.from_model(row) if row else None, errors=errors)


@strawberry.type
class CreateUserPayload(UserPayload):
    pass


@strawberry.type
class UpdateUserPayload(UserPayload):
    pass


@strawberry.type
class UpdateMyPreferencesPayload(UserPayload):
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

    @classmethod
    def of(cls, row: models.Team | None, errors: list[UserError]) -> Self:
        return cls(team=Team.from_model(row) if row else None, errors=errors)


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

    @classmethod
    def of(cls, row: models.Role | None, errors: list[UserError]) -> Self:
        return cls(role=Role.from_model(row) if row else None, errors=errors)


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
    role: Role | None = strawberry.field(
        description="The role as it is now when the deletion was refused with CONFLICT (it "
        "was changed since the version you gave); null otherwise."
    )
    errors: list[UserError]

    @classmethod
    def of(
        cls,
        affected_users: int | None,
        errors: list[UserError],
        *,
        role_id: relay.GlobalID,
        current: models.Role | None = None,
    ) -> Self:
        """``affected_users`` is what deleting the role ``role_id`` returned (``None`` when
        it failed); ``current`` the role as it now is, after a CONFLICT."""
        return cls(
            deleted_role_id=role_id if affected_users is not None else None,
            affected_users=affected_users or 0,
            role=Role.from_model(current) if current is not None else None,
            errors=errors,
        )
