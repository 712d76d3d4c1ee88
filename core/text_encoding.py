"""Text encodings of files that come in and go out (customer imports and exports).

A file comes in as bytes and is read as **UTF-8** (a byte-order mark is dropped), as
**UTF-16** when it starts with a UTF-16 byte-order mark (Excel's "Unicode Text"), or as
**GB18030**, the Chinese national standard and a superset of GBK and GB2312: what Excel on
Chinese Windows saves as "CSV". With ``AUTO`` (the default) a file with a UTF-16
byte-order mark is UTF-16, else a file that is strict UTF-8 is UTF-8, else one that is
strict GB18030 is GB18030, else it is refused; a named encoding is read strictly as named.
Nothing is ever read leniently, so no byte is ever replaced, and text holding a NUL
character (UTF-16 without its byte-order mark reads so) is refused.

Text can still arrive garbled: a client that decoded a file itself with the wrong encoding
sends well-formed text that says something else (mojibake). :func:`misreading` finds the
usual cases in a value, for the caller to refuse it with its line and column:

- U+FFFD replacement characters: bytes a decoder could not read were replaced;
- UTF-8 read as Latin-1 or Windows-1252 (``MÃ¼ller``), found by ftfy's heuristics;
- GB18030 read as Latin-1 or Windows-1252 (``ÕÅÈý`` for 张三): the value reads as messy
  text (charset-normalizer's mess detector) and its bytes read as GB18030 are less messy;
- Latin-1 or Windows-1252 read as GB18030 (``M黮ler``): a Han character beside a Latin
  letter, and bytes that read as clean Latin text;
- UTF-8 read as GB18030 (``寮犱笁`` for 张三): its GB18030 bytes are valid UTF-8 that reads
  as clean text with characters past U+07FF, or as clean Latin text where the value mixes
  Han and Latin letters or is messy.

Legitimate text stays untouched: accented Latin (Müller, Société Générale), Greek,
Cyrillic, emoji and Chinese read as clean in their own right, and no rule refuses a value
whose other reading is itself messy or impossible.
"""

from __future__ import annotations

import codecs
import enum
import functools
import re
import unicodedata
from dataclasses import dataclass

import ftfy
from charset_normalizer.md import mess_ratio
from ftfy.badness import is_bad

from core.i18n import Text, _

ENCODING_HINT = _(
    "save the file as CSV UTF-8, or name its encoding with the encoding option (UTF_8 or GB18030)"
)


class TextEncodingError(ValueError):
    """Bytes that cannot be read as text as asked, or an encoding name not known."""

    def __init__(self, message: Text) -> None:
        super().__init__(message)
        self.message = message


class ImportEncoding(enum.Enum):
    """How the bytes of an imported file are read."""

    AUTO = "AUTO"
    UTF_8 = "UTF_8"
    GB18030 = "GB18030"


class ExportEncoding(enum.Enum):
    """How an exported CSV file is written."""

    UTF_8_BOM = "UTF_8_BOM"
    UTF_8 = "UTF_8"
    GB18030 = "GB18030"


# Names a client may give (a query parameter, a Content-Type charset), folded to lower case
# with "_" for "-". GBK and GB2312 are subsets of GB18030: a file in either reads the same.
_IMPORT_NAMES = {
    "auto": ImportEncoding.AUTO,
    "utf_8": ImportEncoding.UTF_8,
    "utf8": ImportEncoding.UTF_8,
    "utf_8_sig": ImportEncoding.UTF_8,
    "gb18030": ImportEncoding.GB18030,
    "gbk": ImportEncoding.GB18030,
    "gb2312": ImportEncoding.GB18030,
    "cp936": ImportEncoding.GB18030,
}
_UTF_16_NAMES = frozenset({"utf_16", "utf16", "utf_16le", "utf16le", "utf_16be", "utf16be"})
"""UTF-16's names: such a file is read by its byte-order mark (as AUTO reads it), and is
refused without one (:func:`require_utf_16_mark`)."""
_EXPORT_NAMES = {
    "utf_8_bom": ExportEncoding.UTF_8_BOM,
    "utf_8_sig": ExportEncoding.UTF_8_BOM,
    "utf_8": ExportEncoding.UTF_8,
    "utf8": ExportEncoding.UTF_8,
    "gb18030": ExportEncoding.GB18030,
}


def _fold(name: str) -> str:
    return name.strip().strip('"').lower().replace("-", "_")


def import_encoding(name: str) -> ImportEncoding:
    """The import encoding called ``name`` (``AUTO``, ``UTF-8``, ``GB18030``, ``GBK``...);
    UTF-16's names (:func:`names_utf_16`) are ``AUTO``, which reads UTF-16 by its mark.

    :raises TextEncodingError: for any other name.
    """
    if names_utf_16(name):
        return ImportEncoding.AUTO
    found = _IMPORT_NAMES.get(_fold(name))
    if found is None:
        raise TextEncodingError(
            _(
                "must be AUTO, UTF_8 or GB18030 (GBK and GB2312 read as GB18030), or UTF_16 "
                "for a file with a UTF-16 byte-order mark"
            )
        )
    return found


def names_utf_16(name: str) -> bool:
    """Whether ``name`` is UTF-16's (``UTF-16``, ``utf-16le``, ``UTF_16BE``...)."""
    return _fold(name) in _UTF_16_NAMES


def require_utf_16_mark(data: bytes) -> None:
    """Refuse a file named UTF-16 that does not start with a UTF-16 byte-order mark: which
    byte order it has cannot be told.

    :raises TextEncodingError: without the mark.
    """
    if not data.startswith(UTF_16_BOMS):
        raise TextEncodingError(
            _(
                "was named UTF-16 but does not start with a UTF-16 byte-order mark, which "
                "tells its byte order; save it as Unicode Text (with the mark) or as CSV UTF-8"
            )
        )


def export_encoding(name: str) -> ExportEncoding:
    """The export encoding called ``name`` (``UTF_8_BOM``, ``UTF_8`` or ``GB18030``).

    :raises TextEncodingError: for any other name.
    """
    found = _EXPORT_NAMES.get(_fold(name))
    if found is None:
        raise TextEncodingError(_("must be UTF_8_BOM, UTF_8 or GB18030"))
    return found


@dataclass(frozen=True)
class ExportCodec:
    codec: str
    """Python's name of the codec."""
    bom: str
    """Text written before the first row."""
    charset: str
    """The charset of the Content-Type."""


EXPORT_CODECS = {
    ExportEncoding.UTF_8_BOM: ExportCodec("utf-8", "\ufeff", "utf-8"),
    ExportEncoding.UTF_8: ExportCodec("utf-8", "", "utf-8"),
    ExportEncoding.GB18030: ExportCodec("gb18030", "", "GB18030"),
}


UTF_16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def decode(data: bytes, encoding: ImportEncoding = ImportEncoding.AUTO) -> str:
    """The text of ``data``, read strictly as ``encoding`` (a byte-order mark dropped).

    :raises TextEncodingError: when the bytes are not text in that encoding.
    """
    text = _decode(data, encoding)
    if "\x00" in text:
        raise TextEncodingError(
            _(
                "holds NUL characters, which text never does (UTF-16 without its byte-order "
                "mark reads so); {hint}",
                hint=ENCODING_HINT,
            )
        )
    return text


def _decode(data: bytes, encoding: ImportEncoding) -> str:
    if data.startswith(UTF_16_BOMS):
        if encoding is not ImportEncoding.AUTO:
            raise TextEncodingError(
                _(
                    "starts with a UTF-16 byte-order mark, but {named} was named; name AUTO "
                    "as the encoding",
                    named=encoding.value,
                )
            )
        try:
            return data.decode("utf-16")  # the mark tells the byte order, and is dropped
        except UnicodeDecodeError as exc:
            raise TextEncodingError(
                _(
                    "starts with a UTF-16 byte-order mark but is not UTF-16 text (byte {byte} "
                    "cannot be read); {hint}",
                    byte=exc.start,
                    hint=ENCODING_HINT,
                )
            ) from None
    has_bom = data.startswith(b"\xef\xbb\xbf")
    if encoding is ImportEncoding.GB18030 and has_bom:
        raise TextEncodingError(
            _(
                "starts with a UTF-8 byte-order mark, but GB18030 was named; "
                "name UTF_8 or AUTO as the encoding"
            )
        )
    utf8_error = None
    if encoding is not ImportEncoding.GB18030:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            utf8_error = exc.start + (3 if has_bom else 0)  # counted in the whole file
        if encoding is ImportEncoding.UTF_8 or has_bom:
            raise TextEncodingError(
                _(
                    "is not UTF-8 text (byte {byte} cannot be read); {hint}",
                    byte=utf8_error,
                    hint=ENCODING_HINT,
                )
            )
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        if utf8_error is None:
            raise TextEncodingError(
                _(
                    "is not GB18030 text (byte {byte} cannot be read); {hint}",
                    byte=exc.start,
                    hint=ENCODING_HINT,
                )
            ) from None
        raise TextEncodingError(
            _(
                "is neither UTF-8 nor GB18030 text (byte {utf8_byte} cannot be read as UTF-8, "
                "byte {gb_byte} as GB18030); {hint}",
                utf8_byte=utf8_error,
                gb_byte=exc.start,
                hint=ENCODING_HINT,
            )
        ) from None


# ----------------------------------------------------------------------------- mojibake


def _clean(text: str) -> bool:
    return mess_ratio(text) == 0.0 and not is_bad(text)


def _cleaner(other: str, mess: float) -> bool:
    """Whether ``other`` reads as less messy than text of mess ratio ``mess``."""
    return not is_bad(other) and (mess_ratio(other) < mess or (mess == 0.0 and _clean(other)))


# Han ideographs (with the extensions and compatibility forms): what GB18030 bytes read
# wrongly turn into.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
_HAN_RE = re.compile(f"[{_HAN}]")
_HAN_BY_LATIN = re.compile(f"[A-Za-z][{_HAN}]|[{_HAN}][A-Za-z]")


def _han(text: str) -> bool:
    return _HAN_RE.search(text) is not None


def _cjk_by_latin(text: str) -> bool:
    """A Han character right beside a Latin letter, as in ``M黮ler`` or ``S茫o``."""
    return _HAN_BY_LATIN.search(text) is not None


def _assigned(text: str) -> bool:
    return all(unicodedata.category(c) not in ("Cn", "Co", "Cs") for c in text)


_CP1252_HIGH = bytes(range(0x80, 0xA0)).decode("cp1252", errors="ignore")
_NOT_WESTERN = re.compile(f"[^\x00-\xff{re.escape(_CP1252_HIGH)}]")


def _western_bytes(text: str) -> bytes | None:
    if _NOT_WESTERN.search(text):  # found first: a failed encode is slow
        return None
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec)
        except UnicodeEncodeError:
            continue
    return None


def _reread(data: bytes | None, codec: str) -> str | None:
    if data is None:
        return None
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


@functools.lru_cache(maxsize=4096)  # a file repeats its tags, cities and regions
def misreading(value: str) -> Text | None:
    """Why ``value`` looks like text decoded with the wrong encoding, or ``None``."""
    if value.isascii():
        return None
    if "\ufffd" in value:
        return _(
            "holds U+FFFD replacement characters: bytes that could not be read were "
            "replaced when the file was decoded"
        )
    bad = is_bad(value)
    fixed = ftfy.fix_encoding(value) if bad else value
    if fixed != value and _clean(fixed):
        return _misread(_("UTF-8 text read as Latin-1 or Windows-1252"), fixed)
    as_gb = _reread(_western_bytes(value), "gb18030")
    if as_gb is not None and as_gb != value:
        mess = mess_ratio(value)
        if mess > 0.0 and _cleaner(as_gb, mess):
            return _misread(_("GB18030 (GBK) text read as Latin-1 or Windows-1252"), as_gb)
    if fixed != value:
        return _misread(_("UTF-8 text read as Latin-1 or Windows-1252"), fixed)
    gb_bytes = value.encode("gb18030")
    by_latin = _cjk_by_latin(value)
    as_utf8 = _reread(gb_bytes, "utf-8")
    if (
        as_utf8 is not None
        and not as_utf8.isascii()
        and as_utf8 != value
        and not is_bad(as_utf8)
        and _assigned(as_utf8)
        and (
            any(ord(c) > 0x7FF for c in as_utf8)
            or (
                _clean(as_utf8)
                and not _han(as_utf8)
                # Chinese whose bytes happen to read as a jumble of scripts (摇头叹息 as
                # ҡͷ̾Ϣ) is no misreading: real text of one alphabet reads as one script.
                and (by_latin or (mess_ratio(value) > 0.0 and _one_script(as_utf8)))
            )
        )
    ):
        return _misread(_("UTF-8 text read as GB18030 (GBK)"), as_utf8)
    if by_latin:
        as_western = _reread(gb_bytes, "cp1252") or _reread(gb_bytes, "latin-1")
        if as_western is not None and _clean(as_western) and not _han(as_western):
            return _misread(_("Latin-1 or Windows-1252 text read as GB18030"), as_western)
    if bad:
        return _misread(_("UTF-8 text read as Latin-1 or Windows-1252"), None)
    return None


def _one_script(text: str) -> bool:
    """Whether the letters of ``text`` are all of one script (by their Unicode names:
    LATIN, CYRILLIC, GREEK...)."""
    scripts = {unicodedata.name(c, "?").split(" ")[0] for c in text if c.isalpha()}
    return len(scripts) == 1


def _misread(what: Text, meant: str | None) -> Text:
    if meant is None:
        return _("looks mis-decoded ({what})", what=what)
    return _('looks mis-decoded ({what}; it may mean "{meant}")', what=what, meant=meant)
