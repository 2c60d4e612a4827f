"""Shared fixtures and test-tier rules.

Every test carries exactly one tier marker (unit, dag, integration); an unmarked test fails
collection. Airflow runs against a throwaway AIRFLOW_HOME with a SQLite metadata database that is
created once per session; the environment is set here, before anything imports Airflow.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPLAY_ROOT = ROOT / "seeds" / "replay"
TIERS = ("unit", "dag", "integration")

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="mm-airflow-home-"))
os.environ.update({
    "AIRFLOW_HOME": str(_AIRFLOW_HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    "GX_ANALYTICS_ENABLED": "False",
    "NO_COLOR": "1",
    "MEDIA_MONITOR_RETRY_DELAY_SECONDS": "1",  # a failing task retries at once instead of in minutes
})
# Tests never touch the developer's own data folder or warehouse.
os.environ["MEDIA_MONITOR_DATA_DIR"] = str(Path(tempfile.mkdtemp(prefix="mm-data-")))
for leaked in ("MEDIA_MONITOR_WAREHOUSE_URL", "AIRFLOW_CONN_MEDIA_WAREHOUSE", "AIRFLOW_CONN_MEDIA_SMTP",
               "MEDIA_MONITOR_OUTLETS", "MEDIA_MONITOR_OUTBOX"):
    os.environ.pop(leaked, None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    unmarked = [item.nodeid for item in items if not any(item.get_closest_marker(t) for t in TIERS)]
    if unmarked:
        raise pytest.UsageError("tests without a tier marker (unit, dag or integration):\n  " + "\n  ".join(unmarked))


@pytest.fixture(scope="session")
def replay_server() -> Iterator[str]:
    """The seed snapshot served on a free loopback port; yields its base URL."""
    from media_monitoring.replay import ReplayServer

    with ReplayServer(REPLAY_ROOT) as server:
        yield server.base_url


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated Airflow metadata database (SQLite) for dag.test() runs."""
    result = subprocess.run([str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
                            capture_output=True, text=True, env=os.environ.copy(), timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return _AIRFLOW_HOME


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data folder (embedded warehouse, outbox) for one test."""
    monkeypatch.setenv("MEDIA_MONITOR_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"
