#!/usr/bin/env bash
# The production components natively, as docker-compose.yaml runs them, without Docker:
# api-server, scheduler, dag-processor and triggerer with the LocalExecutor on PostgreSQL metadata.
#
#   AIRFLOW__DATABASE__SQL_ALCHEMY_CONN   metadata database (default: database airflow_native on the
#                                         local PostgreSQL, created if missing)
#   AIRFLOW_API_PORT                      api-server port (default 8080)
# Stops every component on Ctrl-C or TERM. `make airflow-native` runs it with the repo's settings.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/.venv/bin"
export PATH="$BIN:$PATH"
PORT=${AIRFLOW_API_PORT:-8080}
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-postgresql+psycopg2://postgres@127.0.0.1:5432/airflow_native}
export AIRFLOW__CORE__EXECUTOR=${AIRFLOW__CORE__EXECUTOR:-LocalExecutor}
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:${PORT}/execution/"
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS:-admin:admin}
export AIRFLOW__API_AUTH__JWT_SECRET=${AIRFLOW__API_AUTH__JWT_SECRET:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')}
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=${AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL:-5}

"$BIN/python" - <<'PY'
import os
from urllib.parse import urlsplit

import psycopg2

url = urlsplit(os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("+psycopg2", ""))
if url.scheme.startswith("postgres"):
    name = url.path.lstrip("/")
    conn = psycopg2.connect(host=url.hostname, port=url.port or 5432, user=url.username, password=url.password,
                            dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("select 1 from pg_database where datname = %s", (name,))
        if not cur.fetchone():
            cur.execute(f'create database "{name}"')
    conn.close()
PY

echo "==> airflow db migrate ($(echo "$AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" | sed 's|//[^@]*@|//***@|'))"
airflow db migrate >/dev/null

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
for component in "api-server --port $PORT" scheduler dag-processor triggerer; do
  echo "==> airflow $component"
  # shellcheck disable=SC2086
  airflow $component &
  pids+=($!)
done
wait -n "${pids[@]}"
echo "!! a component exited; stopping the others" >&2
exit 1
