"""Frequent negative feedback: the words and phrases most frequent in the comments of
low-scored responses, in English and Chinese.

Reads the first :data:`MAX_COMMENT_CHARS` characters of the newest :data:`MAX_COMMENTS`
comments of the low-scored responses the caller may see in the period (bounds stated in the
API's description). Chinese runs of a comment are segmented with jieba (its dictionary loaded
once, on first use, its logging silenced); the other runs are split into lower-cased English
words (typographic apostrophes read as ``'``, a possessive ``'s`` dropped). Stop words,
punctuation, numbers and one-character Chinese tokens are dropped; English adds the two-word
phrases of adjacent kept words; a negation (``not``, ``didn't``, ``没有``, ``不``) is joined
to the word after it (``not solved``, ``没有解决``), which then does not count alone: in
negative feedback it would say the opposite. Each term counts once per response. The
segmentation is CPU-bound, so it runs in a worker thread, off the event loop, once the
comments are read and the database connection is given back.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import ERASED, RequestContext
from plugins.surveys import declarations, models
from plugins.surveys.questions import DETRACTOR, LOW_RATING

Resp = models.SurveyResponse
Ans = models.SurveyAnswer

MAX_COMMENTS = 5000
"""The newest comments read per request."""
MAX_COMMENT_CHARS = 1000
"""The characters of each comment read (cut in the database): with :data:`MAX_COMMENTS`, a
bound on the memory and the segmentation time of one request."""
MAX_EXAMPLES = 3

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CJK_WORD = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}$")
_ENGLISH_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")
"""A word of letters (``café`` too), with apostrophes or hyphens inside (``didn't``,
``follow-up``)."""
_CLAUSE_BREAK = re.compile(r"(?:[^\w\s'-]|(?<!\w)-|-(?!\w))+")
"""Punctuation ends a clause (a phrase never spans it); a hyphen only when it is not inside
a word (a dash)."""

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\uff07": "'"})
"""Typographic apostrophes (phones type ``don\u2019t``) read as ``'``."""

_ENGLISH = """
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each even ever
every few for from further get got had has have having he her here hers herself him
himself his how i if in into is it its itself just let me more most much my myself now of
off on once only or other our ours ourselves out over own really same she should so some
still such than that the their theirs them themselves then there these they this those
through to too under until up us very was we were what when where which while who whom why
will with would you your yours yourself yourselves i'm i've i'd i'll it's you're you've
you'd you'll we're we've we'd we'll they're they've they'd they'll he's he'd he'll she's
she'd she'll that's there's here's what's who's let's
"""
_NEGATIONS = """
no not never nor cannot don't didn't doesn't isn't wasn't aren't weren't can't couldn't won't
wouldn't shouldn't haven't hasn't hadn't
"""
NEGATIONS = frozenset(_NEGATIONS.split())
"""Words that turn the next kept word of their clause into a phrase (``not solved``,
``never called``): in negative feedback the negated word alone would say the opposite."""
ENGLISH_STOP_WORDS = frozenset(_ENGLISH.split())
_CHINESE = """
我们 你们 他们 她们 它们 这个 那个 这些 那些 这样 那样 这里 那里 什么 怎么 怎么样 为什么 因为 所以
但是 可是 而且 并且 或者 如果 虽然 还是 就是 只是 已经 一个 一些 一直 一下 一次 没有 不是 可以 觉得
感觉 非常 真的 特别 比较 有点 有些 还有 然后 以后 之后 时候 现在 自己 对于 关于 而已 的话 这次 那次
我的 你的 他的 其他 以及 每次 这么 那么
"""
CHINESE_STOP_WORDS = frozenset(_CHINESE.split())
_CHINESE_NEGATIONS = "不 没 没有 未 无法 不能 不太 从未 从来没有 并不 并没有 还没 还没有"
CHINESE_NEGATIONS = frozenset(_CHINESE_NEGATIONS.split())
"""Chinese negations, joined to the word after them as English joins ``not`` to its word."""

_jieba: Any = None
_jieba_lock = threading.Lock()


def _segmenter() -> Any:
    """jieba, its dictionary loaded once (on first use), its debug logging silenced and its
    own stderr handler removed."""
    global _jieba
    if _jieba is not None:
        return _jieba
    with _jieba_lock:
        if _jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            # jieba prints to stderr through a handler of its own; its warnings go through
            # the application's logging like every other library's.
            jieba.default_logger.removeHandler(jieba.log_console)
            jieba.initialize()
            _jieba = jieba
    return _jieba


def _negation(word: str) -> str:
    return word if word in ("no", "never") else "not"


def english_terms(text: str) -> set[str]:
    """Lower-cased words that are not stop words (a possessive ``'s`` dropped), two-word
    phrases of adjacent ones within a clause, and negated words as phrases (``didn't call
    back`` gives ``not call``, never ``call`` alone)."""
    terms: set[str] = set()
    for clause in _CLAUSE_BREAK.split(text.translate(_APOSTROPHES).lower()):
        previous: str | None = None
        negation: str | None = None
        for word in _ENGLISH_WORD.findall(clause):
            if word in NEGATIONS:
                negation, previous = _negation(word), None
                continue
            if word.endswith("'s"):
                word = word[:-2]
            if word in ENGLISH_STOP_WORDS or len(word) < 2 or "'" in word:
                previous = None
                continue
            if negation is not None:
                terms.add(f"{negation} {word}")
                negation, previous = None, None
                continue
            terms.add(word)
            if previous is not None:
                terms.add(f"{previous} {word}")
            previous = word
    return terms


def chinese_terms(text: str) -> set[str]:
    """Words of two or more Chinese characters that are not stop words, and a negation
    joined to the word after it (``没有解决``, ``不专业``; the negated word is not counted
    alone)."""
    jieba = _segmenter()
    terms: set[str] = set()
    for run in _CJK.findall(text):
        negation: str | None = None
        for token in jieba.lcut(run):
            if token in CHINESE_NEGATIONS:
                negation = token
                continue
            if negation is not None:
                terms.add(negation + token)
                negation = None
                continue
            if _CJK_WORD.match(token) and token not in CHINESE_STOP_WORDS:
                terms.add(token)
    return terms


def terms_of(comment: str) -> set[tuple[str, str]]:
    """The (term, language) pairs of one comment."""
    found = {(term, "ZH") for term in chinese_terms(comment)} if _CJK.search(comment) else set()
    found |= {(term, "EN") for term in english_terms(_CJK.sub(" ", comment))}
    return found


@dataclass(frozen=True)
class TermCount:
    term: str
    language: str
    count: int
    example_ids: list[int]


def count_terms(comments: Iterable[tuple[int, str]], limit: int) -> list[TermCount]:
    """The ``limit`` most frequent terms of ``comments`` (response id and text, newest
    first), each counted once per response; ties by term. Examples: the newest first."""
    counts: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], list[int]] = {}
    for response_id, comment in comments:
        for pair in terms_of(comment):
            counts[pair] += 1
            found = examples.setdefault(pair, [])
            if len(found) < MAX_EXAMPLES:
                found.append(response_id)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0][0], item[0][1]))
    return [
        TermCount(term=term, language=language, count=count, example_ids=examples[(term, language)])
        for (term, language), count in ranked[:limit]
    ]


def _low_in(dimension: str) -> ColumnElement[bool]:
    """Responses whose answer in ``dimension`` is low."""
    low = (
        select(Ans.response_id)
        .where(
            Ans.dimension == dimension,
            or_(
                (Ans.kind == "RATING") & (Ans.score <= LOW_RATING),
                (Ans.kind == "NPS") & (Ans.score <= DETRACTOR),
                (Ans.kind == "YES_NO") & Ans.yes.is_(False),
            ),
        )
        .correlate(None)
    )
    return Resp.id.in_(low)


async def low_scored_comments(
    session: AsyncSession,
    context: RequestContext,
    conditions: Sequence[ColumnElement[bool]],
    dimension: str | None,
) -> list[tuple[int, str]]:
    """The ids and the first :data:`MAX_COMMENT_CHARS` characters of the comments of the
    newest :data:`MAX_COMMENTS` low-scored responses ``conditions`` select that the caller
    may see, newest first."""
    statement = select(Resp.id, func.substr(Resp.comment, 1, MAX_COMMENT_CHARS)).where(
        *conditions,
        Resp.low_scored.is_(True),
        Resp.comment.is_not(None),
        Resp.comment != ERASED,  # an erased customer's comments say nothing any more
        declarations.visible(context),
    )
    if dimension is not None:
        statement = statement.where(_low_in(dimension))
    statement = statement.order_by(Resp.submitted_at.desc(), Resp.id.desc()).limit(MAX_COMMENTS)
    return [(row[0], row[1] or "") for row in await session.execute(statement)]


async def frequent_terms(comments: Sequence[tuple[int, str]], limit: int) -> list[TermCount]:
    """:func:`count_terms` in a worker thread, off the event loop. Call it after the session
    that read ``comments`` is closed: segmenting thousands of comments takes a while, and a
    database connection should not wait for it."""
    if not comments:
        return []
    return await asyncio.to_thread(count_terms, comments, limit)
