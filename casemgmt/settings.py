"""The one settings module. Everything is read from the environment (see casemgmt/env.py and README)."""

from __future__ import annotations

from pathlib import Path

from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from casemgmt.env import (
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    load_env_file,
    replica_database_from_url,
)

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
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "casemgmt",
    "casemgmt.areas",
    "casemgmt.accounts",
    "casemgmt.audit",
    "registry",
    "followup",
    "metrics",
    "federation",
]

MIDDLEWARE = [
    "casemgmt.request_log.RequestLogMiddleware",
    "casemgmt.api.middleware.ApiWithoutSessionMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "casemgmt.accounts.twofactor.enforce.SecondFactorMiddleware",
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
# Optional PostgreSQL streaming replica for reports (metrics.reports.source): report pages, exports and the
# masked patient lists read it when it is reachable and lags at most DATABASE_REPLICA_MAX_LAG_SECONDS; every
# write and every other read stays on "default". The session is read-only even if the URL names a primary, and
# the test runner mirrors it onto the test database instead of creating one on the standby.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = replica_database_from_url(DATABASE_REPLICA_URL)
DATABASE_REPLICA_MAX_LAG_SECONDS = env_int("DATABASE_REPLICA_MAX_LAG_SECONDS", 300)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: a real broker when REDIS_URL is set; otherwise tasks run in-process (demo).
CELERY_BROKER_URL = REDIS_URL or "memory://"
# Nothing reads a task's result (jobs record their own progress and outcome): no result backend.
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
# Three queues, so a province's workbook never holds up a PDF: imports, reports (PDFs), and the default one
# (periodic upkeep, notices). A worker consumes all three unless started with -Q (deploy/ runs one per queue).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (Queue("celery"), Queue("imports"), Queue("reports"))  # what a worker without -Q consumes
CELERY_TASK_ROUTES = {
    "followup.workbook.tasks.run_workbook_import": {"queue": "imports"},
    "followup.workbook.tasks.build_workbook_export": {"queue": "imports"},  # a province's registry: long
    "metrics.tasks.build_report_pdf": {"queue": "reports"},
}
# Time limits: soft (the task fails its job with a message), then hard (the worker process is replaced).
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 30 * 60)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
IMPORT_TASK_SOFT_TIME_LIMIT = env_int("IMPORT_TASK_SOFT_TIME_LIMIT", 4 * 60 * 60)
PDF_TASK_SOFT_TIME_LIMIT = env_int("PDF_TASK_SOFT_TIME_LIMIT", 10 * 60)
CELERY_TASK_ANNOTATIONS = {
    "followup.workbook.tasks.run_workbook_import": {
        "soft_time_limit": IMPORT_TASK_SOFT_TIME_LIMIT,
        "time_limit": IMPORT_TASK_SOFT_TIME_LIMIT + 60,
    },
    "followup.workbook.tasks.build_workbook_export": {
        "soft_time_limit": IMPORT_TASK_SOFT_TIME_LIMIT,
        "time_limit": IMPORT_TASK_SOFT_TIME_LIMIT + 60,
    },
    "metrics.tasks.build_report_pdf": {
        "soft_time_limit": PDF_TASK_SOFT_TIME_LIMIT,
        "time_limit": PDF_TASK_SOFT_TIME_LIMIT + 30,
    },
}
# An unreachable broker fails the request's dispatch quickly (the job is then failed with a message,
# casemgmt.jobs.dispatch_on_commit) instead of holding the page.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 3}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Shanghai"
# Periodic tasks (celery -A casemgmt beat).
CELERY_BEAT_SCHEDULE = {
    "end-expired-case-grants": {"task": "followup.tasks.end_expired_case_grants", "schedule": 6 * 60 * 60},
    # Current-year indicator state that the calendar made stale (metrics.state.write): refreshed just after midnight.
    "refresh-indicator-state": {"task": "metrics.tasks.refresh_indicator_state", "schedule": crontab(minute=5, hour=0)},
    # Background jobs (workbook imports, PDF exports) whose worker died: failed, their files deleted (casemgmt.jobs).
    "fail-abandoned-jobs": {"task": "casemgmt.tasks.fail_abandoned_jobs", "schedule": 15 * 60},
    # Finished exports' files (a doctor's registry workbook carries identity) deleted past their retention.
    "delete-expired-job-files": {"task": "casemgmt.tasks.delete_expired_job_files", "schedule": 60 * 60},
}
# An open background job not updated for this long is presumed abandoned by its worker. Jobs record only when
# they were requested, so this must exceed the longest legitimate run (a province's workbook).
BACKGROUND_JOB_TIMEOUT_MINUTES = env_int("BACKGROUND_JOB_TIMEOUT_MINUTES", 6 * 60)
# Hours a finished export's file (registry workbook, indicator PDF) waits for download, counted from the request;
# then it is deleted (casemgmt.jobs.delete_expired_files, hourly).
JOB_FILE_RETENTION_HOURS = env_int("JOB_FILE_RETENTION_HOURS", 24)

# Limits of the tabular reader (casemgmt.tabular.limits), so that no file, however made, exhausts memory or time.
# Inflated bytes a zip-based file (.zip of CSVs, .xlsx, .ods) may hold in all, checked against both the sizes the
# archive declares and the bytes actually inflated while streaming (a zip bomb stops at the limit).
TABULAR_MAX_INFLATED_BYTES = env_int("TABULAR_MAX_INFLATED_BYTES", 4 * 1024**3)
# Inflated bytes of one part of a workbook that its parser holds in memory whole (an .xlsx's shared strings and
# styles, an .ods's content): a 425 KB file whose shared strings inflate to hundreds of MB is refused.
TABULAR_MAX_PART_BYTES = env_int("TABULAR_MAX_PART_BYTES", 64 * 1024**2)
# Characters in one cell; a longer cell is a problem of that cell (no field of the registry comes near it).
TABULAR_MAX_CELL_CHARS = env_int("TABULAR_MAX_CELL_CHARS", 4000)
# Rows of one sheet, blank ones included: bounds the time a file of millions of empty lines takes to read (about
# 3 µs a line), far above a province's follow-ups.
TABULAR_MAX_ROWS = env_int("TABULAR_MAX_ROWS", 10_000_000)
# Cells of one .xls or .ods sheet's grid (first to last filled cell), which python-calamine holds whole (about
# 64 bytes a cell): 65,536 rows × 61 columns fit; a larger sheet is to be saved as .xlsx, which is streamed.
TABULAR_MAX_GRID_CELLS = env_int("TABULAR_MAX_GRID_CELLS", 4_000_000)

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
# ID-number probes (registry.patients.probes): how many times a day one account may be told that an ID number is
# registered outside its view ("registered in another jurisdiction") by the registration form, the identity edit
# or the workbook import. Past it, every number not matched inside the account's own view is refused until the
# next day, registered or not (a refusal that only hit registered numbers would answer the question). Matches
# inside the view cost nothing: county staff re-importing their own 2,000 patients spend none. 200 is far above
# honest use (a township meets a few people registered elsewhere a week, a county's clean-up import a few dozen)
# and far below mapping a county's patients; 0 refuses every probe outside the view.
IDENTITY_PROBE_LIMIT_PER_DAY = env_int("IDENTITY_PROBE_LIMIT_PER_DAY", 200)
# Who approves an account change that gives access (issue 14 §3, casemgmt.accounts.manage.approvals):
# "county_officer" (area staff covering a doctor's areas; a second administrator for every other account) or
# "second_admin" (a second administrator for every account).
ACCOUNT_APPROVER_RULE = env_str("ACCOUNT_APPROVER_RULE", "county_officer") or "county_officer"
# Second factor (casemgmt.accounts.twofactor): the name an authenticator app shows for the account. Wrong codes
# count toward the login lockout above (per username and address, shared); django-otp's own per-device
# back-off would refuse a right code typed within seconds of a wrong one, so it is off.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "精防") or "精防"
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"


def storages(hashed_static_names: bool) -> dict[str, dict[str, str]]:
    """Uploaded files on disk; static files with content-hashed names when asked (``collectstatic`` writes them
    and their manifest), so a phone never runs a stale script after an upgrade."""
    static = "ManifestStaticFilesStorage" if hashed_static_names else "StaticFilesStorage"
    return {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": f"django.contrib.staticfiles.storage.{static}"},
    }


# On for a deployment (it runs collectstatic, deploy/); the demo and the tests serve the sources (devdata.settings).
STATIC_HASHED_NAMES = env_bool("STATIC_HASHED_NAMES", not DEBUG)
STORAGES = storages(STATIC_HASHED_NAMES)

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
# Break-glass (紧急调阅, issue 14 §4): a doctor or area officer who opens a patient outside their jurisdiction by
# full ID number and a stated reason may read that one record for this many hours; county staff review it.
BREAK_GLASS_HOURS = env_int("BREAK_GLASS_HOURS", 4)
# ...and may try this many ID numbers that match nobody per hour (a registered-or-not oracle otherwise).
BREAK_GLASS_UNANSWERED_PROBES_PER_HOUR = env_int("BREAK_GLASS_UNANSWERED_PROBES_PER_HOUR", 10)
# Case teams (domain.md §8): a member's grant runs to the plan's review date plus a margin, or this many days
# from today while the plan has no review date.
CASE_GRANT_DAYS = env_int("CASE_GRANT_DAYS", 90)
# A grant ends with the plan's review date; a margin after it must be configured on purpose (issue 14).
CASE_GRANT_MARGIN_DAYS = env_int("CASE_GRANT_MARGIN_DAYS", 0)
# Machine API (/api/v1/, casemgmt.api): a new token's default validity, and the requests one token may make per
# window (429 beyond; counted in the shared cache, per process while Redis is down).
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90)
API_RATE_LIMIT = env_int("API_RATE_LIMIT", 60)
API_RATE_WINDOW_SECONDS = env_int("API_RATE_WINDOW_SECONDS", 60)

# Indicator options (domain.md §11), each named in the report footer; reports may override them.
METRICS_REGULAR_MANAGEMENT = env_str("METRICS_REGULAR_MANAGEMENT", "quarterly")  # or "interval-3m"
METRICS_MEDICATION_DENOMINATOR = env_str("METRICS_MEDICATION_DENOMINATOR", "registered")  # or "managed"
METRICS_DEATHS_IN_PERIOD = env_str("METRICS_DEATHS_IN_PERIOD", "excluded")  # or "included"
# Population for year Y (casemgmt.areas.population): the latest year <= Y whose figures give a total (the 2020
# census carries on until a county loads its own yearly figures); false = year Y's own figures only.
AREA_POPULATION_CARRY_FORWARD = env_bool("AREA_POPULATION_CARRY_FORWARD", True)
# Exports leaving the county show person counts 1..N-1 of county-or-lower areas as "<N"; 0 turns it off.
METRICS_SUPPRESS_BELOW = env_int("METRICS_SUPPRESS_BELOW", 5)
# A report recomputes inside the request at most this many patients whose state rows the calendar made stale (a
# next follow-up date passing); more (a new month, quarter or year) are refreshed in the background and the report
# is served from the state as it stands, saying "数据截至 <day>" (metrics.state.write.freshen, issue 17 §2).
METRICS_INLINE_REFRESH_LIMIT = env_int("METRICS_INLINE_REFRESH_LIMIT", 100)

# Provinces federated (federation/): a province instance publishes its indicator documents, signed, to the national
# instance; the national instance serves the national report from them and holds no patient.
# Province side: its 2-digit code, the national endpoint (https://…/api/v1/federation/batches) and its Ed25519 key
# (base64 of the 32-byte seed; FEDERATION_SIGNING_KEY_FILE in production). `manage.py federation_keys` makes one.
FEDERATION_PROVINCE = env_str("FEDERATION_PROVINCE", "") or ""
FEDERATION_NATIONAL_URL = env_str("FEDERATION_NATIONAL_URL", "") or ""
FEDERATION_SIGNING_KEY = env_str("FEDERATION_SIGNING_KEY", "") or ""
FEDERATION_PUBLISH_LEVEL = env_int("FEDERATION_PUBLISH_LEVEL", 3)  # areas down to counties, each with its children
FEDERATION_PUBLISH_YEARS = env_int("FEDERATION_PUBLISH_YEARS", 3)
FEDERATION_TIMEOUT_SECONDS = env_int("FEDERATION_TIMEOUT_SECONDS", 60)
# National side: the provinces' public keys as "code:base64" items; empty = not a national instance.
FEDERATION_PROVINCE_KEYS = env_list("FEDERATION_PROVINCE_KEYS", [])
FEDERATION_MAX_BATCH_BYTES = env_int("FEDERATION_MAX_BATCH_BYTES", 64 * 1024 * 1024)
if FEDERATION_NATIONAL_URL:
    CELERY_BEAT_SCHEDULE["publish-indicators"] = {
        "task": "federation.tasks.publish_indicators",
        "schedule": crontab(minute=30, hour=2),  # after the nightly indicator-state refresh
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # One line per event: time, level, logger (one per module: logging.getLogger(__name__)), message. Requests and
    # tasks log key=value lines (casemgmt.request_log); nothing logs identity, search terms or ID numbers.
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # SQL logging would print ciphertext and blind indexes; keep it off even under DEBUG.
    "loggers": {"django.db.backends": {"level": "WARNING", "propagate": True}},
}
