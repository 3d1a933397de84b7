# Sourced by run.sh and test.sh: create .venv if missing and install the locked dependencies.
#
# The install is skipped while requirements.lock and pyproject.toml are unchanged since the last
# successful install (their hash is kept in .venv/.installed). Set PYTHON to choose the
# interpreter that creates the venv (default: python3, which must be 3.11 or newer).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CODE_PORTAL_VENV:-$ROOT/.venv}"

ensure_venv() {
    local python="${PYTHON:-python3}"
    if [ ! -x "$VENV/bin/python" ]; then
        if ! command -v "$python" >/dev/null 2>&1; then
            echo "error: $python not found; install Python 3.11 or newer (or set PYTHON=...)" >&2
            return 1
        fi
        if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            echo "error: $("$python" --version 2>&1) is too old; Code Portal needs Python 3.11+" >&2
            return 1
        fi
        echo "==> creating virtual environment in $VENV"
        if ! "$python" -m venv "$VENV"; then
            rm -rf "$VENV"
            echo "error: '$python -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv" >&2
            return 1
        fi
    fi
    local stamp="$VENV/.installed"
    local want
    want="$(cat "$ROOT/requirements.lock" "$ROOT/pyproject.toml" | "$VENV/bin/python" -c \
        'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        echo "==> installing dependencies from requirements.lock"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/requirements.lock"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$ROOT"
        echo "$want" > "$stamp"
    fi
    export PATH="$VENV/bin:$PATH"
    export VIRTUAL_ENV="$VENV"
}
