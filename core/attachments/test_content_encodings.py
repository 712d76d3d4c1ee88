"""Text files are taken in UTF-8 (with or without a byte-order mark), UTF-16 with its
byte-order mark and GB18030 (GBK): what Excel on Chinese Windows saves as CSV. They are kept
as they came and served with their charset; bytes that are text in none of them are
refused on ``file``."""

from __future__ import annotations

import pytest

from core.attachments.content import ContentRefused, content_type_of
from core.attachments.test_attachments import attach, attached, download, refused_file
from core.customers.test_customers_api import create
from tests.support import Api

CSV = "名称,城市\n北京远航科技有限公司,北京\n上海东方贸易,上海\n"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (CSV.encode("utf-8"), "text/csv; charset=utf-8"),
        (CSV.encode("utf-8-sig"), "text/csv; charset=utf-8"),
        (CSV.encode("utf-16"), "text/csv; charset=utf-16"),
        (CSV.encode("utf-16-be").join([b"\xfe\xff", b""]), "text/csv; charset=utf-16"),
        (CSV.encode("gbk"), "text/csv; charset=gb18030"),
        (CSV.encode("gb18030"), "text/csv; charset=gb18030"),
        ("name\nZoë\n".encode(), "text/csv; charset=utf-8"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le", "utf-16-be", "gbk", "gb18030", "latin-in-utf-8"],
)
def test_text_in_each_encoding_is_taken_with_its_charset(data: bytes, content_type: str) -> None:
    assert content_type_of("customers.csv", data) == content_type
    assert content_type_of("notes.txt", data) == content_type.replace("text/csv", "text/plain")


@pytest.mark.parametrize(
    "data",
    [
        b"name\n\xff\xfe\xfd garbage\n",  # neither UTF-8 nor GB18030
        "name\nZoë\n".encode("latin-1"),  # ë alone is no GB18030 either
        b"\xff\xfe\x00\xd8",  # a UTF-16 mark, then half a surrogate pair
        "name,city\n".encode("utf-16-le"),  # UTF-16 without its mark reads with NULs
    ],
    ids=["garbage", "latin-1", "broken-utf-16", "utf-16-without-mark"],
)
def test_bytes_that_are_no_such_text_are_refused_naming_the_encodings(data: bytes) -> None:
    with pytest.raises(ContentRefused) as refused:
        content_type_of("customers.csv", data)
    assert "UTF-8, UTF-16 (with its byte-order mark) or GB18030" in str(refused.value)


async def test_a_gbk_csv_is_attached_as_it_came_and_garbage_is_refused(admin: Api) -> None:
    acme = await create(admin, name="Acme")
    gbk = CSV.encode("gbk")
    file = await attached(admin, acme["id"], "客户.csv", gbk)
    assert file["contentType"] == "text/csv; charset=gb18030"
    response = await download(admin, file["downloadUrl"])
    assert response.content == gbk
    assert response.content.decode("gb18030") == CSV

    assert await refused_file(admin, acme["id"], "customers.csv", b"a,b\n\x80\xff\n") == {
        "file": "INVALID"
    }
    body = (await attach(admin, acme["id"], "customers.csv", b"a,b\n\x80\xff\n")).json()
    (error,) = body["data"]["attachFile"]["errors"]
    assert error["field"] == "file"
    assert "GB18030" in error["message"]
