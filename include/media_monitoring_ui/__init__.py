"""The Media Monitor view: a FastAPI app (server-rendered, no script) over the warehouse, registered in
Airflow's UI by ``plugins/media_monitor_ui/media_monitor_plugin.py``. Airflow-aware (auth manager,
connections) where the ``media_monitoring`` package is not; it reads the warehouse only."""

from media_monitoring_ui.app import app
from media_monitoring_ui.present import URL_PREFIX

__all__ = ["URL_PREFIX", "app"]
