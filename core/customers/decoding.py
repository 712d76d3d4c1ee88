"""The text of an imported file, from whichever input carries it.

``importCustomers`` and ``startCustomerImport`` take the file either as text (``csv``, which
the client decoded) or as its bytes in base64 (``csvBase64``), which the service decodes
itself as the ``encoding`` says (:mod:`core.text_encoding`): UTF-8, UTF-16 with its
byte-order mark, or GB18030 as Excel on Chinese Windows saves CSV. Either way, values that
look mis-decoded are refused when the file is read (:func:`core.customers.exchange.parse`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from contextlib import contextmanager

from core.errors import UserError, UserErrorCode, UserErrors
from core.i18n import _
from core.text_encoding import ImportEncoding, TextEncodingError, decode


def decode_file(data: bytes, encoding: ImportEncoding, field: str) -> str:
    """The text of file ``data``.

    :raises UserErrors: on ``field`` when the bytes are not text in ``encoding``.
    """
    try:
        return decode(data, encoding)
    except TextEncodingError as exc:
        raise UserErrors.single(field, exc.message, UserErrorCode.INVALID) from None


def input_text(
    csv: str | None, csv_base64: str | None, encoding: ImportEncoding
) -> tuple[str, str]:
    """The file's text and the input field that carried it (``csv`` or ``csvBase64``).

    :raises UserErrors: unless exactly one of them is given, on bad base64, on bytes that
        are not text in ``encoding``, and on an ``encoding`` named for text.
    """
    if (csv is None) == (csv_base64 is None):
        code = UserErrorCode.REQUIRED if csv is None else UserErrorCode.INVALID
        message = _("give exactly one of csv (text) and csvBase64 (the file's bytes)")
        raise UserErrors(
            UserError(field=name, message=message, code=code) for name in ("csv", "csvBase64")
        )
    if csv is not None:
        if encoding is not ImportEncoding.AUTO:
            raise UserErrors.single(
                "encoding",
                _(
                    "applies to csvBase64 only: csv is text already; send the file's bytes "
                    "as csvBase64 to have them decoded"
                ),
                UserErrorCode.INVALID,
            )
        return csv, "csv"
    assert csv_base64 is not None
    try:
        data = base64.b64decode("".join(csv_base64.split()), validate=True)
    except (binascii.Error, ValueError):
        raise UserErrors.single(
            "csvBase64",
            _("is not valid base64 (RFC 4648, standard alphabet)"),
            UserErrorCode.INVALID,
        ) from None
    return decode_file(data, encoding, "csvBase64"), "csvBase64"


@contextmanager
def errors_named(field: str) -> Iterator[None]:
    """Report the errors the import puts on ``csv`` on ``field`` instead (the input that
    carried the file)."""
    if field == "csv":
        yield
        return
    try:
        yield
    except UserErrors as exc:
        raise UserErrors(
            UserError(field=field if e.field == "csv" else e.field, message=e.message, code=e.code)
            for e in exc.errors
        ) from None
