"""RLS matrices: persona x action -> expected outcome, written as a table a reviewer reads.

A matrix is plain text, one row per (table, action), one column per persona:

    table        action       anon   A      B      L      M      service
    profiles     select       deny   {A}    {B}    {L}    {M}    {A,B,L,M,N}
    profiles     update_own   deny   1      1      1      1      1

Cells:
- `deny`     the statement fails with 42501 (no grant, or a failed WITH CHECK);
- `zero`     it succeeds and sees/touches no row (a USING clause filtered them);
- `1`, `2`.. it succeeds and touches exactly that many rows;
- `{A,L}`    a select returns exactly the rows whose keys are A and L (`{}` = none);
- `e23503`   it fails with that SQLSTATE (a constraint, not RLS).

Each action is SQL with named parameters computed from the acting persona (`me`, `other`,
...), and, for selects, a function turning a row into the key the matrix names.
Every cell runs in its own rolled-back transaction, so cells are independent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg

from tests.harness.personas import Persona, acting_as

Row = dict[str, Any]


@dataclass(frozen=True)
class Action:
    sql: str
    params: Callable[[Persona], Mapping[str, Any]] = field(default=lambda _p: {})
    key: Callable[[Row], str] | None = None


@dataclass(frozen=True)
class Cell:
    table: str
    action: str
    persona: str
    expected: str

    def __str__(self) -> str:
        return f"{self.table}.{self.action} as {self.persona} -> {self.expected}"


def parse(text: str) -> list[Cell]:
    lines = [ln.split() for ln in text.strip().splitlines() if ln.strip()]
    header, rows = lines[0], lines[1:]
    personas = header[2:]
    cells: list[Cell] = []
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"matrix row has {len(row)} cells, header {len(header)}: {row}")
        table, action, *expected = row
        cells.extend(Cell(table, action, p, e) for p, e in zip(personas, expected, strict=True))
    return cells


def outcome(conn: psycopg.Connection[Any], persona: Persona, action: Action) -> str:
    """What actually happens, in the matrix's own notation."""
    try:
        with acting_as(conn, persona) as cur:
            cur.execute(action.sql.encode(), action.params(persona))
            if action.key is not None:
                keys = sorted({action.key(r) for r in cur.fetchall()})
                return "{" + ",".join(keys) + "}"
            touched = len(cur.fetchall()) if cur.description else cur.rowcount
    except psycopg.Error as exc:
        return "deny" if exc.sqlstate == "42501" else f"e{exc.sqlstate}"
    return "zero" if touched == 0 else str(touched)


def normalise(expected: str) -> str:
    if expected.startswith("{"):
        keys = sorted(k for k in re.split(r"[{},]", expected) if k)
        return "{" + ",".join(keys) + "}"
    return expected


def check(
    conn: psycopg.Connection[Any],
    cell: Cell,
    personas: Mapping[str, Persona],
    actions: Mapping[tuple[str, str], Action],
) -> None:
    got = outcome(conn, personas[cell.persona], actions[(cell.table, cell.action)])
    want = normalise(cell.expected)
    # A select that sees nothing is also "zero" when the matrix says {} and vice versa.
    if {got, want} == {"{}", "zero"}:
        return
    assert got == want, f"{cell}: got {got}"
