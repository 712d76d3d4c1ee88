"""``crm serve`` in a child process, for tests and benchmarks that need a real server.

The child gets its own environment (database, data directory, plugins) and a free loopback
port; the caller gets its base URL once the server answers, and the process is stopped when
the block ends. Its output goes to a file, never to an undrained pipe: the app logs a line
per request, and a full pipe (64 KiB) would block the server.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

CRM = [sys.executable, "-m", "schema.cli"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_server(
    env: Mapping[str, str],
    *,
    workers: int = 1,
    ready_path: str = "/readyz",
    timeout: float = 60,
    log: Path | None = None,
) -> Iterator[str]:
    """Start ``crm serve`` with ``env``, wait until ``ready_path`` answers 200, yield the
    base URL, then stop it.

    :param log: file for the server's output (kept for the caller to read); by default an
        unnamed temporary file, whose end is shown if the server fails to start.
    :raises RuntimeError: the server exited or did not become ready within ``timeout``.
    """
    port = free_port()
    with _output(log) as output:
        process = subprocess.Popen(
            [*CRM, "serve", "--port", str(port), "--workers", str(workers)],
            env=dict(env),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while not _ready(f"{base}{ready_path}"):
                if process.poll() is not None or time.monotonic() > deadline:
                    output.flush()
                    output.seek(0)
                    tail = output.read().decode(errors="replace")[-3000:]
                    state = (
                        f"exited with {process.returncode}"
                        if process.returncode is not None
                        else f"was not ready within {timeout:.0f} s"
                    )
                    raise RuntimeError(f"crm serve {state}:\n{tail}")
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def _output(log: Path | None) -> Iterator[IO[bytes]]:
    if log is None:
        with tempfile.TemporaryFile() as temporary:
            yield temporary
    else:
        with log.open("w+b") as kept:
            yield kept
