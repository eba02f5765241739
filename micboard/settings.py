"""Micboard settings, read from the environment through small strict helpers.

Every value has a safe development default except where production must decide
(SECRET_KEY with DEBUG off). A malformed value raises ImproperlyConfigured at start-up
instead of silently falling back, so a typo in a deployment is caught before a show.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from realtime.redis_client import Target, layer_host

# Lets generic classes such as ModelAdmin[Performer] be subscripted at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    """Return a string setting; `NAME_FILE` (a Docker secret) wins over `NAME`."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    """Return a boolean setting; only the exact words True and False are accepted."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw in ("True", "true", "1"):
        return True
    if raw in ("False", "false", "0"):
        return False
    raise ImproperlyConfigured(f"{name} must be True or False, not {raw!r}")


def env_int(name: str, default: int) -> int:
    """Return an integer setting."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated list setting."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def ip_networks(name: str, items: list[str]) -> list[str]:
    """Return address ranges (`10.0.0.0/8`, `127.0.0.1`) after checking each parses."""
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must list networks, not {item!r}") from None
    return items


def sentinel_addresses(name: str, items: list[str]) -> list[tuple[str, int]]:
    """Return `host:port` items as (host, port) pairs."""
    addresses = []
    for item in items:
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ImproperlyConfigured(f"{name} must list host:port pairs, not {item!r}")
        addresses.append((host.strip("[]"), int(port)))
    return addresses


DEBUG = env_bool("DEBUG", True)
_DEV_SECRET = "micboard-development-only-secret-key-not-for-production-use-0123456789"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is False")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# A refused form gets the site's styled 403 page (with the nav), not Django's bare one.
CSRF_FAILURE_VIEW = "dashboard.views.errors.csrf_failure"

MICBOARD_MULTI_TENANT = env_bool("MICBOARD_MULTI_TENANT", False)

# Device credentials are per site. The defaults match the simulated demo stage.
MICBOARD_SSC_PASSWORD = env_str("MICBOARD_SSC_PASSWORD", "Micboard-Sim-1!")
MICBOARD_SHURE_API_KEY = env_str("MICBOARD_SHURE_API_KEY", "micboard-demo-key")
# Receivers ship self-signed certificates; verify them only where a site runs its own CA.
MICBOARD_DEVICE_TLS_VERIFY = env_bool("MICBOARD_DEVICE_TLS_VERIFY", False)
# A charged pack whose health (% of its design capacity) is below this is flagged on the
# Chargers page as worn: it will not last a show.
MICBOARD_PACK_HEALTH_MIN = env_int("MICBOARD_PACK_HEALTH_MIN", 80)
# Pollers listen for receivers' SLP and mDNS announcements (docs/devices.md, Discovery).
MICBOARD_DISCOVERY = env_bool("MICBOARD_DISCOVERY", True)
MICBOARD_DISCOVERY_SLP_PORT = env_int("MICBOARD_DISCOVERY_SLP_PORT", 8427)
MICBOARD_DISCOVERY_INTERFACES = env_list("MICBOARD_DISCOVERY_INTERFACES", [])  # empty: all
# Where alerts go besides the walls: dotted paths of notifier classes
# (realtime/poller/notifiers.py).
# Open live sockets one user (any tabs, any walls) or one kiosk link may hold, per web process.
MICBOARD_SOCKETS_PER_USER = env_int("MICBOARD_SOCKETS_PER_USER", 100)
MICBOARD_SOCKETS_PER_KIOSK = env_int("MICBOARD_SOCKETS_PER_KIOSK", 50)
# Who may scrape /metrics: a bearer token, or an address in these networks (neither: off).
MICBOARD_METRICS_TOKEN = env_str("MICBOARD_METRICS_TOKEN", "")
MICBOARD_METRICS_ALLOWED_NETWORKS = ip_networks(
    "MICBOARD_METRICS_ALLOWED_NETWORKS", env_list("MICBOARD_METRICS_ALLOWED_NETWORKS", [])
)
MICBOARD_ALERT_NOTIFIERS = env_list(
    "MICBOARD_ALERT_NOTIFIERS",
    ["realtime.poller.notifiers.LogNotifier", "realtime.poller.notifiers.EmailNotifier"],
)
# Seconds the poller gathers conditions without raising alerts after it starts or resumes
# from a stall (its devices reconnect meanwhile), and the loop stall that counts as one.
MICBOARD_ALERT_GRACE = env_int("MICBOARD_ALERT_GRACE", 10)
MICBOARD_ALERT_STALL = env_int("MICBOARD_ALERT_STALL", 3)
# Seconds a transmitter must stay unheard before a signal-loss alert, and heard again
# before that alert clears (a pack at its last bar drops in and out).
MICBOARD_SIGNAL_LOSS_AFTER = env_int("MICBOARD_SIGNAL_LOSS_AFTER", 3)
MICBOARD_SIGNAL_BACK_AFTER = env_int("MICBOARD_SIGNAL_BACK_AFTER", 30)
# The show's timeline (docs/timeline.md): days of 10 s points kept, and hours of 1 s points.
MICBOARD_TIMELINE_DAYS = env_int("MICBOARD_TIMELINE_DAYS", 7)
MICBOARD_TIMELINE_SECOND_HOURS = env_int("MICBOARD_TIMELINE_SECOND_HOURS", 24)
# Minutes of every reading at full rate (10 Hz) kept, for the timeline zoomed in closest.
MICBOARD_TIMELINE_FULL_RATE_MINUTES = env_int("MICBOARD_TIMELINE_FULL_RATE_MINUTES", 60)
# Seconds between the recorder's saves: how far behind now a timeline page may be.
MICBOARD_TIMELINE_SAVE_SECONDS = env_int("MICBOARD_TIMELINE_SAVE_SECONDS", 10)
# RF (dBm) below which, on both antennas, a heard transmitter counts as dropping out.
MICBOARD_TIMELINE_RF_THRESHOLD = env_int("MICBOARD_TIMELINE_RF_THRESHOLD", -90)
# Rosters (docs/rosters.md): where Planning Center is, how long a sync waits out its 429s,
# and how often `sync_rosters --every` runs under run_stack.
MICBOARD_PCO_URL = env_str("MICBOARD_PCO_URL", "https://api.planningcenteronline.com")
MICBOARD_PCO_MAX_WAIT = env_int("MICBOARD_PCO_MAX_WAIT", 30)
MICBOARD_ROSTER_SYNC_MINUTES = env_int("MICBOARD_ROSTER_SYNC_MINUTES", 15)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "template_partials",
    "simple_history",
    "axes",
    "micboard",
    "micboard.timeline",
    "micboard.integrations",
    "micboard.rosters",
    "micboard.showprep",
    "dashboard",
    "realtime",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "micboard.middleware.RequireUtf8Middleware",
    "micboard.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "micboard.tenancy.TenantMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "micboard.urls"
ASGI_APPLICATION = "micboard.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the poller's telemetry batches and page reads proceed side by side.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Browser tests run daphne in another process, which cannot share an in-memory DB.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
MICBOARD_REDIS_PREFIX = env_str("MICBOARD_REDIS_PREFIX", "micboard")
# With Sentinels the master's address comes from them; REDIS_URL still gives the database
# number, the credentials and TLS (see realtime/redis_client.py).
REDIS_SENTINELS = sentinel_addresses("REDIS_SENTINELS", env_list("REDIS_SENTINELS", []))
REDIS_SENTINEL_MASTER = env_str("REDIS_SENTINEL_MASTER", "mymaster")
REDIS_SENTINEL_PASSWORD = env_str("REDIS_SENTINEL_PASSWORD", "")
# Lower case: not a setting of its own (realtime.redis_client.redis_target() rebuilds it).
live_redis = Target(
    REDIS_URL, tuple(REDIS_SENTINELS), REDIS_SENTINEL_MASTER, REDIS_SENTINEL_PASSWORD
)

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [layer_host(live_redis)], "prefix": f"{MICBOARD_REDIS_PREFIX}.layer"},
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# The sign-in throttle (micboard/login_throttle.py): per username and address together,
# and per address over all usernames.
MICBOARD_LOGIN_FAILURE_LIMIT = env_int("MICBOARD_LOGIN_FAILURE_LIMIT", 10)
MICBOARD_LOGIN_ADDRESS_FAILURE_LIMIT = env_int("MICBOARD_LOGIN_ADDRESS_FAILURE_LIMIT", 50)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = "micboard.login_throttle.failure_limit"
AXES_LOCKOUT_CALLABLE = "micboard.login_throttle.locked_out"
AXES_COOLOFF_TIME = 0.25  # hours: a locked-out tech can retry after 15 minutes
AXES_RESET_ON_SUCCESS = True  # the pair's own count only
AXES_USERNAME_CALLABLE = "micboard.login_throttle.attempted_username"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SESSION_COOKIE_HTTPONLY = True
# Off only where the site is plain HTTP on purpose (`make run` on a venue's LAN).
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        # An injected <form> or <base> cannot send a page's data (or its links) elsewhere.
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
    }
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "micboard@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}

# An optional, untracked override for one machine, imported last.
with contextlib.suppress(ImportError):
    from micboard.local_settings import *  # noqa: F403
