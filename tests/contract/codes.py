"""The stable error codes we raise, read from the source: our SQL and the service."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# `raise exception '...' using errcode = 'X', detail = 'code'` (either order, any layout).
_USING = re.compile(r"\busing\b(?P<opts>[^;]*?);", re.IGNORECASE | re.DOTALL)
_OPT = re.compile(r"\b(errcode|detail)\s*=\s*'([^']*)'", re.IGNORECASE)
# `SomeError(413, "file_too_large", ...)` or `error_response(503, "database_unavailable", ...)`.
_SERVICE = re.compile(r"\(\s*(\d{3}),\s*\"([a-z][a-z0-9_]*)\"")
# Codes the generic HTTP handler derives from the status (service/core/errors.py).
HTTP_FALLBACK_CODES = {"not_found": 404, "method_not_allowed": 405, "body_too_large": 413}


def sql_codes(migrations: Path = ROOT / "supabase" / "migrations") -> dict[str, set[str]]:
    """detail code -> the SQLSTATEs it is raised with."""
    found: dict[str, set[str]] = {}
    for path in sorted(migrations.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        for using in _USING.finditer(text):
            opts = {k.lower(): v for k, v in _OPT.findall(using["opts"])}
            if "detail" in opts and re.fullmatch(r"[a-z][a-z0-9_]*", opts["detail"]):
                found.setdefault(opts["detail"], set()).add(opts.get("errcode", "P0001"))
    return found


def service_codes(service: Path = ROOT / "service") -> dict[str, set[int]]:
    """envelope code -> the HTTP statuses it is raised with."""
    found: dict[str, set[int]] = {code: {s} for code, s in HTTP_FALLBACK_CODES.items()}
    for path in sorted(service.rglob("*.py")):
        if path.name == "openapi.py":  # the documentation itself, not a raiser
            continue
        for status, code in _SERVICE.findall(path.read_text(encoding="utf-8")):
            found.setdefault(code, set()).add(int(status))
    return found
