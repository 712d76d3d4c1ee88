"""The test kit's tools that need no app: a fresh PostgreSQL database (from
:mod:`schema.testkit_postgres`), a clock a test moves, a statement counter, a check of a
plugin's message catalog, users made and signed in straight through the database (with the
password hash they share) and the ``crm`` command line (:mod:`schema.testkit` exports them
with its fixtures)."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, select
from typer.testing import CliRunner, Result

from core import audit
from core import migrate as migrations
from core.config import Settings
from core.db import Base, Database
from core.errors import UserErrorCode, UserErrors
from core.host import CRMPluginManager
from core.i18n import SUPPORTED_LOCALES, missing_translations
from core.identity import auth, passwords
from core.identity import service as identity_service
from core.identity.models import User
from core.read_compare import replaying
from core.schedule import Scheduler
from schema.builder import CRMSchema, build_schema, schema_settings
from schema.cli import command_line
from schema.testkit_postgres import CREATED_DATABASES as CREATED_DATABASES
from schema.testkit_postgres import POSTGRES_URL as POSTGRES_URL
from schema.testkit_postgres import async_url_for as async_url_for
from schema.testkit_postgres import create_database as create_database
from schema.testkit_postgres import drop_database as drop_database
from schema.testkit_postgres import drop_database_later as drop_database_later
from schema.testkit_postgres import dsn_for as dsn_for
from schema.testkit_postgres import postgres_database as postgres_database
from schema.testkit_postgres import wait_for_drops as wait_for_drops

DEFAULT_PASSWORD = "Sturdy-Lantern-Walrus-42"
"""The password of the users the kit makes, unless a test gives another."""


_SHARED_HASHES: dict[str, str] = {}


async def shared_password_hash(password: str, *, limit: int) -> str:
    """A hash of ``password`` made once per process for the users the kit makes (each
    argon2 hash costs a tenth of a second); made again if the hasher's parameters change."""
    known = _SHARED_HASHES.get(password)
    if known is None or passwords.needs_rehash(known):
        known = _SHARED_HASHES[password] = await passwords.hash_off_loop(password, limit=limit)
    return known


async def make_user(
    database: Database,
    settings: Settings,
    email: str,
    roles: Sequence[str] = (),
    *,
    team: str | None = None,
    password: str = DEFAULT_PASSWORD,
    name: str | None = None,
    active: bool = True,
) -> int:
    """Insert a user with built-in or custom roles (by key) straight into the database."""
    hashed = await shared_password_hash(password, limit=settings.password_hash_concurrency)
    async with database.transaction() as session:
        team_row = await identity_service.team_named(session, team, audit.SYSTEM) if team else None
        role_rows = await identity_service.roles_by_key(session, roles)
        user = await identity_service.add_user(
            session,
            settings,
            audit.SYSTEM,
            identity_service.NewUser(
                email=email,
                name=name or email.split("@")[0].replace(".", " ").title(),
                password=password,
                team_id=team_row.id if team_row else None,
                active=active,
                password_hash=hashed,
            ),
            role_rows,
        )
        return user.id


async def sign_in_without_password(
    db: Database, settings: Settings, user_id: int, *, now: dt.datetime
) -> auth.Issued:
    """Open a session for the active user ``user_id``, as login does once the password is
    right, with no password check: the argon2 check (a tenth of a second) is the login
    tests' business, not every test's.

    :raises UserErrors: when no active user has ``user_id``, as login answers.
    """
    async with db.transaction() as session:
        user = await session.scalar(select(User).where(User.id == user_id))
        if user is None or not user.is_active:
            raise UserErrors.single(None, auth.BAD_CREDENTIALS, UserErrorCode.INVALID)
        actor = audit.Actor(
            user_id=user.id, label=user.email, client_address=None, request_id=None, at=now
        )
        return await auth.finish_sign_in(session, settings, actor, user, None, now)


class CommandLine:
    """Runs ``crm`` commands (the enabled plugins' included) against the test's database.

    ``await crm_cli("warranty", "expiring", "--days", "30")`` returns typer's ``Result``
    (``exit_code``, ``stdout``, ``stderr``). Each command runs in a worker thread, since a
    command runs an event loop of its own; the environment names the test's database and
    plugins, as it would in a shell.
    """

    def __init__(self, settings: Settings, pm: CRMPluginManager) -> None:
        self.settings = settings
        self.pm = pm

    async def __call__(self, *args: str, input: str | None = None) -> Result:
        app = command_line(self.pm)

        def invoke() -> Result:
            return CliRunner().invoke(app, list(args), input=input)

        return await asyncio.to_thread(invoke)


class FakeClock:
    """A clock a test moves by hand: ``clock.advance(hours=2)``."""

    def __init__(self, now: dt.datetime | None = None) -> None:
        self.current = now or dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> dt.datetime:
        self.current += dt.timedelta(**delta)
        return self.current

    def set(self, moment: dt.datetime) -> None:
        self.current = moment


class StatementCounter:
    """Counts SQL statements sent through an engine while it is attached; under
    ``CRM_READ_PATH=compare`` (the test suite's), not those of a query's second run on the
    reference executor, which only checks the answer."""

    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []

    def __call__(self, *args: Any) -> None:
        if replaying():
            return
        self.count += 1
        self.statements.append(str(args[2]))

    def reset(self) -> None:
        self.count = 0
        self.statements.clear()


def assert_catalog_complete(package: str) -> None:
    """Fail unless the catalog of ``package`` (an importable package name, such as
    ``crm_warranty``; its catalog is ``locale/<lang>/LC_MESSAGES/messages.po`` inside it)
    translates every ``_("...")`` message of its code, with the same ``{placeholders}``,
    into every language the service speaks besides English. The failure names each
    message missing or untranslated, and where it is."""
    module = importlib.import_module(package)
    folders = list(getattr(module, "__path__", ()))
    assert folders, f"{package} is not a package"
    problems = [
        problem
        for locale in SUPPORTED_LOCALES
        if locale != "en"
        for problem in missing_translations(Path(folders[0]), locale)
    ]
    assert not problems, f"{len(problems)} catalog problem(s) in {package}:\n" + "\n".join(problems)


async def run_periodic_jobs(
    db: Database, settings: Settings, pm: CRMPluginManager, now: dt.datetime
) -> dict[str, Mapping[str, int]]:
    """Every module's periodic jobs once at ``now``, as ``crm jobs run`` runs them; what each
    did, by job name."""
    return await Scheduler(db=db, settings=settings, pm=pm, clock=lambda: now).run_all()


async def model_drift(db: Database, pm: CRMPluginManager) -> list[object]:
    """What differs between the enabled modules' models and their migrated tables (Alembic's
    autogenerate comparison, types included); a module whose migrations are right has none.
    """
    include = migrations.include_object_for(pm)

    def compare(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection, opts={"include_object": include, "compare_type": True}
        )
        return list(compare_metadata(context, Base.metadata))

    async with db.engine.connect() as connection:
        return await connection.run_sync(compare)


_SCHEMAS: OrderedDict[tuple[object, ...], tuple[tuple[object, ...], CRMSchema]] = OrderedDict()
_SCHEMAS_KEPT = 16


def _schema_for(pm: CRMPluginManager, settings: Settings) -> CRMSchema:
    """``build_schema(pm, settings)``, built once per test session for the same registered
    plugin objects and the same schema settings: a schema holds no state of its own, and
    building one costs more than most tests' own work."""
    plugins = tuple(plugin for _, plugin in pm.list_name_plugin())
    key = (
        tuple((name, id(plugin)) for name, plugin in pm.list_name_plugin()),
        schema_settings(settings),
    )
    found = _SCHEMAS.get(key)
    # The entry keeps its plugin objects alive, so an id in the key is never reused.
    if found is not None and all(a is b for a, b in zip(found[0], plugins, strict=True)):
        _SCHEMAS.move_to_end(key)
        return found[1]
    schema = build_schema(pm, settings)
    _SCHEMAS[key] = (plugins, schema)
    while len(_SCHEMAS) > _SCHEMAS_KEPT:
        _SCHEMAS.popitem(last=False)
    return schema
