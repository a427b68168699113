"""What text the service passes on to Postgres."""

from __future__ import annotations


def is_unstorable(value: str) -> bool:
    """True for text holding a control character (NUL above all, which Postgres text cannot
    hold; none belongs in a name, a city or a code) or a lone surrogate (JSON and URLs let one
    through as an escape; it has no UTF-8 encoding)."""
    return any(ord(ch) < 32 or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF for ch in value)
