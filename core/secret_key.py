"""The secret that signs access tokens when ``CRM_SECRET_KEY`` is not set: generated once
into the data directory and shared by every process that uses it."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from core.plugin_settings import ConfigError

SECRET_KEY_FILE = "secret_key"
MIN_SECRET_KEY_LENGTH = 32


def stored_secret_key(data_dir: Path) -> str:
    """Return the secret kept in the data directory, creating it once.

    The new key is written to a private temporary file and then hard-linked into place, so
    two processes starting together agree on one key and never read a half-written file.
    """
    path = data_dir / SECRET_KEY_FILE
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            tmp = data_dir / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(secrets.token_urlsafe(48) + "\n")
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"CRM_DATA_DIR={str(data_dir)!r}: cannot keep the secret key there ({exc.strerror})"
        ) from None
    if len(value) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(f"{path} holds no usable secret key; delete it or set CRM_SECRET_KEY")
    return value
