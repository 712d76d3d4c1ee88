"""The signature the service sends is the one docs/webhooks.md shows receivers, and the one
the specification's reference library accepts."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from pathlib import Path

from standardwebhooks.webhooks import Webhook

from core.webhooks.delivery import body_of, signed_headers
from core.webhooks.service import SECRET_PREFIX, new_secret

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def test_the_documented_example_is_what_the_service_sends() -> None:
    text = GUIDE.read_text()
    secret = re.search(r"secret is `(whsec_[^`]+)`", text)
    block = re.search(r"```http\n(?P<head>.*?)\n\n(?P<body>.*?)\n```", text, re.DOTALL)
    assert secret is not None
    assert block is not None
    headers = dict(line.split(": ", 1) for line in block["head"].splitlines()[1:] if ": " in line)
    body = block["body"].encode()
    assert body_of(json.loads(body)) == body  # compact JSON, as posted
    at = dt.datetime.fromtimestamp(int(headers["webhook-timestamp"]), dt.UTC)
    sent = signed_headers(secret[1], headers["webhook-id"], at, body)
    assert sent["webhook-signature"] == headers["webhook-signature"]
    assert sent["webhook-timestamp"] == headers["webhook-timestamp"]


def test_secrets_are_random_and_standard() -> None:
    first, second = new_secret(), new_secret()
    assert first != second
    assert first.startswith(SECRET_PREFIX)
    assert len(base64.b64decode(first.removeprefix(SECRET_PREFIX))) == 32
    Webhook(first)  # the reference library takes it as a secret
