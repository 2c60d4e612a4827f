"""Deploy-time settings, read from environment variables (documented in ``.env.example``).

Reference data (outlets, watchlists, regions, analysts) lives in versioned YAML; this module only
knows where those files are and where runtime data goes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_DIR = PROJECT_ROOT / "include" / "config"
DEFAULT_REPLAY_REGISTRY = PROJECT_ROOT / "seeds" / "replay" / "outlets.yaml"
DEFAULT_REPLAY_BASE = "http://127.0.0.1:8765"
DEFAULT_CONTACT_URL = "https://github.com/media-monitoring/media-monitoring"
WAREHOUSE_CONN_ID = "media_warehouse"
SMTP_CONN_ID = "media_smtp"
WEBHOOK_DEFAULT_SCHEME = "https"  # an HTTP connection without a schema field


@dataclass(frozen=True)
class Settings:
    """Where things are. Built from the environment by :func:`load_settings`."""

    data_dir: Path
    config_dir: Path
    outlets_file: Path
    replay_base: str
    outbox_dir: Path
    contact_url: str
    warehouse_url: str | None

    @property
    def watchlists_file(self) -> Path:
        return self.config_dir / "watchlists.yaml"

    @property
    def analysts_file(self) -> Path:
        return self.config_dir / "analysts.yaml"

    @property
    def regions_file(self) -> Path:
        return self.config_dir / "regions.yaml"

    @property
    def default_warehouse_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'warehouse.sqlite'}"

    @property
    def user_agent(self) -> str:
        from media_monitoring import __version__

        return f"media-monitoring/{__version__} (+{self.contact_url})"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read settings from ``env`` (default: the process environment)."""
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("MEDIA_MONITOR_DATA_DIR", PROJECT_ROOT / "data")).resolve()
    config_dir = Path(env.get("MEDIA_MONITOR_CONFIG_DIR", DEFAULT_CONFIG_DIR)).resolve()
    return Settings(
        data_dir=data_dir,
        config_dir=config_dir,
        outlets_file=Path(env.get("MEDIA_MONITOR_OUTLETS", DEFAULT_REPLAY_REGISTRY)).resolve(),
        replay_base=env.get("MEDIA_MONITOR_REPLAY_BASE", DEFAULT_REPLAY_BASE).rstrip("/"),
        outbox_dir=Path(env.get("MEDIA_MONITOR_OUTBOX", data_dir / "outbox")).resolve(),
        contact_url=env.get("MEDIA_MONITOR_CONTACT_URL", DEFAULT_CONTACT_URL),
        warehouse_url=env.get("MEDIA_MONITOR_WAREHOUSE_URL")
        or _url_from_airflow_conn_env(env.get("AIRFLOW_CONN_" + WAREHOUSE_CONN_ID.upper())),
    )


def _url_from_airflow_conn_env(value: str | None) -> str | None:
    """Accept an ``AIRFLOW_CONN_*`` value (URI or JSON form) so the CLI sees what the DAGs see."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("{"):
        data = json.loads(value)
        return warehouse_url_from_parts(
            conn_type=data.get("conn_type", ""),
            host=data.get("host"),
            port=data.get("port"),
            login=data.get("login"),
            password=data.get("password"),
            schema=data.get("schema"),
        )
    return warehouse_url_from_uri(value)


def warehouse_url_from_uri(uri: str) -> str:
    """Turn an Airflow connection URI into a SQLAlchemy URL.

    ``postgres://`` and ``postgresql://`` become ``postgresql+psycopg2://``; ``sqlite:///path`` is
    kept. Anything else is refused with a message that names the supported forms.
    """
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme in ("postgres", "postgresql", "postgresql+psycopg2"):
        return warehouse_url_from_parts(
            conn_type="postgres",
            host=parts.hostname,
            port=parts.port,
            login=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            schema=parts.path.lstrip("/") or None,
        )
    if scheme == "sqlite":
        return uri
    raise ValueError(
        f"unsupported warehouse connection {scheme!r}: use postgres://user:pass@host:5432/db "
        "or sqlite:////absolute/path/warehouse.sqlite"
    )


def warehouse_url_from_parts(
    *,
    conn_type: str,
    host: str | None,
    port: int | None,
    login: str | None,
    password: str | None,
    schema: str | None,
) -> str:
    """Build a SQLAlchemy URL from the fields of an Airflow connection."""
    conn_type = (conn_type or "").lower()
    if conn_type in ("postgres", "postgresql"):
        auth = ""
        if login:
            auth = quote(login, safe="")
            if password:
                auth += ":" + quote(password, safe="")
            auth += "@"
        netloc = f"{auth}{host or 'localhost'}:{port or 5432}"
        return f"postgresql+psycopg2://{netloc}/{schema or 'postgres'}"
    if conn_type == "sqlite":
        return f"sqlite:///{host}"
    raise ValueError(f"unsupported warehouse connection type {conn_type!r}: use postgres or sqlite")


def webhook_url_from_parts(*, host: str | None, port: int | None, schema: str | None,
                           extra: dict | None) -> str:
    """The URL of a webhook connection (Airflow HTTP connection fields): ``host`` may be a whole URL;
    otherwise ``schema`` (http/https) + host + port + ``extra.endpoint`` (the path)."""
    host = (host or "").strip()
    endpoint = str((extra or {}).get("endpoint") or "")
    if host.startswith(("http://", "https://")):
        base = host.rstrip("/")
    elif host:
        scheme = (schema or WEBHOOK_DEFAULT_SCHEME).lower()
        if scheme not in ("http", "https"):
            raise ValueError(f"webhook connection schema {schema!r}: use http or https")
        base = f"{scheme}://{host}" + (f":{port}" if port else "")
    else:
        raise ValueError("webhook connection has no host")
    if endpoint:
        base += "/" + endpoint.lstrip("/")
    return base
