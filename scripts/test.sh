#!/usr/bin/env bash
# The whole test suite: lint and type checks, then every tier (unit, dag, integration). Run through `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
echo "==> ruff"
"$BIN/ruff" check dags plugins include tests bench
"$BIN/ruff" check --select AIR --preview dags plugins include
echo "==> mypy (include/media_monitoring; pyproject.toml [tool.mypy])"
"$BIN/mypy"
echo "==> pytest (unit, dag, integration)"
"$BIN/python" -m pytest -p no:cacheprovider "$@"
