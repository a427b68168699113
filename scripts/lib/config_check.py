"""Flag keys in supabase/config.toml that the Supabase CLI would silently ignore.

The CLI rejects wrong types and bad values but not unknown keys: a misspelled
`file_size_limt` or a section that does not exist simply has no effect. The allowed keys
come from the CLI itself: `supabase init` writes a config template that lists every key,
the optional ones commented out. We read that template (commented lines included) into a
set of dotted paths and report every key or table of ours that is not in it.

Some tables are maps whose keys the user names (`[storage.buckets.avatars]`,
`[auth.external.github]`, `[remotes.staging]`): one segment of such a path matches any
name. `[remotes.NAME]` repeats the top-level layout for another project.

    python -m scripts.lib.config_check [--config supabase/config.toml]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from scripts.lib.migrate import ROOT
from scripts.lib.supabase_cli import CliError, run_cli

CONFIG_PATH = ROOT / "supabase" / "config.toml"

# Tables whose next segment is a name the user chooses. Their values are tables shaped like
# the template's example (a bucket, a provider...).
NAMED_TABLES = (
    ("storage", "buckets"),
    ("storage", "analytics", "buckets"),
    ("storage", "vector", "buckets"),
    ("auth", "external"),
    ("functions",),
    ("edge_runtime", "secrets"),
    ("db", "vault"),
    ("auth", "sms", "test_otp"),
)
# Tables whose keys are free-form scalars (secret names, phone numbers).
FREE_FORM_TABLES = (("edge_runtime", "secrets"), ("db", "vault"), ("auth", "sms", "test_otp"))
WILDCARD = "*"

_TABLE = re.compile(r"^\[\s*([A-Za-z0-9_.\-\"]+)\s*\]\s*$")
_KEY = re.compile(r"^([A-Za-z0-9_\-]+)\s*=")


def template_text(*, timeout: float = 60.0) -> str:
    """The config.toml that the pinned CLI's `supabase init` writes."""
    with tempfile.TemporaryDirectory(prefix="lg-supabase-init-") as tmp:
        result = run_cli(["init", "--force"], cwd=Path(tmp), timeout=timeout)
        path = Path(tmp) / "supabase" / "config.toml"
        if result.returncode != 0 or not path.exists():
            raise CliError(f"`supabase init` failed ({result.returncode}):\n{result.stderr}")
        return path.read_text(encoding="utf-8")


def _normalise(path: Sequence[str]) -> tuple[str, ...]:
    """Named-table segments become `*`; `remotes.NAME.rest` is checked as `rest`."""
    parts = list(path)
    if parts and parts[0] == "remotes":
        # `[remotes]` and `[remotes.NAME]` themselves: as known as `project_id`.
        parts = parts[2:] if len(parts) > 2 else ["project_id"]
    for prefix in NAMED_TABLES:
        n = len(prefix)
        if len(parts) > n and tuple(parts[:n]) == prefix:
            parts[n] = WILDCARD
    return tuple(parts)


def allowed_paths(template: str) -> set[tuple[str, ...]]:
    """Every table and key path the template names, commented out or not."""
    allowed: set[tuple[str, ...]] = set()
    table: tuple[str, ...] = ()
    for raw in template.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            line = line.lstrip("#").strip()
        if match := _TABLE.match(line):
            table = tuple(part.strip('"') for part in match[1].split("."))
            normalised = _normalise(table)
            for depth in range(1, len(normalised) + 1):
                allowed.add(normalised[:depth])
        elif match := _KEY.match(line):
            allowed.add(_normalise((*table, match[1])))
    return allowed


def _walk(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, value in data.items():
        path = (*prefix, key)
        yield path
        if isinstance(value, Mapping) and not _is_free_form(path):
            yield from _walk(value, path)


def _is_free_form(path: tuple[str, ...]) -> bool:
    return any(path == prefix for prefix in FREE_FORM_TABLES)


def unknown_keys(config: Mapping[str, Any], allowed: set[tuple[str, ...]]) -> list[str]:
    """Dotted paths in `config` that the CLI does not know, in file order."""
    unknown = []
    for path in _walk(config):
        if _normalise(path) not in allowed:
            unknown.append(".".join(path))
    return unknown


def check(config_path: Path = CONFIG_PATH, template: str | None = None) -> list[str]:
    config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    return unknown_keys(config, allowed_paths(template or template_text()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="config_check", description=__doc__)
    parser.add_argument("--config", type=Path, default=CONFIG_PATH)
    args = parser.parse_args(argv)
    try:
        unknown = check(args.config)
    except CliError as exc:
        print(f"config_check: {exc}", file=sys.stderr)
        return 1
    for key in unknown:
        print(f"{args.config}: `{key}` is not a Supabase CLI setting (it would be ignored)")
    return 1 if unknown else 0


if __name__ == "__main__":
    raise SystemExit(main())
