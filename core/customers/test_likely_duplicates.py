"""Likely duplicates on createCustomer: a second "Lakebrook GmbH" is refused
with DUPLICATE and the candidates in the payload, unless the caller sets allowDuplicates;
candidates are only customers the caller may read."""

from __future__ import annotations

from typing import Any

from core.catalog import SALES_REPRESENTATIVE
from core.customers.service.duplicates import email_domain, name_core, website_domain
from tests.support import Api

CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) {
    customer { number }
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
    assert name_core("Lakebrook GmbH") == name_core("LAKEBROOK") == "lakebrook"
    assert name_core("Lake Brook, Ltd.") == "lakebrook"
    assert name_core("湖溪科技有限公司") == name_core("湖溪科技") == "湖溪科技"
    assert name_core("GmbH") == "gmbh"  # a name that is only a legal form stays itself
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
