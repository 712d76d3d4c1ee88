"""What an uploaded file is, told by its content (never by its name alone).

The allow-list: PDF, PNG, JPEG, GIF, WebP, Word/Excel/PowerPoint (OOXML, zip-based) and
plain text or CSV. A file must also carry the extension of what it is: a PDF named
``notes.txt`` is refused, so a name never lies about the content a download delivers.

Text is read strictly, as the customer import reads a file: UTF-16 when it starts with a
UTF-16 byte-order mark, else UTF-8 (with or without its byte-order mark), else GB18030 (a
superset of GBK: what Excel on Chinese Windows saves as CSV); bytes that are none of these
are refused. The file is kept as it came, and its content type names its charset, so a
download reads as it was written.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import filetype

from core.i18n import _


@dataclass(frozen=True)
class Kind:
    content_type: str
    extensions: frozenset[str]


BY_FILETYPE = {
    "pdf": Kind("application/pdf", frozenset({"pdf"})),
    "png": Kind("image/png", frozenset({"png"})),
    "jpg": Kind("image/jpeg", frozenset({"jpg", "jpeg"})),
    "gif": Kind("image/gif", frozenset({"gif"})),
    "webp": Kind("image/webp", frozenset({"webp"})),
    "docx": Kind(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        frozenset({"docx"}),
    ),
    "xlsx": Kind(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", frozenset({"xlsx"})
    ),
    "pptx": Kind(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        frozenset({"pptx"}),
    ),
}
TEXT = {"txt": "text/plain", "csv": "text/csv"}
UTF_16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class ContentRefused(Exception):
    """The content is not allowed, or disagrees with the name: a message for the user."""


def extension_of(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def text_charset(data: bytes) -> tuple[str, str] | None:
    """The text of ``data`` and its charset (``utf-16``, ``utf-8`` or ``gb18030``), read
    strictly in that order of preference; ``None`` when it is text in none of them."""
    # A UTF-16 mark is neither UTF-8 nor GB18030 (0xFF never is).
    utf_16 = data.startswith(UTF_16_BOMS)
    candidates = ("utf-16",) if utf_16 else ("utf-8-sig", "gb18030")
    for codec in candidates:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        return text, codec.removesuffix("-sig")
    return None


def content_type_of(name: str, data: bytes) -> str:
    """The content type to store and serve ``data`` (a file called ``name``) with.

    :raises ContentRefused: the kind is not allowed, or the extension is another kind's.
    """
    extension = extension_of(name)
    guessed = filetype.guess(data)
    if guessed is not None:
        kind = BY_FILETYPE.get(guessed.extension)
        if kind is None:
            raise ContentRefused(_("a {kind} file is not allowed", kind=guessed.extension))
        if extension not in kind.extensions:
            raise ContentRefused(
                _(
                    "the content is {kind} but the name ends in {ending}",
                    kind=guessed.extension.upper(),
                    ending=f".{extension}" if extension else _("no extension"),
                )
            )
        return kind.content_type
    read = text_charset(data)
    if read is None or "\x00" in read[0]:
        if extension in TEXT:
            raise ContentRefused(
                _(
                    "the content is not text in UTF-8, UTF-16 (with its byte-order mark) or "
                    "GB18030 (GBK), nor another kind that is allowed"
                )
            )
        raise ContentRefused(_("the content is of a kind that is not allowed"))
    if extension not in TEXT:
        raise ContentRefused(
            _("the content is plain text but the name does not end in .txt or .csv")
        )
    return f"{TEXT[extension]}; charset={read[1]}"
