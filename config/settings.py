"""Settings for Model Registry, read from the environment (django-environ).

One module for every environment: development, tests, CI and production differ only
in their environment variables. The README's configuration table lists them.

A `.env` file in the project folder (django-environ's convention; `DOTENV_FILE` names
another, empty for none) fills in what the environment does not set: `make run` writes one
for development (`manage.py dev_env`), so every `manage.py` command works without a prefix.
The real environment always wins; the test suite reads no file.
"""

import ipaddress
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DOTENV_FILE = env.str("DOTENV_FILE", default=str(BASE_DIR / ".env"))
if DOTENV_FILE and Path(DOTENV_FILE).is_file():
    environ.Env.read_env(DOTENV_FILE)  # never overrides a variable already set

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-development-key-not-for-production")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable (or DEBUG=true for local development)."
        )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "adminsortable2",  # drag-and-drop order of a composition's particles in the admin
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "simple_history",
    "core",
    "prompts",
    "models_registry",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    # High, before anything that answers on its own (a redirect, a 413, a 404), so those carry CORS headers too.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # core.browser_middleware: session, auth and messages skip the JSON API under /v1/.
    "core.browser_middleware.BrowserSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "core.browser_middleware.BrowserAuthenticationMiddleware",
    "core.browser_middleware.BrowserMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg 3 with Django's own connection pool; persistent connections must then be off.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=4),
        # A dead database is a 503 within about 3 s, not after the default 30 s (or the old 10 s).
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=3.0),
    }
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=2))
# The hottest reads run as prepared statements, planned once per connection (core/statements.py).
# Off behind a pooler in transaction mode that cannot keep them: PgBouncer keeps them from 1.21
# on, and only with `max_prepared_statements` above 0 (its default is 0 before 1.24).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DATABASE_PREPARED_STATEMENTS:
    # Django turns psycopg's preparing off (None), and then `prepare=True` is ignored too. Its own
    # cursors bind on the client and never prepare whatever this says (psycopg only counts their
    # statements), so only core.statements' cursors prepare; the figure itself does not matter.
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
REDIS_TIMEOUT = env.float("REDIS_TIMEOUT_SECONDS", default=0.25)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="model-registry"),
            # Redis only accelerates (core.cache): a slow one is given up on quickly.
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": REDIS_TIMEOUT, "SOCKET_TIMEOUT": REDIS_TIMEOUT},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# This process's own memory: what the rate limiter counts in while Redis is away.
CACHES["local"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "local"}
# After a Redis failure, skip it for this long before trying again (core.cache).
CACHE_BACKOFF_SECONDS = env.float("CACHE_BACKOFF_SECONDS", default=5.0)

# --- Internationalisation, static files ----------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# Hashed, compressed file names once `collectstatic` has run (deployment); plain names before
# that (development, tests), so a page never fails for a missing manifest. STATIC_MANIFEST=true
# makes `collectstatic` write the manifest (the Dockerfile does) and every later process use it.
_STATIC_MANIFEST_READY = env.bool("STATIC_MANIFEST", default=(STATIC_ROOT / "staticfiles.json").exists())
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if _STATIC_MANIFEST_READY and not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Serve straight from the apps' static folders when collectstatic has not run (development, tests).
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
WHITENOISE_MANIFEST_STRICT = False

# --- Security (production-safe defaults; development relaxes them through DEBUG) ------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# The probes and the scrape come from inside the network, over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

# --- CORS (django-cors-headers): browser clients on other origins ------------------------
# The origins (scheme://host[:port]) whose pages may call the API; none by default.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
# The JSON APIs only: the admin, the docs and the probes stay same-origin.
CORS_URLS_REGEX = r"^/(v1|openai)/"
# Bearer tokens, not cookies: no credentialed requests.
CORS_ALLOW_CREDENTIALS = False
# What clients send, and the response headers a browser client must be able to read.
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "if-match",
    "if-none-match",
    "x-request-id",
)
CORS_EXPOSE_HEADERS = (
    "ETag",
    "Location",
    "Idempotent-Replayed",
    "Retry-After",
    "X-Request-ID",
    "Deprecation",
    "Sunset",
    "Link",
)
CORS_PREFLIGHT_MAX_AGE = env.int("CORS_PREFLIGHT_MAX_AGE", default=3600)

# --- Metrics (core.metrics): who may scrape /metrics; nobody by default (404) ----------
# A bearer token the scraper sends (compared in constant time), and/or the networks (CIDRs)
# a scraper's REMOTE_ADDR may be in: behind a proxy, that is the proxy's address.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
for _cidr in METRICS_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_cidr, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {_cidr!r} is not a network ({_exc}).") from None

# --- Stytch B2B -----------------------------------------------------------------------
STYTCH_PROJECT_ID = env.str("STYTCH_PROJECT_ID", default="project-test-00000000-0000-0000-0000-000000000000")
STYTCH_JWKS_URL = env.str("STYTCH_JWKS_URL", default="")
# A custom domain, as the Stytch SDK takes it: with its scheme, without a trailing slash. It is
# accepted as an issuer and, unless STYTCH_JWKS_URL says otherwise, serves the JWKS.
STYTCH_CUSTOM_BASE_URL = env.str("STYTCH_CUSTOM_BASE_URL", default="").strip().rstrip("/")
if STYTCH_CUSTOM_BASE_URL and not STYTCH_CUSTOM_BASE_URL.startswith("https://"):
    raise ImproperlyConfigured(
        f"STYTCH_CUSTOM_BASE_URL must be an https:// URL (got {STYTCH_CUSTOM_BASE_URL!r}), e.g. https://login.example.com."
    )
# Clock skew allowed on exp/nbf/iat (the Stytch SDK allows none).
STYTCH_JWT_LEEWAY = env.int("STYTCH_JWT_LEEWAY", default=5)
# http:// and file:// JWKS URLs are for development: refused with DEBUG off unless this says so.
STYTCH_JWKS_ALLOW_INSECURE = env.bool("STYTCH_JWKS_ALLOW_INSECURE", default=False)
STYTCH_WRITE_ROLES = env.list("STYTCH_WRITE_ROLES", default=["stytch_admin"])
STYTCH_JWKS_COOLDOWN = env.float("STYTCH_JWKS_COOLDOWN", default=30.0)
STYTCH_JWKS_TIMEOUT = env.float("STYTCH_JWKS_TIMEOUT", default=3.0)
# Where `manage.py dev_token` keeps its development key pair (ignored by git).
DEV_KEYS_DIR = Path(env.str("DEV_KEYS_DIR", default=str(BASE_DIR / ".dev")))

# --- Django REST framework, OpenAPI --------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["core.authentication.StytchJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["core.permissions.ResourcePermission"],
    "DEFAULT_RENDERER_CLASSES": ["core.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["core.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.PrincipalRateThrottle"],
    "EXCEPTION_HANDLER": "core.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": False,
    "PAGE_SIZE": 50,
    "NON_FIELD_ERRORS_KEY": "nonFieldErrors",
}

# Requests per organization and per client (a member or an M2M client); "N/second|minute|hour|day".
THROTTLE_RATES = {
    "organization": env.str("THROTTLE_RATE_ORGANIZATION", default="6000/minute"),
    "client": env.str("THROTTLE_RATE_CLIENT", default="1200/minute"),
}
# How long a rendered read (a list page, an object, a resolved model) may be kept in the cache (0:
# never cache). Responses are keyed by the generations in PostgreSQL (core/response_cache.py); off
# unless the cache is shared by every worker, where it pays. RESOLVED_CACHE_SECONDS is its old name.
RESPONSE_CACHE_SECONDS = env.int(
    "RESPONSE_CACHE_SECONDS", default=env.int("RESOLVED_CACHE_SECONDS", default=300 if REDIS_URL else 0)
)
# Which system models an organization without an explicit mode may use: "all" (every enabled
# one) or "plan" (only its plan and additions; none until staff assign them).
DEFAULT_ENTITLEMENT = env.str("DEFAULT_ENTITLEMENT", default="all")
if DEFAULT_ENTITLEMENT not in ("all", "plan"):
    raise ImproperlyConfigured(f"DEFAULT_ENTITLEMENT must be 'all' or 'plan', not {DEFAULT_ENTITLEMENT!r}.")
# How long an Idempotency-Key is remembered.
IDEMPOTENCY_KEY_TTL_SECONDS = env.int("IDEMPOTENCY_KEY_TTL_SECONDS", default=24 * 3600)

# The OpenAPI document's server, contact and license (`make openapi-lint` checks the document).
# The server is relative by default: Swagger UI and Redoc call the host that serves them, and a
# generated client takes its base URL from the caller (hey-api's default becomes "", so a browser
# calls its own origin). Set the deployment's public URL to make it a generated client's default.
OPENAPI_SERVER_URL = env.str("OPENAPI_SERVER_URL", default="/")
# Relative URLs resolve against the server: the landing page (links to the docs) and /license.
OPENAPI_CONTACT_URL = env.str("OPENAPI_CONTACT_URL", default="/")
OPENAPI_CONTACT_EMAIL = env.str("OPENAPI_CONTACT_EMAIL", default="")
OPENAPI_LICENSE_URL = env.str("OPENAPI_LICENSE_URL", default="/license")

SPECTACULAR_SETTINGS = {
    "TITLE": "Model Registry API",
    "DESCRIPTION": (
        "A multi-tenant registry of AI model configurations. Organizations build user models "
        "on top of staff-curated system models and compose their system prompts from reusable "
        "particles. Authenticate with a Stytch B2B session JWT or M2M access token."
    ),
    "VERSION": "1.0.0",
    "SERVERS": [{"url": OPENAPI_SERVER_URL, "description": "This deployment of the Model Registry."}],
    "CONTACT": {
        "name": "Model Registry API support",
        "url": OPENAPI_CONTACT_URL,
        **({"email": OPENAPI_CONTACT_EMAIL} if OPENAPI_CONTACT_EMAIL else {}),
    },
    # Not open source: the project ships no LICENSE and its npm manifests say UNLICENSED.
    "LICENSE": {"name": "Proprietary", "url": OPENAPI_LICENSE_URL},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.openapi.typed_nullable_references",
    ],
    # Every tag an operation uses, described (redocly's operation-tag-defined and tag-description).
    "TAGS": [
        {
            "name": "models",
            "description": "System models curated by staff, and your organization's user models built "
            "on them; the resolved configuration a runtime needs.",
        },
        {
            "name": "prompt-particles",
            "description": "Reusable pieces of a system prompt: role, tone, guardrails, format, ...",
        },
        {
            "name": "prompt-compositions",
            "description": "System prompts assembled from ordered particles, and a preview of the text they render.",
        },
        {"name": "audit", "description": "Who changed what in your organization, and when."},
        {
            "name": "export-import",
            "description": "Your organization's configuration as one document: to copy it to another "
            "organization (staging to production), or to keep it in version control.",
        },
        {
            "name": "openai-compatible",
            "description": "The models you can use, in the shape of OpenAI's "
            "`/v1/models`, for runtimes and gateways that speak OpenAI.",
        },
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ParticleKindEnum": "prompts.models.ParticleKind",
        "ChangeTypeEnum": [("created", "Created"), ("updated", "Updated"), ("deleted", "Deleted")],
        # The OpenAI-compatible catalog's `object` discriminators.
        "OpenAIModelObjectEnum": [("model", "model")],
        "OpenAIListObjectEnum": [("list", "list")],
        # Export and import (models_registry/api/transfer.py).
        "TransferScopeEnum": [("organization", "organization"), ("global", "global")],
        "TransferFormatVersionEnum": [(1, 1)],
        "ImportResultEnum": [(name, name) for name in ("created", "updated", "unchanged", "error")],
        "ImportObjectTypeEnum": [
            ("prompt-particle", "prompt-particle"),
            ("prompt-composition", "prompt-composition"),
            ("model", "model"),
        ],
    },
}

# --- Logging --------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "core.logging.JSONFormatter"},
        "text": {"()": "core.logging.RedactingFormatter", "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # One access line per request comes from core.middleware; Django's own would repeat it.
        "django.server": {"level": "WARNING"},
    },
}
