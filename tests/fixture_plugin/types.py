from __future__ import annotations

import strawberry
from strawberry import relay

from core.context import Info
from core.errors import UserError
from core.identity.loaders import UserByIdLoader
from core.identity.types import User
from core.node import ModelNode
from tests.fixture_plugin import loaders, models


@strawberry.type
class WidgetNote:
    body: str


@strawberry.type
class Widget(ModelNode[models.Widget]):
    by_id_loader = loaders.WidgetByIdLoader
    id: relay.NodeID[int]
    name: str
    owner_id: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, row: models.Widget) -> Widget:
        return cls(id=row.id, name=row.name, owner_id=row.owner_id)

    @strawberry.field
    async def owner(self, info: Info) -> User | None:
        if self.owner_id is None:
            return None
        row = await info.context.loader(UserByIdLoader).load(self.owner_id)
        return User.from_model(row) if row else None

    @strawberry.field
    async def notes(self, info: Info) -> list[WidgetNote]:
        rows = await info.context.loader(loaders.NotesByWidgetLoader).load(self.id)
        return [WidgetNote(body=row.body) for row in rows]


@strawberry.input
class CreateWidgetInput:
    name: str
    fail_listener: bool = False


@strawberry.type
class CreateWidgetPayload:
    widget: Widget | None
    errors: list[UserError]
