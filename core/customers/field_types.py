"""GraphQL types of custom fields: their definitions, and typed values beside the JSON."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from typing import Any

import strawberry
from strawberry import relay

from core.customers import loaders, models
from core.customers.inputs import CustomFieldEntity, CustomFieldType
from core.node import ModelNode


@strawberry.type(description="A custom field administrators define for an entity.")
class CustomFieldDefinition(ModelNode[models.CustomFieldDefinition]):
    by_id_loader = loaders.CustomFieldDefinitionByIdLoader
    id: relay.NodeID[int]
    entity: CustomFieldEntity
    key: str
    label: str
    type: CustomFieldType
    options: list[str] | None = strawberry.field(description="The choices of a SELECT field.")
    required: bool
    version: int

    @classmethod
    def from_model(cls, row: models.CustomFieldDefinition) -> CustomFieldDefinition:
        return cls(
            id=row.id,
            entity=CustomFieldEntity(row.entity),
            key=row.key,
            label=row.label,
            type=CustomFieldType(row.type),
            options=row.options,
            required=row.required,
            version=row.version,
        )


@strawberry.type(
    description="The value of one custom field of a record, typed: exactly the member that "
    "matches the definition's type is set (`text` for TEXT, `number` for NUMBER, `date` for "
    "DATE, `boolean` for BOOLEAN, `choice` for SELECT), or none when the record has no "
    "value. The same value as `customFields[key]`."
)
class CustomFieldValue:
    definition: CustomFieldDefinition
    key: str = strawberry.field(description="The definition's key.")
    type: CustomFieldType = strawberry.field(description="The definition's type.")
    has_value: bool = strawberry.field(description="Whether the record has a value.")
    text: str | None = strawberry.field(description="The value of a TEXT field.")
    number: decimal.Decimal | None = strawberry.field(
        description="The value of a NUMBER field (within -(2^53 - 1) and 2^53 - 1)."
    )
    date: dt.date | None = strawberry.field(description="The value of a DATE field.")
    boolean: bool | None = strawberry.field(description="The value of a BOOLEAN field.")
    choice: str | None = strawberry.field(
        description="The value of a SELECT field: one of the definition's options."
    )


def _typed(kind: str, value: Any) -> dict[str, Any]:
    """The member holding ``value`` (as stored) of a field of type ``kind``; nothing if the
    stored value is not one of that type."""
    if kind in ("TEXT", "SELECT") and isinstance(value, str):
        return {"text" if kind == "TEXT" else "choice": value}
    if kind == "NUMBER" and isinstance(value, int | float) and not isinstance(value, bool):
        number = decimal.Decimal(str(value))
        return {"number": number} if number.is_finite() else {}
    if kind == "DATE" and isinstance(value, str):
        try:
            return {"date": dt.date.fromisoformat(value)}
        except ValueError:
            return {}
    if kind == "BOOLEAN" and isinstance(value, bool):
        return {"boolean": value}
    return {}


def custom_field_values(
    definitions: Sequence[models.CustomFieldDefinition], stored: Mapping[str, Any] | None
) -> list[CustomFieldValue]:
    """One typed value per definition, in the definitions' order (values without a
    definition are left out)."""
    values = stored or {}
    result = []
    for row in definitions:
        members = _typed(row.type, values.get(row.key))
        result.append(
            CustomFieldValue(
                definition=CustomFieldDefinition.from_model(row),
                key=row.key,
                type=CustomFieldType(row.type),
                has_value=bool(members),
                text=members.get("text"),
                number=members.get("number"),
                date=members.get("date"),
                boolean=members.get("boolean"),
                choice=members.get("choice"),
            )
        )
    return result
