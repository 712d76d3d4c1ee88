"""Every core table, imported in one place so the metadata knows them all."""

from core.audit import AuditEvent
from core.customers.models import (
    Contact,
    Customer,
    CustomerTag,
    CustomFieldDefinition,
    Interaction,
    InteractionParticipant,
    Tag,
    Task,
)
from core.identity.models import (
    ApiToken,
    AuthSession,
    LoginThrottle,
    RefreshToken,
    Role,
    RoleGrant,
    Team,
    User,
    UserRole,
)
from core.sequences import NumberSequence

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuthSession",
    "Contact",
    "CustomFieldDefinition",
    "Customer",
    "CustomerTag",
    "Interaction",
    "InteractionParticipant",
    "LoginThrottle",
    "NumberSequence",
    "RefreshToken",
    "Role",
    "RoleGrant",
    "Tag",
    "Task",
    "Team",
    "User",
    "UserRole",
]
