"""Deployment files: docker-compose.yml is valid and safe, docs/deploy.md matches settings.

Compose is validated by Debian's docker-compose 1.29 (`docker-compose config`), which
needs no Docker daemon; `make test` installs it (scripts/ensure-system-deps.sh).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from micboard.webserver import UVICORN_OPTIONS

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERFILE_CMD = re.compile(r"^CMD (\[.*\])$", re.MULTILINE)
SECRET_NAME = re.compile(r"SECRET|PASSWORD|_KEY\b|TOKEN")
# Defaults a secret may fall back to: the development values docs/deploy.md names.
DEVELOPMENT_DEFAULTS = {"POSTGRES_PASSWORD": "micboard"}


def docker_compose(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("docker-compose")
    assert executable, "docker-compose is not installed (apt-get install docker-compose)"
    clean = {k: v for k, v in os.environ.items() if not SECRET_NAME.search(k)}
    # An empty env file: a developer's .env must not change what the tests see.
    with tempfile.NamedTemporaryFile(suffix=".env") as empty:
        return subprocess.run(
            [executable, "--env-file", empty.name, "-f", str(COMPOSE), *args],
            env={**clean, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def yaml_to_json(text: str) -> Any:
    """Parse YAML with the system Python's PyYAML, which docker-compose itself runs on."""
    script = "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"
    converted = subprocess.run(
        ["/usr/bin/python3", "-c", script],
        input=text, capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return json.loads(converted.stdout)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The file as docker-compose resolves it, with a SECRET_KEY as an .env would give."""
    result = docker_compose("config", SECRET_KEY="from-the-environment")
    assert result.returncode == 0, result.stderr
    return yaml_to_json(result.stdout)


def test_the_compose_file_is_valid():
    result = docker_compose("config", "-q", SECRET_KEY="from-the-environment")
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_without_a_secret_key():
    result = docker_compose("config", "-q")
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_compose_runs_every_part_of_the_stack(compose):
    assert {
        *("postgres", "redis", "migrate", "web", "poller", "outputs", "rosters", "simulator")
    } <= set(compose["services"])


@pytest.mark.parametrize("service", ["web", "poller", "outputs", "rosters"])
def test_web_and_poller_wait_for_healthy_stores_and_the_migration(compose, service):
    depends = compose["services"][service]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    assert depends["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("service", ["postgres", "redis"])
def test_the_stores_have_healthchecks(compose, service):
    assert compose["services"][service]["healthcheck"]["test"]


def test_the_web_server_is_uvicorn_behind_a_proxy(compose):
    """The server the fault tests run (tests/realtime/test_faults_web.py), with the
    options they give it, trusting the proxy's client addresses."""
    command = compose["services"]["web"]["command"]
    assert command[:2] == ["uvicorn", "micboard.asgi:application"]
    assert "--proxy-headers" in command
    assert_has_options(command, UVICORN_OPTIONS)
    assert_has_options(
        json.loads(DOCKERFILE_CMD.search(DOCKERFILE.read_text())[1]), UVICORN_OPTIONS
    )
    # "*" makes uvicorn believe the left-most X-Forwarded-For: whatever a client wrote.
    assert compose["services"]["web"]["environment"]["FORWARDED_ALLOW_IPS"] == "127.0.0.1"


def assert_has_options(command: list[str], options: list[str]) -> None:
    """Every `--name value` pair of `options` is in `command`, with the same value."""
    for name, value in zip(options[::2], options[1::2], strict=True):
        assert command[command.index(name) + 1] == value, name


def test_no_secret_is_hard_coded_in_the_compose_file():
    """A secret comes from the environment; only the documented development defaults
    may stand in when it is unset, and SECRET_KEY has none at all."""
    raw = yaml_to_json(COMPOSE.read_text())
    for service in raw["services"].values():
        for name, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(name):
                assert str(value).startswith("${"), f"{name} is hard-coded"
                for var, default in re.findall(r"\$\{(\w+):-([^}]*)\}", str(value)):
                    assert DEVELOPMENT_DEFAULTS.get(var) == default, (
                        f"{var} defaults to {default!r}"
                    )
    assert "${SECRET_KEY:?" in COMPOSE.read_text()


def test_the_deploy_guide_names_exactly_the_settings_read_from_the_environment():
    settings = (ROOT / "micboard" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z_0-9]+)"', settings))
    guide = (ROOT / "docs" / "deploy.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z_0-9]+)` \|", guide, flags=re.MULTILINE))
    assert documented == read
