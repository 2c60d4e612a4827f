"""Media monitoring: poll news feeds, extract articles, validate, tag and digest them.

The package holds all business logic and has no Airflow imports, so every stage can be run and
tested without a scheduler. The DAGs in ``dags/`` and the ``media-monitor`` CLI are thin callers of
:mod:`media_monitoring.pipeline`.
"""

from __future__ import annotations

__version__ = "0.1.0"
