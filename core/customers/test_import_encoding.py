"""Encodings of customer imports and exports: UTF-8 (with or without a byte-order mark),
UTF-16 with its byte-order mark and GB18030 (GBK: what Excel on Chinese Windows saves as
CSV), found out or named; mis-decoded
text (mojibake, U+FFFD) refused with its line and column and never stored; the CSV export
in UTF-8 with a BOM, UTF-8 or GB18030.

Every import here either stores exactly what the file says (read back and compared) or is
refused and stores nothing. API tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import codecs
import csv
import io
from typing import Any

import httpx
import pytest

from core.customers.test_import_upload import refusal, upload
from core.text_encoding import (
    ImportEncoding,
    TextEncodingError,
    decode,
    export_encoding,
    import_encoding,
    misreading,
)
from tests.support import Api

IMPORT = """
mutation($input: ImportCustomersInput!) {
  importCustomers(input: $input) {
    created imported
    rowErrors { line field message code }
    errors { field message code }
  }
}"""
START = """
mutation($input: StartCustomerImportInput!) {
  startCustomerImport(input: $input) {
    customerImport { id status totalRows }
    errors { field message code }
  }
}"""
PROGRESS = """
query($id: ID!) { customerImport(id: $id) { status imported created errorCount } }"""
CUSTOMERS = """
{ customers(first: 100, orderBy: [{field: NUMBER}]) {
    totalCount
    edges { node { name industry email address { city region } tags { name } } }
} }"""

FULL_WIDTH = "（上海）ＡＢＣ１２３"  # noqa: RUF001 (full-width brackets, letters and digits)
# The Chinese data set: company and person names, tags, a full-width name with full-width
# brackets, and cities; every value in the file, read back, must be exactly as written.
CHINESE_ROWS = [
    {
        "name": "北京远航科技有限公司",
        "industry": "软件",
        "email": "info@yuanhang.example",
        "city": "北京",
        "region": "北京市",
        "tags": "重点客户;华北",
    },
    {
        "name": FULL_WIDTH + "贸易有限公司",
        "industry": "贸易",
        "email": "abc@shanghai.example",
        "city": "上海",
        "region": "上海市",
        "tags": "重点客户",
    },
    {
        "name": "张伟",
        "industry": "",
        "email": "zhangwei@example.com",
        "city": "深圳",
        "region": "广东省",
        "tags": "个人;喆",
    },
]
# Text that is not Chinese and must pass as it is: accents, emoji, a 200-character name.
OTHER_ROWS = [
    {"name": "Müller GmbH", "industry": "Maschinenbau", "email": "info@mueller.example",
     "city": "München", "region": "Bayern", "tags": "Großkunde"},
    {"name": "Société Générale", "industry": "Banque", "email": "contact@sg.example",
     "city": "Paris", "region": "Île-de-France", "tags": "clé;Ça va"},
    {"name": "Party Shop 🎉😀", "industry": "", "email": "party@example.com",
     "city": "São Paulo", "region": "", "tags": "🎉"},
    {"name": "中" * 100 + "华" * 100, "industry": "", "email": "long@example.cn",
     "city": "", "region": "", "tags": ""},
]  # fmt: skip
HEADER = ["name", "industry", "email", "city", "region", "tags"]


def csv_text(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


async def import_input(api: Api, **input: Any) -> dict[str, Any]:
    body = await api.gql(IMPORT, {"input": input})
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["importCustomers"]
    return result


async def stored(api: Api) -> list[dict[str, str]]:
    """Every customer as the rows of the file that made it."""
    body = await api.gql(CUSTOMERS)
    return [
        {
            "name": node["name"],
            "industry": node["industry"] or "",
            "email": node["email"],
            "city": node["address"]["city"] or "",
            "region": node["address"]["region"] or "",
            "tags": ";".join(sorted(t["name"] for t in node["tags"])),
        }
        for node in (edge["node"] for edge in body["data"]["customers"]["edges"])
    ]


def expected(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{**row, "tags": ";".join(sorted(filter(None, row["tags"].split(";"))))} for row in rows]


async def assert_nothing_stored(api: Api) -> None:
    body = await api.gql("{ customers(first: 1) { totalCount } }")
    assert body["data"]["customers"]["totalCount"] == 0


# ----------------------------------------------------------------------------- files that import


@pytest.mark.parametrize(
    ("encoding", "raw"),
    [
        ("AUTO", csv_text(CHINESE_ROWS).encode("gb18030")),
        ("GB18030", csv_text(CHINESE_ROWS).encode("gb18030")),
        ("AUTO", csv_text(CHINESE_ROWS).encode("utf-8-sig")),
        ("UTF_8", csv_text(CHINESE_ROWS).encode("utf-8-sig")),
        ("AUTO", csv_text(CHINESE_ROWS).encode("utf-8")),
        ("AUTO", csv_text(CHINESE_ROWS).encode("gbk")),
        ("GB18030", csv_text(CHINESE_ROWS).encode("gbk")),
        ("AUTO", csv_text(CHINESE_ROWS).encode("utf-16")),
        ("AUTO", codecs.BOM_UTF16_BE + csv_text(CHINESE_ROWS).encode("utf-16-be")),
    ],
    ids=[
        "gb18030-auto",
        "gb18030-named",
        "utf8-bom-auto",
        "utf8-bom-named",
        "utf8-auto",
        "gbk-auto",
        "gbk-named",
        "utf16-le-bom-auto",
        "utf16-be-bom-auto",
    ],
)
async def test_a_chinese_file_imports_exactly_what_it_says(
    admin: Api, encoding: str, raw: bytes
) -> None:
    result = await import_input(admin, csvBase64=b64(raw), encoding=encoding)
    assert result == {"created": 3, "imported": True, "rowErrors": [], "errors": []}
    assert await stored(admin) == expected(CHINESE_ROWS)


async def test_accents_emoji_and_long_chinese_names_pass_as_text_and_as_bytes(admin: Api) -> None:
    first, rest = OTHER_ROWS[:2], OTHER_ROWS[2:]
    result = await import_input(admin, csv=csv_text(first))
    assert result == {"created": 2, "imported": True, "rowErrors": [], "errors": []}
    result = await import_input(admin, csvBase64=b64(csv_text(rest).encode("utf-8")))
    assert result == {"created": 2, "imported": True, "rowErrors": [], "errors": []}
    assert await stored(admin) == expected(OTHER_ROWS)


async def test_a_background_import_decodes_a_gb18030_file(admin: Api) -> None:
    raw = csv_text(CHINESE_ROWS).encode("gb18030")
    body = await admin.gql(START, {"input": {"csvBase64": b64(raw)}})
    started = body["data"]["startCustomerImport"]
    assert started["errors"] == [], started
    assert await admin.run_jobs() == 1
    done = (await admin.gql(PROGRESS, {"id": started["customerImport"]["id"]}))["data"]
    assert done["customerImport"] == {
        "status": "SUCCEEDED",
        "imported": True,
        "created": 3,
        "errorCount": 0,
    }
    assert await stored(admin) == expected(CHINESE_ROWS)


@pytest.mark.parametrize(
    ("params", "content_type"),
    [
        ({}, "text/csv"),
        ({"encoding": "GB18030"}, "text/csv"),
        ({"encoding": "gbk"}, "text/csv"),
        ({}, "text/csv; charset=GBK"),
        ({"encoding": "GB18030"}, "text/csv; charset=gb18030"),
    ],
    ids=["detected", "named", "named-gbk", "charset", "both"],
)
async def test_an_uploaded_gb18030_file_is_detected_or_named(
    admin: Api, params: dict[str, str], content_type: str
) -> None:
    response = await admin.client.post(
        "/import/customers",
        content=csv_text(CHINESE_ROWS).encode("gb18030"),
        params=params,
        headers={**admin.headers, "Content-Type": content_type},
    )
    assert response.status_code == 202, response.text
    assert await admin.run_jobs() == 1
    assert await stored(admin) == expected(CHINESE_ROWS)


# ----------------------------------------------------------------------------- files refused


def _errors(result: dict[str, Any]) -> list[tuple[str, str]]:
    assert result["imported"] is False
    assert result["rowErrors"] == []
    return [(e["field"], e["message"]) for e in result["errors"]]


async def test_mis_decoded_text_is_refused_by_line_and_column(admin: Api) -> None:
    good = csv_text(CHINESE_ROWS)
    # A client read the GB18030 file as Windows-1252 and sent what it got.
    gbk_as_western = good.encode("gb18030").decode("cp1252", errors="replace")
    # ... or read a UTF-8 file as GBK (张伟 reads as 寮犱紵).
    utf8_as_gbk = csv_text(CHINESE_ROWS[2:]).encode("utf-8").decode("gbk", errors="replace")
    # ... or read the GB18030 file as UTF-8, replacing what it could not read.
    replaced = good.encode("gb18030").decode("utf-8", errors="replace")
    for text, words in [
        (gbk_as_western, "GB18030 (GBK) text read as Latin-1 or Windows-1252"),
        (utf8_as_gbk, "UTF-8 text read as GB18030"),
        (replaced, "U+FFFD replacement characters"),
    ]:
        errors = _errors(await import_input(admin, csv=text))
        assert errors, text
        assert all(field == "csv" for field, _message in errors)
        message = errors[0][1]
        assert message.startswith("line 2, column name: "), message
        assert words in message, message
    errors = _errors(await import_input(admin, csv=gbk_as_western))
    assert 'it may mean "北京远航科技有限公司"' in errors[0][1]
    await assert_nothing_stored(admin)


async def test_a_utf8_file_named_gb18030_is_refused_as_mis_decoded(admin: Api) -> None:
    raw = "name,email\n张伟,zw@example.com\n".encode()  # 张伟 reads as GB18030 寮犱紵
    result = await import_input(admin, csvBase64=b64(raw), encoding="GB18030")
    errors = _errors(result)
    assert errors[0][0] == "csvBase64"
    assert "line 2, column name: looks mis-decoded (UTF-8 text read as GB18030" in errors[0][1]
    await assert_nothing_stored(admin)


async def test_a_latin1_file_is_refused_never_stored(admin: Api) -> None:
    # "Müller GmbH" in Latin-1 is also well-formed GB18030 ("M黮ler GmbH"): mis-decoded.
    as_gb = "name,email\nMüller GmbH,info@mueller.example\n".encode("latin-1")
    errors = _errors(await import_input(admin, csvBase64=b64(as_gb)))
    assert errors == [
        (
            "csvBase64",
            "line 2, column name: looks mis-decoded (Latin-1 or Windows-1252 text read as "
            'GB18030; it may mean "Müller GmbH")',
        )
    ]
    # "Zoë," is neither UTF-8 nor GB18030.
    neither = "name,email\nZoë,zoe@example.com\n".encode("latin-1")
    errors = _errors(await import_input(admin, csvBase64=b64(neither)))
    assert errors == [
        (
            "csvBase64",
            "is neither UTF-8 nor GB18030 text (byte 13 cannot be read as UTF-8, byte 13 as "
            "GB18030); save the file as CSV UTF-8, or name its encoding with the encoding "
            "option (UTF_8 or GB18030)",
        )
    ]
    for encoding, words in [("UTF_8", "is not UTF-8 text"), ("GB18030", "is not GB18030 text")]:
        errors = _errors(await import_input(admin, csvBase64=b64(neither), encoding=encoding))
        assert errors[0][0] == "csvBase64"
        assert errors[0][1].startswith(words)
        assert "name its encoding with the encoding option" in errors[0][1]
    await assert_nothing_stored(admin)


async def test_the_file_inputs_are_checked_by_name(admin: Api) -> None:
    raw = b64(b"name\nAcme\n")
    both = await import_input(admin, csv="name\nAcme\n", csvBase64=raw)
    assert [(e["field"], e["code"]) for e in both["errors"]] == [
        ("csv", "INVALID"),
        ("csvBase64", "INVALID"),
    ]
    neither = await import_input(admin)
    assert [(e["field"], e["code"]) for e in neither["errors"]] == [
        ("csv", "REQUIRED"),
        ("csvBase64", "REQUIRED"),
    ]
    assert "exactly one of csv" in neither["errors"][0]["message"]
    bad = await import_input(admin, csvBase64="bmFtZQpBY21l!")
    assert [(e["field"], e["code"]) for e in bad["errors"]] == [("csvBase64", "INVALID")]
    assert "is not valid base64" in bad["errors"][0]["message"]
    text_named = await import_input(admin, csv="name\nAcme\n", encoding="GB18030")
    assert [(e["field"], e["code"]) for e in text_named["errors"]] == [("encoding", "INVALID")]
    unknown = await import_input(admin, csvBase64=b64(b"name,colour\nAcme,red\n"))
    assert [(e["field"], e["code"]) for e in unknown["errors"]] == [("csvBase64", "INVALID")]
    assert "unknown columns: colour" in unknown["errors"][0]["message"]
    body = await admin.gql(IMPORT, {"input": {"csvBase64": raw, "encoding": "LATIN1"}})
    assert "Value 'LATIN1' does not exist in 'ImportEncoding' enum" in body["errors"][0]["message"]
    body = await admin.gql(START, {"input": {"csv": "name\n", "csvBase64": raw}})
    fields = [e["field"] for e in body["data"]["startCustomerImport"]["errors"]]
    assert fields == ["csv", "csvBase64"]
    await assert_nothing_stored(admin)


async def test_an_upload_is_refused_when_it_cannot_be_read_as_named(admin: Api) -> None:
    gbk = csv_text(CHINESE_ROWS).encode("gb18030")
    error = refusal(await upload(admin, gbk, encoding="UTF-8"), 400)
    assert error["extensions"] == {"code": "INVALID", "field": "csv"}
    assert error["message"].startswith("csv: is not UTF-8 text (byte ")
    assert "name its encoding with the encoding option" in error["message"]
    for params, content_type, words in [
        ({"encoding": "latin-1"}, "text/csv", "encoding: must be AUTO, UTF_8 or GB18030"),
        ({}, "text/csv; charset=latin-1", "encoding: the Content-Type charset must be"),
        ({"encoding": "UTF-8"}, "text/csv; charset=GBK", "encoding: names another encoding"),
    ]:
        response = await admin.client.post(
            "/import/customers",
            content=gbk,
            params=params,
            headers={**admin.headers, "Content-Type": content_type},
        )
        error = refusal(response, 400)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "encoding"}
        assert error["message"].startswith(words), error["message"]
    western = csv_text(CHINESE_ROWS).encode("gb18030").decode("cp1252", errors="replace")
    response = await upload(admin, western.encode("utf-8"))
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert len(errors) == 10  # the first ten values that look mis-decoded
    assert errors[0]["extensions"] == {"code": "INVALID", "field": "csv"}
    assert errors[0]["message"].startswith("csv: line 2, column name: looks mis-decoded")
    assert await admin.run_jobs() == 0
    await assert_nothing_stored(admin)


async def test_garbage_bytes_are_refused_naming_the_input(admin: Api) -> None:
    garbage = b"name,email\n\x80\xff\xfe\x81,x@example.com\n"
    errors = _errors(await import_input(admin, csvBase64=b64(garbage)))
    assert [field for field, _message in errors] == ["csvBase64"]
    assert errors[0][1].startswith("is neither UTF-8 nor GB18030 text")
    body = await admin.gql(START, {"input": {"csvBase64": b64(garbage)}})
    refused = body["data"]["startCustomerImport"]
    assert refused["customerImport"] is None
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("csvBase64", "INVALID")]
    error = refusal(await upload(admin, garbage), 400)
    assert error["extensions"] == {"code": "INVALID", "field": "csv"}
    assert error["message"].startswith("csv: is neither UTF-8 nor GB18030 text")
    assert await admin.run_jobs() == 0
    await assert_nothing_stored(admin)


async def test_an_uploaded_utf16_file_is_read_by_its_byte_order_mark(admin: Api) -> None:
    response = await upload(admin, csv_text(CHINESE_ROWS).encode("utf-16"))
    assert response.status_code == 202, response.text
    assert await admin.run_jobs() == 1
    assert await stored(admin) == expected(CHINESE_ROWS)


@pytest.mark.parametrize(
    ("codec", "params", "content_type"),
    [
        ("utf-16", {}, "text/csv; charset=utf-16"),
        ("utf-16", {"encoding": "UTF-16"}, "text/csv"),
        ("utf-16-le", {"encoding": "utf_16le"}, "text/csv; charset=UTF-16LE"),
        ("utf-16-be", {"encoding": "UTF16BE"}, "text/csv"),
        ("utf-16-le", {"encoding": "AUTO"}, 'text/csv; charset="utf-16be"'),
    ],
    ids=["charset", "named", "le-both", "be", "auto-and-charset"],
)
async def test_an_upload_named_utf16_is_read_by_its_byte_order_mark(
    admin: Api, codec: str, params: dict[str, str], content_type: str
) -> None:
    mark = codecs.BOM_UTF16_BE if codec.endswith("be") else codecs.BOM_UTF16_LE
    data = csv_text(CHINESE_ROWS).encode(codec)
    response = await admin.client.post(
        "/import/customers",
        content=data if codec == "utf-16" else mark + data,
        params=params,
        headers={**admin.headers, "Content-Type": content_type},
    )
    assert response.status_code == 202, response.text
    assert await admin.run_jobs() == 1
    assert await stored(admin) == expected(CHINESE_ROWS)


@pytest.mark.parametrize(
    ("data", "params", "content_type"),
    [
        (csv_text(CHINESE_ROWS).encode("utf-16-le"), {}, "text/csv; charset=utf-16"),
        (csv_text(CHINESE_ROWS).encode("utf-16-be"), {"encoding": "UTF-16BE"}, "text/csv"),
        (csv_text(CHINESE_ROWS).encode("utf-8"), {"encoding": "utf-16"}, "text/csv"),
    ],
    ids=["le-charset", "be-named", "utf8-named-utf16"],
)
async def test_an_upload_named_utf16_without_its_mark_is_refused(
    admin: Api, data: bytes, params: dict[str, str], content_type: str
) -> None:
    response = await admin.client.post(
        "/import/customers",
        content=data,
        params=params,
        headers={**admin.headers, "Content-Type": content_type},
    )
    error = refusal(response, 400)
    assert error["extensions"] == {"code": "INVALID", "field": "csv"}
    assert error["message"].startswith(
        "csv: was named UTF-16 but does not start with a UTF-16 byte-order mark"
    ), error["message"]
    assert await admin.run_jobs() == 0
    await assert_nothing_stored(admin)


async def test_utf16_named_with_another_encoding_is_refused(admin: Api) -> None:
    response = await admin.client.post(
        "/import/customers",
        content=csv_text(CHINESE_ROWS).encode("utf-16"),
        params={"encoding": "UTF_8"},
        headers={**admin.headers, "Content-Type": "text/csv; charset=utf-16"},
    )
    error = refusal(response, 400)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "encoding"}
    assert error["message"].startswith("encoding: names another encoding")


# ----------------------------------------------------------------------------- export


async def _export(api: Api, **params: str) -> httpx.Response:
    return await api.client.get("/export/customers.csv", params=params, headers=api.headers)


async def test_the_csv_export_is_written_in_the_encoding_asked_for(admin: Api) -> None:
    rows = CHINESE_ROWS + OTHER_ROWS
    assert (await import_input(admin, csv=csv_text(rows)))["imported"] is True
    default = await _export(admin)
    assert default.status_code == 200, default.text
    assert default.headers["content-type"] == "text/csv; charset=utf-8"
    assert default.content.startswith(b"\xef\xbb\xbfnumber,name,")
    plain = await _export(admin, encoding="UTF_8")
    assert plain.content.startswith(b"number,name,")
    assert plain.content.decode("utf-8") == default.content.decode("utf-8-sig")
    gb = await _export(admin, encoding="gb18030")
    assert gb.status_code == 200, gb.text
    assert gb.headers["content-type"] == "text/csv; charset=GB18030"
    assert gb.content.decode("gb18030") == plain.content.decode("utf-8")
    names = [row["name"] for row in csv.DictReader(io.StringIO(gb.content.decode("gb18030")))]
    assert sorted(names) == sorted(row["name"] for row in rows)

    # The import reads the export back, in any of its encodings, as the same text.
    for response in (default, plain, gb):
        assert decode(response.content) == plain.content.decode("utf-8")

    bad = await _export(admin, encoding="latin-1")
    assert bad.status_code == 400
    assert bad.json()["errors"][0] == {
        "message": "encoding: must be UTF_8_BOM, UTF_8 or GB18030",
        "extensions": {"code": "BAD_USER_INPUT", "argument": "encoding"},
    }


def test_gb18030_encodes_every_character() -> None:
    # Nothing an export holds can fail to encode: GB18030 maps all of Unicode.
    everything = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert everything.encode("gb18030").decode("gb18030") == everything


# ----------------------------------------------------------------------------- the rules


LEGITIMATE = [
    "Müller",
    "Société Générale",
    "Instituição de Educação",
    "Straße",
    "Ærøskøbing",
    "Crème brûlée",
    "Łódź",
    "Ελληνικά",
    "Привет",
    "İstanbul",
    "Nguyễn Văn A",
    "São Paulo",
    "L'Oréal",
    "€100 ©®™ “quoted” «Paris»",
    "北京远航科技有限公司",
    "张伟",
    "小",
    "重点客户",
    FULL_WIDTH,
    FULL_WIDTH[4:7],
    "北京ABC科技",
    "iPhone专卖店",
    "丟為們",
    "こんにちは",
    "서울",
    "😀 party 🎉",
    "中" * 200,
    # Chinese whose GB18030 bytes happen to be valid UTF-8 of mixed scripts (摇头叹息 reads
    # as ҡͷ̾Ϣ): no misreading, and one such value must not refuse a whole file.
    "摇头叹息",
    "忙忙碌碌",
    "寻枝摘叶",
    "庸庸碌碌",
]


@pytest.mark.parametrize("text", LEGITIMATE)
def test_legitimate_text_is_not_taken_for_mojibake(text: str) -> None:
    assert misreading(text) is None


MEANT = ["北京远航科技有限公司", "张伟", "重点客户", FULL_WIDTH, "Müller", "São Paulo"]


def _garbled() -> list[tuple[str, str]]:
    """Each meant text as a client that decoded its bytes the wrong way sends it."""
    cases = []
    for meant in MEANT:
        for written, read in [
            ("gb18030", "cp1252"),
            ("gb18030", "latin-1"),
            ("utf-8", "cp1252"),
            ("utf-8", "gbk"),
            ("latin-1", "gb18030"),
        ]:
            try:
                garbled = meant.encode(written).decode(read, errors="replace")
            except UnicodeEncodeError:
                continue  # not text that can be written in that encoding
            cases.append((meant, garbled))
    return cases


@pytest.mark.parametrize(("meant", "garbled"), _garbled())
def test_mojibake_is_found(meant: str, garbled: str) -> None:
    assert garbled != meant
    assert misreading(garbled) is not None, garbled


def test_decoding_is_strict_and_names_the_encoding_option() -> None:
    assert decode("\ufeffname\n".encode()) == "name\n"
    assert decode("名称\n".encode("gb18030")) == "名称\n"
    assert decode("名称\n".encode("gb18030"), ImportEncoding.GB18030) == "名称\n"
    assert decode("名称\n".encode("utf-16")) == "名称\n"
    assert decode(codecs.BOM_UTF16_BE + "名称\n".encode("utf-16-be")) == "名称\n"
    assert decode("名称\n".encode("gbk")) == "名称\n"
    for data, encoding, words in [
        (
            "名称".encode("utf-16"),
            ImportEncoding.UTF_8,
            "starts with a UTF-16 byte-order mark, but UTF_8 was named",
        ),
        (
            b"\xff\xfe\x00\xd8",
            ImportEncoding.AUTO,
            "starts with a UTF-16 byte-order mark but is not UTF-16 text (byte 2",
        ),
        ("name\n".encode("utf-16-le"), ImportEncoding.AUTO, "holds NUL characters"),
        ("\ufeff名称".encode(), ImportEncoding.GB18030, "starts with a UTF-8 byte-order mark"),
        ("\ufeff名称".encode() + b"\xff", ImportEncoding.AUTO, "is not UTF-8 text (byte 9"),
        (b"name\n\xff", ImportEncoding.UTF_8, "is not UTF-8 text (byte 5"),
    ]:
        with pytest.raises(TextEncodingError, match="encoding"):
            decode(data, encoding)
        with pytest.raises(TextEncodingError) as caught:
            decode(data, encoding)
        assert str(caught.value).startswith(words)
    assert import_encoding("utf-8") is ImportEncoding.UTF_8
    assert import_encoding(" GBK ") is ImportEncoding.GB18030
    assert import_encoding("UTF-16LE") is ImportEncoding.AUTO  # read by its byte-order mark
    with pytest.raises(TextEncodingError, match="or UTF_16 for a file with a UTF-16 byte-order"):
        import_encoding("utf-32")
    with pytest.raises(TextEncodingError):
        import_encoding("latin-1")
    with pytest.raises(TextEncodingError):
        export_encoding("utf-16")
