"""Every hook of ``core/hookspecs.py`` called through a real plugin manager, effect checked.

Each test builds a fresh plugin manager with a tiny plugin (or the fixture plugin), lets the
host call the hook the way it does in production, and asserts what the hook changed: the
schema, who may see what, the database, the command line or the app's lifespan.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import re
import sys
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from pathlib import Path
from typing import Any

import httpx
import pluggy
import pytest
import strawberry
import typer
from sqlalchemy import ColumnElement, func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from strawberry import relay
from strawberry.relay import to_base64
from strawberry.types import ExecutionResult
from typer.testing import CliRunner, Result

from core import (
    AccessPolicy,
    Grant,
    Permission,
    Scope,
    TypeFields,
    audit,
    background,
    catalog,
    hookimpl,
    migrate,
)
from core import app as core_app
from core.access import require, requires
from core.attachments import hooks as attachments_hooks
from core.attachments.mutations import AttachmentMutation
from core.audit import AuditEvent
from core.config import Settings, load_settings
from core.context import Info, RequestContext
from core.customers import hooks as customers_hooks
from core.customers.models import Customer as CustomerRow
from core.customers.mutations import CustomerMutation
from core.db import Database, utcnow
from core.errors import ApiError, ApiErrorCode, UserErrorCode, UserErrors
from core.extension import CommandContext, CommandRunner, Identity
from core.host import (
    CORE_PLUGIN_NAME,
    CRMPluginManager,
    PluginError,
    call_in_turn,
    enabled_plugin_names,
    module_callers,
)
from core.host import build_plugin_manager as build_kernel_only
from core.identity import demo as identity_demo
from core.identity import hooks as identity_hooks
from core.identity import models as identity_models
from core.identity.mutations import IdentityMutation
from core.notifications import hooks as notifications_hooks
from core.notifications.mutations import NotificationMutation
from core.notifications.subscriptions import NotificationSubscription
from core.schedule import JobContext, PeriodicJob, Scheduler
from core.types import System
from core.webhooks import hooks as webhooks_hooks
from core.webhooks.mutations import WebhookMutation
from schema import cli as cli_module
from schema.builder import CRMSchema, build_schema
from schema.modules import build_plugin_manager
from tests import fixture_plugin
from tests.fixture_plugin import hookspecs as fixture_hookspecs
from tests.fixture_plugin import models as fixture_models
from tests.support import Api, running_app

FIXTURE_TABLES = {"fixture_widgets", "fixture_widget_notes"}


def manager(**plugins: object) -> CRMPluginManager:
    """A fresh plugin manager with core and exactly ``plugins`` enabled."""
    return build_plugin_manager(list(plugins), load_entrypoints=False, extra_plugins=plugins)


@pytest.fixture
def plain_settings(tmp_path: Path) -> Settings:
    """Settings for tests that build schemas and never touch a database."""
    return load_settings(data_dir=tmp_path / "data")


async def run(schema: CRMSchema, query: str, context: Any = None) -> dict[str, Any]:
    result = await schema.execute(query, context_value=context)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


# --- Plugin host -------------------------------------------------------------------------


class HookspecRecorder:
    """Records each call of ``crm_add_hookspecs`` it receives."""

    def __init__(self) -> None:
        self.managers: list[pluggy.PluginManager] = []

    @hookimpl
    def crm_add_hookspecs(self, pm: pluggy.PluginManager) -> None:
        self.managers.append(pm)


class WidgetListener:
    """Listens to the fixture plugin's own hook; required, so it needs that plugin."""

    @hookimpl
    def crm_fixture_widget_created(self, session: AsyncSession, widget: Any) -> None:
        return None


def test_crm_add_hookspecs_is_called_once_per_plugin_and_adds_its_hooks() -> None:
    recorder = HookspecRecorder()

    pm = manager(fixture=fixture_plugin.plugin, recorder=recorder)

    # Historic: the recorder, registered after the call was made, still got it, once.
    assert recorder.managers == [pm]
    caller = pm.hook.crm_fixture_widget_created
    assert caller.spec is not None
    assert caller.spec.namespace is fixture_hookspecs
    assert [name for name, _ in module_callers(pm, "crm_fixture_widget_created")] == ["fixture"]


def test_crm_add_hookspecs_lets_other_plugins_listen_only_when_the_declarer_is_enabled() -> None:
    pm = manager(fixture=fixture_plugin.plugin, listener=WidgetListener())

    # Called in module order: the declarer, then its listener.
    assert [name for name, _ in module_callers(pm, "crm_fixture_widget_created")] == [
        "fixture",
        "listener",
    ]
    with pytest.raises(PluginError, match="crm_fixture_widget_created"):
        manager(listener=WidgetListener())


# --- Database ----------------------------------------------------------------------------


class TablelessPlugin:
    """A module without tables: answers ``None``."""

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def crm_migrations(self) -> None:
        self.calls += 1


async def table_names(db: Database) -> set[str]:
    async with db.engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_crm_migrations_branches_are_migrated(settings: Settings, db: Database) -> None:
    tableless = TablelessPlugin()
    pm = manager(fixture=fixture_plugin.plugin, tableless=tableless)

    declared = pm.hook.crm_migrations()

    assert tableless.calls == 1  # pluggy leaves its ``None`` out of the results
    assert sorted(m.branch for m in declared) == ["core", "fixture"]
    assert [m.branch for m in migrate.enabled_migrations(pm)] == ["core", "fixture"]
    await migrate.upgrade(db, pm)
    assert await table_names(db) >= FIXTURE_TABLES
    assert await migrate.at_head(db, pm)
    assert "fixture_0001" in await migrate.current_heads(db)


# --- GraphQL schema ----------------------------------------------------------------------


@strawberry.type
class GreetingQuery:
    @strawberry.field
    def greeting(self, name: str) -> str:
        return f"Hello, {name}!"


class GreetingPlugin:
    @hookimpl
    def crm_graphql_query(self) -> type[Any]:
        return GreetingQuery


async def test_crm_graphql_query_adds_root_query_fields(plain_settings: Settings) -> None:
    pm = manager(greeting=GreetingPlugin())

    assert GreetingQuery in pm.hook.crm_graphql_query()
    schema = build_schema(pm, plain_settings)
    assert await run(schema, '{ greeting(name: "Ada") }') == {"greeting": "Hello, Ada!"}
    assert "greeting" not in build_schema(manager(), plain_settings).as_str()


@strawberry.type
class ShoutMutation:
    @strawberry.mutation
    def shout(self, words: str) -> str | None:
        return words.upper()


class ShoutPlugin:
    @hookimpl
    def crm_graphql_mutation(self) -> type[Any]:
        return ShoutMutation


async def test_crm_graphql_mutation_adds_root_mutation_fields(plain_settings: Settings) -> None:
    pm = manager(shout=ShoutPlugin())

    # Module order: core's domains (login and the rest of identity, ..., webhooks), then plugins.
    assert pm.hook.crm_graphql_mutation() == [
        IdentityMutation,
        NotificationMutation,
        CustomerMutation,
        AttachmentMutation,
        WebhookMutation,
        ShoutMutation,
    ]
    schema = build_schema(pm, plain_settings)
    assert await run(schema, 'mutation { shout(words: "hi") }') == {"shout": "HI"}
    sdl = schema.as_str()
    assert "shout(words: String!): String\n" in sdl
    assert "login(input: LoginInput!): LoginPayload\n" in sdl  # both joined one Mutation
    without = build_schema(manager(), plain_settings).as_str()
    assert "type Mutation {" in without
    assert "shout" not in without


@strawberry.type
class CountdownSubscription:
    @strawberry.subscription
    async def countdown(self, start: int) -> AsyncGenerator[int, None]:
        for n in range(start, 0, -1):
            yield n


class CountdownPlugin:
    @hookimpl
    def crm_graphql_subscription(self) -> type[Any]:
        return CountdownSubscription


async def test_crm_graphql_subscription_adds_root_subscription_fields(
    plain_settings: Settings,
) -> None:
    pm = manager(countdown=CountdownPlugin())

    assert pm.hook.crm_graphql_subscription() == [NotificationSubscription, CountdownSubscription]
    schema = build_schema(pm, plain_settings)
    assert "  countdown(start: Int!): Int!\n}" in schema.as_str()
    values: list[Any] = []
    async for result in await schema.subscribe("subscription { countdown(start: 3) }"):
        assert isinstance(result, ExecutionResult)
        assert result.errors is None, result.errors
        assert result.data is not None
        values.append(result.data["countdown"])
    assert values == [3, 2, 1]
    assert "countdown" not in build_schema(manager(), plain_settings).as_str()


@strawberry.type
class Gadget(relay.Node):
    id: relay.NodeID[int]
    label: str

    @classmethod
    def resolve_nodes(  # type: ignore[override]
        cls, *, info: Any, node_ids: Iterable[str], required: bool = False
    ) -> list[Gadget | None]:
        return [cls(id=int(node_id), label=f"gadget {node_id}") for node_id in node_ids]


class GadgetPlugin:
    @hookimpl
    def crm_graphql_types(self) -> Sequence[type[Any]]:
        return [Gadget]


async def test_crm_graphql_types_adds_types_no_field_returns(plain_settings: Settings) -> None:
    pm = manager(gadget=GadgetPlugin())
    query = f'{{ node(id: "{to_base64("Gadget", 7)}") {{ ... on Gadget {{ label }} }} }}'

    assert pm.hook.crm_graphql_types() == [
        list(identity_hooks.crm_graphql_types()),
        list(notifications_hooks.crm_graphql_types()),
        list(customers_hooks.crm_graphql_types()),
        list(attachments_hooks.crm_graphql_types()),
        list(webhooks_hooks.crm_graphql_types()),
        [Gadget],
    ]
    schema = build_schema(pm, plain_settings)
    assert "type Gadget implements Node" in schema.as_str()
    assert await run(schema, query) == {"node": {"label": "gadget 7"}}
    without = build_schema(manager(), plain_settings)
    assert "Gadget" not in without.as_str()
    assert await run(without, query.replace(" ... on Gadget { label }", " id")) == {"node": None}


async def system_module_count(root: System) -> int:
    return len(root.modules)


class ModuleCountPlugin:
    @hookimpl
    def crm_graphql_type_fields(self) -> Sequence[TypeFields]:
        field = strawberry.field(resolver=system_module_count)
        return [TypeFields(target=System, fields={"module_count": field})]


async def test_crm_graphql_type_fields_adds_fields_to_a_core_type(
    plain_settings: Settings,
) -> None:
    pm = manager(counter=ModuleCountPlugin())

    # Core's attachments module adds its fields to core's types the same way.
    attachments, contribution = pm.hook.crm_graphql_type_fields()
    assert [fields.target for fields in attachments] == [
        fields.target for fields in attachments_hooks.crm_graphql_type_fields()
    ]
    assert contribution[0].target is System
    schema = build_schema(pm, plain_settings)
    db = Database(plain_settings.resolved_database_url)
    try:
        context = RequestContext(settings=plain_settings, db=db, pm=pm)
        data = await run(schema, "{ system { moduleCount modules { name } } }", context)
    finally:
        await db.dispose()
    assert data == {
        "system": {
            "moduleCount": 2,
            "modules": [{"name": CORE_PLUGIN_NAME}, {"name": "counter"}],
        }
    }
    # Built without the plugin (even after it), System shows no trace of the field.
    assert "moduleCount" not in build_schema(manager(), plain_settings).as_str()


# --- Identity and access -----------------------------------------------------------------


class ImpostorIdentity:
    @hookimpl
    def crm_identity(self) -> Identity:
        raise AssertionError("firstresult: core's identity module answers first")


def test_crm_identity_gives_the_kernel_authentication_and_team_scope() -> None:
    pm = manager(impostor=ImpostorIdentity())

    # firstresult, in module order: core's identity module answers, the plugin is not asked.
    assert pm.hook.crm_identity() is identity_hooks.IDENTITY
    assert catalog.catalog_for(pm).identity is identity_hooks.IDENTITY


@strawberry.type
class AnyoneQuery:
    @strawberry.field(extensions=requires())
    def who_am_i(self, info: Info) -> str:
        return require(info.context).email


class AnyoneQueryPlugin:
    @hookimpl
    def crm_graphql_query(self) -> type[Any]:
        return AnyoneQuery


async def test_without_an_identity_module_the_kernel_serves_anonymous_requests_only(
    settings: Settings, db: Database
) -> None:
    plugins = {"whoami": AnyoneQueryPlugin()}
    pm = build_kernel_only(list(plugins), load_entrypoints=False, extra_plugins=plugins)
    assert pm.hook.crm_identity() is None
    async with running_app(settings, pm=pm) as api:
        anonymous = await api.gql("{ system { modules { name } } }")
        api.client.headers["Authorization"] = "Bearer whatever"
        refused = await api.gql("{ whoAmI }")

    assert anonymous == {"data": {"system": {"modules": [{"name": "core"}, {"name": "whoami"}]}}}
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "no identity module" in refused["errors"][0]["message"]


@strawberry.type
class DirectoryQuery:
    @strawberry.field(extensions=requires("directory:read"))
    async def directory(self, info: Info) -> list[str] | None:
        """Emails of the colleagues the caller may look up, through the one scoping function."""
        statement = (
            select(identity_models.User.email)
            .where(info.context.visible("directory:read"))
            .order_by(identity_models.User.email)
        )
        async with info.context.db.read() as session:
            return list((await session.scalars(statement)).all())


def directory_entries_owned_by(ids: Any) -> ColumnElement[bool]:
    # A directory entry is a user's own record.
    return identity_models.User.id.in_(ids)


class DirectoryWithoutPolicy:
    """Declares ``directory:read``, grants it to three built-in roles and serves ``directory``."""

    @hookimpl
    def crm_permissions(self) -> Sequence[Permission]:
        return [Permission("directory:read", "Look colleagues up in the directory.")]

    @hookimpl
    def crm_role_grants(self) -> Mapping[str, Sequence[Grant]]:
        return {
            catalog.SALES_REPRESENTATIVE: [Grant("directory:read", Scope.TEAM)],
            catalog.FINANCE: [Grant("directory:read", Scope.OWN)],
            catalog.SUPPORT_REPRESENTATIVE: [Grant("directory:read", Scope.ALL)],
        }

    @hookimpl
    def crm_graphql_query(self) -> type[Any]:
        return DirectoryQuery


class DirectoryPlugin(DirectoryWithoutPolicy):
    """The same, and says how directory entries map to the users who own them."""

    @hookimpl
    def crm_access_policies(self) -> Sequence[AccessPolicy]:
        return [AccessPolicy("directory", directory_entries_owned_by)]


DIRECTORY_PEOPLE = {
    "rep@example.com": ("SALES_REPRESENTATIVE", "North"),
    "mate@example.com": ("FINANCE", "North"),
    "far@example.com": ("SALES_REPRESENTATIVE", "South"),
    "support@example.com": ("SUPPORT_REPRESENTATIVE", None),
    "sysadmin@example.com": ("SYSTEM_ADMINISTRATOR", None),
}


async def directory_people(api: Api) -> dict[str, Api]:
    """Create ``DIRECTORY_PEOPLE`` and sign each of them in."""
    signed_in = {}
    for email, (role, team) in DIRECTORY_PEOPLE.items():
        signed_in[email] = await api.user(email, [role], team=team)
    return signed_in


async def directory_of(api: Api) -> list[str]:
    body = await api.gql("{ directory }")
    assert "errors" not in body, body
    return list(body["data"]["directory"])


async def test_crm_permissions_are_listed_with_their_module(
    make_settings: Callable[..., Settings],
) -> None:
    pm = manager(directory=DirectoryPlugin())
    declared = [p for batch in pm.hook.crm_permissions() for p in batch]
    assert Permission("directory:read", "Look colleagues up in the directory.") in declared

    async with running_app(make_settings(plugins=("directory",)), pm=pm) as api:
        rep = await api.user("rep@example.com", ["SALES_REPRESENTATIVE"])
        body = await rep.gql("{ permissions { name description module } }")

    assert "errors" not in body, body
    listed = body["data"]["permissions"]
    assert {
        "name": "directory:read",
        "description": "Look colleagues up in the directory.",
        "module": "directory",
    } in listed
    assert ("users:read", "core") in {(p["name"], p["module"]) for p in listed}
    assert [p["name"] for p in listed] == sorted(p["name"] for p in listed)


async def test_crm_role_grants_give_built_in_roles_a_plugins_permission(
    make_settings: Callable[..., Settings],
) -> None:
    pm = manager(directory=DirectoryPlugin())
    grants = pm.hook.crm_role_grants()[-1]  # module order: core's modules, then the plugin
    assert grants[catalog.SALES_REPRESENTATIVE] == [Grant("directory:read", Scope.TEAM)]
    settings = make_settings(plugins=("directory",))
    viewer = "{ viewer { grants { permission scope } } }"

    async with running_app(settings, pm=pm) as api:
        people = await directory_people(api)
        rep_grants = (await people["rep@example.com"].gql(viewer))["data"]["viewer"]["grants"]
        sales = await people["rep@example.com"].gql(
            "{ roles { key grants { permission scope builtin } } }"
        )
        # A role without the grant is refused, naming the permission.
        refused = await people["sysadmin@example.com"].gql("{ directory }")
        # The granted roles can use it.
        assert await directory_of(people["rep@example.com"]) != []
        assert await directory_of(people["support@example.com"]) != []

    assert {"permission": "directory:read", "scope": "TEAM"} in rep_grants
    roles = {role["key"]: role["grants"] for role in sales["data"]["roles"]}
    assert {"permission": "directory:read", "scope": "TEAM", "builtin": True} in roles[
        "SALES_REPRESENTATIVE"
    ]
    assert {"permission": "directory:read", "scope": "ALL", "builtin": True} in roles[
        "ADMINISTRATOR"
    ]
    assert "directory:read" not in {g["permission"] for g in roles["SYSTEM_ADMINISTRATOR"]}
    assert refused["data"] == {"directory": None}
    [error] = refused["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "directory:read" in error["message"]

    # Grants live in code, not in the database: with the plugin disabled they are gone.
    async with running_app(settings, pm=manager()) as api:
        rep = await api.login("rep@example.com")
        core_only = (await rep.gql(viewer))["data"]["viewer"]["grants"]
    assert core_only
    assert "directory:read" not in {g["permission"] for g in core_only}


async def test_crm_access_policies_scope_a_plugins_records(
    make_settings: Callable[..., Settings],
) -> None:
    pm = manager(directory=DirectoryPlugin())
    policies = {p.resource: p for batch in pm.hook.crm_access_policies() for p in batch}
    assert policies["directory"].owned_by is directory_entries_owned_by
    everyone = sorted([*DIRECTORY_PEOPLE, "admin@example.com"])

    async with running_app(make_settings(plugins=("directory",)), pm=pm) as api:
        people = await directory_people(api)
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"])

        # TEAM reaches the caller's team, OWN the caller alone, ALL everyone.
        assert await directory_of(people["rep@example.com"]) == [
            "mate@example.com",
            "rep@example.com",
        ]
        assert await directory_of(people["far@example.com"]) == ["far@example.com"]
        assert await directory_of(people["mate@example.com"]) == ["mate@example.com"]
        assert await directory_of(people["support@example.com"]) == everyone
        assert await directory_of(admin) == everyone


async def test_a_resource_without_an_access_policy_needs_all_scope(
    make_settings: Callable[..., Settings],
) -> None:
    pm = manager(directory=DirectoryWithoutPolicy())
    policies = {p.resource for batch in pm.hook.crm_access_policies() for p in batch}
    assert "directory" not in policies
    assert "users" in policies  # core's are still there

    async with running_app(make_settings(plugins=("directory",)), pm=pm) as api:
        people = await directory_people(api)

        assert await directory_of(people["rep@example.com"]) == []
        assert await directory_of(people["mate@example.com"]) == []
        assert await directory_of(people["support@example.com"]) == sorted(DIRECTORY_PEOPLE)


class DuplicatePermission:
    @hookimpl
    def crm_permissions(self) -> Sequence[Permission]:
        return [Permission("users:read", "Core already declares this one.")]


class GrantOfUndeclaredPermission:
    @hookimpl
    def crm_role_grants(self) -> Mapping[str, Sequence[Grant]]:
        return {catalog.FINANCE: [Grant("ledger:read")]}


class GrantToAdministrator:
    @hookimpl
    def crm_permissions(self) -> Sequence[Permission]:
        return [Permission("ledger:read", "Read the ledger.")]

    @hookimpl
    def crm_role_grants(self) -> Mapping[str, Sequence[Grant]]:
        return {catalog.ADMINISTRATOR: [Grant("ledger:read")]}


class SecondUsersPolicy:
    @hookimpl
    def crm_access_policies(self) -> Sequence[AccessPolicy]:
        return [AccessPolicy("users", directory_entries_owned_by)]


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        (DuplicatePermission(), "permission 'users:read' is declared by both 'core' and 'bad'"),
        (GrantOfUndeclaredPermission(), "which is not a declared permission"),
        (GrantToAdministrator(), "'ADMINISTRATOR', which is not a built-in role that takes"),
        (SecondUsersPolicy(), "resource 'users' already has an access policy"),
    ],
)
def test_bad_identity_declarations_stop_startup(
    plain_settings: Settings, plugin: object, message: str
) -> None:
    with pytest.raises(PluginError, match=re.escape(message)):
        build_schema(manager(bad=plugin), plain_settings)


# --- Customer events ---------------------------------------------------------------------

LISTENER = audit.Actor(label="listener")

CREATE_CUSTOMER = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) {
    customer { id number name version }
    errors { field message code }
  }
}
"""
UPDATE_CUSTOMER = """
mutation($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) { customer { name version } errors { field message code } }
}
"""
ARCHIVE_CUSTOMER = """
mutation($input: ArchiveCustomerInput!) {
  archiveCustomer(input: $input) { customer { archivedAt } errors { field message code } }
}
"""
ERASE_CUSTOMER = """
mutation($input: EraseCustomerInput!) {
  eraseCustomer(input: $input) { customer { name erasedAt } errors { field message code } }
}
"""
MERGE_CUSTOMERS = """
mutation($input: MergeCustomersInput!) {
  mergeCustomers(input: $input) {
    dryRun moved { kind count } target { number } errors { field message code }
  }
}
"""
CUSTOMER_STATE = """
query($id: ID!) {
  node(id: $id) {
    ... on Customer { name version archivedAt erasedAt contacts { totalCount } }
  }
}
"""
CREATE_CONTACT = """
mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { id } errors { field message code } }
}
"""


class CustomerListener:
    """Hears every customer event and notes each one in the audit trail, with the session the
    hook hands it; fails (after writing its note) on the hooks named in ``fail_on``."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, dict[str, Any]]] = []
        self.fail_on: dict[str, Exception] = {}
        self.moves = {"listener records": 2}

    async def _note(
        self, hook: str, session: AsyncSession, customer_id: int, **details: Any
    ) -> None:
        self.heard.append((hook, details))
        action = "listener." + hook.removeprefix("crm_customer_")
        audit.record(session, LISTENER, action, "Customer", customer_id, details)
        await session.flush()
        failure = self.fail_on.get(hook)
        if failure is not None:
            raise failure

    @hookimpl
    async def crm_customer_created(
        self, session: AsyncSession, customer: CustomerRow, context: RequestContext
    ) -> None:
        assert context.caller is not None
        await self._note(
            "crm_customer_created",
            session,
            customer.id,
            number=customer.number,
            caller=context.caller.user_id,
        )

    @hookimpl
    async def crm_customer_updated(
        self,
        session: AsyncSession,
        customer: CustomerRow,
        changes: Mapping[str, Any],
        context: RequestContext,
    ) -> None:
        await self._note("crm_customer_updated", session, customer.id, changes=dict(changes))

    @hookimpl
    async def crm_customer_archived(self, session: AsyncSession, customer: CustomerRow) -> None:
        archived = customer.archived_at is not None
        await self._note("crm_customer_archived", session, customer.id, archived=archived)

    @hookimpl
    async def crm_customer_erased(self, session: AsyncSession, customer: CustomerRow) -> None:
        await self._note("crm_customer_erased", session, customer.id, name=customer.name)

    @hookimpl
    async def crm_customer_merge(
        self, session: AsyncSession, source: CustomerRow, target: CustomerRow, dry_run: bool
    ) -> Mapping[str, int]:
        if not dry_run:  # a dry run changes nothing, it only counts
            await self._note("crm_customer_merge", session, source.id, into=target.number)
        return self.moves

    @hookimpl
    async def crm_customer_merged(
        self, session: AsyncSession, source: CustomerRow, target: CustomerRow
    ) -> None:
        merged_into = source.merged_into_id
        await self._note("crm_customer_merged", session, target.id, source=source.number)
        assert merged_into == target.id


async def listener_notes(db: Database) -> list[tuple[str, str | None]]:
    """The listener's audit notes that were committed: (action, customer id)."""
    async with db.read() as session:
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.entity_id)
            .where(AuditEvent.actor_label == LISTENER.label)
            .order_by(AuditEvent.id)
        )
        return [(action, entity_id) for action, entity_id in rows.all()]


async def new_customer(api: Api, name: str, **values: Any) -> dict[str, Any]:
    input = {"name": name, "allowDuplicates": True, **values}  # alike names are allowed
    body = await api.gql(CREATE_CUSTOMER, {"input": input})
    payload = body["data"]["createCustomer"]
    assert payload["errors"] == [], payload
    customer: dict[str, Any] = payload["customer"]
    return customer


async def customer_state(api: Api, global_id: str) -> dict[str, Any]:
    body = await api.gql(CUSTOMER_STATE, {"id": global_id})
    assert "errors" not in body, body
    state: dict[str, Any] = body["data"]["node"]
    return state


def database_id(global_id: str) -> str:
    return relay.from_base64(global_id)[1]


@pytest.fixture
async def listening(make_settings: Callable[..., Settings]) -> AsyncIterator[tuple[Api, Any]]:
    """The app with ``CustomerListener`` enabled, and an administrator signed in."""
    listener = CustomerListener()
    pm = manager(listener=listener)
    async with running_app(make_settings(plugins=("listener",)), pm=pm) as api:
        yield await api.user("admin@example.com", ["ADMINISTRATOR"]), listener


async def test_crm_customer_created_and_updated_run_in_the_transaction_of_the_change(
    listening: tuple[Api, CustomerListener],
) -> None:
    admin, listener = listening

    created = await new_customer(admin, "Northwind Traders")
    unchanged = await admin.gql(
        UPDATE_CUSTOMER, {"input": {"id": created["id"], "version": 1, "name": "Northwind Traders"}}
    )
    renamed = await admin.gql(
        UPDATE_CUSTOMER, {"input": {"id": created["id"], "version": 1, "name": "Northwind Ltd"}}
    )

    assert unchanged["data"]["updateCustomer"]["errors"] == []
    assert renamed["data"]["updateCustomer"] == {
        "customer": {"name": "Northwind Ltd", "version": 2},
        "errors": [],
    }
    assert listener.heard == [
        ("crm_customer_created", {"number": created["number"], "caller": admin.user_id}),
        # An update that changes nothing announces nothing.
        (
            "crm_customer_updated",
            {"changes": {"name": {"before": "Northwind Traders", "after": "Northwind Ltd"}}},
        ),
    ]
    # What the listener wrote with the hook's session was committed with the change.
    customer_id = database_id(created["id"])
    assert await listener_notes(admin.db) == [
        ("listener.created", customer_id),
        ("listener.updated", customer_id),
    ]


def _failure(kind: str) -> Exception:
    if kind == "user_error":
        return UserErrors.single(None, "the listener refuses", UserErrorCode.BUSINESS_RULE)
    return RuntimeError("the listener broke")


async def _mutate(
    admin: Api, hook: str, customer: dict[str, Any], other: dict[str, Any]
) -> dict[str, Any]:
    """Run the mutation that fires ``hook``; return the response body."""
    ref = {"id": customer["id"], "version": customer["version"]}
    if hook == "crm_customer_created":
        return await admin.gql(CREATE_CUSTOMER, {"input": {"name": "Never Kept"}})
    if hook == "crm_customer_updated":
        return await admin.gql(UPDATE_CUSTOMER, {"input": {**ref, "name": "Renamed"}})
    if hook == "crm_customer_archived":
        return await admin.gql(ARCHIVE_CUSTOMER, {"input": ref})
    if hook == "crm_customer_erased":
        return await admin.gql(ERASE_CUSTOMER, {"input": {**ref, "reason": "request 7"}})
    merge = {"sourceId": customer["id"], "targetId": other["id"]}
    return await admin.gql(MERGE_CUSTOMERS, {"input": merge})


@pytest.mark.parametrize("kind", ["user_error", "exception"])
@pytest.mark.parametrize(
    "hook",
    [
        "crm_customer_created",
        "crm_customer_updated",
        "crm_customer_archived",
        "crm_customer_erased",
        "crm_customer_merged",
    ],
)
async def test_a_customer_listener_that_fails_undoes_the_whole_change(
    listening: tuple[Api, CustomerListener], hook: str, kind: str
) -> None:
    admin, listener = listening
    customer = await new_customer(admin, "Contoso Pharmacy", email="info@contoso.example")
    other = await new_customer(admin, "Contoso Group")
    contact = await admin.gql(
        CREATE_CONTACT, {"input": {"customerId": customer["id"], "name": "Dana Whitfield"}}
    )
    assert contact["data"]["createContact"]["errors"] == []
    notes_before = await listener_notes(admin.db)
    before = await customer_state(admin, customer["id"])
    customers_before = await admin.gql("{ customers { totalCount } }")
    listener.fail_on[hook] = _failure(kind)

    body = await _mutate(admin, hook, customer, other)

    if kind == "user_error":  # the listener's errors become the mutation's
        [payload] = body["data"].values()
        assert payload["errors"] == [
            {"field": None, "message": "the listener refuses", "code": "BUSINESS_RULE"}
        ]
    else:  # anything else is an internal error, and undoes the change just the same
        assert list(body["data"].values()) == [None]
        assert [error["message"] for error in body["errors"]] == ["Internal error"]
        assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert listener.heard[-1][0] == hook  # the hook did run, and wrote its note first
    # Neither the change nor what the listener wrote survived.
    assert await listener_notes(admin.db) == notes_before
    assert await customer_state(admin, customer["id"]) == before
    assert before["archivedAt"] is None
    assert before["contacts"] == {"totalCount": 1}
    assert await customer_state(admin, other["id"]) == {
        "name": "Contoso Group",
        "version": 1,
        "archivedAt": None,
        "erasedAt": None,
        "contacts": {"totalCount": 0},
    }
    assert await admin.gql("{ customers { totalCount } }") == customers_before


async def test_crm_customer_archived_and_erased_announce_the_finished_change(
    listening: tuple[Api, CustomerListener],
) -> None:
    admin, listener = listening
    archived = await new_customer(admin, "Fabrikam Studio")
    erased = await new_customer(admin, "Jamie Rivera", kind="PERSON", email="jamie@example.com")

    archive = await admin.gql(ARCHIVE_CUSTOMER, {"input": {"id": archived["id"], "version": 1}})
    erase = await admin.gql(
        ERASE_CUSTOMER, {"input": {"id": erased["id"], "version": 1, "reason": "request 7"}}
    )

    assert archive["data"]["archiveCustomer"]["errors"] == []
    assert erase["data"]["eraseCustomer"]["errors"] == []
    # The listeners see the customer as changed: archived, or already erased.
    assert listener.heard[-2:] == [
        ("crm_customer_archived", {"archived": True}),
        ("crm_customer_erased", {"name": f"Erased customer {erased['number']}"}),
    ]
    assert (await listener_notes(admin.db))[-2:] == [
        ("listener.archived", database_id(archived["id"])),
        ("listener.erased", database_id(erased["id"])),
    ]


class ArchiveVeto:
    """Refuses to let customers whose name starts with "Keep" be archived or erased."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, bool]] = []

    @hookimpl
    def crm_customer_before_archive(
        self, session: AsyncSession, customer: CustomerRow, erasing: bool, context: RequestContext
    ) -> None:
        assert context.caller is not None
        assert customer.archived_at is None  # asked before anything changed
        self.asked.append((customer.number, erasing))
        if customer.name.startswith("Keep"):
            action = "erased" if erasing else "archived"
            raise UserErrors.single(
                "id",
                f"customer {customer.number} has open contracts; it cannot be {action}",
                UserErrorCode.BUSINESS_RULE,
            )


async def test_crm_customer_before_archive_vetoes_archive_and_erase(
    make_settings: Callable[..., Settings],
) -> None:
    veto = ArchiveVeto()
    pm = manager(veto=veto)

    async with running_app(make_settings(plugins=("veto",)), pm=pm) as api:
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"])
        kept = await new_customer(admin, "Keep Me Ltd")
        let_go = await new_customer(admin, "Let Go Ltd")
        ref = {"id": kept["id"], "version": 1}
        refused_archive = await admin.gql(ARCHIVE_CUSTOMER, {"input": ref})
        refused_erase = await admin.gql(ERASE_CUSTOMER, {"input": {**ref, "reason": "request"}})
        allowed = await admin.gql(ARCHIVE_CUSTOMER, {"input": {"id": let_go["id"], "version": 1}})
        kept_state = await customer_state(admin, kept["id"])

    number = kept["number"]
    assert refused_archive["data"]["archiveCustomer"] == {
        "customer": None,
        "errors": [
            {
                "field": "id",
                "message": f"customer {number} has open contracts; it cannot be archived",
                "code": "BUSINESS_RULE",
            }
        ],
    }
    assert refused_erase["data"]["eraseCustomer"]["errors"][0]["message"] == (
        f"customer {number} has open contracts; it cannot be erased"
    )
    assert kept_state["name"] == "Keep Me Ltd"
    assert kept_state["version"] == 1
    assert kept_state["archivedAt"] is None
    assert kept_state["erasedAt"] is None
    assert allowed["data"]["archiveCustomer"]["errors"] == []
    assert allowed["data"]["archiveCustomer"]["customer"]["archivedAt"] is not None
    assert veto.asked == [(number, False), (number, True), (let_go["number"], False)]


async def test_crm_customer_merge_counts_appear_in_moved_and_crm_customer_merged_follows(
    listening: tuple[Api, CustomerListener],
) -> None:
    admin, listener = listening
    source = await new_customer(admin, "Northwind Trading Co", tags=["newsletter"])
    target = await new_customer(admin, "Northwind Traders")
    merge = {"sourceId": source["id"], "targetId": target["id"]}
    notes_before = await listener_notes(admin.db)

    dry = await admin.gql(MERGE_CUSTOMERS, {"input": {**merge, "dryRun": True}})
    after_dry_run = await customer_state(admin, source["id"])
    real = await admin.gql(MERGE_CUSTOMERS, {"input": merge})

    expected_moved = [
        {"kind": "attachments", "count": 0},
        {"kind": "contacts", "count": 0},
        {"kind": "interactions", "count": 0},
        {"kind": "listener records", "count": 2},
        {"kind": "tags", "count": 1},
        {"kind": "tasks", "count": 0},
    ]
    assert dry["data"]["mergeCustomers"] == {
        "dryRun": True,
        "moved": expected_moved,
        "target": {"number": target["number"]},
        "errors": [],
    }
    assert after_dry_run["archivedAt"] is None  # a dry run changes nothing
    assert real["data"]["mergeCustomers"]["moved"] == expected_moved
    assert real["data"]["mergeCustomers"]["errors"] == []
    assert (await customer_state(admin, source["id"]))["archivedAt"] is not None
    # The dry run announced no merge; the real one moved, then announced it, in its transaction.
    assert [hook for hook, _ in listener.heard if "merge" in hook] == [
        "crm_customer_merge",
        "crm_customer_merged",
    ]
    assert (await listener_notes(admin.db))[len(notes_before) :] == [
        ("listener.merge", database_id(source["id"])),
        ("listener.merged", database_id(target["id"])),
    ]


# --- Lifecycle ---------------------------------------------------------------------------


class LifecycleRecorder:
    """An async startup that uses the database and a plain shutdown, both recorded."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.seen: list[tuple[Settings, Database]] = []

    @hookimpl
    async def crm_startup(self, settings: Settings, db: Database) -> None:
        async with db.read() as session:
            assert await session.scalar(text("SELECT 1")) == 1
        self.seen.append((settings, db))
        self.events.append("startup")

    @hookimpl
    def crm_shutdown(self, settings: Settings, db: Database) -> None:
        self.seen.append((settings, db))
        self.events.append("shutdown")


async def test_crm_startup_and_crm_shutdown_run_in_the_app_lifespan(
    make_settings: Callable[..., Settings],
) -> None:
    recorder = LifecycleRecorder()
    settings = make_settings(plugins=("recorder",))
    pm = build_plugin_manager(
        settings.enabled_plugins, load_entrypoints=False, extra_plugins={"recorder": recorder}
    )
    db = Database(settings.resolved_database_url)
    app = core_app.assemble_app(settings=settings, pm=pm, db=db, schema=build_schema(pm, settings))

    assert recorder.events == []
    async with app.router.lifespan_context(app):
        assert recorder.events == ["startup"]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/healthz")).status_code == 200
        assert recorder.events == ["startup"]

    assert recorder.events == ["startup", "shutdown"]
    assert all(seen == (settings, db) for seen in recorder.seen)


# --- HTTP and periodic work --------------------------------------------------------------


async def whoami(request: Request) -> Response:
    """A plugin's route: the same authentication and scoping as GraphQL, checked here."""
    context: RequestContext = await request.app.state.crm.make_context(request)
    try:
        caller = require(context, "customers:read")
    except ApiError as error:
        status = 403 if error.code is ApiErrorCode.FORBIDDEN else 401
        return JSONResponse({"error": error.message}, status_code=status)
    statement = (
        select(func.count())
        .select_from(CustomerRow)
        .where(context.visible("customers:read", "customers"))
    )
    async with context.db.read() as session:
        customers = await session.scalar(statement)
    return JSONResponse(
        {"userId": caller.user_id, "customers": customers, "requestId": context.request_id}
    )


class WhoAmIPlugin:
    @hookimpl
    def crm_http_routes(self) -> Sequence[BaseRoute]:
        return [Route("/whoami", whoami, methods=["GET"])]


async def test_crm_http_routes_adds_a_route_that_uses_the_request_context(
    make_settings: Callable[..., Settings],
) -> None:
    pm = manager(whoami=WhoAmIPlugin())
    paths = {route.path for batch in pm.hook.crm_http_routes() for route in batch}
    assert paths == {
        "/whoami",
        "/export/customers.{format:str}",
        "/export/contacts.{format:str}",
        "/export/interactions.{format:str}",
        "/export/customers/{id}.pdf",
        "/import/customers",
        "/attachments/{attachment_id}",
    }

    settings = make_settings(plugins=("whoami",))
    async with running_app(settings, pm=pm) as api:
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"])
        rep = await api.user("rep@example.com", ["SALES_REPRESENTATIVE"])
        finance = await api.user("finance@example.com", ["FINANCE"])
        await new_customer(rep, "Owned By The Rep")
        await new_customer(admin, "Owned By The Admin")
        anonymous = await api.client.get("/whoami")
        broken = await api.client.get("/whoami", headers={"Authorization": "Token abc"})
        as_rep = await api.client.get("/whoami", headers=rep.headers)
        as_admin = await api.client.get(
            "/whoami", headers={**admin.headers, "X-Request-ID": "a1b2c3d4e5f6"}
        )
        as_finance = await api.client.get("/whoami", headers=finance.headers)
        refused_role = await api.user("nobody@example.com", [])
        refused = await api.client.get("/whoami", headers=refused_role.headers)
    async with running_app(settings, pm=manager()) as core_only:
        missing = await core_only.client.get("/whoami")

    assert anonymous.status_code == 401
    assert anonymous.json() == {
        "error": "authentication required: send Authorization: Bearer <token>"
    }
    assert broken.status_code == 401  # the reason make_context recorded reaches the client
    assert broken.json() == {"error": "the Authorization header must be 'Bearer <token>'"}
    # OWN scope: the rep reaches their own customer; ALL scope: every customer.
    assert as_rep.json() == {
        "userId": rep.user_id,
        "customers": 1,
        "requestId": as_rep.headers["X-Request-ID"],
    }
    assert as_admin.json() == {"userId": admin.user_id, "customers": 2, "requestId": "a1b2c3d4e5f6"}
    assert as_finance.json()["customers"] == 2
    assert refused.status_code == 403
    assert refused.json() == {"error": "permission 'customers:read' is required"}
    assert missing.status_code == 404  # without the plugin the route does not exist


class ChurnJanitor:
    """Archives customers who churned, once (a second run finds nothing left to do)."""

    def __init__(self) -> None:
        self.runs: list[tuple[dt.datetime, list[str]]] = []

    @hookimpl
    def crm_periodic_jobs(self) -> Sequence[PeriodicJob]:
        return [PeriodicJob("janitor.churn", dt.timedelta(days=1), self.archive_churned)]

    async def archive_churned(self, job: JobContext) -> Mapping[str, int]:
        now = job.now
        self.runs.append((now, enabled_plugin_names(job.pm)))
        async with job.db.transaction() as session:
            churned = (
                await session.scalars(
                    select(CustomerRow)
                    .where(CustomerRow.stage == "CHURNED", CustomerRow.archived_at.is_(None))
                    .with_for_update()
                )
            ).all()
            for customer in churned:
                customer.archived_at = now
        return {"churned customers archived": len(churned)}


JANITOR = ChurnJanitor()
"""The object the test entry point below names (``tests.test_hooks_called:JANITOR``)."""


async def add_customers(db: Database, *stages: str) -> None:
    async with db.transaction() as session:
        session.add_all(
            CustomerRow(
                number=f"C9{n:05d}",
                name=f"{stage.title()} customer {n}",
                kind="COMPANY",
                stage=stage,
                grade="STANDARD",
                custom_fields={},
            )
            for n, stage in enumerate(stages, start=1)
        )


async def archived_numbers(db: Database) -> list[str]:
    async with db.read() as session:
        statement = select(CustomerRow.number).where(CustomerRow.archived_at.is_not(None))
        return sorted((await session.scalars(statement)).all())


@pytest.fixture
def janitor_installed(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ChurnJanitor]:
    """Install ``JANITOR`` as the ``janitor`` plugin and point ``crm`` at the test database."""
    site = tmp_path / "site"
    dist_info = site / "crm_janitor-0.2.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: crm-janitor\nVersion: 0.2.0\n"
    )
    (dist_info / "entry_points.txt").write_text(f"[crm.plugins]\njanitor = {__name__}:JANITOR\n")
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CRM_DATABASE_URL", database_url)
    monkeypatch.setenv("CRM_PLUGINS", "janitor")
    JANITOR.runs.clear()
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    yield JANITOR
    sys.path.remove(str(site))
    importlib.invalidate_caches()
    JANITOR.runs.clear()


async def crm_command(*args: str) -> Result:
    """Run ``crm`` in a worker thread: the command runs its own event loop."""
    return await asyncio.to_thread(CliRunner().invoke, cli_module.cli, list(args))


async def test_crm_jobs_run_results_appear_in_the_output_of_crm_jobs_run(
    janitor_installed: ChurnJanitor, database_url: str
) -> None:
    not_migrated = await crm_command("jobs", "run")
    assert not_migrated.exit_code == 2
    assert "the database is not migrated; run `crm migrate` first" in not_migrated.output
    assert janitor_installed.runs == []
    migrated = await crm_command("migrate")
    assert migrated.exit_code == 0, migrated.output
    db = Database(load_settings().resolved_database_url)
    try:
        await add_customers(db, "CHURNED", "ACTIVE", "CHURNED")

        first = await crm_command("jobs", "run")
        second = await crm_command("jobs", "run")
        archived = await archived_numbers(db)
    finally:
        await db.dispose()

    assert first.exit_code == 0, first.output
    # Core's jobs first, then the plugin's, one line per result.
    assert first.output.splitlines() == [
        "outbox messages purged: 0",
        "read notifications purged: 0",
        "customers marked dormant: 0",
        "birthday reminders created: 0",
        "key account care tasks created: 0",
        "anniversary reminders created: 0",
        "task reminders sent: 0",
        "webhook delivery attempts purged: 0",
        "churned customers archived: 2",
    ]
    assert second.output.splitlines()[-1] == "churned customers archived: 0"  # idempotent
    assert archived == ["C900001", "C900003"]
    assert [plugins for _, plugins in janitor_installed.runs] == [["janitor"], ["janitor"]]
    assert all(now.tzinfo is not None for now, _ in janitor_installed.runs)


async def test_periodic_jobs_run_in_module_order_core_first(
    settings: Settings, db: Database
) -> None:
    janitor = ChurnJanitor()
    pm = manager(janitor=janitor)
    await migrate.upgrade(db, pm)
    await add_customers(db, "CHURNED", "ACTIVE")
    now = utcnow() + dt.timedelta(days=100)  # the ACTIVE customer is quiet for 100 days then

    results = await Scheduler(db=db, settings=settings, pm=pm, clock=lambda: now).run_all()

    assert results == {
        "outbox.purge": {"outbox messages purged": 0},
        "notifications.purge": {"read notifications purged": 0},
        "customers.dormant": {"customers marked dormant": 1},
        "customers.birthdays": {"birthday reminders created": 0},
        "customers.key_account_care": {"key account care tasks created": 0},
        "customers.anniversaries": {"anniversary reminders created": 0},
        "customers.task_reminders": {"task reminders sent": 0},
        "webhooks.purge_log": {"webhook delivery attempts purged": 0},
        "janitor.churn": {"churned customers archived": 1},
    }
    assert janitor.runs == [(now, ["janitor"])]
    assert await archived_numbers(db) == ["C900001"]


# --- Command line ------------------------------------------------------------------------


class GreeterCli:
    """A plugin that adds a ``greeter`` command group to ``crm``."""

    def __init__(self) -> None:
        self.clis: list[typer.Typer] = []
        self.group = typer.Typer(help="Greetings.", no_args_is_help=True)
        self.group.command("hello")(self.hello)
        self.group.command("users")(self.users)
        self.runners: list[CommandRunner] = []

    @staticmethod
    def hello(name: str = "world") -> None:
        """Greet someone."""
        typer.echo(f"Hello, {name}!")

    def users(self) -> None:
        """Count the users, with the context the host makes ready."""

        async def count(context: CommandContext) -> int:
            assert enabled_plugin_names(context.pm) == ["greeter"]
            assert context.now().tzinfo is not None
            async with context.db.read() as session:
                return len((await session.scalars(select(identity_models.User.id))).all())

        typer.echo(f"users: {self.runners[-1](count)}")

    @hookimpl
    def crm_cli_commands(self, cli: typer.Typer, run: CommandRunner) -> None:
        self.clis.append(cli)
        self.runners.append(run)
        cli.add_typer(self.group, name="greeter")


GREETER = GreeterCli()
"""The object the test entry point below names (``tests.test_hooks_called:GREETER``)."""


@pytest.fixture
def greeter_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GreeterCli]:
    """Install ``GREETER`` as the ``greeter`` plugin; keep ``crm``'s commands as they were."""
    site = tmp_path / "site"
    dist_info = site / "crm_greeter-0.3.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: crm-greeter\nVersion: 0.3.0\n"
    )
    (dist_info / "entry_points.txt").write_text(f"[crm.plugins]\ngreeter = {__name__}:GREETER\n")
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CRM_DATABASE_URL", raising=False)
    monkeypatch.setattr(
        cli_module.cli, "registered_commands", [*cli_module.cli.registered_commands]
    )
    monkeypatch.setattr(cli_module.cli, "registered_groups", [*cli_module.cli.registered_groups])
    GREETER.clis.clear()
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    yield GREETER
    sys.path.remove(str(site))
    importlib.invalidate_caches()
    GREETER.clis.clear()


def run_crm(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run ``crm`` (``schema.cli:main``) in-process; return its exit code."""
    monkeypatch.setattr(sys, "argv", ["crm", *args])
    with pytest.raises(SystemExit) as exited:
        cli_module.main()
    code = exited.value.code
    return code if isinstance(code, int) else 1


def test_crm_cli_commands_adds_commands_to_crm(
    greeter_installed: GreeterCli,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CRM_PLUGINS", "greeter")

    assert run_crm(monkeypatch, "greeter", "hello", "--name", "Ada") == 0

    assert capsys.readouterr().out == "Hello, Ada!\n"
    # The plugin extended a copy of core's command line: core's own stays as it was, so a
    # second command line (another plugin set) adds nothing twice.
    [app] = greeter_installed.clis
    assert app is not cli_module.cli
    assert "greeter" not in {group.name for group in cli_module.cli.registered_groups}
    result = CliRunner().invoke(app, ["greeter", "hello"])
    assert result.exit_code == 0, result.output
    assert result.output == "Hello, world!\n"
    listing = CliRunner().invoke(app, ["plugins"])
    assert "greeter\t0.3.0\tenabled" in listing.output
    again = cli_module.command_line(build_plugin_manager(["greeter"]))
    assert [group.name for group in again.registered_groups].count("greeter") == 1


def test_crm_cli_commands_run_work_with_a_ready_context(
    greeter_installed: GreeterCli,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CRM_PLUGINS", "greeter")
    commands = [*cli_module.cli.registered_commands]
    groups = [*cli_module.cli.registered_groups]

    def crm(*args: str) -> int:
        try:
            return run_crm(monkeypatch, *args)
        finally:  # as a new process starts: without the commands plugins added
            cli_module.cli.registered_commands[:] = commands
            cli_module.cli.registered_groups[:] = groups

    # The runner checks the migrations first: a clear message, exit status 2, no traceback.
    assert crm("greeter", "users") == 2
    assert "not migrated; run `crm migrate` first" in capsys.readouterr().err
    assert crm("migrate") == 0
    capsys.readouterr()
    assert crm("greeter", "users") == 0

    assert capsys.readouterr().out == "users: 0\n"


def test_crm_cli_commands_of_a_disabled_plugin_are_absent(
    greeter_installed: GreeterCli,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CRM_PLUGINS", "")

    assert run_crm(monkeypatch, "greeter", "hello") == 2

    assert "No such command" in capsys.readouterr().err
    assert greeter_installed.clis == []


# --- Demo data ---------------------------------------------------------------------------


class DemoRecorder:
    """Records what ``crm_demo_data`` hands it, and which users exist by then."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, Settings, list[str]]] = []

    @hookimpl
    async def crm_demo_data(self, session: AsyncSession, size: int, settings: Settings) -> None:
        emails = (await session.scalars(select(identity_models.User.email))).all()
        self.calls.append((size, settings, sorted(emails)))


async def test_crm_demo_data_of_the_fixture_plugin_fills_its_tables(
    settings: Settings, db: Database
) -> None:
    recorder = DemoRecorder()
    pm = manager(fixture=fixture_plugin.plugin, recorder=recorder)
    await migrate.upgrade(db, pm)
    assert await migrate.tables_with_rows(db, pm) == []

    async with db.transaction() as session:
        await call_in_turn(pm.hook.crm_demo_data, session=session, size=4, settings=settings)

    async with db.read() as session:
        names = (await session.scalars(select(fixture_models.Widget.name))).all()
        notes = await session.scalar(select(func.count()).select_from(fixture_models.WidgetNote))
        emails = (await session.scalars(select(identity_models.User.email))).all()
    assert sorted(names) == [f"Demo widget {n}" for n in range(1, 5)]
    assert notes == 0
    # Core ran first: its demo users (one in every built-in role) existed for the plugins.
    demo_emails = sorted(user.email for user in identity_demo.demo_users(4))
    assert sorted(emails) == demo_emails
    assert recorder.calls == [(4, settings, demo_emails)]
    filled = await migrate.tables_with_rows(db, pm)
    assert "fixture_widgets" in filled
    assert "fixture_widget_notes" not in filled
    assert {"users", "teams", "user_roles", "audit_events"} <= set(filled)


async def test_crm_demo_data_is_undone_with_its_transaction(
    settings: Settings, db: Database
) -> None:
    pm = manager(fixture=fixture_plugin.plugin)
    await migrate.upgrade(db, pm)

    async def fill_then_fail() -> None:
        async with db.transaction() as session:
            await call_in_turn(pm.hook.crm_demo_data, session=session, size=3, settings=settings)
            raise RuntimeError("demo failed")

    with pytest.raises(RuntimeError, match="demo failed"):
        await fill_then_fail()

    assert await migrate.tables_with_rows(db, pm) == []


class Tally:
    """A plugin with a background job: counts to ``payload["to"]`` in steps, checkpointing
    each step in a transaction of its own; refuses a negative target."""

    @hookimpl
    def crm_job_handlers(self) -> Mapping[str, Any]:
        return {"tally.count": self.count}

    async def count(self, run: background.JobRun) -> Mapping[str, Any]:
        target = int(run.payload["to"])
        if target < 0:
            raise background.JobFailed("cannot count to a negative number")
        state = dict(run.state) or {"counted": 0}
        while state["counted"] < target:
            state["counted"] += 1
            async with run.db.transaction() as session:
                if await run.checkpoint(session, state):
                    raise background.JobCancelled
        return {**state, "by": run.created_by}


async def test_crm_job_handlers_run_a_plugins_jobs_to_their_end(
    settings: Settings, db: Database
) -> None:
    pm = manager(tally=Tally())
    await migrate.upgrade(db, pm)
    now = utcnow()
    async with db.transaction() as session:
        good = await background.enqueue(session, "tally.count", {"to": 3}, created_by=None, now=now)
        bad = await background.enqueue(session, "tally.count", {"to": -1}, created_by=None, now=now)
    runner = background.JobRunner(db=db, settings=settings, pm=pm)
    assert "customers.import" in runner.handlers  # core's own, beside the plugin's

    assert await runner.run_until_idle() == 2

    async with db.read() as session:
        jobs = {
            job.id: job for job in (await session.scalars(select(background.BackgroundJob))).all()
        }
    assert (jobs[good.id].status, jobs[good.id].state) == ("SUCCEEDED", {"counted": 3, "by": None})
    assert (jobs[bad.id].status, jobs[bad.id].error) == (
        "FAILED",
        "cannot count to a negative number",
    )


def test_a_job_kind_two_modules_handle_stops_the_runner(settings: Settings, db: Database) -> None:
    class Imposter:
        @hookimpl
        def crm_job_handlers(self) -> Mapping[str, Any]:
            return {"customers.import": Tally().count}

    with pytest.raises(PluginError, match=r"the background job kind .* is declared by two modules"):
        background.JobRunner(db=db, settings=settings, pm=manager(imposter=Imposter()))
