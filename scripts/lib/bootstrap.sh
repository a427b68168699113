# Sourced by the verbs in scripts/: makes sure .venv holds exactly the locked versions.
# Installs Python 3.11 from Debian when it is missing and we may (root + apt).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
export PATH="$VENV/bin:$PATH"

lg_say() { printf '\033[1m[localghost]\033[0m %s\n' "$*" >&2; }

lg_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys, venv; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        lg_say "installing Python 3.11 from Debian"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv >/dev/null
        echo python3.11
        return 0
    fi
    lg_say "Python 3.11 is required (set PYTHON=/path/to/python3.11)"
    return 1
}

lg_venv() {
    local stamp
    stamp="$(cat "$ROOT/pyproject.toml" "$ROOT/requirements.lock" | sha256sum | cut -d' ' -f1)"
    if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.localghost-stamp" 2>/dev/null)" = "$stamp" ]; then
        return 0
    fi
    local py
    py="$(lg_python)"
    lg_say "installing Python dependencies into .venv (locked versions)"
    [ -x "$VENV/bin/python" ] || "$py" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
        -c "$ROOT/requirements.lock" -e "$ROOT[dev]"
    echo "$stamp" >"$VENV/.localghost-stamp"
}

lg_venv
