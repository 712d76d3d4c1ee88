"""Password hashing (argon2id through argon2-cffi) and the strength policy (zxcvbn).

A hash or a check costs a fraction of a second of CPU. Services call the async
:func:`hash_off_loop` and :func:`verify_off_loop`, which run it in a worker thread, never
on the event loop (where it would stall every other request), at most ``limit``
(``CRM_PASSWORD_HASH_CONCURRENCY``) at once per process; callers run them outside any
database transaction, so no lock is held while the CPU works.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Iterable
from typing import TypeVar

import anyio
import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from core.i18n import _

MAX_LENGTH = 128
MIN_SCORE = 2  # zxcvbn: 0 too guessable ... 4 very unguessable

_hasher = PasswordHasher()
# Verified against when an email is unknown, so that answer takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("a password nobody has, to spend the time a real check takes")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password``; without a hash, spend the same time and say no."""
    try:
        if password_hash is None:
            _hasher.verify(_DUMMY_HASH, password)
            return False
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


T = TypeVar("T")
_limiters: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[int, anyio.CapacityLimiter]
] = weakref.WeakKeyDictionary()


def _limiter(limit: int) -> anyio.CapacityLimiter:
    """The event loop's limiter of ``limit`` threads (a limiter belongs to one loop)."""
    per_loop = _limiters.setdefault(asyncio.get_running_loop(), {})
    limiter = per_loop.get(limit)
    if limiter is None:
        limiter = per_loop[limit] = anyio.CapacityLimiter(limit)
    return limiter


async def _in_thread(function: Callable[..., T], *args: str | None, limit: int) -> T:
    # Not abandoned on cancellation: the slot is held until the thread really finishes,
    # so cancelled requests cannot push the number of running hashes past the limit.
    return await anyio.to_thread.run_sync(function, *args, limiter=_limiter(limit))


async def hash_off_loop(password: str, *, limit: int) -> str:
    """:func:`hash_password` in a worker thread, at most ``limit`` at once."""
    return await _in_thread(hash_password, password, limit=limit)


async def verify_off_loop(password_hash: str | None, password: str, *, limit: int) -> bool:
    """:func:`verify_password` (the dummy check included) in a worker thread."""
    return await _in_thread(verify_password, password_hash, password, limit=limit)


def password_problem(password: str, *, min_length: int, personal: Iterable[str]) -> str | None:
    """Why ``password`` is refused, or ``None`` if it is strong enough.

    :param personal: the user's own words (email, name) that a password must not lean on.
    """
    if len(password) < min_length:
        return _("must be at least {min} characters", min=min_length)
    if len(password) > MAX_LENGTH:
        return _("must be at most {max} characters", max=MAX_LENGTH)
    words = [w.lower() for w in personal if w and len(w) >= 4]
    lowered = password.lower()
    if any(word in lowered for word in words):
        return _("must not contain your name or email address")
    result = zxcvbn(password, user_inputs=words)
    if result["score"] < MIN_SCORE:
        warning = result["feedback"].get("warning") or _("it is too easy to guess")
        return _("is too weak: {reason}", reason=warning.rstrip("."))
    return None


def personal_words(email: str, name: str) -> list[str]:
    """The parts of a user's email and name that a password must not contain."""
    local = email.split("@", 1)[0]
    words = [email, local, *local.replace("_", ".").replace("-", ".").split(".")]
    words += name.split()
    return words
