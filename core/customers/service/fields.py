"""Custom fields: their definitions, and the values customers and contacts carry."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import actor_of, require
from core.context import RequestContext
from core.customers.models import CustomFieldDefinition
from core.errors import UserErrorCode
from core.i18n import _
from core.validation import Check

MAX_NUMBER = 2**53 - 1
"""The largest magnitude a NUMBER field keeps: what a JSON number holds exactly in every client."""


def _custom_value(definition: CustomFieldDefinition, value: Any) -> tuple[Any, str | None]:
    """The stored form of a custom field value, or an error message."""
    kind = definition.type
    if kind == "TEXT":
        if not isinstance(value, str):
            return None, _("must be text")
        if len(value) > 1000:
            return None, _("must be at most 1000 characters")
        return value.strip(), None
    if kind == "NUMBER":
        if isinstance(value, bool) or not isinstance(value, int | float | str | decimal.Decimal):
            return None, _("must be a number")
        try:
            number = decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            return None, _("must be a number")
        if not number.is_finite():
            return None, _("must be a finite number")
        if abs(number) > MAX_NUMBER:
            return None, _("must be between -{max} and {max}", max=MAX_NUMBER)
        return (int(number) if number == number.to_integral_value() else float(number)), None
    if kind == "DATE":
        try:
            if isinstance(value, dt.date):
                return value.isoformat(), None
            return dt.date.fromisoformat(str(value)).isoformat(), None
        except ValueError:
            return None, _("must be a date (YYYY-MM-DD)")
    if kind == "BOOLEAN":
        if not isinstance(value, bool):
            return None, _("must be true or false")
        return value, None
    if kind == "SELECT":
        if value not in (definition.options or []):
            return None, _("must be one of: {options}", options=", ".join(definition.options or []))
        return value, None
    return None, _("has an unknown type {kind}", kind=kind)


VALUE_MEMBERS = {
    "TEXT": "text",
    "NUMBER": "number",
    "DATE": "date",
    "BOOLEAN": "boolean",
    "SELECT": "choice",
}
"""The member of a typed value (``CustomFieldValue``, ``CustomFieldValueInput``) that holds
the value of a field of each type."""


class TypedEntry(Protocol):
    """One ``customFieldValues`` entry: a field key and at most one typed member."""

    key: str
    text: str | None
    number: decimal.Decimal | None
    date: dt.date | None
    boolean: bool | None
    choice: str | None


@dataclass(frozen=True)
class _Given:
    key: str
    value: Any
    field: str
    """Where an error about the value points."""
    key_field: str
    """Where an error about the key points."""


def _from_json(given: dict[str, Any] | None, field: str) -> list[_Given]:
    if given is None:
        return []
    return [_Given(key, value, f"{field}.{key}", f"{field}.{key}") for key, value in given.items()]


def _from_typed(
    check: Check,
    entries: Sequence[TypedEntry],
    definitions: Mapping[str, CustomFieldDefinition],
    field: str,
) -> list[_Given]:
    given: list[_Given] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        at = f"{field}.{index}"
        if entry.key in seen:
            check.fail(
                f"{at}.key", _("{key} is given twice", key=entry.key), UserErrorCode.DUPLICATE
            )
            continue
        seen.add(entry.key)
        members = [m for m in VALUE_MEMBERS.values() if getattr(entry, m, None) is not None]
        if len(members) > 1:
            check.fail(
                at,
                _(
                    "give one value member, not {count} ({members})",
                    count=len(members),
                    members=", ".join(members),
                ),
                UserErrorCode.INVALID,
            )
            continue
        definition = definitions.get(entry.key)
        expected = VALUE_MEMBERS.get(definition.type) if definition is not None else None
        if members and definition is not None and members[0] != expected:
            check.fail(
                f"{at}.{members[0]}",
                _(
                    "{key} is a {type} field: give its value as {expected}",
                    key=entry.key,
                    type=definition.type,
                    expected=expected,
                ),
                UserErrorCode.INVALID,
            )
            continue
        member = members[0] if members else expected
        value = getattr(entry, members[0]) if members else None
        given.append(_Given(entry.key, value, f"{at}.{member}" if member else at, f"{at}.key"))
    return given


async def custom_fields(
    session: AsyncSession,
    check: Check,
    entity: str,
    given: Any,
    current: Mapping[str, Any] | None,
    field: str = "customFields",
    typed: Sequence[TypedEntry] | None = None,
    typed_field: str = "customFieldValues",
) -> dict[str, Any]:
    """Validate the values given (keys to set; null removes), as JSON by key (``given``)
    or as typed entries (``typed``), against the entity's definitions and return the full
    new set of values; required fields must end up with a value. Both forms go through
    the same checks; errors name the form the value came in."""
    definitions = {
        d.key: d
        for d in (
            await session.scalars(
                select(CustomFieldDefinition).where(CustomFieldDefinition.entity == entity)
            )
        ).all()
    }
    values = dict(current or {})
    if given is not None and typed is not None:
        check.fail(
            typed_field,
            _("give {field} or {typed_field}, not both", field=field, typed_field=typed_field),
            UserErrorCode.INVALID,
        )
        return values
    if given is not None and not isinstance(given, dict):
        check.fail(field, _("must be an object of values by field key"), UserErrorCode.INVALID)
        return values
    if typed is not None:
        entries = _from_typed(check, typed, definitions, typed_field)
        missing_field = typed_field
    else:
        entries = _from_json(given, field)
        missing_field = field
    where = {entry.key: entry.field for entry in entries}
    for entry in entries:
        definition = definitions.get(entry.key)
        if definition is None:
            known = ", ".join(sorted(definitions)) or _("none defined")
            check.fail(
                entry.key_field,
                _("is not a custom field ({known})", known=known),
                UserErrorCode.INVALID,
            )
            continue
        value = entry.value
        if value is None or (isinstance(value, str) and not value.strip()):
            values.pop(entry.key, None)
            continue
        stored, problem = _custom_value(definition, value)
        if problem is not None:
            check.fail(entry.field, problem, UserErrorCode.INVALID)
        else:
            values[entry.key] = stored
    for key, definition in definitions.items():
        at = where.get(key, f"{missing_field}.{key}")
        if definition.required and key not in values and not check.has_error(at):
            check.fail(at, _("{label} is required", label=definition.label), UserErrorCode.REQUIRED)
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
            _("must be 1-64 characters of a-z, 0-9 and _, starting with a letter"),
            UserErrorCode.INVALID,
        )
    cleaned_label = check.text("label", label, max_length=100)
    cleaned_options: list[str] | None = None
    if kind == "SELECT":
        cleaned_options = [o.strip() for o in (options or []) if o and o.strip()]
        if not cleaned_options:
            check.fail(
                "options", _("a SELECT field needs at least one option"), UserErrorCode.REQUIRED
            )
        elif len(set(cleaned_options)) != len(cleaned_options):
            check.fail("options", _("options must differ"), UserErrorCode.DUPLICATE)
    elif options:
        check.fail("options", _("only SELECT fields take options"), UserErrorCode.INVALID)
    existing = await session.scalar(
        select(CustomFieldDefinition).where(
            CustomFieldDefinition.entity == entity, CustomFieldDefinition.key == cleaned_key
        )
    )
    if existing is not None:
        check.fail(
            "key",
            _(
                "{entity} already has a custom field {key}",
                entity=entity,
                key=cleaned_key,
            ),
            UserErrorCode.DUPLICATE,
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
