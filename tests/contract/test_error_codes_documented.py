"""docs/frontend.md lists every error code our SQL and the service raise, with its status."""

from __future__ import annotations

import re

from tests.contract.codes import ROOT, service_codes, sql_codes

DOC = ROOT / "docs" / "frontend.md"
_ROW = re.compile(r"^\| `([a-z][a-z0-9_]*)` \| ([A-Z0-9]+) \|", re.MULTILINE)


def documented() -> dict[str, set[str]]:
    rows: dict[str, set[str]] = {}
    for code, status in _ROW.findall(DOC.read_text(encoding="utf-8")):
        rows.setdefault(code, set()).add(status)
    return rows


def test_the_extraction_finds_codes() -> None:
    assert {"blocked", "rate_limited", "protected_field", "edit_window_expired"} <= set(sql_codes())
    assert {"invalid_credentials", "email_taken", "not_found"} <= set(service_codes())


def test_every_sql_code_is_documented_with_its_sqlstate() -> None:
    docs = documented()
    for code, sqlstates in sql_codes().items():
        assert code in docs, f"{code} is raised in supabase/migrations but not in {DOC.name}"
        assert sqlstates <= docs[code], (code, sqlstates, docs[code])


def test_every_service_code_is_documented_with_its_status() -> None:
    docs = documented()
    for code, statuses in service_codes().items():
        assert code in docs, f"{code} is raised in service/ but not in {DOC.name}"
        assert {str(s) for s in statuses} <= docs[code], (code, statuses, docs[code])
