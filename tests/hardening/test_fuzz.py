"""A bounded schemathesis run against the real service: no 5xx, nothing off the schema.

Every operation of /api/openapi.json, as an anonymous caller, a traveler and a local (real
tokens from /api/v1/auth/signup), with schema-valid and schema-breaking data, a fixed seed.
See scripts/lib/fuzz.py for the checks; `scripts/fuzz` runs the same thing for longer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from scripts.lib.fuzz import CALLERS, OPENAPI_PATH, Report, fuzz_service
from scripts.lib.load import Service

# Per operation x caller x mode. Small enough for CI (~10 s), big enough to have caught
# every bug `scripts/fuzz` found so far with this seed.
MAX_EXAMPLES = 8
SEED = 20261126


@pytest.fixture(scope="module")
def fuzz_run(
    fuzz_service_process: Service, fuzz_db_url: str
) -> Iterator[tuple[Report, dict[str, int]]]:
    report, happy = fuzz_service(
        fuzz_service_process.base_url,
        max_examples=MAX_EXAMPLES,
        seed_value=SEED,
        database_url=fuzz_db_url,
    )
    yield report, happy
    if report.findings or report.statuses.get(500):
        print(fuzz_service_process.log_tail(200))


@pytest.fixture(scope="module")
def operation_ids(fuzz_service_process: Service) -> set[str]:
    document = httpx.get(fuzz_service_process.base_url + OPENAPI_PATH, timeout=10).json()
    return {
        operation["operationId"]
        for methods in document["paths"].values()
        for operation in methods.values()
    }


def _explain(report: Report) -> str:
    return "\n\n".join(
        f"{f.operation} as {f.caller} ({f.mode}):\n{f.report}" for f in report.unique_findings()
    )


def test_every_operation_was_fuzzed(
    fuzz_run: tuple[Report, dict[str, int]], operation_ids: set[str]
) -> None:
    report, _ = fuzz_run
    assert set(report.per_operation) == operation_ids
    assert not report.errors, report.errors
    # Operations with inputs get cases from every caller and both modes.
    assert report.per_operation["auth_login"] >= len(CALLERS) * 2 * MAX_EXAMPLES * 0.8


def test_no_server_errors(fuzz_run: tuple[Report, dict[str, int]]) -> None:
    report, _ = fuzz_run
    server_errors = {status: n for status, n in report.statuses.items() if status >= 500}
    assert not server_errors, _explain(report)


def test_every_response_matches_the_documented_schema(
    fuzz_run: tuple[Report, dict[str, int]],
) -> None:
    report, _ = fuzz_run
    assert not report.findings, _explain(report)


def test_happy_paths_succeed_for_both_roles(
    fuzz_run: tuple[Report, dict[str, int]], operation_ids: set[str]
) -> None:
    _, happy = fuzz_run
    refused = {call: status for call, status in happy.items() if not 200 <= status < 300}
    assert not refused
    covered = {call.split(":")[0] for call in happy}
    assert covered == operation_ids


JSON_BODY_OPERATIONS = [
    ("POST", "/api/v1/auth/signup"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/password"),
    ("DELETE", "/api/v1/auth/account"),
]


@pytest.mark.parametrize(("method", "path"), JSON_BODY_OPERATIONS)
@pytest.mark.parametrize("body", [b"\x80", b"\xc3\x28{}", b'{"email": "\xff"}'])
def test_a_body_that_is_not_text_is_a_validation_error(
    fuzz_service_process: Service, method: str, path: str, body: bytes
) -> None:
    """Found by fuzzing: FastAPI answered bytes that are not UTF-8 with an undocumented 400."""
    response = httpx.request(
        method,
        fuzz_service_process.base_url + path,
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 422, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == [
        {"loc": ["body"], "msg": "JSON decode error", "type": "json_invalid"}
    ]
