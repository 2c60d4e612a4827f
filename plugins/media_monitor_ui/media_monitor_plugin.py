"""Registers the Media Monitor view in Airflow's UI: its FastAPI app at ``/media-monitor`` and a nav entry.

The code lives in the ``media_monitoring_ui`` package (``include/``); this file only registers it, so
Airflow's plugin loader, which imports every ``.py`` file here as a top-level module, sees one module.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from media_monitoring_ui import URL_PREFIX, app


class MediaMonitorPlugin(AirflowPlugin):
    name = "media_monitor"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Media Monitor"}]
    external_views = [{
        "name": "Media Monitor",
        # Relative: resolved against the Airflow UI's <base href>, so a base_url sub-path works too.
        "href": URL_PREFIX.lstrip("/") + "/",
        "destination": "nav",
        "url_route": "media-monitor",
        "icon": URL_PREFIX.lstrip("/") + "/static/icon.svg",
    }]
