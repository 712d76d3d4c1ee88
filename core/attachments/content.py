"""What an uploaded file is, told by its content (never by its name alone).

The allow-list: PDF, PNG, JPEG, GIF, WebP, Word/Excel/PowerPoint (OOXML, zip-based) and
plain text or CSV (UTF-8). A file must also carry the extension of what it is: a PDF named
``notes.txt`` is refused, so a name never lies about the content a download delivers.
"""

from __future__ import annotations

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
TEXT = {"txt": "text/plain; charset=utf-8", "csv": "text/csv; charset=utf-8"}


class ContentRefused(Exception):
    """The content is not allowed, or disagrees with the name: a message for the user."""


def extension_of(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


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
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ContentRefused(_("the content is of a kind that is not allowed")) from None
    if "\x00" in text:
        raise ContentRefused(_("the content is of a kind that is not allowed"))
    if extension not in TEXT:
        raise ContentRefused(
            _("the content is plain text but the name does not end in .txt or .csv")
        )
    return TEXT[extension]
