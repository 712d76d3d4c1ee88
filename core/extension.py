"""Value types that plugins hand to the host through hooks."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

    from core.access import Caller
    from core.catalog import Catalog
    from core.config import Settings
    from core.context import RequestContext
    from core.db import Database
    from core.host import CRMPluginManager

T = TypeVar("T")


@dataclass(frozen=True)
class Migrations:
    """Where a module keeps its Alembic versions, and which models are its own.

    :param branch: the module's Alembic branch label (its first revision carries it).
    :param directory: the folder of its version scripts.
    :param package: the Python package whose mapped classes are this module's tables;
        used to compare models and migrations module by module.
    """

    branch: str
    directory: Path
    package: str


@dataclass(frozen=True)
class TypeFields:
    """Fields a module adds to a GraphQL object type it does not own.

    :param target: the Strawberry type to extend (for example core's ``System``), or the
        GraphQL name of a type another plugin owns (``"Ticket"``), which a plugin cannot
        import: the fields are added when the schema has a type of that name, and nothing
        happens when it has none (that plugin is disabled).
    :param fields: Python field name -> ``strawberry.field(resolver=...)``. The resolver gets
        the parent object as its ``root`` argument. The GraphQL name is the camelCase of the
        key. A name another module (or the type itself) already has stops startup.
    """

    target: type[Any] | str
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class CustomerFilterField:
    """A field a module adds to the ``filter`` of the ``customers`` list (core's
    ``CustomerFilter`` input), applied by the list and by the customers export alike.

    :param name: the Python name, snake case (``value_tier``); the GraphQL name is its
        camelCase (``valueTier``). A name core's filter or another module already has stops
        startup.
    :param annotation: the field's type, which must be optional (``list[ValueTier] | None``):
        a filter without the field, or with ``null``, adds no condition.
    :param description: the field's description in the schema.
    :param apply: ``(value, customer_id, context) -> condition``: given the value the client
        sent (converted to ``annotation``, never ``None``), the customers' id column and the
        request context, the SQL condition the listed customers must meet (combined with
        ``AND`` with core's filters and the caller's scope). A ``ValueError`` it raises
        refuses the request with ``BAD_USER_INPUT`` naming ``filter.<field>`` and its message.
    """

    name: str
    annotation: Any
    description: str
    apply: Callable[[Any, ColumnElement[int], RequestContext], ColumnElement[bool]]


class Scope(enum.Enum):
    """How far a grant reaches: records the user owns, their team's, or all."""

    OWN = "OWN"
    TEAM = "TEAM"
    ALL = "ALL"

    @property
    def rank(self) -> int:
        return _SCOPE_RANK[self]

    def covers(self, other: Scope) -> bool:
        """Whether this scope reaches at least as far as ``other``."""
        return self.rank >= other.rank


_SCOPE_RANK = {Scope.OWN: 0, Scope.TEAM: 1, Scope.ALL: 2}


@dataclass(frozen=True)
class Permission:
    """A permission a module declares, named ``resource:action`` (``tickets:read``)."""

    name: str
    description: str

    @property
    def resource(self) -> str:
        return self.name.split(":", 1)[0]


@dataclass(frozen=True)
class Grant:
    """A permission with the scope it reaches."""

    permission: str
    scope: Scope = Scope.ALL


@dataclass(frozen=True)
class AccessPolicy:
    """How the records of one resource map to the users who own them.

    :param resource: the permission prefix (``customers`` for ``customers:read``).
    :param owned_by: given a SQL expression of user ids (a list or a subquery), return the
        condition "this row is owned by, or assigned to, one of them". OWN scope passes the
        caller's id, TEAM the ids of the caller's team; ALL needs no condition.
    """

    resource: str
    owned_by: Callable[[Any], ColumnElement[bool]]


@dataclass(frozen=True)
class Identity:
    """What the identity module gives the kernel (:func:`core.hookspecs.crm_identity`).

    :param authenticate: ``(db, settings, catalog, token) -> Caller``: the caller a bearer
        token stands for; raises :class:`core.access.AuthenticationError` when it has none.
    :param team_members: given a team id, a SQL expression of the ids of its users (TEAM
        scope reaches the records of these users).
    """

    authenticate: Callable[[Database, Settings, Catalog, str, dt.datetime], Awaitable[Caller]]
    team_members: Callable[[int], Any]


@dataclass(frozen=True)
class CommandContext:
    """What a plugin's command works with: ready settings, database and plugin manager.

    :param settings: the validated settings (``CRM_*``).
    :param db: the database, checked to be migrated to head unless the command said not.
    :param pm: the plugin manager of the enabled plugins (announce events through ``pm.hook``).
    :param clock: the time source services should read (``context.now()``).
    """

    settings: Settings
    db: Database
    pm: CRMPluginManager
    clock: Callable[[], dt.datetime]

    def now(self) -> dt.datetime:
        return self.clock()

    def today(self) -> dt.date:
        """The calendar day it is now in the deployment's time zone (``CRM_TIME_ZONE``)."""
        return self.now().astimezone(self.settings.zone).date()


class CommandRunner(Protocol):
    """Runs a command's async work with a :class:`CommandContext` (``crm_cli_commands``).

    ``run(work)`` loads the settings, builds the plugin manager, opens the database, checks
    that it is migrated (``migrated=False`` skips that, for commands that migrate or only read
    settings), awaits ``work(context)``, closes the database and returns what ``work``
    returned. A bad setting, an unmigrated database or a ``UserErrors`` from ``work`` ends
    the command with a message and exit status 2, never a traceback.
    """

    def __call__(
        self, work: Callable[[CommandContext], Awaitable[T]], *, migrated: bool = True
    ) -> T: ...
