"""The docs' TypeScript blocks are the files in docs/snippets, included verbatim.

A block is included with a marker line right before its fence:

    <!-- snippet: client.ts -->
    ```ts
    ...the whole of docs/snippets/client.ts...
    ```

`python -m tests.contract.snippets` rewrites the docs' blocks from the files (after editing
a snippet); the tests check they agree.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = ROOT / "docs" / "snippets"
DOCS = (ROOT / "docs" / "frontend.md", ROOT / "docs" / "frontend-chat.md")

_BLOCK = re.compile(
    r"(?P<marker><!-- snippet: (?P<name>[\w.-]+) -->\n)?```(?P<lang>ts|typescript)\n"
    r"(?P<code>.*?)```\n",
    re.DOTALL,
)


@dataclass(frozen=True)
class Block:
    doc: Path
    name: str | None  # the snippet file it includes; None for an unmarked ts block
    code: str


def blocks(doc: Path) -> list[Block]:
    text = doc.read_text(encoding="utf-8")
    return [Block(doc, m["name"], m["code"]) for m in _BLOCK.finditer(text)]


def render(doc: Path) -> str:
    """The doc with every marked block replaced by its snippet file's content."""

    def fill(m: re.Match[str]) -> str:
        if m["name"] is None:
            return m[0]
        code = (SNIPPETS / m["name"]).read_text(encoding="utf-8")
        return f"{m['marker']}```{m['lang']}\n{code}```\n"

    return _BLOCK.sub(fill, doc.read_text(encoding="utf-8"))


def main() -> int:
    for doc in DOCS:
        new = render(doc)
        if new != doc.read_text(encoding="utf-8"):
            doc.write_text(new, encoding="utf-8")
            print(f"updated {doc.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
