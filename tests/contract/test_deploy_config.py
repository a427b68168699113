"""render.yaml, the Dockerfile and .dockerignore say what docs/operations.md says they do.

No Docker engine and no Render run here: render.yaml is parsed and checked for the keys
Render needs, the Dockerfile is read instruction by instruction.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from service.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
START = "uvicorn service.main:app --host 0.0.0.0 --port $PORT --workers ${WEB_CONCURRENCY:-2}"
SECRETS = {"DATABASE_URL", "SUPABASE_JWT_SECRET", "JWT_SIGNING_KEY", "SUPABASE_SERVICE_ROLE_KEY"}


@pytest.fixture(scope="module")
def web() -> dict[str, Any]:
    blueprint = yaml.safe_load((ROOT / "render.yaml").read_text(encoding="utf-8"))
    services = blueprint["services"]
    assert [s["type"] for s in services] == ["web"]
    service: dict[str, Any] = services[0]
    return service


def test_render_builds_the_locked_install_and_starts_uvicorn(web: dict[str, Any]) -> None:
    assert web["runtime"] == "python"
    assert "-c requirements.lock ." in web["buildCommand"]
    assert "[dev]" not in web["buildCommand"]
    assert web["startCommand"] == START
    assert web["healthCheckPath"] == "/api/v1/health"


def test_render_environment(web: dict[str, Any]) -> None:
    env = {item["key"]: item for item in web["envVars"]}
    assert env["ENV"]["value"] == "production"
    assert env["PYTHON_VERSION"]["value"].startswith("3.11")
    for key in SECRETS:
        assert env[key] == {"key": key, "sync": False}, key
    # Every variable is one the service reads (or Render's own).
    known = set(Settings.model_fields) | {"PYTHON_VERSION", "WEB_CONCURRENCY"}
    assert set(env) <= known, set(env) - known
    # Nothing secret has a value in the file.
    for item in env.values():
        if "value" in item:
            assert item["key"] not in SECRETS


def dockerfile() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    instructions = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_dockerfile_is_slim_locked_and_unprivileged() -> None:
    steps = dockerfile()
    assert steps[0] == ("FROM", "python:3.11-slim")
    runs = [rest for keyword, rest in steps if keyword == "RUN"]
    assert any("pip install -c requirements.lock ." in run for run in runs)
    # Nothing fetched from outside the package index.
    for run in runs:
        assert not re.search(r"\b(curl|wget|apt-get|git clone)\b", run), run
        assert "index-url" not in run
    users = [rest for keyword, rest in steps if keyword == "USER"]
    assert users
    assert users[-1] not in ("root", "0")
    # USER comes after the last RUN: the process never runs as root.
    last_run = max(i for i, (keyword, _) in enumerate(steps) if keyword == "RUN")
    last_user = max(i for i, (keyword, _) in enumerate(steps) if keyword == "USER")
    assert last_user > last_run
    copied = " ".join(rest for keyword, rest in steps if keyword == "COPY")
    assert "requirements.lock" in copied
    assert ". ." not in copied  # never the whole context


def test_dockerfile_runs_the_same_command_as_render() -> None:
    cmd = json.loads(next(rest for keyword, rest in dockerfile() if keyword == "CMD"))
    assert cmd[:2] == ["sh", "-c"]
    command = cmd[2].removeprefix("exec ")
    quoted = START.replace("$PORT", '"$PORT"').replace("${WEB", '"${WEB').replace(":-2}", ':-2}"')
    assert shlex.split(command) == shlex.split(quoted)
    healthcheck = next(rest for keyword, rest in dockerfile() if keyword == "HEALTHCHECK")
    assert "/api/v1/health" in healthcheck


def test_dockerignore_sends_only_what_the_image_needs() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {"pyproject.toml", "requirements.lock", "README.md", "service"}
