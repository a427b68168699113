"""The docs' supabase-js code is docs/snippets/*.ts, verbatim, and it type-checks.

`tsc --noEmit` runs over every snippet against supabase/types/database.ts, with TypeScript
and supabase-js installed by `npm ci` from docs/snippets/package-lock.json into a cache
folder (.localghost/tools/snippets), linked as docs/snippets/node_modules. The same run
type-checks a deliberately wrong file, so a checker that checks nothing fails too.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from scripts.lib.gen_types import npm_ci
from tests.contract.snippets import DOCS, ROOT, SNIPPETS, blocks, render

TOOLS = ROOT / ".localghost" / "tools" / "snippets"

BAD_SNIPPET = """\
import { supabase } from "SNIPPETS/client";
export const noSuchTable = supabase.from("no_such_table").select("*");
export const wrongArgument = supabase.rpc("start_conversation", { p_local_id: 42 });
"""


def snippet_files() -> list[Path]:
    return sorted(SNIPPETS.glob("*.ts"))


def test_every_doc_block_is_a_snippet_file_verbatim() -> None:
    for doc in DOCS:
        assert render(doc) == doc.read_text(encoding="utf-8"), (
            f"{doc.name} differs from docs/snippets: run `python -m tests.contract.snippets`"
        )
        for block in blocks(doc):
            assert block.name is not None, f"{doc.name}: a TypeScript block without a snippet"


def test_every_snippet_is_in_a_doc() -> None:
    included = {block.name for doc in DOCS for block in blocks(doc)}
    assert {path.name for path in snippet_files()} == included
    assert len(included) >= 10


def test_the_snippet_toolchain_is_pinned() -> None:
    manifest = json.loads((SNIPPETS / "package.json").read_text(encoding="utf-8"))
    for version in manifest["devDependencies"].values():
        assert version[0].isdigit(), f"pin exact versions, not {version}"
    lock = json.loads((SNIPPETS / "package-lock.json").read_text(encoding="utf-8"))
    assert (
        lock["packages"]["node_modules/@supabase/supabase-js"]["version"]
        == (manifest["devDependencies"]["@supabase/supabase-js"])
    )


@pytest.fixture(scope="module")
def tsc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    modules = npm_ci(SNIPPETS, TOOLS)
    link = SNIPPETS / "node_modules"
    if link.is_symlink() or not link.exists():
        if link.is_symlink() and link.resolve() != modules.resolve():
            link.unlink()
        if not link.exists():
            link.symlink_to(Path("../../.localghost/tools/snippets/node_modules"))
    return modules / ".bin" / "tsc"


def test_snippets_type_check_and_a_wrong_one_does_not(tsc: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ts"
    bad.write_text(BAD_SNIPPET.replace("SNIPPETS", str(SNIPPETS)), encoding="utf-8")
    config = tmp_path / "tsconfig.json"
    config.write_text(
        json.dumps(
            {
                "extends": str(SNIPPETS / "tsconfig.json"),
                "include": [
                    str(SNIPPETS / "*.ts"),
                    str(ROOT / "supabase" / "types" / "database.ts"),
                    str(bad),
                ],
            }
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [str(tsc), "--noEmit", "--pretty", "false", "-p", str(config)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error TS" in line]
    assert result.returncode != 0
    assert errors, result.stdout + result.stderr
    # Only the deliberately wrong file has errors: every real snippet checks clean.
    # tsc names files relative to its working directory.
    files = {line.split("(", 1)[0] for line in errors}
    assert {Path(name).name for name in files} == {"bad.ts"}, "\n".join(errors)
    # Both wrong lines are caught: an unknown table, and a number where a uuid string goes.
    assert {line.split("(", 1)[1].split(",", 1)[0] for line in errors} == {"2", "3"}
    assert any("'number' is not assignable to type 'string'" in line for line in errors)
