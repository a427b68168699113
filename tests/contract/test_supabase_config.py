"""supabase/config.toml: the pinned CLI loads it, and it has no key the CLI would ignore.

No Docker-free CLI command prints the configuration it parsed, so "the CLI sees our values"
is shown the other way round: `supabase migration list` (which loads and validates the file
before touching the database) succeeds with our file against a migrated database, and
fails when one of our bucket, auth or db values is made invalid. So the CLI reads those
sections of our file, with our table names. The CLI does not validate anything in
`[realtime]`; its only check there is ours, the unknown-key check below. (`migration list`
and `db lint` against the migrated test database run in tests/scripts/test_supabase_cli.py.)
"""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from scripts.lib.config_check import (
    CONFIG_PATH,
    allowed_paths,
    check,
    main,
    template_text,
    unknown_keys,
)
from scripts.lib.supabase_cli import ensure_cli, run_cli


@pytest.fixture(scope="module")
def template() -> str:
    ensure_cli()
    return template_text()


@pytest.fixture(scope="module")
def migrated(fresh_db: Callable[[], str]) -> str:
    return fresh_db()


def project_with(tmp_path: Path, edit: Callable[[str], str] = lambda text: text) -> Path:
    (tmp_path / "supabase").mkdir()
    shutil.copytree(CONFIG_PATH.parent / "migrations", tmp_path / "supabase" / "migrations")
    text = edit(CONFIG_PATH.read_text(encoding="utf-8"))
    (tmp_path / "supabase" / "config.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_the_cli_loads_our_config(migrated: str, tmp_path: Path) -> None:
    result = run_cli(["migration", "list"], migrated, cwd=project_with(tmp_path))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("edit", "complaint"),
    [
        (
            lambda t: t.replace('file_size_limit = "5MiB"', 'file_size_limit = "five"'),
            "storage.buckets.avatars.file_size_limit",
        ),
        (
            lambda t: t.replace("[auth]\n", '[auth]\nsigning_keys_path = "./no-such-keys.json"\n'),
            "no-such-keys.json",
        ),
        (lambda t: t.replace("major_version = 15", "major_version = 99"), "major_version"),
    ],
    ids=["bucket", "auth", "db"],
)
def test_the_cli_reads_our_sections(
    migrated: str, tmp_path: Path, edit: Callable[[str], str], complaint: str
) -> None:
    project = project_with(tmp_path, edit)
    assert (project / "supabase" / "config.toml").read_text() != CONFIG_PATH.read_text()
    result = run_cli(["migration", "list"], migrated, cwd=project)
    assert result.returncode != 0
    assert complaint in result.stdout + result.stderr


def test_our_values_are_the_ones_we_mean() -> None:
    config = tomllib.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    assert config["api"]["schemas"] == ["public", "graphql_public"]  # never `private`
    assert config["auth"]["enable_signup"] is False  # accounts live in our service
    assert config["auth"]["jwt_expiry"] == 3600
    assert config["realtime"]["enabled"] is True
    buckets = config["storage"]["buckets"]
    assert buckets["avatars"]["public"] is True
    assert buckets["attachments"]["public"] is False


def test_the_template_knows_the_keys_we_rely_on(template: str) -> None:
    allowed = allowed_paths(template)
    for path in [
        ("api", "schemas"),
        ("auth", "jwt_expiry"),
        ("auth", "signing_keys_path"),  # commented out in the template
        ("storage", "buckets", "*", "allowed_mime_types"),  # a named table, commented out
        ("realtime", "enabled"),
        ("db", "seed", "sql_paths"),
    ]:
        assert path in allowed, path


def test_our_config_has_no_key_the_cli_ignores(template: str) -> None:
    assert check(template=template) == []


def test_misspelled_and_invented_keys_are_flagged(template: str) -> None:
    config = tomllib.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    config["storage"]["buckets"]["avatars"]["file_size_limt"] = "5MiB"
    config["auth"]["jwt_expiri"] = 3600
    config["realtime"]["channels"] = {"private_only": True}
    config["remotes"] = {"staging": {"project_id": "abc", "api": {"max_rowz": 5}}}
    assert sorted(unknown_keys(config, allowed_paths(template))) == [
        "auth.jwt_expiri",
        "realtime.channels",
        "realtime.channels.private_only",
        "remotes.staging.api.max_rowz",
        "storage.buckets.avatars.file_size_limt",
    ]


def test_the_command_exits_1_on_an_unknown_key(
    tmp_path: Path, template: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text(
        CONFIG_PATH.read_text(encoding="utf-8").replace("max_rows = ", "max_row = "),
        encoding="utf-8",
    )
    assert main(["--config", str(bad)]) == 1
    assert "`api.max_row` is not a Supabase CLI setting" in capsys.readouterr().out
    assert main(["--config", str(CONFIG_PATH)]) == 0
