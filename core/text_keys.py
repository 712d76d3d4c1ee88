"""Search and sort keys of names: one normalisation for what is stored and what is searched.

A search compares the stored key of a row with the search text normalised by
:func:`normalise`, with ``LIKE '%term%'`` on both databases: the same text gives the same
answer on SQLite and PostgreSQL, whatever each database's ``lower()`` knows of Unicode.

- :func:`normalise`: Unicode NFKC (full-width letters, digits and brackets are the ASCII
  ones, an ideographic space is a space), then case folding (``ÜBERSEE`` is ``übersee``),
  control characters dropped, runs of white space made one space, ends stripped.
- :func:`search_key`: the normalised text, and for a text with Chinese characters also its
  pinyin without tones (``北京`` → ``beijing``) and the first letters of its syllables
  (``bj``). The parts are joined by :data:`SEPARATOR`, which no normalised search text
  holds, so that a term never matches across two parts.
- :func:`sort_key`: what names sort by: each Chinese character as its pinyin syllable with
  the tone number (``阿里巴巴`` → ``a1 li3 ba1 ba1``), other text normalised and without
  accents (``Übersee`` → ``ubersee``), so that Chinese names sort as in a dictionary and
  Latin names among them by their letters. Compared by code point (``COLLATE "C"`` on
  PostgreSQL, SQLite's default), so both databases sort alike.

- :func:`trigram_similarity`: how alike two texts are by their trigrams, as PostgreSQL's
  pg_trgm ``similarity()`` computes it; SQLite connections get it as the SQL function
  ``similarity`` (:mod:`core.db`), so one query answers alike on both databases.

Characters with several readings take pypinyin's most common one (``重庆`` is
``chongqing`` through its phrase dictionary, a lone ``重`` is ``zhong``): a search by
another reading does not find them.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from pypinyin import Style, lazy_pinyin

SEPARATOR = "\x1f"
"""Between the parts of a search key (a control character: :func:`normalise` drops them)."""

SORT_KEY_LENGTH = 400
"""Sort keys are cut to this many characters (ties beyond are broken by id)."""

_SPACES = re.compile(r"\s+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def normalise(text: str | None) -> str:
    """``text`` as searches compare it: NFKC, case-folded, control characters dropped, white
    space collapsed to single spaces and stripped. ``None`` is ``""``."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    # Case folding can leave text that NFKC would change again (rare); fold once more.
    folded = unicodedata.normalize("NFKC", folded)
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in folded
        if unicodedata.category(ch) != "Cc" or ch.isspace()
    )
    return _SPACES.sub(" ", kept).strip()


def has_han(text: str) -> bool:
    """Whether ``text`` holds a Chinese (Han) character."""
    return _HAN.search(text) is not None


def search_key(*texts: str | None) -> str:
    """The stored search key of ``texts`` (for example a name, a number and an email): each
    text's :func:`normalise` form, plus the full pinyin and the pinyin initials of those
    with Chinese characters, joined by :data:`SEPARATOR`. Empty texts are left out."""
    parts: list[str] = []
    for text in texts:
        normal = normalise(text)
        if not normal:
            continue
        parts.append(normal)
        if has_han(normal):
            parts.extend(_pinyin_parts(normal))
    return SEPARATOR.join(parts)


def _pinyin_parts(normal: str) -> list[str]:
    """The full pinyin and the initials of ``normal``, without spaces (``张 伟`` and
    ``张伟`` are both ``zhangwei``); other text stays as it is in both."""
    full: list[str] = []
    initials: list[str] = []
    for piece in _pieces(normal):
        if piece.startswith(_OTHER):
            other = piece[1:].replace(" ", "")
            full.append(other)
            initials.append(other)
        else:
            syllable = piece.rstrip("012345")
            full.append(syllable)
            initials.append(syllable[:1])
    return [normalise("".join(full)), normalise("".join(initials))]


def sort_key(text: str | None) -> str:
    """The key names sort by (see the module's docstring)."""
    normal = normalise(text)
    if has_han(normal):
        words = [normalise(p[1:] if p.startswith(_OTHER) else p) for p in _pieces(normal)]
    else:
        words = [normal]
    return _strip_accents(" ".join(w for w in words if w))[:SORT_KEY_LENGTH]


_OTHER = "\x00"
"""Marks a piece of :func:`_pieces` that is not a Chinese character's syllable."""


@functools.lru_cache(maxsize=4096)
def _pieces(normal: str) -> tuple[str, ...]:
    """``normal`` as pypinyin reads it, once for both keys of a name: each Chinese character
    as its syllable with the tone number (5 for the neutral tone), each run of other text
    marked with :data:`_OTHER`."""
    return tuple(
        lazy_pinyin(
            normal,
            style=Style.TONE3,
            neutral_tone_with_five=True,
            errors=lambda other: _OTHER + other,
        )
    )


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    )


def like_pattern(text: str) -> str:
    """A ``LIKE`` pattern (use with ``escape="\\"``) for a part of a stored search key: the
    :func:`normalise` form of ``text``, ``%``, ``_`` and ``\\`` escaped."""
    normal = normalise(text)
    escaped = normal.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_WORD = re.compile(r"[^\W_]+")
"""A word as pg_trgm cuts text: a run of letters and digits (an underscore separates)."""


def trigrams(text: str | None) -> frozenset[str]:
    """The trigrams of ``text`` as pg_trgm's ``show_trgm()`` makes them: each word lower-cased
    and padded with two spaces in front and one behind, then every three consecutive
    characters (``"ab"`` → ``"  a"``, ``" ab"``, ``"ab "``)."""
    found: set[str] = set()
    for word in _WORD.findall((text or "").lower()):
        padded = f"  {word} "
        found.update(padded[start : start + 3] for start in range(len(padded) - 2))
    return frozenset(found)


def trigram_similarity(left: str | None, right: str | None) -> float | None:
    """pg_trgm's ``similarity(left, right)``: the trigrams both texts share over all the
    trigrams either has, from 0 (none shared, or a text without any) to 1. ``None`` when
    either text is (SQL ``NULL``)."""
    if left is None or right is None:
        return None
    ours, theirs = trigrams(left), trigrams(right)
    if not ours or not theirs:
        return 0.0
    shared = len(ours & theirs)
    return shared / (len(ours) + len(theirs) - shared)
