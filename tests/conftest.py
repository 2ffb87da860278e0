"""Test fixtures. The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is
set (make test does both when PostgreSQL answers). On PostgreSQL the app connects as an ordinary
role that owns its database, so the forced row-level-security policies bind it."""
import os
import time
import subprocess
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from portal import create_app
from portal.config import TestConfig
from portal.core import clock
from portal.extensions import db
from portal.tenancy.context import tenant_scope

from tests import factories

PG_ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "")


def pytest_configure(config):
    """PORTAL_TEST_TODAY=YYYY-MM-DD (and PORTAL_TEST_TIME=HH:MM, Beijing time) moves the whole run's
    clock there, so CI proves the suite on year ends and leap days; the clock still ticks."""
    day = os.environ.get("PORTAL_TEST_TODAY")
    if day:
        import time_machine
        from datetime import datetime
        moment = datetime.fromisoformat(f"{day}T{os.environ.get('PORTAL_TEST_TIME', '12:00')}")
        time_machine.travel(moment.replace(tzinfo=clock.LOCAL_ZONE), tick=True).start()


def _pg_database(worker: str) -> str:
    """A fresh database owned by a non-superuser role, so RLS applies to the app's connections."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    role = "portal_test"
    name = f"portal_test_{worker}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        # Workers start together on a fresh server: one creates the role, the others wait for it.
        conn.execute(text("SELECT pg_advisory_lock(4242)"))
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
        if not exists:
            conn.execute(text(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS"))
        conn.execute(text("SELECT pg_advisory_unlock(4242)"))
        # Leftovers of earlier runs; a database still in use belongs to a run in progress (another
        # checkout or terminal with the same worker id) and is left alone.
        for (old,) in conn.execute(text(
                "SELECT datname FROM pg_database d WHERE datname LIKE :p AND NOT EXISTS "
                "(SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)"),
                {"p": f"portal_test_{worker}_%"}).all():
            try:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{old}"'))
            except DBAPIError:  # connected to in the meantime
                continue
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER {role}'))
    admin.dispose()
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    scheme, rest = base.split("://", 1)
    host = rest.split("@", 1)[-1]
    return f"{scheme}://{role}@{host}/{name}"


# A database prepared beforehand and used as it is (make test-citus: a Citus coordinator whose
# database has the extension and its workers; a new database there would have neither).
PREPARED_URL = os.environ.get("TEST_DATABASE_PREPARED", "")


def fresh_database_url(folder, name: str) -> str:
    """A new empty database of the suite's kind: PostgreSQL when the run is on it, else SQLite."""
    return _pg_database(name) if PG_ADMIN_URL else f"sqlite:///{folder / (name + '.db')}"


def test_settings(**overrides) -> dict:
    """The test configuration as a dict, for an app of a test's own (a database of its own)."""
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    settings.update(overrides)
    return settings


test_settings.__test__ = False  # a helper imported by test modules, not a test of its own


def until(predicate, timeout: float = 120.0, what: str = "", every: float = 0.2):
    """Wait for predicate() to give a true value (returned), at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id):
    if PREPARED_URL:
        return PREPARED_URL
    if PG_ADMIN_URL:
        return _pg_database(worker_id)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
# Job timing for tests: retries, heartbeats and the dispatcher in seconds, not minutes.
FAST_JOBS = {"JOB_RETRY_DELAYS": (1, 1), "JOB_STALE_AFTER": 4, "JOB_HEARTBEAT": 0.5, "DISPATCH_INTERVAL": 0.5}


def worker_env(database_url: str, queue: str, redis_url: str = "") -> dict:
    """The environment of a `flask rq worker` process serving the test app's queues (prefix `queue`)."""
    return {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url or REDIS_URL, "RQ_QUEUE": queue,
            "FLASK_APP": "portal:create_app", "JOB_RETRY_DELAYS": ",".join(map(str, FAST_JOBS["JOB_RETRY_DELAYS"])),
            **{k: str(v) for k, v in FAST_JOBS.items() if k != "JOB_RETRY_DELAYS"}}


@pytest.fixture(scope="session")
def app(database_url, worker_id):
    from flask_migrate import upgrade
    queue = f"test-{worker_id}-{uuid.uuid4().hex[:6]}"
    settings = test_settings(SQLALCHEMY_DATABASE_URI=database_url, JOBS_INLINE=not REDIS_URL, REDIS_URL=REDIS_URL,
                             RQ_QUEUE=queue, RATELIMIT_STORAGE_URI="memory://", **FAST_JOBS)
    app = create_app(settings)
    with app.app_context():
        upgrade()
        from portal.tenancy import citus
        with db.engine.begin() as conn:
            if citus.is_citus(conn):
                citus.distribute(conn, db.metadata)
    worker = _start_worker(database_url, queue) if REDIS_URL else None
    yield app
    if worker is not None:
        worker.terminate()  # warm shutdown: it finishes the job in hand (slow on a loaded machine)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)


def _start_worker(database_url: str, queue: str):
    """A real rq worker process (PostgreSQL + Redis run): jobs leave this process for it."""
    import subprocess
    import sys
    env = worker_env(database_url, queue)
    return subprocess.Popen([sys.executable, "-m", "flask", "rq", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=None)


_admin_engines: dict = {}


@contextmanager
def every_row():
    """A connection to the test database that sees every tenant's rows: on PostgreSQL as the
    superuser of TEST_DATABASE_URL (row-level security does not bind it), on SQLite the app's own
    engine (no policies there). Core statements only: the ORM's tenant filter does not apply."""
    if db.engine.dialect.name != "postgresql":
        with db.engine.connect() as conn:
            yield conn
        return
    if not PG_ADMIN_URL or PREPARED_URL:
        pytest.skip("needs the superuser URL (TEST_DATABASE_URL) to see every tenant's rows")
    database = db.engine.url.database
    if database not in _admin_engines:
        _admin_engines[database] = create_engine(f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{database}")
    with _admin_engines[database].connect() as conn:
        yield conn
        conn.rollback()


def _empty_postgresql(tables: list[str]) -> None:
    """Empty the test database between tests. With the superuser at hand (`every_row`), one
    transaction of DELETEs with triggers off (foreign keys and the audit trail's append-only
    trigger) and the sequences set back: 25 ms, where a TRUNCATE of every table took 0.8 s, most of
    a PostgreSQL test's time. A prepared database (Citus) has no such URL and is truncated.
    The rq worker may still be finishing the previous test's job; PostgreSQL then picks one of the
    two as a deadlock victim, and the emptying is simply tried again."""
    from sqlalchemy.exc import OperationalError
    for attempt in range(5):
        try:
            if PG_ADMIN_URL and not PREPARED_URL:
                with every_row() as conn:
                    conn.execute(text("SET LOCAL session_replication_role = replica"))
                    for name in tables:
                        conn.execute(text(f"DELETE FROM {name}"))
                    conn.execute(text("SELECT setval(format('%I.%I', schemaname, sequencename), start_value, "
                                      "false) FROM pg_sequences WHERE schemaname = current_schema()"))
                    conn.commit()
            else:
                with db.engine.begin() as conn:
                    conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            return
        except OperationalError as e:
            if "deadlock" not in str(e) or attempt == 4:
                raise
            time.sleep(0.5)


def _clean(app):
    with app.app_context():
        from sqlalchemy import inspect
        existing = set(inspect(db.engine).get_table_names())
        tables = [t for t in reversed(db.metadata.sorted_tables) if t.name in existing]
        if db.engine.dialect.name == "postgresql":
            _empty_postgresql([t.name for t in tables])
        else:
            with db.engine.begin() as conn:
                for t in tables:
                    conn.execute(t.delete())
        from portal.tenancy.loader import sync_folder
        sync_folder(app.config["TENANTS_DIR"])
        db.session.remove()


@pytest.fixture
def clean_app(app):
    _clean(app)
    from portal.extensions import limiter
    limiter.reset()
    yield app
    with app.app_context():
        db.session.remove()


@pytest.fixture
def ctx(clean_app):
    """An app context for service-level tests."""
    with clean_app.app_context():
        yield clean_app
        db.session.remove()


@pytest.fixture
def client(clean_app):
    return clean_app.test_client()


@pytest.fixture
def make(ctx):
    """Factories bound to the app context: make.org(...), make.member(...), make.user(...)."""
    return factories.Factory(ctx)


def tenant(code):
    from portal.tenancy.models import Tenant
    return db.session.execute(db.select(Tenant).filter_by(code=code)).scalar_one()


def login(client, username, password=factories.PASSWORD):
    resp = client.post("/login", data={"username": username, "password": password})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return resp


def scope(code):
    return tenant_scope(tenant(code).id)


def each_tenant(fn) -> list:
    """fn() run once in every tenant's context: the register and the audit trail open to no
    cross-tenant context on PostgreSQL, so a count over all tenants is a sum over each."""
    from portal.tenancy.models import Tenant
    out = []
    for tenant_id in db.session.execute(db.select(Tenant.id).order_by(Tenant.id)).scalars().all():
        with tenant_scope(tenant_id):
            out.append(fn())
    return out


def owned_rows(model, *criteria) -> list:
    """Every tenant's own rows of a shared or personal table, read as their owner: on PostgreSQL
    no cross-tenant flag opens them (rls.CLOSED_TO_FLAG), so a read over all tenants goes owner by
    owner; a shared row is listed once, under the tenant that owns it."""
    from portal.tenancy.models import Tenant
    out = []
    for tenant_id in db.session.execute(db.select(Tenant.id).order_by(Tenant.id)).scalars().all():
        with tenant_scope(tenant_id):
            out += db.session.execute(db.select(model).where(model.tenant_id == tenant_id, *criteria)
                                      .order_by(model.id)).scalars().all()
    return out


def plain_job(job_id):
    """A job's row as plain values, read in its tenant (jobs open to no cross-tenant flag, and a
    row of a tenant cannot be refreshed outside its tenant); None when there is none."""
    from types import SimpleNamespace

    from portal.jobs.models import Job
    db.session.expire_all()
    found = owned_rows(Job, Job.id == job_id)
    plain = SimpleNamespace(**{c.key: getattr(found[0], c.key) for c in Job.__table__.columns}) if found else None
    db.session.rollback()
    return plain


CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (scripts/system-deps.sh installs it)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
