"""The local adapter: objects as files under one folder (`.localghost/storage` by default).

`scripts/dev` uses it, and the service serves it read-only in development only (see
`service.storage.dev_routes`), with URLs shaped like Supabase Storage's: public objects at
`/storage/v1/object/public/<bucket>/<name>`, private ones at
`/storage/v1/object/sign/<bucket>/<name>?token=...` where the token is an expiry and an
HMAC of bucket, name and expiry.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from service.storage.port import StorageError, check_name, object_url


class LocalStorage:
    def __init__(
        self, root: Path, *, public_base: str, signed_base: str, signing_key: bytes
    ) -> None:
        self.root = root.resolve()
        self.public_base = public_base.rstrip("/")
        self.signed_base = signed_base.rstrip("/")
        self._key = signing_key

    def path_of(self, bucket: str, name: str) -> Path:
        check_name(bucket, name)
        path = (self.root / bucket / name).resolve()
        # check_name already forbids `..`; this also refuses a symlink pointing outside.
        if not path.is_relative_to(self.root / bucket):
            raise StorageError(f"{bucket}/{name} resolves outside the storage folder")
        return path

    async def put(self, bucket: str, name: str, data: bytes, content_type: str) -> None:
        path = self.path_of(bucket, name)
        try:
            await asyncio.to_thread(_write_atomically, path, data)
        except OSError as exc:
            raise StorageError(f"could not write {bucket}/{name}: {exc.strerror}") from exc

    async def get(self, bucket: str, name: str) -> bytes | None:
        path = self.path_of(bucket, name)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"could not read {bucket}/{name}: {exc.strerror}") from exc

    async def delete(self, bucket: str, names: Sequence[str]) -> None:
        paths = [self.path_of(bucket, name) for name in names]
        try:
            for path in paths:
                await asyncio.to_thread(path.unlink, missing_ok=True)
        except OSError as exc:
            raise StorageError(f"could not remove objects of {bucket}: {exc.strerror}") from exc
        # An object store has no empty folders: a folder whose last object went goes too.
        for folder in {path.parent for path in paths}:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(folder.rmdir)

    def public_url(self, bucket: str, name: str) -> str:
        return object_url(self.public_base, bucket, name)

    def signed_url(self, bucket: str, name: str, expires_in: int) -> str:
        expires = int(time.time()) + expires_in
        token = self.token(bucket, name, expires)
        return f"{object_url(self.signed_base, bucket, name)}?token={token}"

    def token(self, bucket: str, name: str, expires: int) -> str:
        mac = hmac.new(self._key, f"{bucket}\n{name}\n{expires}".encode(), hashlib.sha256)
        return f"{expires}.{mac.hexdigest()}"

    def token_is_valid(self, bucket: str, name: str, token: str, now: float | None = None) -> bool:
        expires_text, _, _ = token.partition(".")
        if not expires_text.isdigit():
            return False
        expires = int(expires_text)
        if expires < (time.time() if now is None else now):
            return False
        return hmac.compare_digest(token, self.token(bucket, name, expires))

    async def aclose(self) -> None:
        return None


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old object or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
