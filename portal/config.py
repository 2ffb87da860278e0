"""Settings from the environment, with safe defaults for the embedded (laptop) mode.

Embedded mode: SQLite under instance/, jobs run inline, demo tenants from tenants/.
Production mode (PORTAL_ENV=production) refuses to start with a default secret or field key.
"""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEV_SECRET = "dev-secret-not-for-production"
# Fernet-compatible key derived material for development only; production must set FIELD_KEY.
DEV_FIELD_KEY = "dev-field-key-not-for-production"


class Config:
    ENV_NAME = "development"
    SECRET_KEY = DEV_SECRET
    FIELD_KEY = DEV_FIELD_KEY
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{ROOT / 'instance' / 'portal.db'}"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    REDIS_URL = ""
    TENANTS_DIR = str(ROOT / "tenants")
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "portal" / "translations")
    LANGUAGES = ["zh_Hans_CN", "en"]
    BOOTSTRAP_SERVE_LOCAL = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per 5 minutes"
    SMTP_HOST = ""
    SMTP_PORT = 25
    SMTP_FROM = "portal@localhost"
    JOBS_INLINE = True
    RQ_QUEUE = "portal"            # prefix of the rq queues: <prefix>.letters and <prefix>.default
    SWEEP_AT = "02:30"             # the daily sweep, Asia/Shanghai time (flask rq scheduler)
    JOB_RETRY_DELAYS = (30, 120, 600)  # seconds before each retry after a transient error
    JOB_STALE_AFTER = 300          # seconds without a heartbeat before a running job is picked up again
    JOB_HEARTBEAT = 15             # seconds between a running job's heartbeats
    DISPATCH_INTERVAL = 10         # seconds between dispatcher rounds (outbox, stale jobs)
    # With Redis down the rate limiter falls back to memory instead of failing the request.
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    PER_PAGE = 20


class TestConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    WTF_CSRF_ENABLED = False
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    RATELIMIT_ENABLED = True


def from_env(base: type[Config] = Config) -> dict:
    """Collect settings: class defaults overridden by environment variables."""
    cfg = {k: getattr(base, k) for k in dir(base) if k.isupper()}
    env = os.environ
    if env.get("PORTAL_ENV"):
        cfg["ENV_NAME"] = env["PORTAL_ENV"]
    if env.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = env["SECRET_KEY"]
    if env.get("FIELD_KEY"):
        cfg["FIELD_KEY"] = env["FIELD_KEY"]
    if env.get("DATABASE_URL"):
        url = env["DATABASE_URL"]
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://"):]
        cfg["SQLALCHEMY_DATABASE_URI"] = url
    if env.get("REDIS_URL"):
        cfg["REDIS_URL"] = env["REDIS_URL"]
        cfg["JOBS_INLINE"] = env.get("JOBS_INLINE", "0") == "1"
        cfg["RATELIMIT_STORAGE_URI"] = env["REDIS_URL"]
    if env.get("RQ_QUEUE"):
        cfg["RQ_QUEUE"] = env["RQ_QUEUE"]
    if env.get("SWEEP_AT"):
        cfg["SWEEP_AT"] = env["SWEEP_AT"]
    if env.get("JOB_RETRY_DELAYS"):
        cfg["JOB_RETRY_DELAYS"] = tuple(int(x) for x in env["JOB_RETRY_DELAYS"].split(",") if x.strip())
    for key in ("JOB_STALE_AFTER", "JOB_HEARTBEAT", "DISPATCH_INTERVAL"):
        if env.get(key):
            cfg[key] = float(env[key])
    if env.get("TENANTS_DIR"):
        cfg["TENANTS_DIR"] = env["TENANTS_DIR"]
    if env.get("SMTP_HOST"):
        cfg["SMTP_HOST"] = env["SMTP_HOST"]
        cfg["SMTP_PORT"] = int(env.get("SMTP_PORT", "25"))
        cfg["SMTP_FROM"] = env.get("SMTP_FROM", cfg["SMTP_FROM"])
    if cfg["ENV_NAME"] == "production":
        cfg["SESSION_COOKIE_SECURE"] = True
        cfg["REMEMBER_COOKIE_SECURE"] = True
    return cfg


class UnsafeConfiguration(RuntimeError):
    pass


def check_production(cfg: dict) -> None:
    from portal.jobs.schedule import parse_sweep_at
    try:
        parse_sweep_at(cfg.get("SWEEP_AT", "02:30"))
    except ValueError:
        raise UnsafeConfiguration("SWEEP_AT must be a time of day like 02:30")
    if cfg.get("ENV_NAME") != "production":
        return
    if cfg.get("SECRET_KEY") in (None, "", DEV_SECRET):
        raise UnsafeConfiguration("SECRET_KEY must be set in production")
    if cfg.get("FIELD_KEY") in (None, "", DEV_FIELD_KEY):
        raise UnsafeConfiguration("FIELD_KEY must be set in production")
