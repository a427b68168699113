"""Fuzz every operation of the service's OpenAPI document with schemathesis.

    scripts/fuzz [--examples N] [--seed S] [--operation ID ...]

Starts a throwaway migrated database and the real service (uvicorn, ENV=test, a strong
secret, rate limits off so they don't hide code paths), loads `/api/openapi.json`, and for
every operation x caller (anonymous, a traveler, a local, each with a real token minted
through /api/v1/auth/signup) x generation mode (schema-valid and schema-breaking data) it
sends up to N generated requests. Every response must pass these checks:

- not_a_server_error: no 5xx;
- status_code_conformance, content_type_conformance, response_headers_conformance,
  response_schema_conformance: the status is documented for the operation, and the body
  (the error envelope included) and headers match what is documented;
- negative_data_rejection: a request that breaks the schema is refused with a 4xx.

positive_data_acceptance is deliberately not among them: the schema does not (and cannot)
say that a password is weak, an email is taken or a cursor belongs to another query, so a
schema-valid request may rightly be refused.

Calls that end their session (logout, password change, account deletion) get a fresh
account for every generated case, so they never sign out the shared callers. Besides the
generated data, each signed-in caller also runs the happy path of every operation once
(real refresh token, real password, a real image), so the 2xx bodies are checked too.
`tests/hardening/test_fuzz.py` runs a short bounded pass in CI; `scripts/fuzz` a longer one.
The final line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from PIL import Image
from schemathesis import Case as _Case
from schemathesis import GenerationMode, Response
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.schemas import APIOperation as _APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from scripts.lib.bench import bench_database
from scripts.lib.load import CHEAP_ARGON2, Service, serve_service
from scripts.lib.migrate import apply_seed

APIOperation = _APIOperation[Any, Any, Any, Any]
Case = _Case[Any]
OPENAPI_PATH = "/api/openapi.json"
SIGNUP_PATH = "/api/v1/auth/signup"
PASSWORD = "fuzz-passphrase-not-common"  # noqa: S105
CALLERS = ("anon", "traveler", "local")
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
# Operations that end the caller's session or account: every case gets its own account.
SESSION_ENDING = frozenset({"auth_logout", "auth_change_password", "auth_delete_account"})
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
NEGATIVE_CHECKS = [*CHECKS, negative_data_rejection]
REQUEST_TIMEOUT_S = 15


@dataclass(frozen=True)
class Finding:
    operation: str
    caller: str
    mode: str
    checks: tuple[str, ...]
    status: int
    report: str

    def key(self) -> tuple[str, tuple[str, ...], int]:
        return (self.operation, self.checks, self.status)


@dataclass
class Report:
    cases: int = 0
    per_operation: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def unique_findings(self) -> list[Finding]:
        seen: dict[tuple[str, tuple[str, ...], int], Finding] = {}
        for finding in self.findings:
            seen.setdefault(finding.key(), finding)
        return list(seen.values())

    def summary(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "operations": len(self.per_operation),
            "per_operation": dict(sorted(self.per_operation.items())),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "server_errors": sum(v for k, v in self.statuses.items() if k >= 500),
            "failures": len(self.findings),
            "unique_failures": [
                {"operation": f.operation, "checks": list(f.checks), "status": f.status}
                for f in self.unique_findings()
            ],
            "errors": len(self.errors),
        }


# --------------------------------------------------------------------------------------
# Callers
# --------------------------------------------------------------------------------------


@dataclass
class Account:
    id: str
    role: str
    email: str
    access_token: str
    refresh_token: str


class Accounts:
    """Real accounts minted through the public signup endpoint."""

    def __init__(
        self, base_url: str, session: requests.Session, database_url: str | None = None
    ) -> None:
        self.base_url = base_url
        self.session = session
        self.database_url = database_url
        self.shared: dict[str, Account] = {}
        self._conversations: dict[tuple[str, str], str] = {}

    def conversation(self, traveler: Account, local: Account) -> str | None:
        """A conversation between the two (made as the superuser), when a database is given."""
        if self.database_url is None:
            return None
        key = (traveler.id, local.id)
        if key not in self._conversations:
            with psycopg.connect(self.database_url, autocommit=True) as conn:
                row = conn.execute(
                    "insert into public.conversations (traveler_id, local_id)"
                    " values (%s, %s) returning id",
                    key,
                ).fetchone()
            assert row is not None
            self._conversations[key] = str(row[0])
        return self._conversations[key]

    def shared_conversation(self, caller: str) -> str | None:
        if caller == "anon":
            return None
        return self.conversation(self.shared_account("traveler"), self.shared_account("local"))

    def shared_account(self, role: str) -> Account:
        if role not in self.shared:
            self.shared[role] = self.mint(role)
        return self.shared[role]

    def mint(self, role: str) -> Account:
        email = f"fuzz-{role}-{uuid.uuid4().hex[:12]}@example.com"
        response = self.session.post(
            self.base_url + SIGNUP_PATH,
            json={"email": email, "password": PASSWORD, "full_name": "Fuzz Caller", "role": role},
            timeout=REQUEST_TIMEOUT_S,
        )
        if response.status_code != 201:
            raise RuntimeError(f"signup as {role} failed: {response.status_code} {response.text}")
        body = response.json()
        return Account(body["user"]["id"], role, email, body["access_token"], body["refresh_token"])

    def for_case(self, caller: str, operation_id: str) -> Account | None:
        if caller == "anon":
            return None
        if operation_id in SESSION_ENDING:
            return self.mint(caller)
        return self.shared_account(caller)


def auth_headers(account: Account | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.access_token}"} if account else {}


# --------------------------------------------------------------------------------------
# Running cases
# --------------------------------------------------------------------------------------


def _check_names(group: FailureGroup) -> tuple[str, ...]:
    return tuple(sorted({type(f).__name__ for f in group.exceptions}))


def run_case(
    case: Case,
    *,
    caller: str,
    mode: str,
    account: Account | None,
    report: Report,
    base_url: str,
    session: requests.Session,
) -> Response | None:
    operation_id = case.operation.definition.raw.get("operationId", case.operation.label)
    try:
        response = case.call(
            base_url=base_url,
            session=session,
            headers=auth_headers(account),
            timeout=REQUEST_TIMEOUT_S,
        )
    except requests.RequestException as exc:
        report.errors.append(f"{operation_id} as {caller}: {type(exc).__name__}: {exc}")
        return None
    report.cases += 1
    report.per_operation[operation_id] += 1
    report.statuses[response.status_code] += 1
    checks = NEGATIVE_CHECKS if mode == GenerationMode.NEGATIVE else CHECKS
    try:
        case.validate_response(response, checks=checks, headers=auth_headers(account))
    except FailureGroup as group:
        report.findings.append(
            Finding(
                operation_id, caller, mode, _check_names(group), response.status_code, str(group)
            )
        )
    except AssertionError as exc:  # a single Failure
        report.findings.append(
            Finding(
                operation_id, caller, mode, (type(exc).__name__,), response.status_code, str(exc)
            )
        )
    return response


def fuzz_operation(
    operation: APIOperation,
    *,
    caller: str,
    mode: GenerationMode,
    max_examples: int,
    seed_value: int,
    accounts: Accounts,
    report: Report,
) -> None:
    operation_id = operation.definition.raw.get("operationId", operation.label)
    path_parameters: dict[str, Any] | None = None
    conversation = accounts.shared_conversation(caller)
    if mode == GenerationMode.POSITIVE and conversation and "{conversation_id}" in operation.path:
        # A real conversation the caller takes part in, so generated bodies reach the upload.
        path_parameters = {"conversation_id": conversation}
    # A signed-in caller's token is fixed, so schema-breaking cases never break the header we
    # then replace with a real token (the case would no longer be the one generated).
    headers = {"Authorization": "Bearer placeholder"} if caller != "anon" else None
    strategy = operation.as_strategy(
        generation_mode=mode, path_parameters=path_parameters, headers=headers
    )

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        # Generate only: a failure is recorded and the run goes on (no shrinking, no replay).
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @seed(seed_value)
    @given(case=strategy)
    def run(case: Case) -> None:
        run_case(
            case,
            caller=caller,
            mode=mode,
            account=accounts.for_case(caller, operation_id),
            report=report,
            base_url=accounts.base_url,
            session=accounts.session,
        )

    try:
        run()
    except Unsatisfiable:
        # Negative mode on an operation with no parameters and no body: nothing to break.
        if mode != GenerationMode.NEGATIVE:
            raise
    except Exception as exc:  # other generation errors
        report.errors.append(f"{operation_id} as {caller} ({mode}): {type(exc).__name__}: {exc}")


# --------------------------------------------------------------------------------------
# Happy paths: one known-good request per operation and signed-in caller
# --------------------------------------------------------------------------------------


def tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def multipart_file(data: bytes) -> Any:
    return {"file": data}


HappyCase = Callable[[APIOperation, Account], Case | None]


def _happy_cases(accounts: Accounts) -> dict[str, HappyCase]:
    soon = date.today() + timedelta(days=30)

    def plain(op: APIOperation, _: Account) -> Case:
        return op.Case()

    def refresh(op: APIOperation, acc: Account) -> Case:
        body: Any = {"refresh_token": acc.refresh_token}
        return op.Case(body=body, media_type="application/json")

    def login(op: APIOperation, acc: Account) -> Case:
        body: Any = {"email": acc.email, "password": PASSWORD}
        return op.Case(body=body, media_type="application/json")

    def signup(op: APIOperation, acc: Account) -> Case:
        body: Any = {
            "email": f"happy-{uuid.uuid4().hex[:12]}@example.com",
            "password": PASSWORD,
            "full_name": "Happy Path",
            "role": acc.role,
        }
        return op.Case(body=body, media_type="application/json")

    def logout(op: APIOperation, _: Account) -> Case:
        body: Any = {"scope": "local"}
        return op.Case(body=body, media_type="application/json")

    def password(op: APIOperation, _: Account) -> Case:
        body: Any = {"current_password": PASSWORD, "new_password": PASSWORD + "-2"}
        return op.Case(body=body, media_type="application/json")

    def delete(op: APIOperation, _: Account) -> Case:
        body: Any = {"password": PASSWORD}
        return op.Case(body=body, media_type="application/json")

    def matches(op: APIOperation, _: Account) -> Case:
        query = {
            "starts_on": soon.isoformat(),
            "ends_on": (soon + timedelta(days=3)).isoformat(),
            "city": "Lisbon",
            "languages": "en",
        }
        return op.Case(query=query)

    def avatar(op: APIOperation, _: Account) -> Case:
        body: Any = {"file": tiny_png()}
        return op.Case(body=body, media_type="multipart/form-data")

    def attachment(op: APIOperation, acc: Account) -> Case | None:
        conversation = accounts.shared_conversation(acc.role)
        if conversation is None:
            return None
        return op.Case(
            path_parameters={"conversation_id": conversation},
            body=multipart_file(tiny_png()),
            media_type="multipart/form-data",
        )

    return {
        "get_health": plain,
        "get_jwks": plain,
        "auth_get_jwks": plain,
        "auth_me": plain,
        "auth_signup": signup,
        "auth_login": login,
        "auth_refresh": refresh,
        "auth_logout": logout,
        "auth_change_password": password,
        "auth_delete_account": delete,
        "list_matches": matches,
        "upload_avatar": avatar,
        "upload_attachment": attachment,
    }


def run_happy_paths(
    operations: Sequence[APIOperation], accounts: Accounts, report: Report
) -> dict[str, int]:
    """Each signed-in caller runs each known-good request once; returns status per call."""
    builders = _happy_cases(accounts)
    statuses: dict[str, int] = {}
    for caller in ("traveler", "local"):
        for operation in operations:
            operation_id = operation.definition.raw.get("operationId", operation.label)
            build = builders.get(operation_id)
            if build is None:
                continue
            # A fresh account: its session and password are this call's to use up. Uploads
            # to a conversation go as the shared caller (a participant).
            if "{conversation_id}" in operation.path:
                account = accounts.shared_account(caller)
            else:
                account = accounts.mint(caller)
            case = build(operation, account)
            if case is None:
                continue
            response = run_case(
                case,
                caller=caller,
                mode="happy",
                account=account,
                report=report,
                base_url=accounts.base_url,
                session=accounts.session,
            )
            statuses[f"{operation_id}:{caller}"] = response.status_code if response else 0
    return statuses


# --------------------------------------------------------------------------------------
# The whole run
# --------------------------------------------------------------------------------------


def load_operations(base_url: str, only: Sequence[str] = ()) -> list[APIOperation]:
    schema = schemathesis.openapi.from_url(base_url + OPENAPI_PATH, timeout=REQUEST_TIMEOUT_S)
    operations = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema raises
        operation_id = operation.definition.raw.get("operationId", operation.label)
        if not only or operation_id in only:
            operations.append(operation)
    return operations


def fuzz_service(
    base_url: str,
    *,
    max_examples: int,
    seed_value: int = 0,
    callers: Sequence[str] = CALLERS,
    modes: Sequence[GenerationMode] = MODES,
    only: Sequence[str] = (),
    happy: bool = True,
    database_url: str | None = None,
    say: Callable[[str], None] = lambda _line: None,
) -> tuple[Report, dict[str, int]]:
    operations = load_operations(base_url, only)
    report = Report()
    with requests.Session() as session:
        accounts = Accounts(base_url, session, database_url)
        happy_statuses = run_happy_paths(operations, accounts, report) if happy else {}
        for operation in operations:
            operation_id = operation.definition.raw.get("operationId", operation.label)
            started, before = time.perf_counter(), report.cases
            for caller in callers:
                for mode in modes:
                    fuzz_operation(
                        operation,
                        caller=caller,
                        mode=mode,
                        max_examples=max_examples,
                        seed_value=seed_value,
                        accounts=accounts,
                        report=report,
                    )
            say(
                f"  {operation_id}: {report.cases - before} cases"
                f" in {time.perf_counter() - started:.1f}s"
            )
    return report, happy_statuses


def fuzz_env(storage_dir: Path) -> dict[str, str]:
    return {
        **CHEAP_ARGON2,
        "RATE_LIMIT_ENABLED": "false",
        "STORAGE_BACKEND": "local",
        "STORAGE_LOCAL_DIR": str(storage_dir),
        "DB_POOL_MAX_SIZE": "10",
    }


@contextmanager
def fuzz_target(database_url: str) -> Iterator[Service]:
    with (
        tempfile.TemporaryDirectory(prefix="lg-fuzz-") as tmp,
        serve_service(
            database_url,
            env=fuzz_env(Path(tmp) / "storage"),
            log_path=Path(tmp) / "service.log",
        ) as service,
    ):
        yield service


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/fuzz", description=__doc__)
    parser.add_argument("--examples", type=int, default=200, help="cases per operation/caller/mode")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--operation", action="append", default=[], help="operationId (repeat)")
    args = parser.parse_args(argv)

    def say(line: str) -> None:
        print(line, flush=True)

    with bench_database() as url:
        # The demo data, so matching answers with real cards (their schema gets checked too).
        with psycopg.connect(url, autocommit=True) as conn:
            apply_seed(conn)
        with fuzz_target(url) as service:
            return _fuzz_and_report(service, url, args, say)


def _fuzz_and_report(
    service: Service, url: str, args: argparse.Namespace, say: Callable[[str], None]
) -> int:
    say(f"fuzzing {service.base_url}{OPENAPI_PATH}: {args.examples} examples per operation,")
    say(f"  caller ({', '.join(CALLERS)}) and mode (positive, negative), seed {args.seed}")
    started = time.perf_counter()
    report, happy = fuzz_service(
        service.base_url,
        max_examples=args.examples,
        seed_value=args.seed,
        only=args.operation,
        database_url=url,
        say=say,
    )
    elapsed = time.perf_counter() - started
    for finding in report.unique_findings():
        say(f"\n=== {finding.operation} as {finding.caller} ({finding.mode}) ===")
        say(finding.report)
    for error in report.errors:
        say(f"error: {error}")
    server_log = service.log_tail(200)
    if "Traceback" in server_log:
        say("service log (tail):\n" + server_log)
    fuzz_summary = report.summary()
    summary = {"fuzz": fuzz_summary, "happy_paths": happy, "seconds": round(elapsed, 1)}
    say(
        f"{report.cases} cases in {elapsed:.1f}s; {fuzz_summary['server_errors']} server"
        f" errors; {len(report.unique_findings())} unique failures; {len(report.errors)} errors"
    )
    print(json.dumps(summary, sort_keys=True), flush=True)
    return 0 if not report.findings and not report.errors else 1


if __name__ == "__main__":
    sys.exit(main())
