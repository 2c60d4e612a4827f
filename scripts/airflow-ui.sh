#!/usr/bin/env bash
# Airflow's web UI on these DAGs, locally: api-server, scheduler, dag-processor and triggerer in one
# process tree (`airflow standalone`), SQLite metadata in .airflow/, the seed replay server beside it.
# Open http://localhost:8080 and log in with the user and password printed at start-up (they are
# also in .airflow/simple_auth_manager_passwords.json.generated). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT=${MEDIA_MONITOR_REPLAY_PORT:-8765}
export MEDIA_MONITOR_REPLAY_BASE="http://127.0.0.1:${PORT}"
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS:-admin:admin}"
"$BIN/media-monitor" replay-server --port "$PORT" >/dev/null 2>&1 &
REPLAY_PID=$!
trap 'kill $REPLAY_PID 2>/dev/null || true' EXIT
PATH="$PWD/$BIN:$PATH" "$BIN/airflow" standalone
