#!/usr/bin/env bash
# Install and run Code Portal: the web server on 127.0.0.1:8000, a Celery worker and beat.
#
#   bash scripts/run.sh
#
# Without DATABASE_URL / REDIS_URL everything lives in var/ (or $CODE_PORTAL_VAR_DIR): an SQLite
# database and kombu's filesystem broker, shared by the three processes. Set them to use
# PostgreSQL and Redis instead. Ctrl-C (or SIGTERM) stops all three.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
ensure_venv
cd "$ROOT"

HOST="${CODE_PORTAL_HOST:-127.0.0.1}"
PORT="${CODE_PORTAL_PORT:-8000}"
VAR_DIR="${CODE_PORTAL_VAR_DIR:-$ROOT/var}"
# Links in e-mails (invitations, reminders) point at this server unless SITE_URL says otherwise.
export SITE_URL="${SITE_URL:-http://$HOST:$PORT}"
LOG_DIR="$VAR_DIR/log"
mkdir -p "$LOG_DIR"

echo "==> database: ${DATABASE_URL:+PostgreSQL/other (DATABASE_URL)}${DATABASE_URL:-SQLite in $VAR_DIR}"
echo "==> broker:   ${REDIS_URL:+Redis (REDIS_URL)}${REDIS_URL:-filesystem broker in $VAR_DIR/broker}"
python manage.py migrate --noinput
python manage.py createcachetable
python manage.py setup_schedules
python manage.py seed_demo

# Each service runs in its own process group (job control), so that at the end nothing is left
# behind: not the worker's pool processes, nor runserver's autoreload child.
set -m
PIDS=()
WEB_PID=""
cleanup() {
    trap - INT TERM EXIT
    echo
    echo "==> stopping web server, worker and beat"
    # The worker's main process gets the signal alone: it stops its pool itself after the tasks
    # in hand (warm shutdown). runserver's reloader would orphan its child, so its whole group.
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    [ -n "$WEB_PID" ] && { kill -TERM -- "-$WEB_PID" 2>/dev/null || true; }
    # The worker finishes the task in hand (warm shutdown); give it a while, then insist.
    for _ in $(seq 1 30); do
        local alive=0
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 1
    done
    for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap cleanup EXIT

celery -A code_portal worker --loglevel=INFO --concurrency="${CELERY_WORKER_CONCURRENCY:-2}" \
    >>"$LOG_DIR/worker.log" 2>&1 &
PIDS+=("$!")
celery -A code_portal beat --loglevel=INFO >>"$LOG_DIR/beat.log" 2>&1 &
PIDS+=("$!")
echo "==> Celery worker (log: $LOG_DIR/worker.log) and beat (log: $LOG_DIR/beat.log) started"
echo "    e-mail is printed to the worker log unless EMAIL_URL is set"
echo "==> web server on http://$HOST:$PORT/ (Ctrl-C stops everything)"
python manage.py runserver "$HOST:$PORT" &
WEB_PID="$!"
PIDS+=("$WEB_PID")

# Return as soon as any of the three exits: a crashed worker should not go unnoticed.
status=0
wait -n "${PIDS[@]}" || status=$?
echo "==> a service exited (status $status)" >&2
exit "$status"
