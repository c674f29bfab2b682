"""The one settings module. Everything is read from the environment (see casemgmt/env.py and README)."""

from __future__ import annotations

from pathlib import Path

from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from casemgmt.env import database_from_url, env_bool, env_int, env_list, env_str, load_env_file

BASE_DIR = Path(__file__).resolve().parent.parent

# Throw-away keys for the demo and the tests live in a git-ignored file; variables already set win.
LOCAL_ENV_FILE = Path(env_str("CASEMGMT_LOCAL_ENV", str(BASE_DIR / "var" / "local.env")) or "")
load_env_file(LOCAL_ENV_FILE)

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "") or ""
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Field encryption keys are their own settings, never derived from SECRET_KEY (design.md §3).
# FIELD_ENCRYPTION_KEYS: comma-separated "kid:base64(32 bytes)"; the active key encrypts new values.
FIELD_ENCRYPTION_KEYS = env_str("FIELD_ENCRYPTION_KEYS", "") or ""
FIELD_ENCRYPTION_ACTIVE_KEY = env_str("FIELD_ENCRYPTION_ACTIVE_KEY", "") or ""
BLIND_INDEX_KEY = env_str("BLIND_INDEX_KEY", "") or ""

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "guardian",
    "casemgmt",
    "casemgmt.areas",
    "casemgmt.accounts",
    "casemgmt.audit",
    "registry",
    "followup",
    "metrics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "casemgmt.accounts.enforce.ForcePasswordChangeMiddleware",
    "casemgmt.accounts.admin_access.SuperuserOnlyAdminMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "casemgmt.middleware.NoStoreForPatientDataMiddleware",
    "casemgmt.middleware.ContentSecurityPolicyMiddleware",
    "casemgmt.errors.MethodNotAllowedPageMiddleware",
]
CSRF_FAILURE_VIEW = "casemgmt.errors.csrf_failure"

ROOT_URLCONF = "casemgmt.urls"
WSGI_APPLICATION = "casemgmt.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'demo.sqlite3'}") or ""
DATABASES = {"default": database_from_url(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: a real broker when REDIS_URL is set; otherwise tasks run in-process (demo).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Shanghai"
# Periodic tasks (celery -A casemgmt beat).
CELERY_BEAT_SCHEDULE = {
    "end-expired-case-grants": {"task": "followup.tasks.end_expired_case_grants", "schedule": 6 * 60 * 60},
    # Current-year indicator state that the calendar made stale (metrics.state.write): refreshed just after midnight.
    "refresh-indicator-state": {"task": "metrics.tasks.refresh_indicator_state", "schedule": crontab(minute=5, hour=0)},
    # Background jobs (workbook imports, PDF exports) whose worker died: failed, their files deleted (casemgmt.jobs).
    "fail-abandoned-jobs": {"task": "casemgmt.tasks.fail_abandoned_jobs", "schedule": 15 * 60},
}
# An open background job not updated for this long is presumed abandoned by its worker. Jobs record only when
# they were requested, so this must exceed the longest legitimate run (a province's workbook).
BACKGROUND_JOB_TIMEOUT_MINUTES = env_int("BACKGROUND_JOB_TIMEOUT_MINUTES", 6 * 60)

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Idle sessions expire: every request renews the cookie, so the age is the idle limit.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG and DATABASE_URL.startswith("postgres"))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Flash messages live in the server-side session, never in a cookie: Django's default falls back to a signed
# but readable cookie, and some messages name a person (a case-team member added or removed).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Login throttling: this many failures for one username (or one client address) lock it for the window.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
# Reverse proxies whose X-Forwarded-For names the client (casemgmt.accounts.throttle.client_address); empty = none.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

X_FRAME_OPTIONS = "DENY"
# Scripts and styles from the site's own files only (casemgmt.middleware.ContentSecurityPolicyMiddleware).
CONTENT_SECURITY_POLICY = env_str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)
# The csrftoken cookie is read by no script (forms carry the token), so scripts cannot read it either.
CSRF_COOKIE_HTTPONLY = True
# Behind TLS at the reverse proxy (deploy/): trust its X-Forwarded-Proto, send HSTS. Off for the plain-HTTP demo.
BEHIND_TLS_PROXY = env_bool("DJANGO_BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 365 * 24 * 60 * 60)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = False
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Registry list page size; how many names a partial-name search may decrypt; how long a record opened with a
# stated reason (county staff) stays open.
PATIENT_LIST_PAGE_SIZE = env_int("PATIENT_LIST_PAGE_SIZE", 25)
PATIENT_NAME_SCAN_LIMIT = env_int("PATIENT_NAME_SCAN_LIMIT", 20_000)
REGISTRY_OPEN_WITH_REASON_SECONDS = env_int("REGISTRY_OPEN_WITH_REASON_SECONDS", 15 * 60)
# Case teams (domain.md §8): a member's grant runs to the plan's review date plus a margin, or this many days
# from today while the plan has no review date.
CASE_GRANT_DAYS = env_int("CASE_GRANT_DAYS", 90)
# A grant ends with the plan's review date; a margin after it must be configured on purpose (issue 14).
CASE_GRANT_MARGIN_DAYS = env_int("CASE_GRANT_MARGIN_DAYS", 0)

# Indicator options (domain.md §11), each named in the report footer; reports may override them.
METRICS_REGULAR_MANAGEMENT = env_str("METRICS_REGULAR_MANAGEMENT", "quarterly")  # or "interval-3m"
METRICS_MEDICATION_DENOMINATOR = env_str("METRICS_MEDICATION_DENOMINATOR", "registered")  # or "managed"
METRICS_DEATHS_IN_PERIOD = env_str("METRICS_DEATHS_IN_PERIOD", "excluded")  # or "included"
# Exports leaving the county show person counts 1..N-1 of county-or-lower areas as "<N"; 0 turns it off.
METRICS_SUPPRESS_BELOW = env_int("METRICS_SUPPRESS_BELOW", 5)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # SQL logging would print ciphertext and blind indexes; keep it off even under DEBUG.
    "loggers": {"django.db.backends": {"level": "WARNING", "propagate": True}},
}
