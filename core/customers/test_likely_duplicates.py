"""Likely duplicates on createCustomer: a second "Lakebrook GmbH" is refused
with DUPLICATE and the candidates in the payload, unless the caller sets allowDuplicates;
candidates are only customers the caller may read."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import func, insert, literal, select

from core.catalog import SALES_REPRESENTATIVE
from core.customers.match_keys import (
    SIMILARITY_THRESHOLD,
    NameKey,
    email_domain,
    name_key,
    website_domain,
)
from core.customers.models import Customer
from core.customers.service.duplicates import similar_name
from core.db import utcnow
from core.text_keys import trigram_similarity
from tests.support import Api

CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) {
    customer { id number }
    errors { field code message }
    duplicates { reasons customer { number name } }
  }
}"""


async def create(api: Api, **fields: Any) -> dict[str, Any]:
    body = await api.gql(CREATE, {"input": fields})
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["createCustomer"]
    return result


def test_names_are_compared_without_legal_forms_punctuation_and_case() -> None:
    assert name_key("Lakebrook GmbH") == name_key("LAKEBROOK") == NameKey("lakebrook", "")
    assert name_key("Lake Brook, Ltd.") == NameKey("lakebrook", "")
    assert name_key("湖溪科技有限公司") == name_key("湖溪科技") == NameKey("湖溪科技", "")
    assert name_key("GmbH") == NameKey("gmbh", "")  # only a legal form: it stays itself
    assert name_key("Customer 12") == name_key("customer_12") == NameKey("customer", "12")
    assert name_key("\uff13\uff2d Company") == NameKey("m", "3")
    assert email_domain("anna@qq.com") is None
    assert email_domain("anna@163.com") is None
    assert email_domain("anna@example.com") is None
    assert email_domain("Anna@Lakebrook.DE") == "lakebrook.de"
    assert website_domain("https://www.lakebrook.de/en") == "lakebrook.de"
    assert website_domain("lakebrook.de") == "lakebrook.de"


async def test_a_similar_name_is_refused_with_the_candidates_until_allowed(api: Api) -> None:
    rep = await api.as_role(SALES_REPRESENTATIVE)
    first = await create(rep, name="Lakebrook GmbH")
    assert first["errors"] == []
    assert first["duplicates"] == []
    number = first["customer"]["number"]

    second = await create(rep, name="lakebrook")
    assert second["customer"] is None
    assert [(e["field"], e["code"]) for e in second["errors"]] == [("name", "DUPLICATE")]
    assert number in second["errors"][0]["message"]
    assert second["duplicates"] == [
        {"reasons": ["SIMILAR_NAME"], "customer": {"number": number, "name": "Lakebrook GmbH"}}
    ]

    allowed = await create(rep, name="lakebrook", allowDuplicates=True)
    assert allowed["errors"] == []
    assert allowed["customer"] is not None

    other = await create(rep, name="Lakeside GmbH")
    assert other["errors"] == []
    assert other["duplicates"] == []


async def test_the_same_company_domain_is_a_likely_duplicate_but_free_mail_is_not(
    api: Api,
) -> None:
    rep = await api.as_role(SALES_REPRESENTATIVE)
    first = await create(
        rep, name="Lakebrook", email="anna@lakebrook.de", website="https://www.lakebrook.de"
    )
    assert first["errors"] == []
    number = first["customer"]["number"]

    by_email = await create(rep, name="LB Handel", email="bob@LAKEBROOK.de")
    assert [(e["field"], e["code"]) for e in by_email["errors"]] == [("email", "DUPLICATE")]
    assert by_email["duplicates"] == [
        {"reasons": ["SAME_EMAIL_DOMAIN"], "customer": {"number": number, "name": "Lakebrook"}}
    ]
    by_site = await create(rep, name="LB Handel", website="lakebrook.de/kontakt")
    assert [e["field"] for e in by_site["errors"]] == ["website"]
    assert by_site["duplicates"][0]["reasons"] == ["SAME_WEBSITE_DOMAIN"]

    await create(rep, name="Private One", email="one@gmail.com")
    free = await create(rep, name="Private Two", email="two@gmail.com")
    assert free["errors"] == []
    assert free["duplicates"] == []


async def test_the_same_phone_is_refused_and_shown_once(api: Api) -> None:
    rep = await api.as_role(SALES_REPRESENTATIVE)
    first = await create(rep, name="Alpha Works", phone="+12125550199")
    number = first["customer"]["number"]
    again = await create(rep, name="Beta Works", phone="+1 212 555 0199")
    # The phone another customer has is the hard DUPLICATE (even with allowDuplicates),
    # named once; the candidate shows why.
    assert [(e["field"], e["code"]) for e in again["errors"]] == [("phone", "DUPLICATE")]
    assert again["duplicates"] == [
        {"reasons": ["SAME_PHONE"], "customer": {"number": number, "name": "Alpha Works"}}
    ]
    allowed = await create(rep, name="Beta Works", phone="+12125550199", allowDuplicates=True)
    assert [e["field"] for e in allowed["errors"]] == ["phone"]
    assert allowed["duplicates"] == []


async def test_a_customer_the_caller_may_not_read_is_no_candidate(api: Api) -> None:
    rep1 = await api.user("rep1@example.com", [SALES_REPRESENTATIVE], team="North")
    rep2 = await api.user("rep2@example.com", [SALES_REPRESENTATIVE], team="North")
    hidden = await create(rep2, name="Lakebrook GmbH", email="anna@lakebrook.de")
    assert hidden["errors"] == []

    mine = await create(rep1, name="Lakebrook AG", email="bob@lakebrook.de")
    assert mine["errors"] == []
    assert mine["duplicates"] == []
    # rep2 (scope OWN) is shown their own customer only, not rep1's.
    again = await create(rep2, name="Lakebrook")
    numbers = {d["customer"]["number"] for d in again["duplicates"]}
    assert numbers == {hidden["customer"]["number"]}
    assert len(again["duplicates"]) == 1


SIMILAR_PAIRS = [
    # (a customer's name, a new name, whether the new one is a likely duplicate)
    ("Lakebrook GmbH", "Lake-Brook", True),  # the same core
    ("Lakebrook GmbH", "Lakebrok Ltd", True),  # a typo: 0.73
    ("Nordwind Logistik", "Nordwind Logistics", True),  # 0.75
    ("Alibaba", "Alibaba Cloud", True),  # 0.5, at the threshold
    ("湖溪科技有限公司", "湖溪科技发展有限公司", True),  # 0.5
    ("Huaxi Trading", "Huaxin Trading", True),  # 0.69
    ("Blue Ocean Tech", "Blue Ocean Technologies", True),  # 0.57
    ("\uff13\uff2d", "3M Company", True),  # full-width digits and letters, a legal form
    ("Lakebrook", "Lakeside", False),  # 0.27
    ("Sunrise Foods", "Sunset Foods", False),  # 0.39
    ("阿里巴巴", "阿里云", False),  # 0.29
    ("Customer 1", "Customer 2", False),  # other digits: another branch or record
    ("Store 12", "Store 12 Annex", False),  # 0.4
    ("Store 12", "Store 21", False),
    (
        "\u13e3\u13b3\u13a9 \u13a6\u13ec\u13c2",
        "\u13e3\u13b3\u13a9 \u13a6\u13ec",
        True,
    ),  # Cherokee: 0.63
]


async def test_both_databases_compute_pg_trgm_similarity_alike(api: Api) -> None:
    """SQLite's registered ``similarity()`` gives what pg_trgm's gives on PostgreSQL."""
    async with api.db.read() as session:
        for existing, new, _similar in SIMILAR_PAIRS:
            ours, theirs = name_key(existing).core, name_key(new).core
            got = await session.scalar(select(func.similarity(literal(ours), literal(theirs))))
            assert got == pytest.approx(trigram_similarity(ours, theirs), abs=1e-6), (
                existing,
                new,
            )
        assert await session.scalar(select(func.similarity(literal("abc"), literal("")))) == 0


async def test_similar_names_are_likely_duplicates_on_both_databases(api: Api) -> None:
    rep = await api.as_role(SALES_REPRESENTATIVE)
    verdicts = []
    for existing, new, _similar in SIMILAR_PAIRS:
        first = await create(rep, name=existing, allowDuplicates=True)
        number = first["customer"]["number"]
        attempt = await create(rep, name=new)
        similar = [d["customer"]["number"] for d in attempt["duplicates"]]
        verdicts.append((existing, new, number in similar))
    assert verdicts == SIMILAR_PAIRS


async def test_a_renamed_customer_is_compared_by_its_new_name(api: Api) -> None:
    rep = await api.as_role(SALES_REPRESENTATIVE)
    first = await create(rep, name="Harbour Lights", allowDuplicates=True)
    body = await rep.gql(
        """mutation($input: UpdateCustomerInput!) {
             updateCustomer(input: $input) { errors { field code } } }""",
        {"input": {"id": first["customer"]["id"], "version": 1, "name": "Qingshan Mining"}},
    )
    assert body["data"]["updateCustomer"]["errors"] == []
    assert (await create(rep, name="Harbour Lights"))["duplicates"] == []
    again = await create(rep, name="Qingshan Mining Co")
    assert [d["customer"]["number"] for d in again["duplicates"]] == [first["customer"]["number"]]


async def test_every_match_is_found_however_many_customers_share_a_word(api: Api) -> None:
    """Candidates are ranked in the query, not picked from its first rows: a likely duplicate
    among hundreds of customers with the same word in their name is found."""
    rep = await api.as_role(SALES_REPRESENTATIVE)
    for index in range(0, 240, 40):
        body = await rep.gql(
            """mutation($csv: String!) {
                 importCustomers(input: {csv: $csv, matchOn: []}) {
                   created errors { field message } } }""",
            {"csv": "name\n" + "".join(f"Lake Trading {n}\n" for n in range(index, index + 40))},
        )
        assert body["data"]["importCustomers"]["created"] == 40, body
    target = await create(rep, name="Lakebrook Trading", allowDuplicates=True)
    again = await create(rep, name="Lake-brook Trading GmbH")
    assert [d["customer"]["number"] for d in again["duplicates"]] == [target["customer"]["number"]]


async def test_the_query_finds_exactly_the_cores_alike_by_python_trigrams(api: Api) -> None:
    """On each database the query (SQLite: LIKE filter, then similarity; PostgreSQL: pg_trgm
    through its index) selects what the Python computation selects, over a few hundred
    variants of some names: letters dropped, doubled, swapped, words added."""
    rng = random.Random(5)
    cherokee = "\u13e3\u13b3\u13a9\u13a6\u13ec\u13c2"  # case folded to upper case
    bases = ["lakebrook", "nordwind", "huaxitrading", "湖溪科技", "blueocean", "qingshan", cherokee]
    variants = set(bases)
    while len(variants) < 300:
        word = list(rng.choice(bases))
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(word))
            change = rng.choice(("drop", "double", "swap", "add"))
            if change == "drop" and len(word) > 2:
                del word[at]
            elif change == "double":
                word.insert(at, word[at])
            elif change == "swap" and at + 1 < len(word):
                word[at], word[at + 1] = word[at + 1], word[at]
            else:
                word.insert(at, rng.choice("aeikostx"))
        variants.add("".join(word))
    now = utcnow()
    async with api.db.transaction() as session:
        await session.execute(
            insert(Customer),
            [
                {
                    "number": f"V{index:05d}",
                    "name": variant,
                    "kind": "COMPANY",
                    "stage": "POTENTIAL",
                    "grade": "STANDARD",
                    "custom_fields": {},
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for index, variant in enumerate(sorted(variants))
            ],
        )
    postgresql = api.db.engine.dialect.name == "postgresql"
    async with api.db.read() as session:
        for probe in [*bases, "lakebrok", "bluocean", "qingshanmining", "湖溪"]:
            found = set(
                await session.scalars(
                    select(Customer.name_core).where(similar_name(probe, postgresql=postgresql))
                )
            )
            expected = {
                v for v in variants if (trigram_similarity(v, probe) or 0) >= SIMILARITY_THRESHOLD
            }
            assert found == expected, probe
            assert probe not in bases or len(expected) > 2  # some variants of a name
