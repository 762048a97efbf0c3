"""The one settings file, driven by environment variables.

Secrets come from `NAME` or from a file named by `NAME_FILE` (Docker/systemd credentials).
`COACHREGISTER_ENV` is `production` (the default: secure unless told otherwise), `development`
or `test`. Only outside production are built-in development keys allowed; production refuses
to start without its own (see checks.py, ids coachregister.E001–E003).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = env_str(name)
    if not raw:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false.")


def env_int(name: str, default: int) -> int:
    raw = env_str(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number.") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_secret(name: str) -> str:
    """The secret from NAME, or from the file that NAME_FILE points to."""
    value = env_str(name)
    path = env_str(f"{name}_FILE")
    if value and path:
        raise ImproperlyConfigured(f"Set either {name} or {name}_FILE, not both.")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE cannot be read ({exc.strerror}).") from None
    return value


BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("COACHREGISTER_VAR_DIR") or Path.cwd() / "var")

ENV = env_str("COACHREGISTER_ENV", "production")
if ENV not in {"production", "development", "test"}:
    raise ImproperlyConfigured("COACHREGISTER_ENV must be production, development or test.")
PRODUCTION = ENV == "production"
DEBUG = env_bool("DEBUG", False) and not PRODUCTION

# Development and test keys: public on purpose, refused in production by the system checks.
_DEVELOPMENT_SECRET_KEY = "development-only-secret-key-never-used-in-production-0123456789"
_DEVELOPMENT_MASTER_KEY = "dev1:ZGV2ZWxvcG1lbnQtbWFzdGVyLWtleS0zMi1ieXRlcyE"

SECRET_KEY = env_secret("SECRET_KEY")
SECRET_KEY_MISSING = not SECRET_KEY
if SECRET_KEY_MISSING:
    # Outside production a fixed development key; in production a throw-away value so that
    # Django can load far enough for check coachregister.E001 to refuse the start clearly.
    SECRET_KEY = secrets.token_urlsafe(50) if PRODUCTION else _DEVELOPMENT_SECRET_KEY

# Master key(s) that wrap the per-coachee data keys: "kid:base64key[,kid:base64key…]",
# the first one is current; later ones are kept only to unwrap during rotation.
COACHREGISTER_MASTER_KEY = env_secret("COACHREGISTER_MASTER_KEY") or (
    "" if PRODUCTION else _DEVELOPMENT_MASTER_KEY
)

# Epoch keys live outside the database, in the key directory (keys/keyring.py): a new epoch
# every EPOCH_DAYS, destroyed once unused for BACKUP_AGE_DAYS. Backups older than that age are
# pruned, so an erased person's data opens from no copy after EPOCH_DAYS + BACKUP_AGE_DAYS.
COACHREGISTER_KEY_DIR = Path(env_str("COACHREGISTER_KEY_DIR") or VAR_DIR / "keys")
COACHREGISTER_EPOCH_DAYS = env_int("COACHREGISTER_EPOCH_DAYS", 7)
COACHREGISTER_BACKUP_AGE_DAYS = env_int("COACHREGISTER_BACKUP_AGE_DAYS", 35)
# What a restore or someone with database access must not rewrite (signed audit anchors):
# keep it on other storage than the database, or copy it off the host with the backups.
COACHREGISTER_EVIDENCE_DIR = Path(env_str("COACHREGISTER_EVIDENCE_DIR") or VAR_DIR / "evidence")
# Failed outbox messages keep their (encrypted) recipient and body this many days, then only
# the failure itself stays visible (art. 6: nothing kept that is not needed).
COACHREGISTER_OUTBOX_FAILED_DAYS = env_int("COACHREGISTER_OUTBOX_FAILED_DAYS", 14)

# The address staff use to reach the register, for links in email.
COACHREGISTER_BASE_URL = env_str("COACHREGISTER_BASE_URL", "http://127.0.0.1:8000")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto we believe (CIDR list). From any
# other peer those headers are removed before Django sees them (accounts/middleware.py).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "coachregister.keys",
    "coachregister.audit",
    "coachregister.practice",
    "coachregister.accounts",
    "coachregister.trajectories",
    "coachregister.coachees",
    "coachregister.notes",
    "coachregister.disclosures",
    "coachregister.retention",
    "coachregister.outbox",
    "coachregister.rights",
    "coachregister.complaints",
    "coachregister.incidents",
]

MIDDLEWARE = [
    "coachregister.lib.request_memo.RequestMemoMiddleware",
    "coachregister.middleware.RestorePendingMiddleware",
    "coachregister.accounts.middleware.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "coachregister.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "coachregister.accounts.middleware.AccessPolicyMiddleware",
]

ROOT_URLCONF = "coachregister.urls"
WSGI_APPLICATION = "coachregister.wsgi.application"

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
                "coachregister.practice.context_processors.practice",
            ],
            # Date and phone formats for every template (lib/display.py, issue 14).
            "builtins": ["coachregister.lib.display"],
        },
    },
]

_default_sqlite = VAR_DIR / "coachregister.sqlite3"
if not env_str("DATABASE_URL"):
    VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{_default_sqlite}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # Every transaction takes the write lock at BEGIN: concurrent gunicorn workers queue
        # instead of failing half-way, and the audit chain is appended one writer at a time.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        # secure_delete: deleted rows are overwritten with zeros in the file, not left in free
        # pages; erasure then truncates the WAL (lib/physical.py). Art. 6, 8.3.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;"
        ),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:dashboard"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "coachregister.accounts.backends.StaffBackend",
]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Art. 12.2: lockout after repeated failures, counted per account (guessing from many addresses
# does not help) and per address (one address trying many accounts). Each lockout is audited.
# django-axes enforces the per-address lock; the per-account lock is read from the same attempt
# records by the sign-in view (accounts/policy.py `account_locked`), which then asks for the
# password and the second-factor code together instead of refusing everyone: otherwise five
# wrong passwords from anywhere would lock any colleague out (a denial of service).
AXES_FAILURE_LIMIT = env_int("COACHREGISTER_LOCKOUT_FAILURES", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("COACHREGISTER_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "token"]
# Sensitive actions (user management, policy) ask for the password or code again when the last
# confirmation is older than this (art. 12.2; accounts/reauth.py).
REAUTH_MINUTES = env_int("COACHREGISTER_REAUTH_MINUTES", 5)
AXES_DISABLE_ACCESS_LOG = True
AXES_CLIENT_IP_CALLABLE = "coachregister.accounts.middleware.client_address"
AXES_LOCKOUT_CALLABLE = "coachregister.accounts.views.locked_out"
AXES_VERBOSE = False

# Sessions: idle timeout and an absolute timeout (accounts/middleware.py). A read-only page
# does not write the session: the activity time in it is refreshed at most once a minute,
# which renews the cookie and the stored expiry (SESSION_COOKIE_AGE), and the access
# middleware ends a session whose recorded activity is older than the idle minutes.
SESSION_COOKIE_AGE = env_int("COACHREGISTER_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_ABSOLUTE_SECONDS = env_int("COACHREGISTER_ABSOLUTE_HOURS", 12) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Transport security: on unless COACHREGISTER_HTTPS=false (the local demo on 127.0.0.1).
HTTPS = env_bool("COACHREGISTER_HTTPS", PRODUCTION)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS and env_bool("COACHREGISTER_HSTS_PRELOAD", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXIES else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"



def _totp_issuer(device: object) -> str:
    """The practice's name above the code in the authenticator app (read when enrolling)."""
    from coachregister.accounts.twofactor import issuer

    return issuer(device)


OTP_TOTP_ISSUER = _totp_issuer
OTP_TOTP_THROTTLE_FACTOR = 1

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Outside production the files are served straight from the source tree (no collectstatic).
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if ENV == "production"
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
# Art. 6: mail leaves over TLS, either STARTTLS (EMAIL_USE_TLS, usually port 587) or implicit
# TLS (EMAIL_USE_SSL, port 465); check coachregister.E004 refuses plain SMTP to a remote host.
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set either EMAIL_USE_TLS (STARTTLS) or EMAIL_USE_SSL, not both.")
EMAIL_PORT = env_int("EMAIL_PORT", 465 if EMAIL_USE_SSL else 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "coachregister@localhost")

# The demo (scripts/demo.sh) delivers mail as files into this folder (Django's file-based
# backend), so a new user can follow an invitation, a portal link and a decision notice
# without SMTP. Those files hold single-use portal links: honoured only in development, and
# production refuses to start with it set (check coachregister.E006).
COACHREGISTER_MAIL_DIR = env_str("COACHREGISTER_MAIL_DIR")
if COACHREGISTER_MAIL_DIR and ENV == "development":
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(Path(COACHREGISTER_MAIL_DIR).resolve())

# Log lines carry no personal data: paths hold only pseudonyms, and invitation tokens in paths
# are redacted (lib/logfilters.py). gunicorn's access log is off for the same reason.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "coachregister.lib.logfilters.RedactSecretPaths"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
