"""Where attached files' bytes live: a local directory or an S3-compatible object store.

The database holds each file's row and its ``storage_key`` (a random name); the store holds
the bytes under that key. ``CRM_ATTACHMENT_STORE`` chooses: ``local`` (the default, under
``<data_dir>/attachments``, for one app machine) or ``s3`` (any S3-compatible service, for
several machines). The S3 client (boto3) blocks, so its calls run in a worker thread.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, Protocol

import anyio
import anyio.to_thread

from core.config import Settings


class AttachmentStore(Protocol):
    """Bytes by key. ``get`` of a missing key raises :class:`FileNotFoundError`; ``delete``
    of one does nothing."""

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...


def new_key() -> str:
    """A fresh storage key: random, so it reveals nothing and cannot be guessed."""
    return secrets.token_hex(16)


class LocalStore:
    """Files in a directory, one per key, in two levels of folders (``ab/abcdef...``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not key.isalnum():  # keys are ours (hex), never a path from outside
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = anyio.Path(self._path(key))
        await path.parent.mkdir(parents=True, exist_ok=True)
        await path.write_bytes(data)

    async def get(self, key: str) -> bytes:
        return await anyio.Path(self._path(key)).read_bytes()

    async def delete(self, key: str) -> None:
        await anyio.Path(self._path(key)).unlink(missing_ok=True)


class S3Store:
    """Objects in one bucket of an S3-compatible service (AWS S3, MinIO, Ceph...)."""

    def __init__(self, settings: Settings) -> None:
        import boto3

        self.bucket = settings.s3_bucket
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url or None,
            aws_access_key_id=settings.s3_access_key or None,
            aws_secret_access_key=settings.s3_secret_key.get_secret_value() or None,
            region_name=settings.s3_region,
        )

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await anyio.to_thread.run_sync(
            lambda: self.client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
            )
        )

    async def get(self, key: str) -> bytes:
        def read() -> bytes:
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=key)
            except self.client.exceptions.NoSuchKey:
                raise FileNotFoundError(key) from None
            body: bytes = answer["Body"].read()
            return body

        return await anyio.to_thread.run_sync(read)

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(
            lambda: self.client.delete_object(Bucket=self.bucket, Key=key)
        )


_STORES: dict[tuple[Any, ...], AttachmentStore] = {}


def store_for(settings: Settings) -> AttachmentStore:
    """The store ``settings`` configure (one per configuration and process: an S3 client
    is made once and is safe to share between threads)."""
    key = (
        settings.attachment_store,
        str(settings.data_dir.resolve()),
        settings.s3_endpoint_url,
        settings.s3_bucket,
        settings.s3_access_key,
        settings.s3_region,
    )
    store = _STORES.get(key)
    if store is None:
        if settings.attachment_store == "s3":
            store = S3Store(settings)
        else:
            store = LocalStore(settings.data_dir / "attachments")
        _STORES[key] = store
    return store
