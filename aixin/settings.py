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
# Field encryption (aixin.lib.crypto): the cipher ("auto" = SM4-GCM where the installed library
# supports it, else AES-256-GCM) and the keyring — "id:key,id:key" or a key file of
# "id:algorithm:key" lines, the first being current; older keys stay to read old values until
# `aixin rotate-keys` has re-encrypted them (and as long as backups made with them are kept).
AIXIN_FIELD_CIPHER = env_str("AIXIN_FIELD_CIPHER", "auto")
AIXIN_FIELD_KEYS = env_str("AIXIN_FIELD_KEYS", "")
AIXIN_FIELD_KEY_FILE = env_str("AIXIN_FIELD_KEY_FILE", "")
# Backups (aixin.ops: `aixin backup` / `aixin restore`) are sealed with AES-256-GCM under a key
# of their own: AIXIN_BACKUP_KEY (32 bytes, url-safe base64) or the file AIXIN_BACKUP_KEY_FILE
# holding it. Without either the key is derived from SECRET_KEY (demo only; `aixin backup`
# warns). Keep the key apart from the backups: whoever holds both can read every child's file.
AIXIN_BACKUP_KEY = env_str("AIXIN_BACKUP_KEY", "")
AIXIN_BACKUP_KEY_FILE = env_str("AIXIN_BACKUP_KEY_FILE", "")
AIXIN_BACKUP_DIR = env_str("AIXIN_BACKUP_DIR", "")  # where `aixin backup` writes; default DATA_DIR/backups

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
    "aixin.cases",
    "aixin.taskforces",
    "aixin.dashboard",
    "aixin.evaluation",
    "aixin.demo",
    "aixin.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "aixin.lib.security_headers.SecurityHeadersMiddleware",  # CSP, Permissions-Policy
    "aixin.lib.security_headers.RejectNulBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Second factor, idle timeout, forced password change (aixin.accounts.middleware).
    "aixin.accounts.middleware.AuthenticationPolicyMiddleware",
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
    # 等保 level 3 (aixin.accounts.passwords): 10+ characters, 3 of 4 character classes (so never
    # all digits), no user name / phone / ID number inside, not a common password (Django's list
    # plus common Chinese ones).
    {"NAME": "aixin.accounts.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "aixin.accounts.passwords.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "aixin.accounts.passwords.PersonalDataValidator"},
    {"NAME": "aixin.accounts.passwords.CommonPasswordValidator"},
]

# Log-in lockout (aixin.accounts.lockout): this many failed passwords or codes for one account
# name within the window lock it for AIXIN_LOCKOUT_MINUTES; as many per IP address refuse the
# address. `aixin unlock-user USERNAME [--ip ADDRESS]` ends a lock early.
AIXIN_LOGIN_MAX_FAILURES = env_int("AIXIN_LOGIN_MAX_FAILURES", 5)
AIXIN_LOGIN_MAX_FAILURES_PER_IP = env_int("AIXIN_LOGIN_MAX_FAILURES_PER_IP", 20)
AIXIN_LOGIN_FAILURE_WINDOW_MINUTES = env_int("AIXIN_LOGIN_FAILURE_WINDOW_MINUTES", 15)
AIXIN_LOCKOUT_MINUTES = env_int("AIXIN_LOCKOUT_MINUTES", 15)
# Log-in attempts are security logs: kept at least 180 days (网络安全法 Art. 21: logs ≥ 6 months),
# then deleted by a daily job (accounts.tasks.purge_login_attempts) — they hold names and addresses.
AIXIN_LOGIN_ATTEMPT_RETENTION_DAYS = max(180, env_int("AIXIN_LOGIN_ATTEMPT_RETENTION_DAYS", 180))
# Second factor (aixin.accounts.totp): a TOTP authenticator app for every role below; loving
# mothers may set one up. AIXIN_TOTP_ENFORCED=0 only for development: nobody is then asked for a
# code.
AIXIN_TOTP_ENFORCED = env_bool("AIXIN_TOTP_ENFORCED", True)
AIXIN_TOTP_REQUIRED_ROLES = (
    "city_admin",
    "district_admin",
    "town_supervisor",
    "village_director",
    "department_liaison",
    "taskforce_member",
    "system_admin",
    "security_admin",
    "audit_admin",
    "evaluator",
)
AIXIN_TOTP_PENDING_SECONDS = env_int("AIXIN_TOTP_PENDING_SECONDS", 300)  # password → code
# Signed out after this long without a request: staff at shared office computers quickly, loving
# mothers on their own phones after half a day.
AIXIN_IDLE_TIMEOUT_MINUTES = env_int("AIXIN_IDLE_TIMEOUT_MINUTES", 30)
AIXIN_VOLUNTEER_IDLE_TIMEOUT_MINUTES = env_int("AIXIN_VOLUNTEER_IDLE_TIMEOUT_MINUTES", 12 * 60)

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
# Transport and cookies. AIXIN_PRODUCTION=1 serves over HTTPS only: secure cookies,
# HSTS for a year (subdomains included) and a redirect from http://; `python -m aixin check
# --deploy` is then clean. Behind a reverse proxy that terminates TLS, AIXIN_BEHIND_PROXY=1
# trusts its X-Forwarded-Proto header (the proxy must set it and strip it from clients).
# Each switch can still be set on its own (AIXIN_SECURE_COOKIES, AIXIN_HSTS_SECONDS,
# AIXIN_SSL_REDIRECT), e.g. when the proxy redirects to HTTPS itself.
AIXIN_PRODUCTION = env_bool("AIXIN_PRODUCTION", False)
AIXIN_BEHIND_PROXY = env_bool("AIXIN_BEHIND_PROXY", False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("AIXIN_SECURE_COOKIES", AIXIN_PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True  # scripts read the token from <meta name="csrf-token">, never the cookie
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env_int("AIXIN_HSTS_SECONDS", 365 * 24 * 3600 if AIXIN_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0  # only the directive; nothing is submitted anywhere
SECURE_SSL_REDIRECT = env_bool("AIXIN_SSL_REDIRECT", AIXIN_PRODUCTION)
if AIXIN_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
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
AIXIN_AUDIT_ANCHOR_FILE = env_str("AIXIN_AUDIT_ANCHOR_FILE", "")  # default DATA_DIR/audit-anchor.log

# Personal data of records closed, handed over or archived this many years ago is minimised by a
# daily job (aixin.registry.retention: name → initial, birth year, district; the rest emptied).
# Three years by default — a project choice, not a quoted regulation: long enough for the
# year-end ledgers, inspections and evaluation rounds that look back at a closed file, after which
# only statistics are needed. The program's archives requirement decides the real period, which
# is why it is a setting; 1 is the shortest allowed.
AIXIN_RETENTION_YEARS = max(1, env_int("AIXIN_RETENTION_YEARS", 3))

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

# Task forces (aixin.taskforces, R-6.4). A many-to-one child's task force is "complete" when each
# group below has at least one current member of one of its roles; the loving mother also counts
# when she comes from the child's active pairing. Groups are separated by ";", the roles that can
# stand in for each other within a group by "|" (role codes: teacher, doctor, police, judge,
# prosecutor, family_education, company, social_worker, loving_mother). Default: the loving mother,
# a teacher or a social worker, and a police officer.
AIXIN_TASKFORCE_REQUIRED_ROLES: tuple[tuple[str, ...], ...] = tuple(
    tuple(role.strip() for role in group.split("|") if role.strip())
    for group in env_str(
        "AIXIN_TASKFORCE_REQUIRED_ROLES", "loving_mother;teacher|social_worker;police"
    ).split(";")
    if group.strip()
)
# A plan is up to date when its goals are written, someone worked on it (goals, actions or a
# progress note) within this many days, and none of its open actions is past its due date.
AIXIN_TASKFORCE_PLAN_FRESH_DAYS = env_int("AIXIN_TASKFORCE_PLAN_FRESH_DAYS", 90)

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

# Cases: the deadline of each stage by severity, in hours — accept (district accepts a
# report), refer (district refers or resolves), respond (department signs for a referral), resolve
# (department / case done), verify (district verifies and closes). A missed deadline escalates to
# the district; `escalate_after` hours later still missed, to the city.
AIXIN_CASE_DEADLINES = {
    "urgent": {"accept": 2, "refer": 4, "respond": 4, "resolve": 72, "verify": 48, "escalate_after": 4},
    "high": {"accept": 24, "refer": 24, "respond": 24, "resolve": 168, "verify": 72, "escalate_after": 24},
    "medium": {"accept": 48, "refer": 48, "respond": 72, "resolve": 360, "verify": 120, "escalate_after": 48},
    "low": {"accept": 72, "refer": 120, "respond": 120, "resolve": 720, "verify": 168, "escalate_after": 72},
}
# Report photos and case attachments: images and PDF only, up to this size.
AIXIN_CASE_MAX_ATTACHMENT_BYTES = env_int("AIXIN_CASE_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "[%(asctime)s] %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    # The task queue's consumer says what it runs; configured here, it does not add a second
    # handler of its own (each line would be printed twice).
    "loggers": {
        "huey": {"handlers": ["console"], "level": env_str("HUEY_LOG_LEVEL", "INFO"), "propagate": False}
    },
}
