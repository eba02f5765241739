"""Settings: strict about bad values, and safe for production by `check --deploy`."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "False",
    "ALLOWED_HOSTS": "micboard.example.org",
    "SECURE_SSL_REDIRECT": "True",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "True",
    "SECURE_HSTS_PRELOAD": "True",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "SECRET_KEY"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deploy_check():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(50),
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", **PRODUCTION)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "yes please"),
        ("MICBOARD_MULTI_TENANT", "maybe"),
        ("SECURE_HSTS_SECONDS", "1y"),
        ("MICBOARD_METRICS_ALLOWED_NETWORKS", "10.0.0.0/8,the office"),
    ],
)
def test_a_malformed_setting_stops_start_up_with_its_name(name, value):
    result = manage("check", **{name: value})
    assert result.returncode != 0
    assert name in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_a_sentinel_entry_without_a_port_is_named_in_the_error():
    result = manage("check", REDIS_SENTINELS="sentinel-a:26379,sentinel-b")
    assert result.returncode != 0
    message = "REDIS_SENTINELS must list host:port pairs, not 'sentinel-b'"
    assert f"ImproperlyConfigured: {message}" in result.stderr


SENTINEL_PROBE = """
import json
from django.conf import settings
from realtime.poller.sender import direct_publish_prefix
from realtime.redis_client import sync_client
pool = sync_client().connection_pool
print(json.dumps({
    "sentinels": settings.REDIS_SENTINELS,
    "layer": settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"],
    "client": [pool.service_name, pool.connection_kwargs["db"], pool.connection_kwargs["password"]],
    "direct": direct_publish_prefix(),
}))
"""


def test_redis_sentinels_point_the_layer_and_the_clients_at_the_master_service():
    result = manage(
        "shell",
        "-c",
        SENTINEL_PROBE,
        REDIS_SENTINELS="10.0.0.1:26379, [fd00::2]:26380",
        REDIS_SENTINEL_MASTER="micboard",
        REDIS_URL="redis://:s3cret@unused:6379/2",
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["sentinels"] == [["10.0.0.1", 26379], ["fd00::2", 26380]]
    [host] = probe["layer"]
    assert host["sentinels"] == probe["sentinels"]
    assert (host["master_name"], host["db"], host["password"]) == ("micboard", 2, "s3cret")
    assert probe["client"] == ["micboard", 2, "s3cret"]
    assert probe["direct"] == "micboard.layer", "frames still go out in one round trip"


def run_with_production_settings(code: str, tmp_path: Path) -> str:
    """Run `code` in `manage.py shell` under the production settings; return its last line."""
    result = manage(
        "shell",
        "-c",
        code,
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=f"sqlite:///{tmp_path / 'probe.sqlite3'}",
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


HEADERS_PROBE = """
import json
from django.conf import settings
from django.test import Client
response = Client(HTTP_HOST="micboard.example.org").get("/accounts/login/", secure=True)
print(json.dumps({
    "status": response.status_code,
    "headers": dict(response.headers),
    "csrf_cookie_secure": bool(response.cookies["csrftoken"]["secure"]),
    "session_cookie": [settings.SESSION_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY],
}))
"""


def test_production_pages_carry_the_security_headers(tmp_path):
    """With the production settings a page over HTTPS sends HSTS, a strict CSP, no
    framing, no sniffing and a same-origin referrer policy, and cookies are Secure."""
    probe = json.loads(run_with_production_settings(HEADERS_PROBE, tmp_path))
    headers = probe["headers"]
    assert probe["status"] == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    csp = dict(d.strip().split(" ", 1) for d in headers["Content-Security-Policy"].split(";"))
    assert csp["default-src"] == csp["script-src"] == csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["form-action"] == "'self'"  # an injected form cannot post elsewhere
    assert csp["base-uri"] == "'none'"  # nor an injected <base> move every link
    assert "no-store" in headers["Cache-Control"]
    assert probe["csrf_cookie_secure"]
    assert probe["session_cookie"] == [True, True]


REDIRECT_PROBE = """
from django.test import Client
response = Client(HTTP_HOST="micboard.example.org").get("/accounts/login/")
print(response.status_code, response.headers["Location"])
"""


def test_plain_http_is_redirected_to_https_in_production(tmp_path):
    last = run_with_production_settings(REDIRECT_PROBE, tmp_path)
    assert last == "301 https://micboard.example.org/accounts/login/"
