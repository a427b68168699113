"""What a new password must be: 8 to 128 characters, and not a commonly used one.

Length follows OWASP/NIST: at least 8, at most 128 (well above the 64 they ask to allow),
never truncated (argon2 hashes every character). The common-password list is the ranked
list of 30,000 most used passwords (from leaked password corpora) that ships with the
maintained `zxcvbn` package (zxcvbn.frequency_lists, key "passwords"). We refuse a password
whose lower-cased form is anywhere in that list (threshold: rank <= 30,000; 11,611 entries
are long enough to pass the length rule, e.g. "password1", "iloveyou1", "qwertyuiop").
The seed's example `testpass123` is not in it, so it passes.
"""

from __future__ import annotations

from functools import lru_cache

from service.core.errors import AppError

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 128
COMMON_PASSWORD_RANK_LIMIT = 30_000


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    # Imported lazily: the list is a large module, loaded on the first signup, not at boot.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # noqa: PLC0415

    ranked: list[str] = FREQUENCY_LISTS["passwords"]
    return frozenset(ranked[:COMMON_PASSWORD_RANK_LIMIT])


def password_problem(password: str) -> str | None:
    """Why `password` may not be used, or None when it may."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"must be at least {MIN_PASSWORD_CHARS} characters"
    if len(password) > MAX_PASSWORD_CHARS:
        return f"must be at most {MAX_PASSWORD_CHARS} characters"
    if password.lower() in common_passwords():
        return "is too common; choose one that is not on lists of leaked passwords"
    return None


def check_new_password(password: str, field: str = "password") -> None:
    """Raise 422 `weak_password` for a password the policy refuses."""
    problem = password_problem(password)
    if problem is not None:
        raise AppError(
            422,
            "weak_password",
            f"The password {problem}",
            [{"loc": ["body", field], "msg": problem, "type": "weak_password"}],
        )
