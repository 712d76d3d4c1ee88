"""frequentNegativeFeedback over fixed sets of Chinese and English comments."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pytest

from core.plugin_api import ERASED
from plugins.surveys.service import feedback as feedback_service
from plugins.surveys.service.feedback import (
    MAX_COMMENT_CHARS,
    TermCount,
    chinese_terms,
    count_terms,
    english_terms,
)
from plugins.surveys.testing import NOV, Seed, customer
from schema.testkit import Api
from schema.testkit_graphql import data, error_code, gid

FEEDBACK = """
query($filter: NegativeFeedbackFilter!) {
  frequentNegativeFeedback(filter: $filter) {
    term language count examples { id comment }
  }
}
"""


async def feedback(api: Api, seed: Seed, **filter: Any) -> list[dict[str, Any]]:
    body = await api.gql(
        FEEDBACK, {"filter": {"templateId": seed.template_gid, "period": NOV, **filter}}
    )
    found: list[dict[str, Any]] = data(body)["frequentNegativeFeedback"]
    return found


def counts(terms: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(t["term"], t["language"], t["count"]) for t in terms]


async def test_chinese_comments(admin: Api) -> None:
    seed = await Seed.of(admin)
    alice = await admin.user("alice.agent@example.com", ["SUPPORT_REPRESENTATIVE"])
    bob = await admin.user("bob.agent@example.com", ["SUPPORT_REPRESENTATIVE"])
    someone = await customer(admin, "Someone")
    ids: dict[str, int | None] = {}
    # Ratings: RESPONSE_SPEED, RESOLUTION, ATTITUDE, PROFESSIONALISM; B and C rate the
    # attitude low.
    for name, day, handler, ratings, comment in (
        ("A", "03", alice, (1, 1, 3, 3), "客服响应太慢，问题一直没有解决。"),
        ("B", "04", alice, (1, 3, 2, 3), "响应速度太慢了，态度也不好。"),
        ("C", "05", alice, (2, 1, 1, 3), "问题没有解决，处理速度太慢，客服态度差。"),
        ("D", "06", alice, (1, 4, 4, 4), "工程师很专业，但是响应太慢。"),
        ("E", "07", bob, (1, 3, 3, 3), "太慢太慢，太慢！"),
    ):
        ids[name] = await seed.add(
            someone,
            handler_id=handler.user_id,
            sent=f"2026-11-{day}T08:00",
            submitted=f"2026-11-{day}T09:00",
            ratings=ratings,
            comment=comment,
            low=True,
        )
    # Not counted: a response that is not low-scored, one from October, one without comment.
    await seed.add(
        someone,
        sent="2026-11-08T08:00",
        submitted="2026-11-08T09:00",
        ratings=(5, 5, 5, 5),
        comment="太慢",
    )
    await seed.add(
        someone,
        sent="2026-10-08T08:00",
        submitted="2026-10-08T09:00",
        ratings=(1, 1, 1, 1),
        comment="太慢",
        low=True,
    )
    await seed.add(
        someone,
        sent="2026-11-09T08:00",
        submitted="2026-11-09T09:00",
        ratings=(1, 1, 1, 1),
        low=True,
    )

    found = await feedback(admin, seed, limit=6)
    # A: 客服 响应 太慢 问题 没有解决; B: 响应速度 太慢 态度 不好; C: 问题 没有解决 处理速度
    # 太慢 客服 态度; D: 工程师 专业 响应 太慢; E: 太慢 (once, however often it says so).
    # 太慢 5; 响应, 客服, 态度, 没有解决, 问题 2 each (ties in the order of the terms). 解决
    # ("solved") never counts alone: every time it is negated.
    assert counts(found) == [
        ("太慢", "ZH", 5),
        ("响应", "ZH", 2),
        ("客服", "ZH", 2),
        ("态度", "ZH", 2),
        ("没有解决", "ZH", 2),
        ("问题", "ZH", 2),
    ]
    # Examples: the newest three, E, D and C.
    assert [e["id"] for e in found[0]["examples"]] == [
        gid("SurveyResponse", ids[name]) for name in ("E", "D", "C")
    ]
    # Only the responses whose ATTITUDE was rated low (B and C).
    found = await feedback(admin, seed, limit=3, dimension="ATTITUDE")
    assert counts(found) == [("太慢", "ZH", 2), ("态度", "ZH", 2), ("不好", "ZH", 1)]
    # Alice sees the responses of the tickets she handled: A to D.
    found = await feedback(alice, seed, limit=1)
    assert counts(found) == [("太慢", "ZH", 4)]
    assert [e["id"] for e in found[0]["examples"]] == [
        gid("SurveyResponse", ids[name]) for name in ("D", "C", "B")
    ]


async def test_english_comments(admin: Api) -> None:
    seed = await Seed.of(admin)
    someone = await customer(admin, "Someone")
    for day, comment in (
        ("03", "Slow response, problem not solved."),
        ("04", "The response was slow and the engineer was rude."),
        ("05", "Nobody called back; slow response again!"),
    ):
        await seed.add(
            someone,
            sent=f"2026-11-{day}T08:00",
            submitted=f"2026-11-{day}T09:00",
            ratings=(1, 1, 1, 1),
            comment=comment,
            low=True,
        )
    found = await feedback(admin, seed, limit=5)
    # Words (stop words out): slow 3, response 3; the phrase "slow response" in the first and
    # the third (the second has "was" between them); then single ones by term: back, called.
    assert counts(found) == [
        ("response", "EN", 3),
        ("slow", "EN", 3),
        ("slow response", "EN", 2),
        ("back", "EN", 1),
        ("called", "EN", 1),
    ]
    assert len(found[0]["examples"]) == 3


async def test_refusals(admin: Api) -> None:
    seed = await Seed.of(admin)
    for limit in (0, 101):
        body = await admin.gql(
            FEEDBACK, {"filter": {"templateId": seed.template_gid, "period": NOV, "limit": limit}}
        )
        assert error_code(body) == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["argument"] == "filter.limit"
    finance = await admin.as_role("FINANCE")
    body = await finance.gql(FEEDBACK, {"filter": {"templateId": seed.template_gid, "period": NOV}})
    assert error_code(body) == "FORBIDDEN"
    assert await feedback(admin, seed) == []


@pytest.mark.parametrize(
    ("comment", "terms"),
    [
        # A negated word is a phrase, never a term alone ("solved" would say the opposite).
        ("Problem not solved.", {"problem", "not solved"}),
        # The negation reaches over stop words to the next kept word of its clause only.
        ("Not very helpful at all", {"not helpful"}),
        ("No response for days", {"no response", "days"}),
        ("Never called back, rude", {"never called", "back", "rude"}),
        # Typographic apostrophes (as phones type them) are apostrophes: no "didn", no "t".
        ("Didn\u2019t call back", {"not call", "back"}),
        (
            "The engineer\u2019s answer wasn\u2019t helpful",
            {"engineer", "answer", "engineer answer", "not helpful"},
        ),
        # Contractions are stop words, not terms; a possessive counts as its word.
        ("They've lost it, I'd say, that's sad", {"lost", "say", "sad"}),
        ("The agent's manners, the agent", {"agent", "manners", "agent manners"}),
        # A hyphen inside a word keeps it whole; a dash ends the clause.
        (
            "No follow-up e-mail - rude staff",
            {"no follow-up", "e-mail", "rude", "staff", "rude staff"},
        ),
        # Letters beyond ASCII stay in their word; digits are no words.
        ("Café was naïve 24h", {"café", "naïve"}),
    ],
)
def test_english_terms(comment: str, terms: set[str]) -> None:
    assert english_terms(comment) == terms


@pytest.mark.parametrize(
    ("comment", "terms"),
    [
        ("问题没有解决", {"问题", "没有解决"}),
        ("客服不专业", {"客服", "不专业"}),
        ("态度不好，没有。", {"态度", "不好"}),
    ],
)
def test_chinese_negations(comment: str, terms: set[str]) -> None:
    assert chinese_terms(comment) == terms


def test_jieba_is_loaded_once_and_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    segmenter = feedback_service._segmenter()
    assert feedback_service._segmenter() is segmenter
    assert segmenter.dt.initialized
    jieba_log = logging.getLogger("jieba")
    assert jieba_log.level == logging.WARNING
    assert jieba_log.handlers == []
    assert chinese_terms("客服太慢") == {"客服", "太慢"}
    assert capsys.readouterr().err == ""


def test_mixed_comment_and_ties() -> None:
    found = count_terms([(3, "太慢 slow"), (2, "slow, 太慢"), (1, "Slow!")], limit=5)
    assert [(t.term, t.language, t.count, t.example_ids) for t in found] == [
        ("slow", "EN", 3, [3, 2, 1]),
        ("太慢", "ZH", 2, [3, 2]),
    ]


async def test_a_comment_is_read_up_to_its_bound(admin: Api) -> None:
    seed = await Seed.of(admin)
    someone = await customer(admin, "Someone")
    padding = "the " * (MAX_COMMENT_CHARS // 4)
    await seed.add(
        someone,
        sent="2026-11-03T08:00",
        submitted="2026-11-03T09:00",
        ratings=(1, 1, 1, 1),
        comment=f"slow {padding} broken",
        low=True,
    )
    # "broken" lies beyond the characters read.
    assert counts(await feedback(admin, seed)) == [("slow", "EN", 1)]


async def test_an_erased_customers_comments_are_not_counted(admin: Api) -> None:
    seed = await Seed.of(admin)
    kept = await customer(admin, "Kept")
    erased = await customer(admin, "Erased")
    for who, comment in ((kept, "slow response"), (erased, ERASED)):
        await seed.add(
            who,
            sent="2026-11-03T08:00",
            submitted="2026-11-03T09:00",
            ratings=(1, 1, 1, 1),
            comment=comment,
            low=True,
        )

    terms = counts(await feedback(admin, seed))

    assert terms == [("response", "EN", 1), ("slow", "EN", 1), ("slow response", "EN", 1)]


async def test_no_connection_is_held_while_segmenting(
    admin: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = await Seed.of(admin)
    someone = await customer(admin, "Someone")
    await seed.add(
        someone,
        sent="2026-11-03T08:00",
        submitted="2026-11-03T09:00",
        ratings=(1, 1, 1, 1),
        comment="客服太慢",
        low=True,
    )
    held: list[int] = []

    def counting(comments: Sequence[tuple[int, str]], limit: int) -> list[TermCount]:
        held.append(admin.db.engine.pool.checkedout())  # type: ignore[attr-defined]
        return count_terms(comments, limit)

    monkeypatch.setattr(feedback_service, "count_terms", counting)
    assert counts(await feedback(admin, seed)) == [("太慢", "ZH", 1), ("客服", "ZH", 1)]
    # Once per run of the query: the suite's compare mode answers it on both read paths.
    assert held
    assert set(held) == {0}


async def test_refused_filters(admin: Api) -> None:
    seed = await Seed.of(admin)
    body = await admin.gql(
        FEEDBACK,
        {"filter": {"templateId": seed.template_gid, "period": NOV, "dimension": "X" * 41}},
    )
    assert error_code(body) == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["argument"] == "filter.dimension"
    body = await admin.gql(
        FEEDBACK, {"filter": {"templateId": gid("SurveyTemplate", 999), "period": NOV}}
    )
    assert error_code(body) == "NOT_FOUND"
    assert body["errors"][0]["extensions"]["argument"] == "filter.templateId"
    # The dimension's case does not matter.
    assert await feedback(admin, seed, dimension=" attitude ") == []
