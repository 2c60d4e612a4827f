"""The product's two roles, read from Airflow's auth manager: who may only give feedback, who may operate.

* ``operator``: may release quarantined articles (and, as the view grows, change outlets or other people's
  subscriptions). Whoever the auth manager lets edit connections (``is_authorized_connection`` with ``PUT``):
  the ``op`` and ``admin`` roles of the simple auth manager, FAB's ``Op`` and ``Admin`` roles, in Keycloak
  whoever holds the ``Connection`` resource's update permission.
* ``analyst``: any other logged-in user who may read DAGs (``is_authorized_dag`` with ``GET``): the simple auth
  manager's ``viewer`` and ``user``, FAB's ``Viewer`` and ``User``, in Keycloak the ``Dag`` read permission.

The checks, not role names, decide: the same code works with whichever auth manager Airflow is configured with.
"""

from __future__ import annotations

from typing import Any

OPERATOR = "operator"
ANALYST = "analyst"
NO_ROLE = "none"  # a user who may see the Airflow UI but not read DAGs: no write at all


def product_role(user: Any) -> str:
    """``operator``, ``analyst`` or ``none`` for an Airflow user (see the module docstring)."""
    from airflow.api_fastapi.app import get_auth_manager

    manager = get_auth_manager()
    if manager.is_authorized_connection(method="PUT", user=user):
        return OPERATOR
    if manager.is_authorized_dag(method="GET", user=user):
        return ANALYST
    return NO_ROLE


def may(role: str, needed: str) -> bool:
    """Whether ``role`` may do what ``needed`` may: an operator may everything an analyst may."""
    order = (NO_ROLE, ANALYST, OPERATOR)
    return order.index(role) >= order.index(needed)
