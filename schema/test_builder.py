"""Schema composition: root merging, fields on core types, conflicts, independence, SDL."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

import graphql.validation
import pytest
import strawberry
import strawberry.schema.schema

from core import TypeFields, hookimpl
from core.config import Settings, load_settings
from core.host import ENTRY_POINT_GROUP
from core.types import System
from schema.builder import SchemaConflictError, build_schema, non_null_root_fields
from schema.modules import build_plugin_manager
from tests import fixture_plugin
from tests.support import HookSet

SDL_FILE = Path(__file__).parent / "schema.graphql"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path)


def _build(settings: Settings, **plugins: Any) -> strawberry.Schema:
    pm = build_plugin_manager(list(plugins), load_entrypoints=False, extra_plugins=plugins)
    return build_schema(pm, settings)


def _plugin(**hooks: Any) -> HookSet:
    return HookSet(**{name: hookimpl(fn) for name, fn in hooks.items()})


@strawberry.type
class HelloQuery:
    @strawberry.field
    def hello(self) -> str:
        return "hi"


@strawberry.type
class SystemQuery:
    @strawberry.field
    def system(self) -> str:
        return "mine"


async def _system_extra(root: System) -> int:
    return 1


def test_core_only_schema(settings: Settings) -> None:
    sdl = _build(settings).as_str()

    assert "system: System\n" in sdl
    assert "node(id: ID!): Node" in sdl
    assert "viewer: User\n" in sdl
    assert "type Mutation {" in sdl
    assert "login(input: LoginInput!): LoginPayload\n" in sdl
    assert "type User implements Node" in sdl
    assert "Widget" not in sdl
    # Core's one subscription: a user's new notifications.
    assert "type Subscription {\n  " in sdl
    assert "notificationReceived: Notification!\n}" in sdl


def test_plugin_adds_types_fields_and_roots(settings: Settings) -> None:
    sdl = _build(settings, fixture=fixture_plugin.plugin).as_str()

    assert "type Widget implements Node" in sdl
    assert "widgets(" in sdl
    assert "createWidget(input: CreateWidgetInput!): CreateWidgetPayload\n" in sdl
    assert "widgetCount: Int!" in sdl


def test_every_root_field_is_nullable(settings: Settings) -> None:
    """Core, the built-in plugins and the fixture plugin follow the nullability policy: a
    refused root field is null with its error, never the whole of ``data``."""
    pm = build_plugin_manager(
        None, load_entrypoints=True, extra_plugins={"fixture": fixture_plugin.plugin}
    )
    schema = build_schema(pm, settings)

    sdl = schema.as_str()
    assert "tickets(" in sdl
    assert "widgets(" in sdl
    assert non_null_root_fields(schema) == []


def test_a_non_null_root_field_is_found(settings: Settings) -> None:
    schema = _build(settings, hello=_plugin(crm_graphql_query=lambda: HelloQuery))

    assert non_null_root_fields(schema) == ["Query.hello"]


def test_subscription_root_appears_once_a_module_has_one(settings: Settings) -> None:
    assert "widgetTicks" not in _build(settings).as_str()
    assert (
        "widgetTicks(count: Int! = 3): Int!"
        in _build(settings, fixture=fixture_plugin.plugin).as_str()
    )


def test_schemas_built_side_by_side_stay_independent(settings: Settings) -> None:
    with_fixture = _build(settings, fixture=fixture_plugin.plugin)
    without = _build(settings)
    again = _build(settings, fixture=fixture_plugin.plugin)

    assert "widgetCount" in with_fixture.as_str()
    assert "widgetCount" not in without.as_str()
    assert with_fixture.as_str() == again.as_str()
    result = without.execute_sync('{ __type(name: "System") { fields { name } } }')
    assert result.data is not None
    assert {f["name"] for f in result.data["__type"]["fields"]} == {"version", "modules"}


def test_two_plugins_with_one_root_field_conflict(settings: Settings) -> None:
    one = _plugin(crm_graphql_query=lambda: HelloQuery)
    two = _plugin(crm_graphql_query=lambda: HelloQuery)

    with pytest.raises(SchemaConflictError, match=r"Query\.hello .* 'one' and 'two'"):
        _build(settings, one=one, two=two)


def test_plugin_cannot_shadow_a_core_root_field(settings: Settings) -> None:
    shadow = _plugin(crm_graphql_query=lambda: SystemQuery)

    with pytest.raises(SchemaConflictError, match=r"Query\.system .* 'core' and 'shadow'"):
        _build(settings, shadow=shadow)


def test_plugin_cannot_shadow_a_field_of_a_core_type(settings: Settings) -> None:
    shadow = _plugin(
        crm_graphql_type_fields=lambda: [
            TypeFields(target=System, fields={"version": strawberry.field(resolver=_system_extra)})
        ]
    )

    with pytest.raises(SchemaConflictError, match=r"System\.version .* 'core' and 'shadow'"):
        _build(settings, shadow=shadow)


def test_two_plugins_adding_one_field_to_a_core_type_conflict(settings: Settings) -> None:
    def extra() -> list[TypeFields]:
        return [
            TypeFields(
                target=System, fields={"widget_count": strawberry.field(resolver=_system_extra)}
            )
        ]

    other = _plugin(crm_graphql_type_fields=extra)

    with pytest.raises(SchemaConflictError, match=r"System\.widgetCount .* 'fixture' and 'other'"):
        _build(settings, fixture=fixture_plugin.plugin, other=other)


def test_field_clashing_with_a_plugin_type_names_that_plugin(settings: Settings) -> None:
    from tests.fixture_plugin.types import Widget

    shadow = _plugin(
        crm_graphql_type_fields=lambda: [
            TypeFields(target=Widget, fields={"name": strawberry.field(resolver=_system_extra)})
        ]
    )

    with pytest.raises(SchemaConflictError, match=r"Widget\.name .* 'fixture' and 'shadow'"):
        _build(settings, fixture=fixture_plugin.plugin, shadow=shadow)


def _widget_note(root: Any) -> str:
    return f"note on {root.name}"


def test_a_field_added_by_type_name_reaches_a_type_of_another_plugin(settings: Settings) -> None:
    """A plugin names a type it cannot import (another plugin's ``Widget``): the field is
    there while that plugin is enabled, and nothing is added when it is not."""
    by_name = _plugin(
        crm_graphql_type_fields=lambda: [
            TypeFields(target="Widget", fields={"note": strawberry.field(resolver=_widget_note)})
        ]
    )

    with_widget = _build(settings, fixture=fixture_plugin.plugin, by_name=by_name).as_str()
    without = _build(settings, by_name=by_name).as_str()

    widget = with_widget.split("type Widget", 1)[1].split("}", 1)[0]
    assert "note: String!" in widget
    assert "note: String!" not in without
    assert "Widget" not in without


def test_a_field_added_by_type_name_may_not_shadow_the_types_own(settings: Settings) -> None:
    shadow = _plugin(
        crm_graphql_type_fields=lambda: [
            TypeFields(target="Widget", fields={"name": strawberry.field(resolver=_widget_note)})
        ]
    )

    with pytest.raises(SchemaConflictError, match=r"Widget\.name is the type's own field"):
        _build(settings, fixture=fixture_plugin.plugin, shadow=shadow)


def test_two_plugins_adding_one_field_by_type_name_conflict(settings: Settings) -> None:
    def extra() -> list[TypeFields]:
        return [
            TypeFields(target="Widget", fields={"note": strawberry.field(resolver=_widget_note)})
        ]

    with pytest.raises(SchemaConflictError, match=r"Widget\.note .* 'one' and 'two'"):
        _build(
            settings,
            one=_plugin(crm_graphql_type_fields=extra),
            two=_plugin(crm_graphql_type_fields=extra),
        )


@strawberry.type(name="System")
class OtherSystem:
    size: int


@strawberry.type
class OtherQuery:
    @strawberry.field
    def other_system(self) -> OtherSystem:
        return OtherSystem(size=1)


def test_two_types_of_one_name_stop_the_build(settings: Settings) -> None:
    other = _plugin(crm_graphql_query=lambda: OtherQuery)

    with pytest.raises(SchemaConflictError, match="same name"):
        _build(settings, other=other)


def test_type_field_needs_a_resolver(settings: Settings) -> None:
    bad = _plugin(
        crm_graphql_type_fields=lambda: [
            TypeFields(target=System, fields={"plain": strawberry.field()})
        ]
    )

    with pytest.raises(SchemaConflictError, match="resolver"):
        _build(settings, bad=bad)


def test_committed_sdl_is_current(settings: Settings) -> None:
    built_in = [
        ep.name
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)
        if ep.dist is not None and ep.dist.name == "crm"
    ]
    pm = build_plugin_manager(built_in)

    printed = build_schema(pm, settings).as_str() + "\n"

    assert printed == SDL_FILE.read_text(), (
        "schema/schema.graphql is stale: run `crm export-schema > schema/schema.graphql`"
    )


@strawberry.type(name="Gadget")
class Gadget(strawberry.relay.Node):
    id: strawberry.relay.NodeID[int]
    label: str
    secret: strawberry.Private[str]

    @strawberry.field
    def shout(self) -> str:
        return self.label.upper()


@strawberry.type(name="Sprocket")
class Sprocket(strawberry.relay.Node):
    id: strawberry.relay.NodeID[int]

    @classmethod
    def resolve_id(cls, root: Sprocket, *, info: strawberry.Info) -> str:
        return f"s-{root.id}"


@strawberry.type
class GadgetQuery:
    @strawberry.field
    def gadgets(self) -> list[Gadget]:
        return [Gadget(id=1, label="one", secret="x"), Gadget(id=2, label="two", secret="y")]

    @strawberry.field
    def sprocket(self) -> Sprocket:
        return Sprocket(id=7)


async def test_plain_fields_and_node_ids_answer_as_strawberry_would(settings: Settings) -> None:
    schema = _build(settings, gadgets=_plugin(crm_graphql_query=lambda: GadgetQuery))
    gadget: Any = schema._schema.type_map["Gadget"]
    sprocket: Any = schema._schema.type_map["Sprocket"]
    # Plain attributes and the default node id are resolved directly; a field with its own
    # resolver, and a node that overrides resolve_id, keep Strawberry's path.
    assert gadget.fields["label"].resolve.__qualname__.startswith("_attribute")
    assert gadget.fields["id"].resolve.__qualname__.startswith("_node_id")
    assert not gadget.fields["shout"].resolve.__qualname__.startswith("_attribute")
    assert not sprocket.fields["id"].resolve.__qualname__.startswith("_node_id")

    result = await schema.execute("{ gadgets { id label shout } sprocket { id } }")
    assert result.errors is None
    assert result.data == {
        "gadgets": [
            {"id": strawberry.relay.to_base64("Gadget", 1), "label": "one", "shout": "ONE"},
            {"id": strawberry.relay.to_base64("Gadget", 2), "label": "two", "shout": "TWO"},
        ],
        "sprocket": {"id": strawberry.relay.to_base64("Sprocket", "s-7")},
    }


async def test_a_repeated_query_is_validated_once(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = _build(settings, gadgets=_plugin(crm_graphql_query=lambda: GadgetQuery))
    validations: list[str] = []
    real_validate = graphql.validation.validate

    def counting_validate(*args: Any, **kwargs: Any) -> Any:
        validations.append("validated")
        return real_validate(*args, **kwargs)

    monkeypatch.setattr(strawberry.schema.schema, "validate", counting_validate)
    for _ in range(3):
        assert (await schema.execute("{ gadgets { label } }")).errors is None
    assert validations == ["validated"]
    # The limits still apply, and a refused query is also validated once.
    shallow = _build(
        load_settings(data_dir=settings.data_dir, max_query_depth=1),
        gadgets=_plugin(crm_graphql_query=lambda: GadgetQuery),
    )
    validations.clear()
    for _ in range(2):
        errors = (await shallow.execute("{ viewer { team { name } } }")).errors
        assert errors is not None
        assert "exceeds maximum operation depth" in errors[0].message
    assert validations == ["validated"]
