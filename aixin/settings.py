"""Settings for Aixin, read from the environment with safe defaults for the demo.

Every value that differs between the demo, CI and a deployment comes from an environment
variable. Helpers fail loudly on values they cannot parse instead of guessing.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent


def env_str(name: str, default: str) -> str:
    """The variable's value; unset or empty (`DATABASE_URL= make demo`) gives the default."""
    return os.environ.get(name) or default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean, got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


DEBUG = env_bool("DEBUG", False)
DEMO_SECRET = "aixin-demo-secret-key-do-not-use-in-production-0123456789"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", DEMO_SECRET)
if not DEBUG and SECRET_KEY == DEMO_SECRET and env_bool("AIXIN_PRODUCTION", False):
    raise ImproperlyConfigured("SECRET_KEY must be set in production (AIXIN_PRODUCTION=1)")

ALLOWED_HOSTS = [h for h in env_str("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

# Field encryption (ID numbers, phones) and the blind index use keys of their own, separate
# from SECRET_KEY so that rotating the session secret never makes records unreadable.
# In the demo they are derived from SECRET_KEY; a deployment sets both.
AIXIN_FIELD_KEY = env_str("AIXIN_FIELD_KEY", "")
AIXIN_BLIND_INDEX_KEY = env_str("AIXIN_BLIND_INDEX_KEY", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "huey.contrib.djhuey",
    "aixin.regions",
    "aixin.accounts",
    "aixin.audit",
    "aixin.registry",
    "aixin.volunteers",
    "aixin.pairing",
    "aixin.care",
    "aixin.activities",
    "aixin.ingest",
    "aixin.alerts",
    "aixin.matching",
    "aixin.notify",
    "aixin.dashboard",
    "aixin.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "aixin.accounts.middleware.AccessDeclaredMiddleware",
]

ROOT_URLCONF = "aixin.urls"

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
                "aixin.accounts.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "aixin.wsgi.application"

DATA_DIR = Path(env_str("AIXIN_DATA_DIR", str(PROJECT_DIR / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'aixin.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the server read while a background task writes; IMMEDIATE avoids
    # "database is locked" on the upgrade from a read to a write transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
if os.environ.get("AIXIN_TEST_DB_NAME"):
    # Lets several test runs share one PostgreSQL server without clashing.
    DATABASES["default"]["TEST"] = {"NAME": os.environ["AIXIN_TEST_DB_NAME"]}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["aixin.accounts.backends.RegionAwareBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS: list[Path | tuple[str, Path]] = [BASE_DIR / "static"]
if (PROJECT_DIR / "node_modules" / "echarts" / "dist").is_dir():
    STATICFILES_DIRS.append(("vendor/echarts", PROJECT_DIR / "node_modules" / "echarts" / "dist"))
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

SESSION_COOKIE_AGE = env_int("AIXIN_SESSION_SECONDS", 8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("AIXIN_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Background work: Huey on SQLite for a single machine, Redis for several.
# Matching costs (aixin.matching.candidates.Weights): cost units are tens of metres.
AIXIN_MATCH_WEIGHTS = {
    "unmet_need": int(env_str("AIXIN_MATCH_UNMET_NEED", "500")),  # per need no specialty answers
    "per_current_child": int(env_str("AIXIN_MATCH_PER_CHILD", "100")),  # load balance
    "k": int(env_str("AIXIN_MATCH_CANDIDATES", "30")),  # nearest mothers per child
}

# The audit log's hash chain (aixin.audit.chain): its HMAC key (32 bytes, url-safe base64; derived
# from SECRET_KEY if unset — a deployment sets its own and keeps it off the database server), how
# long an event may stay unsealed before `aixin audit verify` flags it, and how long events stay
# before `aixin audit archive` may copy them out (they are never deleted).
AIXIN_AUDIT_KEY = env_str("AIXIN_AUDIT_KEY", "")
AIXIN_AUDIT_SEAL_GRACE_SECONDS = env_int("AIXIN_AUDIT_SEAL_GRACE_SECONDS", 600)
AIXIN_AUDIT_RETENTION_DAYS = max(180, env_int("AIXIN_AUDIT_RETENTION_DAYS", 180))

# The dashboard's numbers are kept this long per scope (aixin.dashboard.selectors.cached_overview).
AIXIN_DASHBOARD_CACHE_SECONDS = env_int("AIXIN_DASHBOARD_CACHE_SECONDS", 60)

HUEY_MODE = env_str("AIXIN_QUEUE", "sqlite")
if HUEY_MODE == "redis":
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "aixin",
        "url": env_str("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "immediate": env_bool("AIXIN_QUEUE_IMMEDIATE", False),
    }
elif HUEY_MODE == "sqlite":
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "aixin",
        "filename": str(DATA_DIR / "queue.sqlite3"),
        "immediate": env_bool("AIXIN_QUEUE_IMMEDIATE", False),
    }
else:
    raise ImproperlyConfigured("AIXIN_QUEUE must be 'sqlite' or 'redis'")

# Care periods: the school calendar and the cadence of the "+1" are settings, seeded into the
# database as editable configuration (see aixin.care).
AIXIN_INACTIVITY_DAYS = (14, 30)
# The cadence of the "+1" (持续开展家庭教育指导) and the rule a festival record fulfils.
AIXIN_FAMILY_EDUCATION_CADENCE = env_str("AIXIN_FAMILY_EDUCATION_CADENCE", "quarter")
AIXIN_CARE_FESTIVAL_RULE = "yearly_festival"
AIXIN_PAGE_SIZE = env_int("AIXIN_PAGE_SIZE", 50)

# Notifications (aixin.notify). Channels are dotted paths; the in-app notification centre is
# always on. The demo logs to the console instead of texting; a deployment adds
# "aixin.notify.channels.SmsGatewayChannel" (and the WeChat one) with their URLs and secrets.
AIXIN_NOTIFY_CHANNELS = [
    c.strip()
    for c in env_str(
        "AIXIN_NOTIFY_CHANNELS", "aixin.notify.channels.InAppChannel,aixin.notify.channels.ConsoleChannel"
    ).split(",")
    if c.strip()
]
# Kinds each channel sends when the user has not chosen ("*": every kind). SMS carries the
# loving mothers' reminders only; everything else is opt-in on the 通知设置 page.
AIXIN_NOTIFY_DEFAULT_ON = {
    "console": ["*"],
    "sms": ["weekly_summary", "care_overdue"],
    "wechat": [],
}
AIXIN_NOTIFY_MAX_ATTEMPTS = env_int("AIXIN_NOTIFY_MAX_ATTEMPTS", 5)
AIXIN_NOTIFY_HTTP_TIMEOUT = env_int("AIXIN_NOTIFY_HTTP_TIMEOUT", 10)
AIXIN_NOTIFY_SMS_URL = env_str("AIXIN_NOTIFY_SMS_URL", "")
AIXIN_NOTIFY_SMS_SECRET = env_str("AIXIN_NOTIFY_SMS_SECRET", "")
AIXIN_NOTIFY_WECHAT_URL = env_str("AIXIN_NOTIFY_WECHAT_URL", "")
AIXIN_NOTIFY_WECHAT_SECRET = env_str("AIXIN_NOTIFY_WECHAT_SECRET", "")
AIXIN_NOTIFY_WECHAT_TEMPLATE = env_str("AIXIN_NOTIFY_WECHAT_TEMPLATE", "")
# The public address of the site, for links in messages that leave it (WeChat).
AIXIN_NOTIFY_SITE_URL = env_str("AIXIN_NOTIFY_SITE_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
