"""Download links belong to the sign-in that asked for them: a link made through an API
token or a session is checked, when followed, with that token's or session's grants, and
stops working once the token is revoked or expires or the session ends.

Each test runs on SQLite and (with ``CRM_TEST_POSTGRES_URL``) PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from strawberry import relay

from core.attachments import service
from core.attachments.test_attachments import CUSTOMER_FILES, PDF, attached, download
from core.config import Settings
from core.customers.test_customers_api import create
from tests.support import Api, FakeClock, running_app

CREATE_TOKEN = """
mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { apiToken { id } secret errors { field message code } }
}"""
REVOKE_TOKEN = """
mutation($id: ID!) {
  revokeApiToken(input: {id: $id}) { apiToken { revokedAt } errors { field message code } }
}"""


async def token_api(api: Api, **input: Any) -> tuple[Api, str]:
    """``api``'s user signing requests with a new API token; and the token's node id."""
    body = await api.gql(CREATE_TOKEN, {"input": {"name": "links", **input}})
    payload = body["data"]["createApiToken"]
    assert payload["errors"] == [], payload
    return api.with_token(payload["secret"], api.user_id, api.email), payload["apiToken"]["id"]


async def link_of(api: Api, customer_id: str) -> str:
    body = await api.gql(CUSTOMER_FILES, {"id": customer_id})
    url: str = body["data"]["customer"]["attachments"][0]["downloadUrl"]
    return url


def refused_as(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["errors"][0]["extensions"]["code"]


async def test_a_link_stops_working_when_its_api_token_is_revoked(admin: Api) -> None:
    acme = await create(admin, name="Acme")
    await attached(admin, acme["id"], "a.pdf", PDF)
    by_token, token_id = await token_api(admin)
    url = await link_of(by_token, acme["id"])
    assert "token=" in url
    assert "session=" not in url
    assert (await download(admin, url)).content == PDF

    revoked = await admin.gql(REVOKE_TOKEN, {"id": token_id})
    assert revoked["data"]["revokeApiToken"]["errors"] == [], revoked
    assert refused_as(await download(admin, url)) == (403, "FORBIDDEN")
    # The same user's own links (another sign-in) still work
    assert (await download(admin, await link_of(admin, acme["id"]))).content == PDF


async def test_a_link_stops_working_when_its_session_ends(admin: Api) -> None:
    acme = await create(admin, name="Acme")
    await attached(admin, acme["id"], "a.pdf", PDF)
    url = await link_of(admin, acme["id"])
    assert "session=" in url
    assert (await download(admin, url)).content == PDF

    body = await admin.gql("mutation { logout { errors { message } } }")
    assert body["data"]["logout"]["errors"] == [], body
    response = await download(admin, url)
    assert refused_as(response) == (403, "FORBIDDEN")
    assert "ask for a new one" in response.json()["errors"][0]["message"]


async def test_a_link_stops_working_when_its_api_token_expires(settings: Settings) -> None:
    clock = FakeClock()
    async with running_app(settings, clock=clock) as api:
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"])
        acme = await create(admin, name="Acme")
        await attached(admin, acme["id"], "a.pdf", PDF)
        expires = (clock() + dt.timedelta(minutes=2)).isoformat()
        by_token, _ = await token_api(admin, expiresAt=expires)
        url = await link_of(by_token, acme["id"])
        assert (await download(admin, url)).content == PDF
        clock.advance(minutes=3)  # the link has two minutes left; the token has none
        assert refused_as(await download(admin, url)) == (403, "FORBIDDEN")


async def test_a_link_is_checked_with_its_api_tokens_permissions(admin: Api) -> None:
    acme = await create(admin, name="Acme")
    file = await attached(admin, acme["id"], "a.pdf", PDF)
    attachment_id = int(relay.from_base64(file["id"])[1])
    narrow, narrow_id = await token_api(admin, permissions=["users:read"])
    wide, wide_id = await token_api(admin, permissions=["customers:read"])

    def link_for(token_node_id: str) -> str:
        """A genuine link (signed with the deployment's key) for the token, as the
        server would make it for a request signed in with that token."""
        holder = service.LinkHolder(
            user_id=admin.user_id or 0,
            api_token_id=int(relay.from_base64(token_node_id)[1]),
        )
        expires = _expires(file["downloadUrl"])
        query = urlencode(
            {
                "user": holder.user_id,
                "token": holder.api_token_id,
                "expires": expires,
                "signature": service.signature(
                    admin.settings.secret_key, attachment_id, holder, expires
                ),
            }
        )
        return f"/attachments/{attachment_id}?{query}"

    # The user may read the customer, but the narrow token may not: its link finds nothing
    response = await admin.client.get(link_for(narrow_id))
    assert refused_as(response) == (404, "NOT_FOUND")
    response = await admin.client.get(link_for(wide_id))
    assert (response.status_code, response.content) == (200, PDF)
    # The narrow token is given no link at all (it cannot see the customer's files)
    body = await narrow.gql(CUSTOMER_FILES, {"id": acme["id"]})
    assert body["data"]["customer"] is None
    assert (await link_of(wide, acme["id"])).startswith(admin.settings.public_url)


def _expires(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["expires"][0])


async def test_a_link_names_one_sign_in_only(admin: Api) -> None:
    acme = await create(admin, name="Acme")
    await attached(admin, acme["id"], "a.pdf", PDF)
    _, token_id = await token_api(admin)
    url = await link_of(admin, acme["id"])
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    # The session swapped for an API token of the same user, or both given: refused
    swapped = {**{k: v for k, v in query.items() if k != "session"}, "token": "1"}
    both = {**query, "token": str(relay.from_base64(token_id)[1])}
    for forged in (swapped, both, {k: v for k, v in query.items() if k != "session"}):
        response = await admin.client.get(f"{parts.path}?{urlencode(forged)}")
        assert refused_as(response) == (403, "FORBIDDEN"), forged
