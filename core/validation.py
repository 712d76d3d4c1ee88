"""Input checks that collect every problem as a :class:`~core.errors.UserError` naming its field.

Services build a :class:`Check`, run the checks they need, and call :meth:`Check.done`,
which raises :class:`~core.errors.UserErrors` with all problems at once, so a client can
mark every bad field in one round trip. Emails are checked and normalised by
``email-validator``, phone numbers parsed and stored in E.164 by ``phonenumbers``, country
codes checked against ISO 3166 by ``pycountry``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email
from strawberry import relay

from core.errors import Conflict, UserError, UserErrorCode, UserErrors, bad_argument
from core.i18n import _
from core.node import row_id

MAX_SEARCH_LENGTH = 200
"""The longest search text a list filter accepts: more is no name, email or number anyone
types, and each character costs the database a step per row it compares."""


class Check:
    def __init__(self) -> None:
        self.errors: list[UserError] = []

    def fail(self, field: str | None, message: str, code: UserErrorCode) -> None:
        self.errors.append(UserError(field=field, message=message, code=code))

    def has_error(self, field: str) -> bool:
        return any(error.field == field for error in self.errors)

    def text(
        self,
        field: str,
        value: str | None,
        *,
        max_length: int,
        required: bool = True,
        min_length: int = 1,
    ) -> str | None:
        """The stripped text, or ``None`` (empty and not required, or refused)."""
        cleaned = (value or "").strip()
        if not cleaned:
            if required:
                self.fail(field, _("is required"), UserErrorCode.REQUIRED)
            return None
        if len(cleaned) > max_length:
            self.fail(
                field,
                _("must be at most {max} characters", max=max_length),
                UserErrorCode.TOO_LONG,
            )
            return None
        if len(cleaned) < min_length:
            self.fail(
                field,
                _("must be at least {min} characters", min=min_length),
                UserErrorCode.TOO_SHORT,
            )
            return None
        return cleaned

    def email(self, field: str, value: str | None, *, required: bool = True) -> str | None:
        """The normalised, lower-cased address, or ``None``."""
        cleaned = self.text(field, value, max_length=254, required=required)
        if cleaned is None:
            return None
        try:
            result = validate_email(cleaned, check_deliverability=False)
        except EmailNotValidError as exc:
            self.fail(
                field,
                _("is not a valid email address: {reason}", reason=str(exc)),
                UserErrorCode.INVALID,
            )
            return None
        return result.normalized.lower()

    def phone(self, field: str, value: str | None, *, region: str) -> str | None:
        """The number in E.164 (``+4930123456``), parsed with ``region`` as the default."""
        cleaned = self.text(field, value, max_length=40, required=False)
        if cleaned is None:
            return None
        try:
            number = phonenumbers.parse(cleaned, region)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            self.fail(
                field,
                _(
                    "is not a valid phone number (national numbers are read as {region}; use "
                    "+<country code> for others)",
                    region=region,
                ),
                UserErrorCode.INVALID,
            )
            return None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def url(self, field: str, value: str | None) -> str | None:
        """An http(s) URL with a host; ``example.com`` is read as ``https://example.com``."""
        cleaned = self.text(field, value, max_length=500, required=False)
        if cleaned is None:
            return None
        candidate = cleaned if "://" in cleaned else f"https://{cleaned}"
        parts = urlsplit(candidate)
        host = parts.hostname or ""
        if parts.scheme not in ("http", "https") or "." not in host or " " in candidate:
            self.fail(field, _("is not a valid http(s) URL"), UserErrorCode.INVALID)
            return None
        return candidate

    def country(self, field: str, value: str | None) -> str | None:
        """An ISO 3166-1 alpha-2 code, upper-cased."""
        cleaned = self.text(field, value, max_length=2, required=False)
        if cleaned is None:
            return None
        code = cleaned.upper()
        if pycountry.countries.get(alpha_2=code) is None:
            self.fail(field, _("is not an ISO 3166-1 alpha-2 country code"), UserErrorCode.INVALID)
            return None
        return code

    def node_id(self, field: str, value: relay.GlobalID | None, type_name: str) -> int | None:
        """The database id of a global id that must name a ``type_name``."""
        if value is None:
            return None
        found = row_id(value.node_id) if value.type_name == type_name else None
        if found is None:
            self.fail(
                field,
                _("is not the id of a {type_name}", type_name=type_name),
                UserErrorCode.INVALID,
            )
        return found

    def node_ids(
        self, field: str, values: list[relay.GlobalID] | None, type_name: str
    ) -> list[int]:
        ids: list[int] = []
        for index, value in enumerate(values or []):
            found = self.node_id(f"{field}.{index}", value, type_name)
            if found is not None and found not in ids:
                ids.append(found)
        return ids

    def done(self) -> None:
        if self.errors:
            raise UserErrors(self.errors)


def like_pattern(text: str) -> str:
    """A case-insensitive ``LIKE`` pattern (use with ``escape="\\"``) for part of a text."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def argument_id(value: relay.GlobalID | None, type_name: str, argument: str) -> int | None:
    """The database id of a global id given as a query argument; a wrong one is a
    BAD_USER_INPUT error naming ``argument``."""
    if value is None:
        return None
    found = row_id(value.node_id) if value.type_name == type_name else None
    if found is None:
        raise bad_argument(argument, _("is not the id of a {type_name}", type_name=type_name))
    return found


def search_text(value: str | None, argument: str = "filter.search") -> str | None:
    """The stripped search text of a list filter, ``None`` for none; longer than
    :data:`MAX_SEARCH_LENGTH` is a BAD_USER_INPUT error naming ``argument``."""
    cleaned = (value or "").strip()
    if len(cleaned) > MAX_SEARCH_LENGTH:
        raise bad_argument(
            argument,
            _(
                "must be at most {max} characters",
                max=MAX_SEARCH_LENGTH,
            ),
        )
    return cleaned or None


def require_version(row: Any, given: int | None, field: str = "version") -> None:
    """Refuse a change of ``row`` (a mapped row with a ``version`` column) made against a
    stale version: :class:`~core.errors.Conflict`, code CONFLICT. The mutation helper
    (:func:`core.mutations.mutate`) then returns ``row`` as it now is in the payload, beside
    the error, so the client merges and retries without reading it again."""
    current: int = row.version
    if given is not None and given != current:
        raise Conflict(
            row,
            field,
            _(
                "the record was changed by someone else (now at version {current}, you had "
                "{given}); the payload holds it as it is now: merge your change and try again",
                current=current,
                given=given,
            ),
        )


def snapshot(row: Any, fields: Mapping[str, str | Callable[[Any], Any]]) -> dict[str, Any]:
    """A row's values for audit diffs, keyed by their API field names.

    :param fields: API name -> attribute name, or a function of the row (for values shown
        as the API shows them, such as global ids).
    """
    return {
        name: (source(row) if callable(source) else getattr(row, source))
        for name, source in fields.items()
    }


def global_id(type_name: str, value: int | None) -> str | None:
    """The API's global id of a database id (``None`` stays ``None``)."""
    return relay.to_base64(type_name, value) if value is not None else None
