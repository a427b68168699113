"""The production adapter: Supabase Storage through its S3-compatible endpoint.

`https://<ref>.supabase.co/storage/v1/s3`, path-style (`<endpoint>/<bucket>/<key>`), SigV4
with the project's S3 access keys. Those keys bypass RLS, which is why they live only in the
service. Objects written this way appear in `storage.objects` like any other upload (Storage
itself records them), so the bucket limits and the RLS read policies apply to them as usual;
the tests check the database side separately, with rows shaped like Storage's.

Public objects are read at `<SUPABASE_URL>/storage/v1/object/public/<bucket>/<key>`; private
ones through a SigV4 presigned GET on the same S3 endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

import httpx

from service.storage.port import StorageError, check_name, object_url
from service.storage.sigv4 import Credentials, presign_url, sign_request

# Names are never reused (a fresh uuid per upload), so caches may keep objects for good.
CACHE_CONTROL = "max-age=31536000, immutable"
_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class S3Storage:
    def __init__(
        self,
        endpoint: str,
        credentials: Credentials,
        *,
        public_base: str,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.credentials = credentials
        self.public_base = public_base.rstrip("/")
        self._client = client or httpx.AsyncClient(timeout=_TIMEOUT)

    def _url(self, bucket: str, name: str) -> str:
        check_name(bucket, name)
        return f"{self.endpoint}/{bucket}/{quote(name, safe='/')}"

    async def _send(
        self, method: str, url: str, *, payload: bytes = b"", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        signed = sign_request(self.credentials, method, url, headers=headers, payload=payload)
        try:
            return await self._client.request(method, url, content=payload or None, headers=signed)
        except httpx.HTTPError as exc:
            raise StorageError(f"{method} {url}: {type(exc).__name__}") from exc

    async def put(self, bucket: str, name: str, data: bytes, content_type: str) -> None:
        url = self._url(bucket, name)
        response = await self._send(
            "PUT",
            url,
            payload=data,
            headers={"content-type": content_type, "cache-control": CACHE_CONTROL},
        )
        if response.status_code != 200:
            raise StorageError(f"PUT {bucket}/{name}: HTTP {response.status_code}")

    async def get(self, bucket: str, name: str) -> bytes | None:
        response = await self._send("GET", self._url(bucket, name))
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise StorageError(f"GET {bucket}/{name}: HTTP {response.status_code}")
        return response.content

    async def delete(self, bucket: str, names: Sequence[str]) -> None:
        urls = [self._url(bucket, name) for name in names]
        for url in urls:
            response = await self._send("DELETE", url)
            # S3 answers 204 whether or not the key existed; some servers say 404.
            if response.status_code not in (200, 204, 404):
                raise StorageError(f"DELETE {url}: HTTP {response.status_code}")

    def public_url(self, bucket: str, name: str) -> str:
        return object_url(self.public_base, bucket, name)

    def signed_url(self, bucket: str, name: str, expires_in: int) -> str:
        return presign_url(self.credentials, "GET", self._url(bucket, name), expires_in)

    async def aclose(self) -> None:
        await self._client.aclose()
