"""A DUPLICATE refusal names the customer that has the email or phone only to a caller who
may read that customer: it must not tell a sales representative that a customer they may
not see exists, nor its number (existence oracle).

Every path that checks duplicates is covered: ``createCustomer``, ``updateCustomer``,
``restoreCustomer`` and a dry-run ``importCustomers``; an administrator (and a
representative for their own customer) still learns the number.
"""

from __future__ import annotations

from typing import Any

from core.catalog import SALES_REPRESENTATIVE
from tests.support import Api

CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) {
    customer { id number version } errors { field message code }
  }
}"""
UPDATE = """
mutation($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) { customer { id } errors { field message code } }
}"""
ARCHIVE = """
mutation($id: ID!, $version: Int!) {
  archiveCustomer(input: {id: $id, version: $version}) {
    customer { version } errors { field message code }
  }
}"""
RESTORE = """
mutation($id: ID!, $version: Int!) {
  restoreCustomer(input: {id: $id, version: $version}) {
    customer { id } errors { field message code }
  }
}"""
IMPORT = """
mutation($csv: String!, $matchOn: [ImportMatch!]!) {
  importCustomers(input: {csv: $csv, matchOn: $matchOn, dryRun: true}) {
    created imported rowErrors { line field message code } errors { field code }
  }
}"""

EMAIL = "bravo@example.com"
PHONE = "+12125550199"
NEUTRAL = {
    "email": "another customer already has this email",
    "phone": "another customer already has this phone",
}


def payload(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][name]
    return result


def errors(body: dict[str, Any], name: str) -> dict[str, tuple[str, str]]:
    """The payload's errors: field -> (code, message)."""
    return {e["field"]: (e["code"], e["message"]) for e in payload(body, name)["errors"]}


async def create(api: Api, **fields: Any) -> dict[str, Any]:
    result = payload(await api.gql(CREATE, {"input": fields}), "createCustomer")
    assert result["errors"] == [], result
    customer: dict[str, Any] = result["customer"]
    return customer


async def representatives(api: Api) -> tuple[Api, Api, dict[str, Any]]:
    """Two sales representatives of one team; the second owns Bravo (email and phone)."""
    rep1 = await api.user("rep1@example.com", [SALES_REPRESENTATIVE], team="North")
    rep2 = await api.user("rep2@example.com", [SALES_REPRESENTATIVE], team="North")
    bravo = await create(rep2, name="Bravo", email=EMAIL, phone=PHONE)
    return rep1, rep2, bravo


async def test_create_and_update_do_not_name_a_customer_the_caller_cannot_see(api: Api) -> None:
    rep1, _, bravo = await representatives(api)

    created = await rep1.gql(CREATE, {"input": {"name": "Mine", "email": EMAIL, "phone": PHONE}})
    assert payload(created, "createCustomer")["customer"] is None
    assert errors(created, "createCustomer") == {
        "email": ("DUPLICATE", NEUTRAL["email"]),
        "phone": ("DUPLICATE", NEUTRAL["phone"]),
    }
    assert bravo["number"] not in str(created)

    alpha = await create(rep1, name="Alpha", email="alpha@example.com")
    updated = await rep1.gql(
        UPDATE,
        {"input": {"id": alpha["id"], "version": alpha["version"], "email": EMAIL, "phone": PHONE}},
    )
    assert errors(updated, "updateCustomer") == {
        "email": ("DUPLICATE", NEUTRAL["email"]),
        "phone": ("DUPLICATE", NEUTRAL["phone"]),
    }
    assert bravo["number"] not in str(updated)

    # A customer the representative may read is still named: it is theirs.
    again = await rep1.gql(CREATE, {"input": {"name": "Alpha 2", "email": "alpha@example.com"}})
    assert errors(again, "createCustomer") == {
        "email": ("DUPLICATE", f"customer {alpha['number']} already has this email")
    }


async def test_restore_does_not_name_a_customer_the_caller_cannot_see(api: Api) -> None:
    rep1 = await api.user("rep1@example.com", [SALES_REPRESENTATIVE])
    rep2 = await api.user("rep2@example.com", [SALES_REPRESENTATIVE])
    old = await create(rep1, name="Old", email=EMAIL)
    archived = payload(
        await rep1.gql(ARCHIVE, {"id": old["id"], "version": old["version"]}), "archiveCustomer"
    )
    assert archived["errors"] == [], archived
    bravo = await create(rep2, name="Bravo", email=EMAIL)

    restored = await rep1.gql(
        RESTORE, {"id": old["id"], "version": archived["customer"]["version"]}
    )
    assert errors(restored, "restoreCustomer") == {"email": ("DUPLICATE", NEUTRAL["email"])}
    assert bravo["number"] not in str(restored)


async def test_a_dry_run_import_does_not_name_a_customer_the_caller_cannot_see(api: Api) -> None:
    rep1, _, bravo = await representatives(api)

    result = payload(
        await rep1.gql(
            IMPORT, {"csv": f"name,email,phone\nMine,{EMAIL},{PHONE}\n", "matchOn": ["EMAIL"]}
        ),
        "importCustomers",
    )
    assert (result["created"], result["imported"], result["errors"]) == (0, False, [])
    assert [(e["line"], e["field"], e["code"], e["message"]) for e in result["rowErrors"]] == [
        (2, "email", "DUPLICATE", NEUTRAL["email"]),
        (2, "phone", "DUPLICATE", NEUTRAL["phone"]),
    ]
    assert bravo["number"] not in str(result)


async def test_an_administrator_still_learns_the_number(api: Api) -> None:
    _, _, bravo = await representatives(api)
    admin = await api.user("admin@example.com", ["ADMINISTRATOR"])
    named = {
        "email": ("DUPLICATE", f"customer {bravo['number']} already has this email"),
        "phone": ("DUPLICATE", f"customer {bravo['number']} already has this phone"),
    }

    created = await admin.gql(CREATE, {"input": {"name": "Copy", "email": EMAIL, "phone": PHONE}})
    assert errors(created, "createCustomer") == named

    charlie = await create(admin, name="Charlie")
    updated = await admin.gql(
        UPDATE,
        {
            "input": {
                "id": charlie["id"],
                "version": charlie["version"],
                "email": EMAIL,
                "phone": PHONE,
            }
        },
    )
    assert errors(updated, "updateCustomer") == named

    # Matched on an empty number column, the row creates a customer, and is refused.
    result = payload(
        await admin.gql(
            IMPORT,
            {"csv": f"number,name,email,phone\n,Copy,{EMAIL},{PHONE}\n", "matchOn": ["NUMBER"]},
        ),
        "importCustomers",
    )
    assert [(e["field"], e["code"], e["message"]) for e in result["rowErrors"]] == [
        ("email", *named["email"]),
        ("phone", *named["phone"]),
    ]
