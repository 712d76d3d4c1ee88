from __future__ import annotations

from collections.abc import Iterable

import strawberry
from strawberry import relay

from core.context import Info
from core.errors import UserError
from tests.fixture_plugin import loaders, models


@strawberry.type
class WidgetNote:
    body: str


@strawberry.type
class Widget(relay.Node):
    id: relay.NodeID[int]
    name: str

    @classmethod
    def from_model(cls, row: models.Widget) -> Widget:
        return cls(id=row.id, name=row.name)

    @strawberry.field
    async def notes(self, info: Info) -> list[WidgetNote]:
        rows = await info.context.loader(loaders.NotesByWidgetLoader).load(self.id)
        return [WidgetNote(body=row.body) for row in rows]

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Widget | None]:
        keys = [int(node_id) if node_id.isdigit() else -1 for node_id in node_ids]
        rows = await info.context.loader(loaders.WidgetByIdLoader).load_many(keys)
        return [cls.from_model(row) if row is not None else None for row in rows]


@strawberry.input
class CreateWidgetInput:
    name: str
    fail_listener: bool = False


@strawberry.type
class CreateWidgetPayload:
    widget: Widget | None
    errors: list[UserError]
