"""Search and order of names for Chinese users, on SQLite and PostgreSQL: width, case and
spacing do not matter, Chinese names are found by pinyin and initials, names sort in pinyin
order, and keys follow every write (create, update, import, erase, inserts outside the ORM).
"""

# Full-width letters, digits and brackets are what these tests are about.
# ruff: noqa: RUF001

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import insert, select

from core.customers import models
from core.customers import queries as customer_queries
from core.customers.test_customers_api import (
    ARCHIVE,
    ERASE,
    TAG,
    TAGS,
    add_contact,
    create,
    listed,
    ok,
    update,
)
from core.db import bulk_insert
from core.text_keys import search_key, sort_key
from tests.support import Api

ALIBABA = "阿里巴巴"
ABC = "ＡＢＣ１２３贸易有限公司"
IQIYI = "爱奇艺"
ANHUI = "安徽建工"
BEIJING = "北京远航科技有限公司"
SHANGHAI = "上海浦东发展（上海）有限公司"
UBERSEE = "ÜBERSEE GmbH"
ZETA = "Zeta Corp"
BOC = "中国银行"
PINYIN_ORDER = [ALIBABA, ABC, IQIYI, ANHUI, BEIJING, SHANGHAI, UBERSEE, ZETA, BOC]
"""The data set in pinyin order: 阿 a1 < abc < 爱 ai4 < 安 an1 < 北 bei3 < 上 shang4 <
ubersee < zeta < 中 zhong1 (Latin names among the Chinese ones by their letters)."""

PAGE = """
query($filter: CustomerFilter, $orderBy: [CustomerOrder!], $first: Int, $after: String,
      $last: Int, $before: String) {
  customers(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last,
            before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { name } }
  }
}"""
CONTACTS = """
query($filter: ContactFilter, $orderBy: [ContactOrder!]) {
  contacts(filter: $filter, orderBy: $orderBy, first: 50) { edges { node { name } } }
}"""
CONTACTS_OF = """
query($id: ID!) { customer(id: $id) { contacts(first: 20) { edges { node { name } } } } }"""


async def data_set(admin: Api) -> dict[str, dict[str, Any]]:
    """The customers (created in an order that is not the pinyin one), 张伟 a contact of
    中国银行 and 王芳 one of 爱奇艺."""
    made = {}
    for name in (SHANGHAI, BOC, BEIJING, ANHUI, ALIBABA, UBERSEE, IQIYI, ZETA, ABC):
        made[name] = await create(admin, name=name)
    await add_contact(admin, made[BOC]["id"], "张伟")
    await add_contact(admin, made[IQIYI]["id"], "王芳", email="Wang.Fang@iqiyi.example")
    return made


async def pages(api: Api, size: int, *, backwards: bool = False, **variables: Any) -> list[str]:
    """Every name of a list, ``size`` at a time, forwards or from the end."""
    names: list[str] = []
    cursor: str | None = None
    while True:
        where = {"last": size, "before": cursor} if backwards else {"first": size, "after": cursor}
        body = await api.gql(PAGE, {**variables, **where})
        assert "errors" not in body, body
        page = body["data"]["customers"]
        found = [edge["node"]["name"] for edge in page["edges"]]
        assert len(found) <= size
        names = found + names if backwards else names + found
        if not page["pageInfo"]["hasPreviousPage" if backwards else "hasNextPage"]:
            assert page["totalCount"] == len(names)
            return names
        cursor = page["pageInfo"]["startCursor" if backwards else "endCursor"]


SEARCHES = [
    ("ＡＢＣ", {ABC}),  # full width
    ("abc", {ABC}),
    ("ABC123", {ABC}),  # half width finds full width
    (ABC, {ABC}),  # the exact name
    ("abc１２３贸易", {ABC}),
    ("beijing", {BEIJING}),  # pinyin
    ("BeiJing", {BEIJING}),
    ("bj", {BEIJING}),  # pinyin initials
    ("北京", {BEIJING}),
    ("远航", {BEIJING}),
    ("张", {BOC}),  # one character of a contact's name
    ("zhangwei", {BOC}),  # a contact's name in pinyin
    ("zw", {BOC}),
    ("王芳", {IQIYI}),
    ("（上海）", {SHANGHAI}),
    ("(上海)", {SHANGHAI}),  # brackets of either width
    ("shanghai", {SHANGHAI}),
    ("übersee", {UBERSEE}),  # case beyond ASCII, on SQLite too
    ("ÜBERSEE", {UBERSEE}),
    ("\u3000übersee\u3000 GMBH ", {UBERSEE}),  # ideographic spaces, spaces collapsed
    ("gongsi", {ABC, BEIJING, SHANGHAI}),  # 公司
    ("有限公司", {ABC, BEIJING, SHANGHAI}),
    ("alibaba", {ALIBABA}),
    ("albb", {ALIBABA}),
    ("zetacorp", set()),  # pinyin runs together; other names keep their spaces
    ("jingyuan hang", set()),
    ("北京上海", set()),
    ("bjsh", set()),  # never across two names, nor from a name into its pinyin
]


@pytest.mark.parametrize("indexed", [False, True])
async def test_search_normalises_width_case_and_space_and_finds_pinyin(
    admin: Api, monkeypatch: pytest.MonkeyPatch, indexed: bool
) -> None:
    # Given the data set
    await data_set(admin)
    if indexed:
        # the path PostgreSQL takes for terms of three characters or more (trigram indexes
        # on the keys), here on every backend
        monkeypatch.setattr(customer_queries, "SEARCH_INDEXED_ON", {"postgresql", "sqlite"})
    # When searching, each term finds what a user expects and nothing else, in pinyin order
    for term, expected in SEARCHES:
        found = await listed(admin, filter={"search": term})
        assert found == [n for n in PINYIN_ORDER if n in expected], term
        assert await pages(admin, 2, filter={"search": term}) == found, term
        assert await pages(admin, 2, backwards=True, filter={"search": term}) == found, term


async def test_names_page_in_pinyin_order_in_both_directions(admin: Api) -> None:
    await data_set(admin)
    assert await listed(admin) == PINYIN_ORDER
    # Page size 2 over nine names: no name missed or repeated, either way.
    assert await pages(admin, 2) == PINYIN_ORDER
    assert await pages(admin, 2, backwards=True) == PINYIN_ORDER
    descending = [{"field": "NAME", "direction": "DESC"}]
    assert await pages(admin, 2, orderBy=descending) == PINYIN_ORDER[::-1]
    assert await pages(admin, 2, backwards=True, orderBy=descending) == PINYIN_ORDER[::-1]


async def test_names_with_the_same_pinyin_page_by_id(admin: Api) -> None:
    # 张伟 and 章伟 read alike (zhang1 wei3), as do three customers of one name: ties go by id.
    for name in ("章伟", "张伟", "张伟", "Zhang Wei", "张伟"):  # the same name, knowingly
        await create(admin, name=name, allowDuplicates=True)
    expected = await listed(admin)
    assert expected[0] == "Zhang Wei"  # "zhang wei" before "zhang1 wei3" (space < digit)
    assert sorted(expected[1:]) == sorted(["章伟", "张伟", "张伟", "张伟"])
    assert await pages(admin, 2) == expected
    assert await pages(admin, 2, backwards=True) == expected


async def test_contacts_search_and_sort_by_pinyin(admin: Api) -> None:
    made = await data_set(admin)
    for name in ("李娜", "Anna Schmidt", "Émile Zola"):
        await add_contact(admin, made[BOC]["id"], name)

    async def contacts(**variables: Any) -> list[str]:
        body = await admin.gql(CONTACTS, variables)
        assert "errors" not in body, body
        return [edge["node"]["name"] for edge in body["data"]["contacts"]["edges"]]

    everyone = ["Anna Schmidt", "Émile Zola", "李娜", "王芳", "张伟"]
    assert await contacts() == everyone
    by_name = {"field": "NAME", "direction": "DESC"}
    assert await contacts(orderBy=[by_name]) == everyone[::-1]
    assert await contacts(filter={"search": "zw"}) == ["张伟"]
    assert await contacts(filter={"search": "ZHANGWEI"}) == ["张伟"]
    assert await contacts(filter={"search": "张"}) == ["张伟"]
    assert await contacts(filter={"search": "émile"}) == ["Émile Zola"]
    assert await contacts(filter={"search": "WANG.FANG@"}) == ["王芳"]  # email
    assert await contacts(filter={"search": "ln"}) == ["李娜"]
    # A customer's own contacts page in the same order.
    body = await admin.gql(CONTACTS_OF, {"id": made[BOC]["id"]})
    edges = body["data"]["customer"]["contacts"]["edges"]
    assert [e["node"]["name"] for e in edges] == ["Anna Schmidt", "Émile Zola", "李娜", "张伟"]


async def test_tags_list_in_pinyin_order(admin: Api) -> None:
    made = await data_set(admin)
    tags = ["重要客户", "VIP", "北京", "阿里", "agent"]
    ok(await admin.gql(TAG, {"ids": [made[BOC]["id"]], "tags": tags}), "tagCustomers")
    expected = ["阿里", "agent", "北京", "VIP", "重要客户"]
    assert [t["name"] for t in (await admin.gql(TAGS))["data"]["tags"]] == expected
    body = await admin.gql(
        "query($id: ID!) { customer(id: $id) { tags { name } } }", {"id": made[BOC]["id"]}
    )
    assert [t["name"] for t in body["data"]["customer"]["tags"]] == expected


async def test_exports_follow_the_pinyin_order(admin: Api) -> None:
    made = await data_set(admin)
    ok(await admin.gql(TAG, {"ids": [made[BOC]["id"]], "tags": ["重要", "VIP"]}), "tagCustomers")
    response = await admin.client.get("/export/customers.csv", headers=admin.headers)
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["name"] for row in rows] == PINYIN_ORDER
    assert next(r["tags"] for r in rows if r["name"] == BOC).startswith("VIP")


async def test_keys_follow_every_write(admin: Api) -> None:
    made = await data_set(admin)

    async def search(term: str, **filter: Any) -> list[str]:
        return await listed(admin, filter={"search": term, **filter})

    # An update: the new name is found, the old one no longer.
    renamed = await update(admin, made[UBERSEE], name="Übersee Handel 汉堡")
    assert await search("handel") == ["Übersee Handel 汉堡"]
    assert await search("hanbao") == ["Übersee Handel 汉堡"]
    assert await search("gmbh") == []
    # A changed email is searched as it is stored.
    await update(admin, renamed, email="Info@Uebersee.example")
    assert await search("INFO@uebersee") == ["Übersee Handel 汉堡"]
    # Erasure: the name is gone from the key too.
    iqiyi = made[IQIYI]
    body = await admin.gql(ERASE, {"id": iqiyi["id"], "version": iqiyi["version"], "reason": "x"})
    erased = ok(body, "eraseCustomer")["customer"]
    assert await search("aiqiyi", archived=True) == []
    assert await search("erased customer", archived=True) == [erased["name"]]
    # An archived customer keeps its keys (found among archived ones).
    zeta = made[ZETA]
    ok(await admin.gql(ARCHIVE, {"id": zeta["id"], "version": zeta["version"]}), "archiveCustomer")
    assert await search("zeta", archived=True) == [ZETA]
    # An import.
    text = "name,email\n深圳华为技术有限公司,hw@example.com\n"
    body = await admin.gql(
        "mutation($csv: String!) { importCustomers(input: {csv: $csv}) { created errors "
        "{ code } } }",
        {"csv": text},
    )
    assert body["data"]["importCustomers"] == {"created": 1, "errors": []}, body
    assert await search("shenzhen") == ["深圳华为技术有限公司"]
    assert await search("szhw") == ["深圳华为技术有限公司"]


async def test_inserts_outside_the_orm_get_their_keys(admin: Api) -> None:
    # Rows inserted with Core (as scripts and demo data do) and in bulk (COPY on PostgreSQL)
    # get their keys from the columns' defaults.
    row = {"kind": "COMPANY", "stage": "POTENTIAL", "grade": "STANDARD", "custom_fields": {}}
    async with admin.db.transaction() as session:
        await session.execute(
            insert(models.Customer).values(number="X1", name="杭州西湖", version=1, **row)
        )
        await bulk_insert(
            session,
            models.Customer,
            [{"number": "X2", "name": "南京路", "version": 1, **row}],
        )
        await session.execute(insert(models.Tag), [{"name": "华东", "name_key": "华东"}])
    assert await listed(admin, filter={"search": "hangzhou"}) == ["杭州西湖"]
    assert await listed(admin, filter={"search": "njl"}) == ["南京路"]
    async with admin.db.read() as session:
        stored = (
            await session.execute(
                select(
                    models.Customer.number, models.Customer.search_key, models.Customer.name_sort
                )
            )
        ).all()
        tag_sort = await session.scalar(select(models.Tag.name_sort))
    assert {number: (key, sort) for number, key, sort in stored} == {
        "X1": (search_key("杭州西湖", "X1"), sort_key("杭州西湖")),
        "X2": (search_key("南京路", "X2"), sort_key("南京路")),
    }
    assert tag_sort == sort_key("华东") == "hua2 dong1"
