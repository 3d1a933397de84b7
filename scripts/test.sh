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

WORKERS="${PYTEST_WORKERS:-auto}"

if [ "$#" = 0 ]; then
    # The whole suite (the README command, CI). The tests that run a real Celery worker go
    # first, alone: every other test clears the cache, and on Redis that is a FLUSHDB of the
    # database the broker shares, which would drop a message from under a worker test running
    # in parallel. Then everything else, in parallel.
    worker_status=0
    python -m pytest -m celery_worker || worker_status=$?
    if [ "$worker_status" = 5 ]; then worker_status=0; fi  # none collected is no failure
    if [ "$worker_status" != 0 ]; then
        echo "==> the worker tests failed (exit $worker_status); running the others anyway" >&2
    fi
    rest_status=0
    python -m pytest -n "$WORKERS" -m "not celery_worker" || rest_status=$?
    if [ "$rest_status" != 0 ]; then exit "$rest_status"; fi
    exit "$worker_status"
fi

args=("$@")
parallel=1
for arg in "$@"; do
    case "$arg" in
        -n|-n*|--numprocesses*|no:xdist|-pno:xdist) parallel=0 ;;
    esac
done
if [ "$parallel" = 1 ]; then
    args=(-n "$WORKERS" "${args[@]}")
fi
exec python -m pytest "${args[@]}"
