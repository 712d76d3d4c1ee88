"""Pages (nested or root) whose nodes a query reads plain fields and declared batch fields of
only are read with those columns alone, and their nodes hold what ``from_model`` would have
given those attributes; root pages of types whose ``from_model`` reads columns only are read
as plain records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from core import pagination
from core.config import Settings
from core.customers import models
from core.customers.inputs import InteractionChannel
from core.customers.types import Contact, Customer, Interaction
from core.demo import load_all
from core.host import CRMPluginManager
from core.light_nodes import _builder, _reads, light_nodes, wanted_nodes
from core.node import ModelNode
from core.rows import Record, reads_plain_rows
from schema.testkit import Api
from tests.support import StatementCounter

PLAIN = """
{ customers(first: 5) { edges { node {
    contacts(first: 5) { totalCount pageInfo { hasNextPage endCursor }
                         edges { cursor node { __typename id name email primary } } }
    interactions(first: 3) { edges { node { id channel summary } } }
    tickets(first: 3) { edges { node { number status priority } } }
} } } }"""
WITH_BATCH_FIELD = """
{ customers(first: 5) { edges { node {
    contacts(first: 5) { edges { node { name customer { id } } } }
} } } }"""


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(plugins=("fixture", "tickets"))


def _page_statement(counter: StatementCounter, table: str) -> str:
    (found,) = [
        statement
        for statement in counter.statements
        if f"FROM {table}" in statement and "row_number()" in statement.lower()
    ]
    return found


def _declaring_types(api: Api) -> list[Any]:
    schema = api.app.state.crm.schema
    found = []
    for type_ in schema._schema.type_map.values():
        definition = (getattr(type_, "extensions", None) or {}).get("strawberry-definition")
        origin = getattr(definition, "origin", None)
        if isinstance(origin, type) and issubclass(origin, ModelNode) and origin.column_reads():
            found.append(origin)
    return found


async def test_declared_columns_build_what_from_model_builds(
    admin: Api, plugin_manager: CRMPluginManager
) -> None:
    await load_all(admin.db, plugin_manager, admin.settings, 12)
    kinds = _declaring_types(admin)
    assert {kind.__name__ for kind in kinds} >= {"Contact", "Interaction", "Ticket"}
    checked: set[str] = set()
    for kind in kinds:
        table = kind.by_id_loader.entity.__table__
        declared = kind.column_reads()
        fields = {field.python_name for field in kind.__strawberry_definition__.fields}
        assert set(declared) <= fields, kind
        reads = _reads(kind, frozenset(declared))
        assert reads is not None
        columns, build = reads
        assert set(columns) <= set(table.c.keys()), kind
        async with admin.db.lookup() as session:
            rows = (await session.execute(select(table).limit(40))).mappings().all()
        if rows:  # the demo data has rows of most types, of these three for certain
            checked.add(kind.__name__)
        for row in rows:
            record = Record.__new__(Record)
            record.__dict__ = dict(row)
            full, light = kind.from_model(record), build(dict(row))
            for attribute in declared:
                assert getattr(light, attribute) == getattr(full, attribute), (kind, attribute)
            assert type(light) is kind
    assert checked >= {"Contact", "Interaction", "Ticket"}


async def _customers(
    admin: Api,
    plugin_manager: CRMPluginManager,
    count_statements: Callable[..., StatementCounter],
    query: str,
) -> tuple[StatementCounter, list[dict[str, Any]]]:
    """The demo data loaded, then ``query``'s customers, its statements counted."""
    await load_all(admin.db, plugin_manager, admin.settings, 12)
    counter = count_statements(admin.db)
    body = await admin.gql(query)
    assert "errors" not in body, body
    return counter, [edge["node"] for edge in body["data"]["customers"]["edges"]]


async def test_a_page_of_plain_fields_reads_their_columns_alone(
    admin: Api,
    plugin_manager: CRMPluginManager,
    count_statements: Callable[..., StatementCounter],
) -> None:
    counter, customers = await _customers(admin, plugin_manager, count_statements, PLAIN)
    assert any(customer["contacts"]["edges"] for customer in customers)
    assert any(customer["interactions"]["edges"] for customer in customers)
    assert any(customer["tickets"]["edges"] for customer in customers)
    contacts = _page_statement(counter, "contacts")
    assert "email" in contacts
    assert "is_primary" in contacts
    assert "notes" not in contacts
    assert "birthday" not in contacts
    assert "summary" in _page_statement(counter, "interactions")
    tickets = _page_statement(counter, "tickets")
    assert "status" in tickets
    assert "description" not in tickets

    # A batch field of the node reads the node's other attributes: whole rows.
    counter.reset()
    body = await admin.gql(WITH_BATCH_FIELD)
    assert "errors" not in body, body
    contacts = _page_statement(counter, "contacts")
    assert "notes" in contacts
    assert "birthday" in contacts


def test_light_nodes_serve_the_type_asked_for_and_only_once() -> None:
    assert light_nodes(Contact.from_model) is None  # nothing asked for
    token = wanted_nodes.set(("Contact", frozenset({"name", "primary"})))
    try:
        assert light_nodes(Interaction.from_model) is None  # another type's page
        assert wanted_nodes.get() is not None
        found = light_nodes(Contact.from_model)
        assert found is not None
        assert found[0] == ("is_primary", "name")
        assert light_nodes(Contact.from_model) is None  # the hint served one page
    finally:
        wanted_nodes.reset(token)


def test_light_nodes_convert_and_rename_as_from_model_does() -> None:
    token = wanted_nodes.set(("Interaction", frozenset({"id", "channel", "summary"})))
    try:
        found = light_nodes(Interaction.from_model)
    finally:
        wanted_nodes.reset(token)
    assert found is not None
    _columns, build = found
    row = {"id": 7, "channel": "PHONE", "summary": "s", "created_at": None}
    node = build(row)
    assert (node.id, node.channel, node.summary) == (7, InteractionChannel.PHONE, "s")
    stored = {"id": 8, "channel": "carrier pigeon", "summary": "s", "created_at": None}
    with pytest.raises(ValueError, match="carrier pigeon"):  # a value from_model refuses
        build(stored)
    with pytest.raises(ValueError, match="carrier pigeon"):
        InteractionChannel("carrier pigeon")


def test_an_attribute_without_a_declared_column_reads_whole_rows() -> None:
    token = wanted_nodes.set(("Contact", frozenset({"name", "customer_id"})))
    try:
        assert light_nodes(Contact.from_model) is None
    finally:
        wanted_nodes.reset(token)


def test_a_statement_without_a_column_of_the_name_reads_whole_rows() -> None:
    from sqlalchemy import literal

    from core.customers.models import Contact as ContactRow
    from core.light_nodes import only_columns

    statement = select(ContactRow)
    narrowed = only_columns(statement, ["customer_id", "name", "is_primary"])
    assert [column.key for column in narrowed.selected_columns] == [
        "customer_id",
        "name",
        "is_primary",
    ]
    assert only_columns(statement, ["customer_id", "name", "no_such_column"]) is statement
    # A label over a column wins, as it does in a whole row's record.
    labelled = statement.add_columns(literal("x").label("name"))
    (name,) = list(only_columns(labelled, ["customer_id", "name"]).selected_columns)[1:]
    assert name is list(labelled.selected_columns)[-1]


def test_a_type_that_declares_nothing_gets_no_light_nodes() -> None:
    class Plain:
        @classmethod
        def column_reads(cls) -> dict[str, str]:
            return {}

    assert _reads(Plain, frozenset()) is None
    assert _reads(Contact, frozenset()) is not None  # only __typename read: still light


ROOT_PAGE = """
{ customers(first: 20) { edges { cursor node {
    id number name kind stage grade industry source phone email foundedOn
    address { line1 city country } customFields createdAt lastInteractionAt version
    owner { id name } tags { id name }
} } } }"""


async def test_a_root_page_of_plain_row_nodes_is_read_as_records(
    admin: Api, plugin_manager: CRMPluginManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    await load_all(admin.db, plugin_manager, admin.settings, 12)
    built_from: list[type] = []
    from_model = Customer.from_model.__func__  # type: ignore[attr-defined]

    def spy(cls: type[Customer], row: Any) -> Customer:
        built_from.append(type(row))
        return from_model(cls, row)  # type: ignore[no-any-return]

    monkeypatch.setattr(Customer, "from_model", classmethod(spy))
    records = await admin.gql(ROOT_PAGE)
    assert set(built_from) == {Record}
    built_from.clear()
    monkeypatch.setattr(pagination, "reads_plain_rows", lambda to_node: False)
    objects = await admin.gql(ROOT_PAGE)
    assert set(built_from) == {models.Customer}
    # The same nodes either way: from_model reads nothing but the row's columns.
    assert "errors" not in records, records
    assert len(records["data"]["customers"]["edges"]) == 12
    assert any(edge["node"]["tags"] for edge in records["data"]["customers"]["edges"])
    assert records == objects


def test_only_from_model_of_a_type_that_says_so_reads_plain_rows() -> None:
    assert Customer.plain_rows
    assert reads_plain_rows(Customer.from_model)
    assert not reads_plain_rows(Contact.from_model)  # its from_model may read more
    assert not reads_plain_rows(lambda row: Customer.from_model(row))


class _Swapped:
    """A node whose attributes are named after each other's columns."""


def test_attributes_named_after_other_columns_read_the_columns_as_they_came() -> None:
    # "name" is read from the column "title" and "title" from the column "name": built in
    # place, the second would read what the first wrote.
    build = _builder(_Swapped, (("name", "title", None), ("title", "name", None)))
    node = build({"name": "Ada", "title": "Dr"})
    assert (node.name, node.title) == ("Dr", "Ada")
    # Named after their own columns, or after columns nothing else reads: no copy needed,
    # and the row's columns are the node's.
    row = {"name": "Ada", "is_primary": 1}
    node = _builder(_Swapped, (("name", "name", None), ("primary", "is_primary", bool)))(row)
    assert (node.name, node.primary, node.is_primary) == ("Ada", True, 1)
    assert node.__dict__ is row


ROOT_LIGHT = """
{ customers(first: 5) { edges { node {
    id number name stage grade source lastInteractionAt
    owner { name } tags { name } contacts(first: 2) { totalCount }
    tickets(first: 1) { edges { node { number } } }
} } } }"""


def _root_statement(counter: StatementCounter) -> str:
    (found,) = [
        statement
        for statement in counter.statements
        if "FROM customers" in statement and "sort_0" in statement and "row_number" not in statement
    ]
    return found


async def test_a_root_page_of_plain_and_declared_batch_fields_reads_their_columns_alone(
    admin: Api,
    plugin_manager: CRMPluginManager,
    count_statements: Callable[..., StatementCounter],
) -> None:
    counter, customers = await _customers(admin, plugin_manager, count_statements, ROOT_LIGHT)
    assert len(customers) == 5
    assert all(customer["owner"] is None or customer["owner"]["name"] for customer in customers)
    root = _root_statement(counter)
    for column in ("number", "stage", "source", "owner_id", "last_interaction_at"):
        assert f"customers.{column}" in root
    for column in ("website", "address_line1", "custom_fields", "search_key"):
        assert f"customers.{column}" not in root

    # What from_model converts as a whole (the address), or a batch field that does not
    # declare what it reads (customFieldValues): whole rows, as before.
    for selection in ("address { city }", "customFieldValues { key }"):
        counter.reset()
        query = f"{{ customers(first: 5) {{ edges {{ node {{ name {selection} }} }} }} }}"
        body = await admin.gql(query)
        assert "errors" not in body, body
        assert "customers.custom_fields" in _root_statement(counter)


def test_batch_fields_declare_what_they_read_of_their_parents() -> None:
    from core.batch_fields import batch_field, reads_of, related

    async def by_id(context: Any, parents: Any) -> list[Any]:
        return [parent.id for parent in parents]

    assert reads_of(batch_field(by_id).base_resolver.wrapped_func) is None
    declared = batch_field(by_id, reads=["id"]).base_resolver.wrapped_func
    assert reads_of(declared) == frozenset({"id"})
    related_field = batch_field(related(Customer, "owner_id")).base_resolver.wrapped_func
    assert reads_of(related_field) == frozenset({"owner_id"})
