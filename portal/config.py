"""Settings from the environment, with safe defaults for the embedded (laptop) mode.

Embedded mode: SQLite under instance/, jobs run inline, demo tenants from tenants/.
Production mode (PORTAL_ENV=production) refuses to start with a default secret or field key.
"""
import os
from pathlib import Path
from urllib.parse import urlsplit

from portal.core.parsing import parse_sweep_at

ROOT = Path(__file__).resolve().parent.parent

DEV_SECRET = "dev-secret-not-for-production"
# Fernet-compatible key derived material for development only; production must set FIELD_KEY.
DEV_FIELD_KEY = "dev-field-key-not-for-production"
DEV_PUBLIC_BASE_URL = "http://localhost:5000"


class Config:
    ENV_NAME = "development"
    SECRET_KEY = DEV_SECRET
    FIELD_KEY = DEV_FIELD_KEY
    # During a key rotation: the former key(s), comma-separated, still read (portal.core.crypto).
    FIELD_KEY_PREVIOUS = ""
    # The audit chain's HMAC key; empty: derived from FIELD_KEY. Set it before rotating FIELD_KEY.
    AUDIT_CHAIN_KEY = ""
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{ROOT / 'instance' / 'portal.db'}"
    # Parameters (phones, names, search terms) stay out of SQL error messages and their logs.
    # pool_pre_ping: after a database restart the first request gets a fresh connection instead
    # of a stale one's error.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"hide_parameters": True, "pool_pre_ping": True}
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
    # argon2id time cost, memory (KiB) and lanes: OWASP's Password Storage Cheat Sheet's first
    # configuration (19 MiB, 2 passes, 1 lane), which it rates as strong as RFC 9106's 64 MiB, 3 passes,
    # 4 lanes. That one cost 300 ms of CPU a login on a 2-core server (four lanes on two cores), enough
    # for a morning's logins to queue every office's pages behind them; this one about 40 ms.
    # PASSWORD_HASH_COST="3,65536,4" in the environment chooses another; stored hashes follow it at
    # their next login.
    PASSWORD_HASH_COST = (2, 19456, 1)
    # "Who holds this ID number?" answers (registry lookup, transfer requests, proposals naming
    # ID numbers): enough for a day's registrations, far too few to enumerate ~1,000 candidates.
    LOOKUP_LIMIT_USER = "10 per minute;60 per day"
    LOOKUP_LIMIT_TENANT = "200 per day"
    # An import with more rows held by another tenant than this is refused with counts only.
    IMPORT_CONFLICT_LIMIT = 5
    # ... and one with more numbers sharing a region code and birth date: a county register of
    # 5,000 holds a few 4-way coincidences, never 10; a sweep for one person holds ~1,000.
    IMPORT_SAME_BIRTH_LIMIT = 10
    # Failed logins: per client address (all accounts), per account from one address, and per
    # account from all addresses (short, so strangers cannot keep an account locked).
    LOGIN_RATE_LIMIT = "30 per 5 minutes"
    LOGIN_ACCOUNT_ADDRESS_LIMIT = "5 per 5 minutes"
    LOGIN_ACCOUNT_LIMIT = "10 per 1 minute"
    # How many reverse proxies in front of the app set X-Forwarded-For (0: trust none of it).
    TRUSTED_PROXIES = 0
    # The database role the web and worker processes connect as, when migrations run as another
    # (the owner): migrations grant it what it needs and nothing more (see docs/security.md).
    DATABASE_APP_ROLE = ""
    SESSION_IDLE_MINUTES = 30
    SESSION_LIFETIME_HOURS = 12
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
    # The address people reach the portal at, printed in QR codes and links on documents. Never
    # taken from the request: a Host header is whatever the client chose to send.
    PUBLIC_BASE_URL = DEV_PUBLIC_BASE_URL


class TestConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    WTF_CSRF_ENABLED = False
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    RATELIMIT_ENABLED = True
    # The suite creates and logs in thousands of users: the lowest argon2id cost keeps that from
    # being a third of its run time. Hashes stay argon2id; production keeps Config's cost.
    PASSWORD_HASH_COST = (1, 1024, 1)


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
    for key in ("FIELD_KEY_PREVIOUS", "AUDIT_CHAIN_KEY"):
        if env.get(key):
            cfg[key] = env[key]
    if env.get("DATABASE_URL"):
        url = env["DATABASE_URL"]
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://"):]
        cfg["SQLALCHEMY_DATABASE_URI"] = url
    if env.get("REDIS_URL"):
        cfg["REDIS_URL"] = env["REDIS_URL"]
        cfg["JOBS_INLINE"] = env.get("JOBS_INLINE", "0") == "1"
        cfg["RATELIMIT_STORAGE_URI"] = env["REDIS_URL"]
    for key in ("LOOKUP_LIMIT_USER", "LOOKUP_LIMIT_TENANT"):
        if env.get(key):
            cfg[key] = env[key]
    for key in ("IMPORT_CONFLICT_LIMIT", "IMPORT_SAME_BIRTH_LIMIT"):
        if env.get(key):
            cfg[key] = int(env[key])
    for name in ("TRUSTED_PROXIES", "SESSION_IDLE_MINUTES", "SESSION_LIFETIME_HOURS"):
        if env.get(name):
            cfg[name] = int(env[name])
    if env.get("PASSWORD_HASH_COST"):
        cfg["PASSWORD_HASH_COST"] = _hash_cost(env["PASSWORD_HASH_COST"])
    for name in ("LOGIN_RATE_LIMIT", "LOGIN_ACCOUNT_ADDRESS_LIMIT", "LOGIN_ACCOUNT_LIMIT"):
        if env.get(name):
            cfg[name] = env[name]
    if env.get("PORTAL_APP_ROLE"):
        cfg["DATABASE_APP_ROLE"] = env["PORTAL_APP_ROLE"]
    if env.get("RQ_QUEUE"):
        cfg["RQ_QUEUE"] = env["RQ_QUEUE"]
    if "PUBLIC_BASE_URL" in env:
        cfg["PUBLIC_BASE_URL"] = env["PUBLIC_BASE_URL"].strip().rstrip("/")
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


def _hash_cost(text: str) -> tuple[int, int, int]:
    """"time,memory KiB,lanes" -> a tuple; refused below OWASP's floor (its weakest configuration,
    5 passes over 7 MiB, is the least memory times passes it allows), so a typo cannot leave
    passwords cheap to guess."""
    try:
        time_cost, memory, lanes = (int(x) for x in text.split(","))
    except ValueError:
        raise UnsafeConfiguration("PASSWORD_HASH_COST must be three integers: time,memory KiB,lanes")
    if lanes < 1 or time_cost < 1 or memory < 7168 or memory * time_cost < 7168 * 5:
        raise UnsafeConfiguration("PASSWORD_HASH_COST is below OWASP's minimum (e.g. 2,19456,1)")
    return time_cost, memory, lanes


def check_production(cfg: dict) -> None:
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
    public = cfg.get("PUBLIC_BASE_URL") or ""
    base = urlsplit(public)
    if public == DEV_PUBLIC_BASE_URL or base.scheme not in ("http", "https") or not base.netloc \
            or base.query or base.fragment:
        raise UnsafeConfiguration("PUBLIC_BASE_URL must be set in production, e.g. https://portal.example.gov.cn")


def check_database_role(engine) -> None:
    """Production refuses a PostgreSQL role that row-level security does not bind: a superuser or
    a BYPASSRLS role would see every tenant's rows without a word."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        name, superuser, bypass = conn.exec_driver_sql(
            "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user").one()
    if superuser or bypass:
        raise UnsafeConfiguration(
            f"the database role {name!r} is a superuser or has BYPASSRLS, which row-level security does not "
            "bind: connect as an ordinary role (see docs/security.md)")
