"""Typed loading of the reference data: outlet registries, watchlists, regions and analysts.

Every loader validates the whole file and raises :class:`ConfigError` naming the file, the line and
the field at fault, so a malformed line is fixed in one look instead of failing deep in a task.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

OUTLET_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
REPLAY_TOKEN = "{{REPLAY_BASE}}"


# libyaml's loader is ~15x faster than the pure-Python one on a registry of thousands of outlets
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ConfigError(ValueError):
    """A reference-data file is missing or invalid; the message says where and how to fix it."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Outlet(_Model):
    """One news outlet and its feed."""

    id: str
    name: str
    feed_url: str
    homepage: str | None = None
    country: str = Field(min_length=2, max_length=2)
    languages: tuple[str, ...] = ("en",)
    allow_private: bool = False  # the SSRF guard lets this outlet's hosts resolve to private addresses
    # Polled at the registry's ``polling.priority_interval_minutes`` whatever its adaptive rate: priority
    # alerts are due within minutes of publication, and a quiet feed's adaptive interval reaches hours.
    priority: bool = False

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not OUTLET_ID_RE.match(value):
            raise ValueError("outlet id must be a slug of lowercase letters, digits and hyphens")
        return value

    @field_validator("country")
    @classmethod
    def _upper(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{2}", value):
            raise ValueError("country must be an ISO 3166-1 alpha-2 code such as KZ")
        return value.upper()

    @field_validator("feed_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not (value.startswith(("http://", "https://")) or value.startswith(REPLAY_TOKEN)):
            raise ValueError("feed_url must be an http(s) URL")
        return value


class Polling(_Model):
    """Bounds of the adaptive poll interval and of failure backoff."""

    min_interval_minutes: float = Field(default=15, gt=0)
    max_interval_minutes: float = Field(default=360, gt=0)
    max_backoff_hours: float = Field(default=24, gt=0)
    # Priority outlets are polled this often instead of adaptively. Under the ingest schedule's period (10
    # min), so a priority feed is due at every scheduled run whatever the seconds of jitter between runs.
    priority_interval_minutes: float = Field(default=5, gt=0)


class HostLimits(_Model):
    """Politeness towards one host (or the default for all hosts)."""

    max_concurrency: int = Field(default=2, ge=1, le=64)
    min_delay_s: float = Field(default=1.0, ge=0)


class FetchLimits(_Model):
    """Timeouts of the HTTP client (seconds); defaults in media_monitoring.net. ``threads``: feeds polled
    at once in one task (I/O-bound; parsing holds the GIL, so more helps only with slow servers)."""

    threads: int | None = Field(default=None, ge=1, le=128)  # None: media_monitoring.pipeline.collect.OUTLET_THREADS
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=10.0, gt=0)
    deadline_s: float = Field(default=30.0, gt=0)


class Registry(_Model):
    version: str
    polling: Polling = Polling()
    fetch: FetchLimits = FetchLimits()
    hosts: dict[str, HostLimits] = {}  # "default" plus per-host overrides
    outlets: tuple[Outlet, ...]

    def by_id(self) -> dict[str, Outlet]:
        return {outlet.id: outlet for outlet in self.outlets}


class Alias(_Model):
    """One surface form of a watchlist term."""

    text: str = Field(min_length=1)
    case_sensitive: bool = False  # acronyms (CSTO, ОДКБ) must not match ordinary words
    suffixes: tuple[str, ...] = ()  # inflected endings, e.g. Russian case endings of a name
    # Cyrillic aliases without suffixes match in every Russian and Ukrainian case (pymorphy3); false: as
    # written only; true: inflect even with suffixes listed.
    inflect: bool | None = None


class Term(_Model):
    name: str
    aliases: tuple[Alias, ...]
    exclude: tuple[str, ...] = ()  # longer names the term must not match inside
    # Someone else with the same name: when an article names a namesake and none of the anchors (phrases
    # that pin the intended person), every hit of the term in that article is the namesake's.
    namesakes: tuple[str, ...] = ()
    anchors: tuple[str, ...] = ()
    # A hit of a priority term raises an alert within minutes for subscriptions with alerts enabled.
    priority: bool = False

    @field_validator("aliases", mode="before")
    @classmethod
    def _strings_to_aliases(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"text": item} if isinstance(item, str) else item for item in value]
        return value


class Watchlist(_Model):
    name: str
    version: str
    description: str = ""
    terms: tuple[Term, ...]


class Watchlists(_Model):
    watchlists: tuple[Watchlist, ...]


class RegionGroup(_Model):
    name: str
    countries: tuple[str, ...]


class Regions(_Model):
    version: str
    groups: tuple[RegionGroup, ...] = ()


HHMM_RE = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


class AlertOptions(_Model):
    """Priority alerts of one subscription (``alerts:`` in analysts.yaml)."""

    enabled: bool = False
    # "priority": hits of the watchlists' priority terms only; "all": any hit of the subscription's watchlists
    terms: Literal["priority", "all"] = "priority"
    email: bool = True  # to the subscription's address, like its digest
    # Airflow connection ids of webhooks (generic JSON POST); the URL is a secret and lives in the connection
    webhooks: tuple[str, ...] = ()
    # "22:00-07:00" in the subscription's timezone: alerts wait until it ends (see the README)
    quiet_hours: str | None = None
    max_per_hour: int = Field(default=10, ge=1, le=1000)  # more wait for the next hour (see the README)

    @field_validator("quiet_hours")
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        if value is None:
            return None
        start, sep, end = value.partition("-")
        if not sep or not HHMM_RE.fullmatch(start.strip()) or not HHMM_RE.fullmatch(end.strip()):
            raise ValueError('quiet_hours is "HH:MM-HH:MM", 24-hour local time, e.g. "22:00-07:00"')
        if start.strip() == end.strip():
            raise ValueError("quiet_hours must not start and end at the same time")
        return f"{start.strip()}-{end.strip()}"

    @field_validator("webhooks")
    @classmethod
    def _conn_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for conn_id in value:
            if not re.fullmatch(r"[A-Za-z0-9_.-]{1,200}", conn_id):
                raise ValueError(f"{conn_id!r} is not an Airflow connection id (letters, digits, _ . -)")
        return value


class Subscription(_Model):
    """An analyst and what their digest covers."""

    name: str
    email: str
    watchlists: tuple[str, ...]
    regions: tuple[str, ...] = ()
    # "first": items in the regions of interest lead each section; "only": the digest holds nothing else
    regions_mode: Literal["first", "only"] = "first"
    timezone: str = "UTC"
    digest_time: str = "07:00"  # local time (in ``timezone``) the digest goes out, covering what is new since
    alerts: AlertOptions = AlertOptions()
    # Airflow user names who may edit this subscription in the view (operators may edit every one)
    owners: tuple[str, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Almaty)") from None
        return value

    @field_validator("digest_time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not HHMM_RE.fullmatch(value):
            raise ValueError("digest_time is HH:MM, 24-hour local time")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not re.fullmatch(r"[^@\s<>\r\n]+@[^@\s<>\r\n]+\.[^@\s<>\r\n]+", value):
            raise ValueError("not an email address")
        return value


class Analysts(_Model):
    sender: str
    reply_to: str | None = None
    operators: tuple[str, ...] = ()  # who is told when a run fails (a digest not sent, an ingest down)
    subscriptions: tuple[Subscription, ...]


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Follow a pydantic error location through the YAML node tree to a 1-based line number."""
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            child = node.value[key]
        else:
            child = None
        if child is None:  # a missing field: point at the item that lacks it
            break
        node = child
    return node.start_mark.line + 1 if node is not None else None


def load_yaml_model(path: Path, model: type[_Model], substitutions: dict[str, str] | None = None) -> Any:
    """Load ``path`` into ``model`` with errors that name file, line and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    for token, value in (substitutions or {}).items():
        text = text.replace(token, value)
    try:
        data = yaml.load(text, Loader=_SafeLoader)  # noqa: S506 (a safe loader, the C one when built)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        root = yaml.compose(text, Loader=_SafeLoader)  # node positions, only needed to report errors
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            line = _line_of(root, tuple(err["loc"]))
            problems.append(f"{path}:{line or '?'}: {where}: {err['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems)) from None


def load_registry(path: Path, replay_base: str) -> Registry:
    """Load an outlet registry; ``{{REPLAY_BASE}}`` becomes the replay server's base URL."""
    registry = load_yaml_model(path, Registry, {REPLAY_TOKEN: replay_base})
    seen: set[str] = set()
    for index, outlet in enumerate(registry.outlets):
        if outlet.id in seen:
            loc = ("outlets", index, "id")
            line = _line_of(yaml.compose(path.read_text(encoding="utf-8")), loc)
            raise ConfigError(f"{path}:{line or '?'}: outlets.{index}.id: outlet id {outlet.id!r} appears "
                              "twice; ids must be unique")
        seen.add(outlet.id)
    return registry


def load_watchlists(path: Path) -> Watchlists:
    # Not cached: a long-lived process (api-server, tests) must see an edited watchlist at once.
    return load_yaml_model(path, Watchlists)


def load_regions(path: Path) -> Regions:
    return load_yaml_model(path, Regions)


def load_analysts(path: Path) -> Analysts:
    return load_yaml_model(path, Analysts)
