"""Input checks that collect every problem as a :class:`~core.errors.UserError` naming its field.

Services build a :class:`Check`, run the checks they need, and call :meth:`Check.done`,
which raises :class:`~core.errors.UserErrors` with all problems at once, so a client can
mark every bad field in one round trip. Emails are checked and normalised by
``email-validator``, phone numbers parsed and stored in E.164 (plus ``;ext=`` and an extension) by
``phonenumbers``, countries read from ISO 3166 codes or names by ``pycountry``.
"""

from __future__ import annotations

import difflib
import functools
import gettext
import re
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
from core.zones import LOCALE_PROBLEM, ZONE_PROBLEM, locale_tag, zone_name

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
        """The number in E.164, with its extension (if any) after ``;ext=`` as RFC 3966
        writes it: ``+861012345678;ext=123``. National numbers are read as ``region``
        (the ``CRM_DEFAULT_REGION`` setting)."""
        cleaned = self.text(field, value, max_length=60, required=False)
        if cleaned is None:
            return None
        number = parse_phone(cleaned, region)
        if number is None:
            self.fail(
                field,
                _(
                    "is not a valid phone number (national numbers are read as {region}, the "
                    "CRM_DEFAULT_REGION setting; use +<country code> for others)",
                    region=region,
                ),
                UserErrorCode.INVALID,
            )
            return None
        extension = number.extension or ""
        if len(extension) > MAX_EXTENSION_DIGITS:
            self.fail(
                field,
                _("has an extension longer than {max} digits", max=MAX_EXTENSION_DIGITS),
                UserErrorCode.INVALID,
            )
            return None
        return phone_text(number)

    def url(self, field: str, value: str | None) -> str | None:
        """An http(s) URL with a host; ``example.com`` is read as ``https://example.com``."""
        cleaned = self.text(field, value, max_length=500, required=False)
        if cleaned is None:
            return None
        candidate = cleaned if "://" in cleaned else f"https://{cleaned}"
        try:
            parts = urlsplit(candidate)
            scheme, host = parts.scheme, parts.hostname or ""
            parts.port  # noqa: B018 - raises for a port that is not a number below 65536
        except ValueError:  # an unclosed "[" of an IPv6 host, a host NFKC would change
            scheme, host = "", ""
        if scheme not in ("http", "https") or "." not in host or " " in candidate:
            self.fail(field, _("is not a valid http(s) URL"), UserErrorCode.INVALID)
            return None
        return candidate

    def country(self, field: str, value: str | None) -> str | None:
        """The ISO 3166-1 alpha-2 code of a country given by that code, its alpha-3 code, or
        its English or Simplified Chinese name (``CN``, ``CHN``, ``China``, ``中国``)."""
        cleaned = self.text(field, value, max_length=100, required=False)
        if cleaned is None:
            return None
        code = country_code(cleaned)
        if code is None:
            guess = closest_country(cleaned)
            if guess:
                message = _("is not a known country: did you mean {guess}?", guess=guess)
            else:
                message = _(
                    "is not a known country: give an ISO 3166-1 code such as CN or CHN, or a "
                    "name such as China or 中国"
                )
            self.fail(field, message, UserErrorCode.INVALID)
            return None
        return code

    def time_zone(self, field: str, value: str | None) -> str | None:
        """An IANA time zone name as the database spells it; ``None`` for none (null or
        empty: the deployment's) or a refused one."""
        if value is None or not value.strip():
            return None
        name = zone_name(value)
        if name is None:
            self.fail(field, ZONE_PROBLEM, UserErrorCode.INVALID)
        return name

    def locale(self, field: str, value: str | None) -> str | None:
        """A supported locale tag (``en``, ``zh-CN``); ``None`` for none (null or empty:
        the deployment's) or a refused one."""
        if value is None or not value.strip():
            return None
        tag = locale_tag(value)
        if tag is None:
            self.fail(field, LOCALE_PROBLEM, UserErrorCode.INVALID)
        return tag

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


MAX_EXTENSION_DIGITS = 10
"""The longest phone extension kept: with the longest E.164 number (16 characters) and
``;ext=`` it still fits the 32 characters the phone columns hold."""

_CHINESE_EXTENSION = re.compile(r"^(?P<main>.*?\d)\s*(?:转|轉|分机|分機)\s*(?P<ext>\d+)$")
_DASH_EXTENSION = re.compile(
    r"^(?P<main>.*\d)\s*[-\u2013\u2014]\s*(?P<ext>\d{1," + str(MAX_EXTENSION_DIGITS) + "})$"
)


def _valid(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def parse_phone(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    """A valid number with its extension, if any: ``ext. 123``, ``x123``, ``#123`` and
    ``;ext=123`` as phonenumbers reads them, ``转123`` / ``分机123``, or ``-123`` after a
    complete number (``010-12345678`` is a whole number, ``010-12345678-123`` one with an
    extension)."""
    chinese = _CHINESE_EXTENSION.match(text)
    if chinese:
        return _with_extension(chinese, region)
    number = _valid(text, region)
    if number is not None:
        return number
    dash = _DASH_EXTENSION.match(text)
    return _with_extension(dash, region) if dash else None


def _with_extension(match: re.Match[str], region: str) -> phonenumbers.PhoneNumber | None:
    """The number of ``match["main"]`` with the extension ``match["ext"]``, or ``None`` when
    the main part is no valid number or carries an extension of its own."""
    number = _valid(match["main"], region)
    if number is None or number.extension:
        return None
    number.extension = phonenumbers.normalize_digits_only(match["ext"])
    return number


def phone_text(number: phonenumbers.PhoneNumber) -> str:
    """How a number is stored: E.164, then ``;ext=<digits>`` when it has an extension."""
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return f"{e164};ext={number.extension}" if number.extension else e164


_COUNTRY_ALIASES = {
    "台湾": "TW",
    "臺灣": "TW",
    "中國": "CN",
    "中国大陆": "CN",
    "中國大陸": "CN",
    "PRC": "CN",
    "香港特别行政区": "HK",
    "澳門": "MO",
    "澳门特别行政区": "MO",
    "韩国": "KR",
    "韓國": "KR",
    "南韩": "KR",
    "朝鲜": "KP",
    "北韩": "KP",
    "美國": "US",
    "USA": "US",
    "America": "US",
    "英國": "GB",
    "UK": "GB",
    "Great Britain": "GB",
    "德國": "DE",
    "法國": "FR",
    "俄國": "RU",
    "Russia": "RU",
}
"""Common names the ISO list and its translations do not give."""


def _country_key(text: str) -> str:
    return " ".join(text.casefold().split())


@functools.cache
def _country_names() -> dict[str, str]:
    """Every accepted spelling (folded) -> alpha-2 code: the codes, the English names of
    pycountry, and their Simplified Chinese translations (pycountry's ``zh_CN`` catalog)."""
    chinese = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"])
    names: dict[str, str] = {}
    countries: list[Any] = list(pycountry.countries)
    for country in countries:
        names[_country_key(country.alpha_2)] = country.alpha_2
        names[_country_key(country.alpha_3)] = country.alpha_2
    for country in countries:
        for attribute in ("name", "common_name", "official_name"):
            english = getattr(country, attribute, None)
            if english:
                names.setdefault(_country_key(english), country.alpha_2)
                names.setdefault(_country_key(chinese.gettext(english)), country.alpha_2)
    for alias, code in _COUNTRY_ALIASES.items():
        names.setdefault(_country_key(alias), code)
    return names


def country_code(text: str) -> str | None:
    """The alpha-2 code of a country given by its alpha-2 or alpha-3 code, or its English
    or Simplified Chinese name (any case), else ``None``."""
    return _country_names().get(_country_key(text))


def closest_country(text: str) -> str | None:
    """``"DE (Germany)"`` for a near miss such as ``Germny``, else ``None``."""
    names = _country_names()
    key = _country_key(text)
    if len(key) <= 3:  # a wrong code is near many codes; no guess
        return None
    match = difflib.get_close_matches(key, [n for n in names if len(n) > 3], n=1, cutoff=0.8)
    if not match:
        return None
    code = names[match[0]]
    country: Any = pycountry.countries.get(alpha_2=code)
    return f"{code} ({country.name})"
