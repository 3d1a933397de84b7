#!/usr/bin/env bash
# Install and run the test suite.
#
#   bash scripts/test.sh [pytest args]
#
# Needs no services: without DATABASE_URL / REDIS_URL the tests use SQLite and the task tests
# run a real Celery worker on the embedded filesystem broker. With them set, the same tests run
# on PostgreSQL and Redis. Tests run in parallel (pytest-xdist, one process per core; set
# PYTEST_WORKERS=N to choose, 0 for none) unless the arguments choose otherwise (-n ...).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
ensure_venv
cd "$ROOT"

# The browser tests drive the system Chromium (Playwright never downloads a browser here).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Chromium for the browser tests"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q chromium >/dev/null 2>&1; then
        apt-get update -q >/dev/null
        apt-get install -y -q chromium >/dev/null
    fi
fi

args=("$@")
parallel=1
for arg in "$@"; do
    case "$arg" in
        -n|-n*|--numprocesses*|no:xdist|-pno:xdist) parallel=0 ;;
    esac
done
if [ "$parallel" = 1 ]; then
    args=(-n "${PYTEST_WORKERS:-auto}" "${args[@]}")
fi
exec python -m pytest "${args[@]}"
