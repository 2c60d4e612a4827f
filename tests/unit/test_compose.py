"""docker-compose.yaml and docker/: read statically (PyYAML), no Docker engine needed.

The stack: Airflow 3 on CeleryExecutor (postgres, redis) in an image built from docker/Dockerfile, plus
the product's warehouse database and a mail catcher. These tests pin what the deployment relies on:
the services, the image's Airflow version against requirements.txt, the mounts and PYTHONPATH that make
include/ importable, the connections, healthchecks, and that every variable is defaulted or documented.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from media_monitoring.settings import warehouse_url_from_uri

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yaml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
INIT_SCRIPT = ROOT / "docker" / "airflow-init.sh"
REQUIREMENTS = ROOT / "requirements.txt"
ENV_EXAMPLE = ROOT / ".env.example"

REQUIRED_SERVICES = {
    "postgres", "redis", "warehouse-db", "mailpit", "airflow-apiserver", "airflow-scheduler",
    "airflow-dag-processor", "airflow-worker", "airflow-triggerer", "airflow-init",
}
AIRFLOW_SERVICES = (
    "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker",
    "airflow-triggerer", "airflow-init",
)
# Services that run once and exit; every other service is long-running.
ONE_SHOT_SERVICES = {"airflow-init", "airflow-cli"}

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err}; "$$" is an escaped literal "$".
INTERPOLATION = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?])?(?P<arg>[^}]*)\}")


def _compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def _services() -> dict[str, dict]:
    return _compose()["services"]


def _env(service: str) -> dict[str, str]:
    env = _services()[service].get("environment") or {}
    assert isinstance(env, dict), f"{service}: environment should be a mapping"
    return {key: "" if value is None else str(value) for key, value in env.items()}


def _expand(value: str) -> str:
    """Interpolate like compose does with an empty environment: defaults in, unset variables empty."""
    return INTERPOLATION.sub(lambda m: m["arg"] if m["op"] in (":-", "-") else "", value).replace("$$", "$")


def _airflow_pin() -> str:
    pins = re.findall(r"^apache-airflow==([0-9][^\s#;]*)\s*$", REQUIREMENTS.read_text(), re.MULTILINE)
    assert len(pins) == 1, f"expected exactly one apache-airflow== pin in requirements.txt, found {pins}"
    return pins[0]


def _image_version(image: str) -> str:
    match = re.fullmatch(r"apache/airflow:(\d+\.\d+\.\d+)(?:-python\d+\.\d+)?", image)
    assert match, f"not an apache/airflow:<version>[-pythonX.Y] tag: {image!r}"
    return match[1]


def _dockerfile_instructions() -> list[str]:
    """Dockerfile instructions with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _documented_variables() -> set[str]:
    # NAME=value lines, active or commented-out examples ("# NAME=...") alike.
    return set(re.findall(r"^#?\s*([A-Za-z_][A-Za-z0-9_]*)=", ENV_EXAMPLE.read_text(), re.MULTILINE))


def _published_container_ports(service: dict) -> set[int]:
    ports = set()
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            ports.add(int(entry["target"]))
        else:
            ports.add(int(str(entry).split("/")[0].rsplit(":", 1)[-1]))
    return ports


def _volume_targets(service: dict) -> dict[str, str]:
    """Container path -> host source of a service's short-syntax bind mounts and volumes."""
    targets = {}
    for entry in service.get("volumes") or []:
        source, target = str(entry).split(":")[:2]
        targets[target] = source
    return targets


def _strings(node: object):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


# --- services --------------------------------------------------------------------------------------

def test_required_services_exist() -> None:
    missing = REQUIRED_SERVICES - set(_services())
    assert not missing, f"docker-compose.yaml lacks services: {sorted(missing)}"


@pytest.mark.parametrize("service", sorted(REQUIRED_SERVICES - ONE_SHOT_SERVICES))
def test_required_services_run_by_default(service: str) -> None:
    assert not _services()[service].get("profiles"), f"{service} must start without a --profile"


def test_airflow_commands() -> None:
    services = _services()
    expected = {
        "airflow-apiserver": "api-server",
        "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor",
        "airflow-worker": "celery worker",
        "airflow-triggerer": "triggerer",
    }
    actual = {name: services[name].get("command") for name in expected}
    assert actual == expected


def test_optional_services_are_behind_profiles() -> None:
    services = _services()
    assert services["flower"]["command"] == "celery flower"
    assert services["flower"]["profiles"] == ["flower"]
    replay = services["replay"]
    assert replay["profiles"] == ["replay"]
    assert replay["command"] == ["media-monitor", "replay-server", "--host", "0.0.0.0", "--port", "8765",
                                 "--public-base", "http://replay:8765"]
    # The Airflow entrypoint would turn any unknown command into `airflow <command>`.
    assert "/entrypoint" not in " ".join(replay["entrypoint"])


def test_dependencies_name_existing_services() -> None:
    services = _services()
    conditions = {"service_started", "service_healthy", "service_completed_successfully"}
    for name, service in services.items():
        for dependency, spec in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            assert spec["condition"] in conditions, f"{name} -> {dependency}: {spec}"
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{name} waits for {dependency} to be healthy"
    for name in AIRFLOW_SERVICES:
        if name != "airflow-init":
            assert services[name]["depends_on"]["airflow-init"] == {"condition": "service_completed_successfully"}
    worker_deps = services["airflow-worker"]["depends_on"]
    for needed in ("postgres", "redis", "warehouse-db", "mailpit"):
        assert worker_deps[needed] == {"condition": "service_healthy"}, needed


# --- image ------------------------------------------------------------------------------------------

def test_airflow_services_use_the_built_image() -> None:
    services = _services()
    for name in (*AIRFLOW_SERVICES, "flower", "airflow-cli", "replay"):
        build = services[name].get("build") or {}
        assert (build.get("context"), build.get("dockerfile")) == (".", "docker/Dockerfile"), name
        assert services[name]["image"] == services["airflow-apiserver"]["image"], name


def test_image_airflow_version_equals_requirements_pin() -> None:
    pin = _airflow_pin()
    services = _services()
    for name in AIRFLOW_SERVICES:
        arg = services[name]["build"]["args"]["AIRFLOW_IMAGE_NAME"]
        match = INTERPOLATION.fullmatch(arg)
        assert match and match["name"] == "AIRFLOW_IMAGE_NAME" and match["op"] == ":-", arg
        assert _image_version(match["arg"]) == pin, f"{name}: base image {match['arg']} vs apache-airflow=={pin}"
        assert re.fullmatch(rf"[\w./-]+:{re.escape(pin)}(-python\d+\.\d+)?", services[name]["image"]), (
            f"{name}: built image tag {services[name]['image']} should carry Airflow {pin}"
        )
    default_arg = next(line for line in _dockerfile_instructions() if line.startswith("ARG AIRFLOW_IMAGE_NAME="))
    assert _image_version(default_arg.split("=", 1)[1]) == pin, default_arg
    documented = re.search(r"^AIRFLOW_IMAGE_NAME=(\S+)", ENV_EXAMPLE.read_text(), re.MULTILINE)
    assert documented and _image_version(documented[1]) == pin, ".env.example AIRFLOW_IMAGE_NAME vs requirements.txt"


def test_dockerfile_extends_the_configured_base_image() -> None:
    instructions = _dockerfile_instructions()
    froms = [line for line in instructions if line.upper().startswith("FROM ")]
    assert froms == ["FROM ${AIRFLOW_IMAGE_NAME}"]
    assert instructions.index(froms[0]) > instructions.index(
        next(line for line in instructions if line.startswith("ARG AIRFLOW_IMAGE_NAME="))
    )


def test_dockerfile_installs_requirements_with_constraints() -> None:
    instructions = _dockerfile_instructions()
    copies = " ".join(line for line in instructions if line.startswith("COPY "))
    assert re.search(r"\brequirements\.txt\b", copies) and re.search(r"\bconstraints\.txt\b", copies)
    installs = [line for line in instructions if line.startswith("RUN ") and "pip install" in line]
    assert any(
        re.search(r"(?:-r|--requirement)[ =]\S*requirements\.txt\b", line)
        and re.search(r"(?:-c|--constraint)[ =]\S*constraints\.txt\b", line)
        and "--no-cache-dir" in line
        for line in installs
    ), f"no `pip install -r requirements.txt -c constraints.txt`: {installs}"


def test_dockerfile_provides_the_media_monitor_cli_and_init_script() -> None:
    instructions = _dockerfile_instructions()
    assert any(re.search(r"pip install .*--no-deps .*-e /opt/airflow$", line) for line in instructions)
    command = _services()["airflow-init"]["command"]
    script = command[-1] if isinstance(command, list) else command.split()[-1]
    assert any(line.startswith("COPY ") and line.endswith(f"docker/airflow-init.sh {script}") for line in instructions)
    ignore = (ROOT / "docker" / "Dockerfile.dockerignore").read_text().splitlines()
    # Everything is ignored (.venv, data/, .env, .git) except what the Dockerfile copies.
    assert ignore.index("*") < min(ignore.index(line) for line in ignore if line.startswith("!"))
    for needed in ("!requirements.txt", "!constraints.txt", "!pyproject.toml", "!include/", "!docker/airflow-init.sh"):
        assert needed in ignore, needed


def test_init_script_migrates_and_sets_the_admin_password() -> None:
    text = INIT_SCRIPT.read_text()
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    assert re.search(r"^/entrypoint airflow db migrate$", text, re.MULTILINE)
    assert re.search(r"^/entrypoint airflow config list", text, re.MULTILINE)
    assert "_PHYS_PAGES" in text and "/proc/stat" in text and "df /" in text  # resource checks
    assert "SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" in text and "_AIRFLOW_WWW_USER_PASSWORD" in text
    init = _services()["airflow-init"]
    assert init["user"] == "0:0" and init["entrypoint"] == "/bin/bash"
    env = _env("airflow-init")
    assert INTERPOLATION.fullmatch(env["_AIRFLOW_WWW_USER_PASSWORD"])["name"] == "_AIRFLOW_WWW_USER_PASSWORD"
    # The password reaches only the init service, which writes the file the api-server reads.
    for name in AIRFLOW_SERVICES:
        if name != "airflow-init":
            assert "_AIRFLOW_WWW_USER_PASSWORD" not in _env(name), name
    assert _env("airflow-apiserver")["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"].startswith(
        "/opt/airflow/config/"
    )


# --- health -------------------------------------------------------------------------------------------

def test_every_long_running_service_has_a_healthcheck_and_restarts() -> None:
    services = _services()
    assert ONE_SHOT_SERVICES <= set(services)
    for name, service in services.items():
        if name in ONE_SHOT_SERVICES:
            assert service.get("restart", "no") == "no", f"{name} runs once and must not restart"
            continue
        check = service.get("healthcheck") or {}
        assert not check.get("disable"), name
        test = check.get("test")
        assert test, f"{name} has no healthcheck"
        if isinstance(test, list):
            assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, f"{name}: {test}"
        assert service.get("restart") == "always", f"{name}: restart should be always"


@pytest.mark.parametrize(
    ("service", "needle"),
    [
        ("airflow-apiserver", "http://localhost:8080/api/v2/version"),
        ("airflow-scheduler", "http://localhost:8974/health"),
        ("airflow-dag-processor", "DagProcessorJob"),
        ("airflow-triggerer", "TriggererJob"),
        ("airflow-worker", "inspect ping"),
        ("postgres", "pg_isready"),
        ("warehouse-db", "pg_isready"),
        ("redis", "redis-cli"),
        ("mailpit", "readyz"),
        ("replay", "http://localhost:8765/"),
    ],
)
def test_healthcheck_probes_the_service(service: str, needle: str) -> None:
    test = _services()[service]["healthcheck"]["test"]
    assert needle in (" ".join(test) if isinstance(test, list) else test)


def test_scheduler_health_server_is_enabled() -> None:
    assert _env("airflow-scheduler")["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"


def test_ports_8080_and_8025_are_published() -> None:
    services = _services()
    assert 8080 in _published_container_ports(services["airflow-apiserver"])
    assert 8025 in _published_container_ports(services["mailpit"])


# --- mounts and environment ------------------------------------------------------------------------------

@pytest.mark.parametrize("service", AIRFLOW_SERVICES)
def test_project_folders_are_mounted(service: str) -> None:
    targets = _volume_targets(_services()[service])
    for folder in ("dags", "plugins", "include", "seeds", "logs", "config"):
        assert targets.get(f"/opt/airflow/{folder}") == f"./{folder}", f"{service}: ./{folder} not mounted"


@pytest.mark.parametrize("service", (*AIRFLOW_SERVICES, "replay"))
def test_include_is_on_pythonpath(service: str) -> None:
    assert "/opt/airflow/include" in _env(service).get("PYTHONPATH", "").split(":"), service
    assert "/opt/airflow/include" in _volume_targets(_services()[service])
    for package in ("media_monitoring", "media_monitoring_airflow"):
        assert (ROOT / "include" / package / "__init__.py").is_file(), package


@pytest.mark.parametrize("service", AIRFLOW_SERVICES)
def test_celery_executor_with_redis_broker(service: str) -> None:
    env = _env(service)
    services = _services()
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
    assert broker.scheme == "redis" and broker.hostname == "redis" and broker.port == 6379
    assert "redis" in services
    backend = urlsplit(_expand(env["AIRFLOW__CELERY__RESULT_BACKEND"]))
    metadata = urlsplit(_expand(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]))
    assert backend.scheme == "db+postgresql" and backend.hostname == "postgres"
    assert metadata.scheme.startswith("postgresql") and metadata.hostname == "postgres"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
    assert env["AIRFLOW__CORE__AUTH_MANAGER"] == (
        "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
    )
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].endswith(":admin")
    # One JWT key for every component, from the environment (.env), never a bare literal.
    jwt = INTERPOLATION.fullmatch(env["AIRFLOW__API_AUTH__JWT_SECRET"])
    assert jwt, env["AIRFLOW__API_AUTH__JWT_SECRET"]


def test_jwt_secret_is_shared() -> None:
    values = {_env(name)["AIRFLOW__API_AUTH__JWT_SECRET"] for name in (*AIRFLOW_SERVICES, "flower")}
    assert len(values) == 1, values


def test_warehouse_connection_points_at_warehouse_db() -> None:
    uri = _env("airflow-worker")["AIRFLOW_CONN_MEDIA_WAREHOUSE"]
    assert "${WAREHOUSE_DB_PASSWORD" in uri
    # Parsed by the product's own reader, as the CLI and the DAGs do.
    assert warehouse_url_from_uri(_expand(uri)) == "postgresql+psycopg2://monitor:monitor@warehouse-db:5432/media"
    db = _env("warehouse-db")
    assert db["POSTGRES_DB"] == "media" and db["POSTGRES_USER"] == "monitor"
    assert INTERPOLATION.fullmatch(db["POSTGRES_PASSWORD"])["name"] == "WAREHOUSE_DB_PASSWORD"
    assert "/var/lib/postgresql/data" in _volume_targets(_services()["warehouse-db"])


def test_smtp_connection_points_at_mailpit() -> None:
    conn = json.loads(_env("airflow-worker")["AIRFLOW_CONN_MEDIA_SMTP"])
    assert conn == {"conn_type": "smtp", "host": "mailpit", "port": 1025,
                    "extra": {"disable_ssl": True, "disable_tls": True}}
    mailpit = _services()["mailpit"]
    assert mailpit["image"].split(":")[0] == "axllent/mailpit"
    assert 1025 in {int(port) for port in mailpit.get("expose", [])}


@pytest.mark.parametrize("service", AIRFLOW_SERVICES)
def test_connections_reach_every_airflow_service(service: str) -> None:
    env = _env(service)
    assert env["AIRFLOW_CONN_MEDIA_WAREHOUSE"] == _env("airflow-worker")["AIRFLOW_CONN_MEDIA_WAREHOUSE"]
    assert env["AIRFLOW_CONN_MEDIA_SMTP"] == _env("airflow-worker")["AIRFLOW_CONN_MEDIA_SMTP"]


def test_media_monitor_settings_are_passed_through_with_production_defaults() -> None:
    env = _env("airflow-worker")
    names = ("MEDIA_MONITOR_OUTLETS", "MEDIA_MONITOR_REPLAY_BASE", "MEDIA_MONITOR_DATA_DIR",
             "MEDIA_MONITOR_CONTACT_URL", "MEDIA_MONITOR_RETRY_DELAY_SECONDS")
    defaults = {}
    for name in names:
        match = INTERPOLATION.fullmatch(env.get(name, ""))
        assert match and match["name"] == name and match["op"] == ":-" and match["arg"], f"{name}: {env.get(name)}"
        defaults[name] = match["arg"]
    assert defaults["MEDIA_MONITOR_OUTLETS"] == "/opt/airflow/include/config/outlets.yaml"
    # That path is the production registry of this repository, seen through the include/ mount.
    assert (ROOT / "include" / "config" / "outlets.yaml").is_file()
    assert int(defaults["MEDIA_MONITOR_RETRY_DELAY_SECONDS"]) > 0
    assert urlsplit(defaults["MEDIA_MONITOR_CONTACT_URL"]).scheme == "https"
    assert defaults["MEDIA_MONITOR_DATA_DIR"] in _volume_targets(_services()["airflow-worker"])


# --- variables and secrets -----------------------------------------------------------------------------

def test_variables_without_default_are_documented_in_env_example() -> None:
    documented = _documented_variables()
    text = COMPOSE_FILE.read_text()
    used = list(INTERPOLATION.finditer(text))
    assert used, "docker-compose.yaml uses no ${VAR} at all"
    undocumented = sorted({m["name"] for m in used if m["op"] not in (":-", "-")} - documented)
    assert not undocumented, f"set in docker-compose.yaml without a default, missing from .env.example: {undocumented}"
    # A bare $VAR is interpolated too: only ${...} is allowed, "$$" for a literal dollar.
    bare = re.findall(r"(?<!\$)\$(?!\$|\{)[A-Za-z_]\w*", re.sub(r"\$\$", "", text))
    assert not bare, f"bare $VAR references: {bare}"


def test_settings_come_from_interpolation_not_env_files() -> None:
    services = _services()
    with_env_file = sorted(name for name, service in services.items() if "env_file" in service)
    assert not with_env_file, f"env_file used by {with_env_file}: pass variables with ${{VAR}} instead"


def test_documented_variables_are_the_ones_the_stack_reads() -> None:
    documented = _documented_variables()
    used = {m["name"] for m in INTERPOLATION.finditer(COMPOSE_FILE.read_text())}
    for name in ("AIRFLOW_UID", "AIRFLOW_IMAGE_NAME", "POSTGRES_PASSWORD", "WAREHOUSE_DB_PASSWORD",
                 "_AIRFLOW_WWW_USER_USERNAME", "_AIRFLOW_WWW_USER_PASSWORD", "MEDIA_MONITOR_OUTLETS",
                 "MEDIA_MONITOR_REPLAY_BASE", "MEDIA_MONITOR_DATA_DIR", "MEDIA_MONITOR_CONTACT_URL",
                 "MEDIA_MONITOR_RETRY_DELAY_SECONDS"):
        assert name in documented and name in used, name


SECRET_KEY = re.compile(r"(PASSWORD|SECRET|TOKEN|_KEY)$", re.IGNORECASE)


def test_no_literal_secrets() -> None:
    compose = _compose()
    for name, service in compose["services"].items():
        env = service.get("environment") or {}
        for key, value in env.items():
            if SECRET_KEY.search(key):
                match = INTERPOLATION.fullmatch(str(value))
                assert match, f"{name}: {key} must come from ${{VAR}} or ${{VAR:-dev-default}}, not a literal"
            if key.startswith("AIRFLOW_CONN_") and str(value).lstrip().startswith("{"):
                assert "password" not in json.loads(value), f"{name}: password in JSON connection {key}"
    for value in _strings(compose):
        # user:password@host in URLs: the password part must be ${...} (redis://:@ has none).
        for password in re.findall(r"://[^/:@\s]*:([^@/\s]*)@", value):
            assert password == "" or INTERPOLATION.fullmatch(password), f"literal password in {value!r}"
