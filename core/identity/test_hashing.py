"""argon2 off the event loop: every password hash and check runs in a worker thread, with
no database transaction open, at most ``CRM_PASSWORD_HASH_CONCURRENCY`` at once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession

from core.catalog import ADMINISTRATOR
from core.config import ConfigError, Settings, load_settings
from core.db import Database
from core.identity import demo, passwords
from schema.testkit_tools import CommandLine, make_user
from tests.support import DEFAULT_PASSWORD, LOGIN, Api

NEW_PASSWORD = "Quiet-Harbour-Lantern-77"
SET_PASSWORD = """
mutation($userId: ID!, $password: String!, $current: String) {
  setUserPassword(input: {userId: $userId, password: $password, currentPassword: $current}) {
    errors { field message code }
  }
}
"""
CREATE_USER = """
mutation($email: String!, $password: String!) {
  createUser(input: {email: $email, name: "Nia Newcomer", password: $password}) {
    user { email } errors { field message code }
  }
}
"""
CREATE_TEAM = """
mutation($name: String!) { createTeam(input: {name: $name}) { team { name } errors { code } } }
"""


@pytest.fixture
def crm_plugins() -> tuple[str, ...]:
    """Core only (``crm createuser`` runs with the installed plugins, not the test's)."""
    return ()


class OpenSessions:
    """How many sessions of any :class:`Database` are open (read or write)."""

    def __init__(self) -> None:
        self.count = 0


class RecordingHasher(PasswordHasher):
    """The real hasher, noting for each call whether an event loop runs in its thread,
    how many sessions were open, and how many calls ran at once."""

    def __init__(self, sessions: OpenSessions, pause: float = 0.0) -> None:
        super().__init__()
        self.sessions = sessions
        self.pause = pause
        self.calls: list[tuple[str, bool, int]] = []
        self.running = 0
        self.peak = 0
        self._lock = threading.Lock()

    def _track(self, kind: str, work: Callable[[], Any]) -> Any:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        with self._lock:
            self.calls.append((kind, on_loop, self.sessions.count))
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            if self.pause:
                time.sleep(self.pause)
            return work()
        finally:
            with self._lock:
                self.running -= 1

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        result: str = self._track("hash", lambda: super(RecordingHasher, self).hash(password))
        return result

    def verify(self, hash: str | bytes, password: str | bytes) -> Any:
        return self._track("verify", lambda: super(RecordingHasher, self).verify(hash, password))


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> OpenSessions:
    """Counts open database sessions, of every :class:`Database` in this process."""
    counter = OpenSessions()
    original_transaction = Database.transaction
    original_read = Database.read

    def counted(
        original: Callable[[Database], Any],
    ) -> Callable[[Database], Any]:
        @asynccontextmanager
        async def wrapper(self: Database) -> AsyncIterator[AsyncSession]:
            async with original(self) as session:
                counter.count += 1
                try:
                    yield session
                finally:
                    counter.count -= 1

        return wrapper

    monkeypatch.setattr(Database, "transaction", counted(original_transaction))
    monkeypatch.setattr(Database, "read", counted(original_read))
    return counter


def record(monkeypatch: pytest.MonkeyPatch, sessions: OpenSessions, pause: float = 0.0) -> Any:
    hasher = RecordingHasher(sessions, pause)
    monkeypatch.setattr(passwords, "_hasher", hasher)
    return hasher


async def test_login_checks_the_password_off_the_loop_with_no_session_open(
    api: Api, monkeypatch: pytest.MonkeyPatch, sessions: OpenSessions
) -> None:
    await make_user(api.db, api.settings, "lee@example.com")
    hasher = record(monkeypatch, sessions)

    good = await api.gql(LOGIN, {"email": "lee@example.com", "password": DEFAULT_PASSWORD})
    wrong = await api.gql(LOGIN, {"email": "lee@example.com", "password": "Not-It-At-All-42"})
    unknown = await api.gql(LOGIN, {"email": "nobody@example.com", "password": DEFAULT_PASSWORD})

    assert good["data"]["login"]["errors"] == []
    assert wrong["data"]["login"]["errors"][0]["code"] == "INVALID"
    assert unknown["data"]["login"]["errors"][0]["code"] == "INVALID"
    # One check each, the unknown email's dummy check included; none on the loop's thread,
    # none while a database session was open.
    assert hasher.calls == [("verify", False, 0)] * 3


async def test_password_changes_and_new_users_hash_before_the_transaction(
    api: Api, monkeypatch: pytest.MonkeyPatch, sessions: OpenSessions
) -> None:
    admin = await api.user("root@example.com", [ADMINISTRATOR])
    hasher = record(monkeypatch, sessions)

    own = await admin.gql(
        SET_PASSWORD,
        {"userId": _user_id(admin), "password": NEW_PASSWORD, "current": DEFAULT_PASSWORD},
    )
    wrong = await admin.gql(
        SET_PASSWORD,
        {"userId": _user_id(admin), "password": NEW_PASSWORD, "current": "Not-It-At-All-42"},
    )
    created = await admin.gql(CREATE_USER, {"email": "nia@example.com", "password": NEW_PASSWORD})

    assert own["data"]["setUserPassword"]["errors"] == []
    assert wrong["data"]["setUserPassword"]["errors"] == [
        {"field": "currentPassword", "message": "is not your current password", "code": "INVALID"}
    ]
    assert created["data"]["createUser"]["errors"] == []
    assert hasher.calls == [
        ("verify", False, 0),
        ("hash", False, 0),
        ("verify", False, 0),
        ("hash", False, 0),
    ]
    await api.login("nia@example.com", NEW_PASSWORD)
    await api.login("root@example.com", NEW_PASSWORD)


def _user_id(client: Api) -> str:
    from strawberry import relay

    assert client.user_id is not None
    return str(relay.to_base64("User", client.user_id))


async def test_a_change_of_password_after_the_check_is_not_overwritten(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The current password is checked ahead; if the password changes before the write
    (someone else's change in between), the check no longer counts."""
    admin = await api.user("root@example.com", [ADMINISTRATOR])
    original = passwords.verify_off_loop

    async def verify_then_change(stored: str | None, password: str, *, limit: int) -> bool:
        result = await original(stored, password, limit=limit)
        async with api.db.transaction() as session:
            from core.identity.models import User

            user = await session.get(User, admin.user_id)
            assert user is not None
            user.password_hash = passwords.hash_password("Someone-Else-Set-This-9")
        return result

    monkeypatch.setattr(passwords, "verify_off_loop", verify_then_change)
    body = await admin.gql(
        SET_PASSWORD,
        {"userId": _user_id(admin), "password": NEW_PASSWORD, "current": DEFAULT_PASSWORD},
    )

    assert body["data"]["setUserPassword"]["errors"][0]["field"] == "currentPassword"


async def test_concurrent_logins_never_hash_more_than_the_limit_at_once(
    api_factory: Callable[..., Any],
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
    sessions: OpenSessions,
) -> None:
    settings = make_settings(password_hash_concurrency=2)
    async with api_factory(settings) as api:
        await make_user(api.db, settings, "lee@example.com")
        admin = await api.user("root@example.com", [ADMINISTRATOR])
        hasher = record(monkeypatch, sessions, pause=0.1)

        async def login() -> dict[str, Any]:
            variables = {"email": "lee@example.com", "password": DEFAULT_PASSWORD}
            body: dict[str, Any] = await api.gql(LOGIN, variables)
            return body

        async def everything() -> list[dict[str, Any]]:
            return await asyncio.gather(
                *(login() for _ in range(10)), admin.gql(CREATE_TEAM, {"name": "North"})
            )

        # Generous bound: the point is that nothing waits on a lock held during hashing.
        *logins, team = await asyncio.wait_for(everything(), timeout=60)

    assert all(body["data"]["login"]["errors"] == [] for body in logins)
    assert team["data"]["createTeam"] == {"team": {"name": "North"}, "errors": []}
    assert len(hasher.calls) == 10
    assert all(not on_loop for _, on_loop, _ in hasher.calls)
    assert hasher.peak == 2  # the limit, reached (the checks overlap) and never passed


async def test_demo_data_and_createuser_hash_off_the_loop(
    migrated_db: Database,
    settings: Settings,
    crm_cli: CommandLine,
    monkeypatch: pytest.MonkeyPatch,
    sessions: OpenSessions,
) -> None:
    hasher = record(monkeypatch, sessions)
    async with migrated_db.transaction() as session:
        await demo.load(session, 50, settings)
    assert [kind for kind, _, _ in hasher.calls] == ["hash"] * len(demo.demo_users(50))
    assert all(not on_loop for _, on_loop, _ in hasher.calls)

    hasher.calls.clear()
    result = await crm_cli(
        "createuser", "--email", "ada@example.com", "--name", "Ada Lovelace",
        "--password", NEW_PASSWORD,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert hasher.calls == [("hash", False, 0)]


@pytest.mark.parametrize("value", ["0", "-1", "many", "257"])
def test_a_bad_hash_concurrency_is_refused_by_name(value: str, tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="CRM_PASSWORD_HASH_CONCURRENCY"):
        load_settings(data_dir=tmp_path, password_hash_concurrency=value)


def test_the_hash_concurrency_defaults_to_at_least_one(tmp_path: Any) -> None:
    assert load_settings(data_dir=tmp_path).password_hash_concurrency >= 1
