"""Settings for Code Portal.

Every value comes from the environment, read here and nowhere else. Without ``DATABASE_URL`` /
``REDIS_URL`` the project runs on SQLite and an embedded Celery broker (kombu's filesystem
transport, shared by the web process, the worker and beat) so that a fresh machine needs nothing
but Python. Bad values stop start-up (django-environ raises ``ImproperlyConfigured``).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# "dev" (the default: local run command and tests) or "production" (docker compose).
ENVIRONMENT = env.str("CODE_PORTAL_ENV", default="dev")
if ENVIRONMENT not in {"dev", "production"}:
    raise ImproperlyConfigured("CODE_PORTAL_ENV must be 'dev' or 'production'.")
PRODUCTION = ENVIRONMENT == "production"

DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)
if PRODUCTION:
    # Production refuses to start without a real secret key.
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
    if len(SECRET_KEY) < 32 or SECRET_KEY.startswith("django-insecure"):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be a long random value in production.")
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="django-insecure-dev-only-key-not-for-production")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

VAR_DIR = Path(env.str("CODE_PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "rules.apps.AutodiscoverRulesConfig",
    "django_fsm",
    "django_fsm_log",
    "simple_history",
    "django_countries",
    "django_celery_beat",
    "django_celery_results",
    "django_htmx",
    "health_check",  # its HTML template for /healthz/
    "import_export",
    "code_portal",
    "signatories",
    "training",
    "reporting",
    "code_portal.reminders",
    "signatories.partners",
    "code_portal.staff",
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
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

# Database sessions that ignore forged keys (see code_portal/sessions.py).
SESSION_ENGINE = "code_portal.sessions"
ROOT_URLCONF = "code_portal.urls"
WSGI_APPLICATION = "code_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "code_portal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "code_portal.context_processors.portal",
            ],
        },
    },
    {
        # Plain-text e-mail parts and subjects: no HTML escaping ("Tours & Travel", not
        # "Tours &amp; Travel"). Used by code_portal.notifications only (using="text").
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "code_portal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

# --- Database -------------------------------------------------------------------------------
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    # django-environ accepts almost any string; a typo must stop start-up, not the first query.
    if (DATABASES["default"].get("ENGINE") not in {"django.db.backends.postgresql",
                                                   "django.db.backends.sqlite3"}
            or not DATABASES["default"].get("NAME")):
        raise ImproperlyConfigured(
            "DATABASE_URL must look like postgres://USER:PASSWORD@HOST:5432/NAME.")
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["ATOMIC_REQUESTS"] = False
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "code_portal.sqlite3",
            # WAL + a busy timeout: the web server, the worker and beat share this file.
            # IMMEDIATE: a transaction takes the write lock when it begins, so it waits for the
            # timeout; a deferred one that reads then writes fails at once ("database is locked").
            "OPTIONS": {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;",
                        "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery -------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("REDIS_URL must look like redis://HOST:6379/0.")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
    # Tasks are acked late; a task not acked within the visibility timeout is redelivered.
    # It must exceed the longest task ETA/countdown and time limit (see README).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                          "LOCATION": "code_portal_cache"}}
    broker_dir = VAR_DIR / "broker"
    for sub in ("out", "processed", "control"):
        (broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(broker_dir / "out"),
        "data_folder_out": str(broker_dir / "out"),
        "processed_folder": str(broker_dir / "processed"),
        "control_folder": str(broker_dir / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="django-db")

CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_EXTENDED = True
CELERY_RESULT_EXPIRES = timedelta(days=7)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Defaults for the database schedule; `manage.py setup_schedules` writes them once, then staff
# admins edit them in the Django admin (django-celery-beat).
CELERY_BEAT_DEFAULTS = {
    # Close invitation links that expired unused.
    "purge-expired-invitations": {
        "task": "signatories.tasks.purge_expired_invitations",
        "schedule": crontab(hour=3, minute=15),
    },
    # Reminders (code_portal/reminders): one daily scan per kind, on the UTC date. Each claims
    # its occasions (unique keys), so a re-run or a second beat sends nothing twice.
    "reminders-report-due": {
        "task": "code_portal.reminders.tasks.scan_reports_due",
        "schedule": crontab(hour=6, minute=0),
        "description": "Annual reports due soon (60/30/7 days before) → company admins and "
                       "reporters",
    },
    "reminders-report-overdue": {
        "task": "code_portal.reminders.tasks.scan_reports_overdue",
        "schedule": crontab(hour=6, minute=10),
        "description": "Overdue reports: reminders, escalation (flag, suspend after the grace "
                       "period), staff digest",
    },
    "reminders-training-refreshers": {
        "task": "code_portal.reminders.tasks.scan_training_refreshers",
        "schedule": crontab(hour=6, minute=20),
        "description": "Training refreshers due within 30 days → one e-mail per company",
    },
    "reminders-applications-waiting": {
        "task": "code_portal.reminders.tasks.scan_applications_waiting",
        "schedule": crontab(hour=7, minute=0),
        "description": "Applications waiting for staff more than 5 days → staff digest",
    },
    "reminders-partner-confirmations": {
        "task": "signatories.partners.tasks.remind_pending_confirmations",
        "schedule": crontab(hour=6, minute=30),
        "description": "Hotel partner confirmation requests still pending 7 and 21 days after "
                       "the request → the hotel contact",
    },
    # Hotel partners: close confirmation requests whose link expired unanswered.
    "partners-expire-requests": {
        "task": "signatories.partners.tasks.expire_confirmation_requests",
        "schedule": crontab(hour=3, minute=30),
    },
    # Staff exports: delete export files older than STAFF_EXPORT_KEEP_DAYS (the job row stays).
    "staff-purge-expired-exports": {
        "task": "code_portal.staff.tasks.purge_expired_exports",
        "schedule": crontab(hour=3, minute=45),
    },
    # Safety net: re-send what no task holds (a lost publish, a worker killed mid-send).
    "reminders-dispatch-pending": {
        "task": "code_portal.reminders.tasks.dispatch_pending",
        "schedule": crontab(minute="*/10"),
        "description": "Hand out notifications still pending or stuck in sending",
    },
}
# Reminders: e-mails per fan-out task; seconds after which a send left half-done by a dead
# worker is handed out again (must exceed the send task's 300 s time limit); the cap of the
# retry backoff (must stay below CELERY_VISIBILITY_TIMEOUT).
REMINDERS_SEND_BATCH_SIZE = env.int("REMINDERS_SEND_BATCH_SIZE", default=50)
REMINDERS_SEND_LEASE_SECONDS = env.int("REMINDERS_SEND_LEASE_SECONDS", default=900)
REMINDERS_RETRY_BACKOFF_MAX = env.int("REMINDERS_RETRY_BACKOFF_MAX", default=1800)
# Staff exports: up to this many rows download at once, more run as a Celery job; job files
# are deleted after this many days.
STAFF_EXPORT_INLINE_MAX_ROWS = env.int("STAFF_EXPORT_INLINE_MAX_ROWS", default=2000)
STAFF_EXPORT_KEEP_DAYS = env.int("STAFF_EXPORT_KEEP_DAYS", default=7)

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "code_portal.User"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
FORMS_URLFIELD_ASSUME_HTTPS = True
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="none")
ACCOUNT_ADAPTER = "code_portal.accounts.AccountAdapter"
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=14)

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "apply": env.str("THROTTLE_APPLY", default="20/hour"),
        "token": env.str("THROTTLE_TOKEN", default="20/min"),
        # public certificate verification (page and API share it), per client address
        "certificate_verify": env.str("THROTTLE_CERTIFICATE_VERIFY", default="30/min"),
        # public hotel confirmation links (page and API share it), per client address
        "partner_confirm": env.str("THROTTLE_PARTNER_CONFIRM", default="30/min"),
    },
    "EXCEPTION_HANDLER": "code_portal.api_errors.exception_handler",
    # Throttles key on the client address. Without this DRF trusts any X-Forwarded-For header,
    # so a client could dodge every rate limit by sending a new one with each request. Count
    # the reverse proxies in front of the app (production: the TLS proxy).
    "NUM_PROXIES": env.int("TRUSTED_PROXY_COUNT", default=1 if PRODUCTION else 0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Code Portal API",
    "DESCRIPTION": "Signatories of The Code: registration, lifecycle, training, annual reports.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "SignatoryStatusEnum": "signatories.models.SignatoryStatus",
        "MembershipRoleEnum": "signatories.models.MembershipRole",
        "ReportStatusEnum": "reporting.models.ReportStatus",
        "ReportScoreEnum": "reporting.models.Score",
        "SignatoryTypeEnum": "signatories.models.SignatoryType",
        "AuditItemStatusEnum": "signatories.models.AuditItemStatus",
        "AuditOutcomeEnum": "signatories.models.AuditOutcome",
        "NotificationStatusEnum": "code_portal.reminders.models.NotificationStatus",
        "NotificationKindEnum": "code_portal.reminders.kinds.KIND_CHOICES",
        "ExportStatusEnum": "code_portal.staff.models.ExportStatus",
        "ExportFormatEnum": "code_portal.staff.models.ExportFormat",
        "PartnerKindEnum": "signatories.partners.models.PartnerKind",
        "PartnerStateEnum": "signatories.partners.models.PartnerState",
        "ConfirmationRequestStatusEnum": "signatories.partners.models.RequestStatus",
        "ImportStatusEnum": "code_portal.models.ImportStatus",
        "CertificateStateEnum": "reporting.models.CertificateState",
        "LanguageEnum": "code_portal.settings.LANGUAGES",
        "CourseLanguageEnum": "django.conf.global_settings.LANGUAGES",
    },
}

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French")), ("es", _("Spanish")),
             ("sv", _("Swedish")), ("de", _("German")), ("th", _("Thai"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "code_portal" / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    # Uploaded evidence is private: never served from a public URL (no MEDIA_URL route).
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(MEDIA_ROOT)}},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Code Portal <no-reply@thecode.example>")
STAFF_NOTIFICATION_EMAILS = env.list("STAFF_NOTIFICATION_EMAILS", default=[])

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
