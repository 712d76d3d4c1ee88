"""Custom fields: their definitions, and the values customers and contacts carry."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import actor_of, require
from core.context import RequestContext
from core.customers.models import CustomFieldDefinition
from core.errors import UserErrorCode
from core.validation import Check

MAX_NUMBER = 2**53 - 1
"""The largest magnitude a NUMBER field keeps: what a JSON number holds exactly in every client."""


def _custom_value(definition: CustomFieldDefinition, value: Any) -> tuple[Any, str | None]:
    """The stored form of a custom field value, or an error message."""
    kind = definition.type
    if kind == "TEXT":
        if not isinstance(value, str):
            return None, "must be text"
        if len(value) > 1000:
            return None, "must be at most 1000 characters"
        return value.strip(), None
    if kind == "NUMBER":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return None, "must be a number"
        try:
            number = decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            return None, "must be a number"
        if not number.is_finite():
            return None, "must be a finite number"
        if abs(number) > MAX_NUMBER:
            return None, f"must be between -{MAX_NUMBER} and {MAX_NUMBER}"
        return (int(number) if number == number.to_integral_value() else float(number)), None
    if kind == "DATE":
        try:
            return dt.date.fromisoformat(str(value)).isoformat(), None
        except ValueError:
            return None, "must be a date (YYYY-MM-DD)"
    if kind == "BOOLEAN":
        if not isinstance(value, bool):
            return None, "must be true or false"
        return value, None
    if kind == "SELECT":
        if value not in (definition.options or []):
            return None, f"must be one of: {', '.join(definition.options or [])}"
        return value, None
    return None, f"has an unknown type {kind}"


async def custom_fields(
    session: AsyncSession,
    check: Check,
    entity: str,
    given: Any,
    current: Mapping[str, Any] | None,
    field: str = "customFields",
) -> dict[str, Any]:
    """Validate ``given`` (keys to set; null removes) against the entity's definitions and
    return the full new set of values; required fields must end up with a value."""
    definitions = {
        d.key: d
        for d in (
            await session.scalars(
                select(CustomFieldDefinition).where(CustomFieldDefinition.entity == entity)
            )
        ).all()
    }
    values = dict(current or {})
    if given is not None and not isinstance(given, dict):
        check.fail(field, "must be an object of values by field key", UserErrorCode.INVALID)
        return values
    for key, value in (given or {}).items():
        definition = definitions.get(key)
        if definition is None:
            known = ", ".join(sorted(definitions)) or "none defined"
            check.fail(f"{field}.{key}", f"is not a custom field ({known})", UserErrorCode.INVALID)
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            values.pop(key, None)
            continue
        stored, problem = _custom_value(definition, value)
        if problem is not None:
            check.fail(f"{field}.{key}", problem, UserErrorCode.INVALID)
        else:
            values[key] = stored
    for key, definition in definitions.items():
        if definition.required and key not in values and not check.has_error(f"{field}.{key}"):
            check.fail(f"{field}.{key}", f"{definition.label} is required", UserErrorCode.REQUIRED)
    return values


KEY_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"


async def define_custom_field(
    session: AsyncSession,
    context: RequestContext,
    entity: str,
    key: str,
    label: str,
    kind: str,
    options: Sequence[str] | None,
    required: bool,
) -> CustomFieldDefinition:
    import re

    require(context, "settings:manage")
    check = Check()
    cleaned_key = (key or "").strip()
    if not re.match(KEY_PATTERN, cleaned_key):
        check.fail(
            "key",
            "must be 1-64 characters of a-z, 0-9 and _, starting with a letter",
            UserErrorCode.INVALID,
        )
    cleaned_label = check.text("label", label, max_length=100)
    cleaned_options: list[str] | None = None
    if kind == "SELECT":
        cleaned_options = [o.strip() for o in (options or []) if o and o.strip()]
        if not cleaned_options:
            check.fail(
                "options", "a SELECT field needs at least one option", UserErrorCode.REQUIRED
            )
        elif len(set(cleaned_options)) != len(cleaned_options):
            check.fail("options", "options must differ", UserErrorCode.DUPLICATE)
    elif options:
        check.fail("options", "only SELECT fields take options", UserErrorCode.INVALID)
    existing = await session.scalar(
        select(CustomFieldDefinition).where(
            CustomFieldDefinition.entity == entity, CustomFieldDefinition.key == cleaned_key
        )
    )
    if existing is not None:
        check.fail(
            "key", f"{entity} already has a custom field {cleaned_key}", UserErrorCode.DUPLICATE
        )
    check.done()
    now = context.now()
    definition = CustomFieldDefinition(
        entity=entity,
        key=cleaned_key,
        label=cleaned_label,
        type=kind,
        options=cleaned_options,
        required=required,
        created_at=now,
        updated_at=now,
    )
    session.add(definition)
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "custom_field.defined",
        "CustomFieldDefinition",
        definition.id,
        audit.created(
            {
                "entity": entity,
                "key": cleaned_key,
                "label": cleaned_label,
                "type": kind,
                "options": cleaned_options,
                "required": required,
            }
        ),
    )
    return definition
