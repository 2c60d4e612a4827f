#!/usr/bin/env bash
# One-shot initialisation of the compose stack (service airflow-init, run as root before any other
# Airflow service starts). Same steps as the airflow-init of Airflow's official docker-compose.yaml,
# adapted to the simple auth manager:
#
#   1. warn about missing AIRFLOW_UID, too little memory / CPU / disk, and dev-default secrets;
#   2. create the shared folders and hand the writable ones to AIRFLOW_UID:0;
#   3. write the shared config/airflow.cfg if missing (random secret_key, fernet_key, jwt_secret);
#   4. airflow db migrate (fails the service, and so the stack, if the migration fails);
#   5. set the admin password of the simple auth manager from _AIRFLOW_WWW_USER_PASSWORD.
set -euo pipefail

AIRFLOW_HOME=${AIRFLOW_HOME:-/opt/airflow}
cd "${AIRFLOW_HOME}"

warn() { printf '\033[1;33mWARNING: %s\033[0m\n' "$*" >&2; }
step() { printf '\n==> %s\n' "$*"; }

# --- 1. checks -----------------------------------------------------------------------------------
if [[ -z "${AIRFLOW_UID:-}" ]]; then
  warn "AIRFLOW_UID is not set: files in logs/ and config/ will belong to UID 50000." \
       "On Linux put AIRFLOW_UID=\$(id -u) in .env."
  AIRFLOW_UID=50000
fi

one_meg=1048576
mem_available=$(( $(getconf _PHYS_PAGES) * $(getconf PAGE_SIZE) / one_meg ))
cpus_available=$(grep -cE 'cpu[0-9]+' /proc/stat)
disk_available=$(df / | tail -1 | awk '{print $4}')
warning_resources=false
if (( mem_available < 4000 )); then
  warn "Not enough memory for Airflow: at least 4GB required, $(numfmt --to iec $(( mem_available * one_meg ))) available."
  warning_resources=true
fi
if (( cpus_available < 2 )); then
  warn "Not enough CPUs for Airflow: at least 2 recommended, ${cpus_available} available."
  warning_resources=true
fi
if (( disk_available < one_meg * 10 )); then
  warn "Not enough disk for Airflow: at least 10GB recommended, $(numfmt --to iec $(( disk_available * 1024 ))) available."
  warning_resources=true
fi
if [[ ${warning_resources} == true ]]; then
  warn "See https://airflow.apache.org/docs/apache-airflow/stable/howto/docker-compose/index.html#before-you-begin"
fi

# Dev defaults are fine on a laptop, never on a shared host.
if [[ "${AIRFLOW__API_AUTH__JWT_SECRET:-}" == *change-me* ]]; then
  warn "AIRFLOW_JWT_SECRET is the documented dev default: set a random value in .env (openssl rand -base64 32)."
fi
if [[ "${_AIRFLOW_WWW_USER_PASSWORD:-}" == "airflow" || "${_AIRFLOW_WWW_USER_PASSWORD:-}" == "${_AIRFLOW_WWW_USER_USERNAME:-}" ]]; then
  warn "_AIRFLOW_WWW_USER_PASSWORD is a dev default: set a real admin password in .env."
fi
if [[ "${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-}" == *:airflow@* ]]; then
  warn "POSTGRES_PASSWORD is the dev default 'airflow': set it in .env before the first start."
fi
if [[ "${AIRFLOW_CONN_MEDIA_WAREHOUSE:-}" == *:monitor@* ]]; then
  warn "WAREHOUSE_DB_PASSWORD is the dev default 'monitor': set it in .env before the first start."
fi

# --- 2. shared folders ---------------------------------------------------------------------------
data_dir=${MEDIA_MONITOR_DATA_DIR:-${AIRFLOW_HOME}/data}
step "Creating shared folders"
mkdir -v -p "${AIRFLOW_HOME}"/{logs,dags,plugins,config} "${data_dir}"

step "Airflow version"
/entrypoint airflow version

# --- 3. shared configuration ---------------------------------------------------------------------
# Every Airflow service reads AIRFLOW_CONFIG from the shared config/ folder, so the random keys
# Airflow writes into a new airflow.cfg are the same for all of them.
step "Writing ${AIRFLOW_CONFIG:-${AIRFLOW_HOME}/airflow.cfg} if missing"
/entrypoint airflow config list >/dev/null

# --- 4. metadata database ------------------------------------------------------------------------
step "Migrating the metadata database"
/entrypoint airflow db migrate

# --- 5. admin account (simple auth manager) --------------------------------------------------------
passwords_file=${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:-${AIRFLOW_HOME}/simple_auth_manager_passwords.json.generated}
if [[ -z "${_AIRFLOW_WWW_USER_USERNAME:-}" || -z "${_AIRFLOW_WWW_USER_PASSWORD:-}" ]]; then
  echo "ERROR: _AIRFLOW_WWW_USER_USERNAME and _AIRFLOW_WWW_USER_PASSWORD must be set." >&2
  exit 1
fi
step "Setting the password of '${_AIRFLOW_WWW_USER_USERNAME}' in ${passwords_file}"
python - "${passwords_file}" <<'PY'
import json
import os
import sys
from pathlib import Path

path = Path(sys.argv[1])
try:
    passwords = json.loads(path.read_text() or "{}")
except (FileNotFoundError, json.JSONDecodeError):
    passwords = {}
passwords[os.environ["_AIRFLOW_WWW_USER_USERNAME"]] = os.environ["_AIRFLOW_WWW_USER_PASSWORD"]
tmp = path.with_suffix(".tmp")
tmp.write_text(json.dumps(passwords) + "\n")
tmp.chmod(0o600)
tmp.replace(path)
PY

step "Handing logs/, config/ and ${data_dir} to ${AIRFLOW_UID}:0"
chown -R "${AIRFLOW_UID}:0" "${AIRFLOW_HOME}"/{logs,config} "${data_dir}"
ls -la "${AIRFLOW_HOME}"/{logs,config} "${data_dir}"
step "Initialisation done"
