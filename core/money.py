"""Money: a Decimal amount with its ISO 4217 currency, never a float, and
never two currencies added together.

Currencies are checked against ISO 4217 (Babel's CLDR data, already used for messages), and
an amount is kept at its currency's precision: 2 places for CNY and USD, 0 for JPY, 3 for
KWD. An amount with more places than its currency has is refused rather than rounded.
"""

from __future__ import annotations

import decimal
from collections import defaultdict
from collections.abc import Iterable

import strawberry
from babel.numbers import get_currency_precision, is_currency

from core.errors import UserErrorCode
from core.i18n import _
from core.validation import Check

MAX_AMOUNT = decimal.Decimal("100000000000000")
"""Amounts stay below 10^14 (the columns hold 14 digits before the point)."""


@strawberry.type(description="An amount of money: a decimal (as a string) and its currency.")
class Money:
    amount: decimal.Decimal = strawberry.field(
        description="Exact, at the currency's precision (2 places for CNY, 0 for JPY)."
    )
    currency: str = strawberry.field(description="ISO 4217 code, e.g. CNY.")

    @classmethod
    def of(cls, amount: decimal.Decimal, currency: str) -> Money:
        return cls(amount=quantize_amount(amount, currency), currency=currency)


def currency_precision(currency: str) -> int:
    """Decimal places of ``currency`` (ISO 4217 minor units)."""
    return int(get_currency_precision(currency))


def quantize_amount(amount: decimal.Decimal, currency: str) -> decimal.Decimal:
    """``amount`` rounded half-up to the places of ``currency``."""
    step = decimal.Decimal(1).scaleb(-currency_precision(currency))
    return amount.quantize(step, rounding=decimal.ROUND_HALF_UP)


def check_currency(check: Check, field: str, value: str | None) -> str | None:
    """The upper-case ISO 4217 code, or ``None`` after recording why ``value`` is refused."""
    code = (value or "").strip().upper()
    if not code:
        check.fail(field, _("is required"), UserErrorCode.REQUIRED)
        return None
    if len(code) != 3 or not code.isalpha() or not is_currency(code):
        check.fail(
            field,
            _("is not an ISO 4217 currency code such as CNY, USD or EUR"),
            UserErrorCode.INVALID,
        )
        return None
    return code


def check_amount(
    check: Check,
    field: str,
    value: decimal.Decimal | None,
    currency: str | None,
    *,
    allow_zero: bool = True,
) -> decimal.Decimal | None:
    """``value`` if it is a finite amount, not negative (nor zero unless allowed), below
    :data:`MAX_AMOUNT`, with no more decimal places than ``currency`` has."""
    if value is None:
        check.fail(field, _("is required"), UserErrorCode.REQUIRED)
        return None
    if not value.is_finite():
        check.fail(field, _("must be a number"), UserErrorCode.INVALID)
        return None
    if value < 0 or (value == 0 and not allow_zero):
        message = _("must not be negative") if allow_zero else _("must be more than 0")
        check.fail(field, message, UserErrorCode.OUT_OF_RANGE)
        return None
    if value >= MAX_AMOUNT:
        check.fail(field, _("must be less than 10^14"), UserErrorCode.OUT_OF_RANGE)
        return None
    if currency is not None:
        places = currency_precision(currency)
        if value != quantize_amount(value, currency):
            check.fail(
                field,
                _(
                    "has more decimal places than {currency} has ({places})",
                    currency=currency,
                    places=places,
                ),
                UserErrorCode.INVALID,
            )
            return None
        return quantize_amount(value, currency)
    return value


def money_totals(amounts: Iterable[tuple[str, decimal.Decimal]]) -> list[Money]:
    """One :class:`Money` per currency, the amounts of each summed; sorted by currency."""
    sums: dict[str, decimal.Decimal] = defaultdict(decimal.Decimal)
    for currency, amount in amounts:
        sums[currency] += amount
    return [Money.of(sums[currency], currency) for currency in sorted(sums)]
