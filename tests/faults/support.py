"""Second databases and private servers for the fault tests.

`fresh_database` gives an empty database beside the test's one (a file on SQLite, a new database
on the PostgreSQL run). `PrivatePostgres` and `PrivateRedis` are servers of the test's own, in a
temporary folder on a free port, so a test may stop and start them; the shared servers on 5432
and 6379 are never touched."""
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import inspect

from portal.backup.tenant_data import SKIPPED, _raw_table
from portal.extensions import db
from tests.conftest import PG_ADMIN_URL, _pg_database
from tests.jobs.support import app_like

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(app, folder: Path, name: str = "restored"):
    """An app on a new, migrated, empty database (no tenants synced)."""
    url = _pg_database(name) if PG_ADMIN_URL else f"sqlite:///{folder / (name + '.db')}"
    other = app_like(app, SQLALCHEMY_DATABASE_URI=url)
    with other.app_context():
        upgrade()
        db.session.remove()
    return other


def table_rows(table, where=None) -> list[tuple]:
    """A table's rows as stored (sealed columns as their ciphertext), in primary-key order."""
    raw = _raw_table(table)
    query = db.select(raw)
    if where is not None:
        query = query.where(where(raw))
    order = [raw.c[c.name] for c in table.primary_key.columns] or list(raw.columns)
    return [tuple(r) for r in db.session.execute(query.order_by(*order)).all()]


def archived_tables():
    names = set(inspect(db.engine).get_table_names())
    return [t for t in db.metadata.sorted_tables if t.name in names and t.name not in SKIPPED]


def _as_server_user(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: under root (a container) the server runs as `postgres`."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


class PrivatePostgres:
    """A PostgreSQL 15 of the test's own: initdb into a temporary folder, pg_ctl on a free port."""

    def __init__(self):
        import tempfile
        self.port = free_port()
        # Its own temporary folder (pytest's are private to the user running the tests).
        self.folder = Path(tempfile.mkdtemp(prefix="portal-faults-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self.data = self.folder / "pgdata"

    def remove(self):
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str, role: str = "postgres") -> str:
        return f"postgresql://{role}@127.0.0.1:{self.port}/{database}"

    def init(self):
        subprocess.run(_as_server_user([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                                        "--no-sync", "-E", "UTF8", "--locale=C"]), check=True, capture_output=True)
        return self

    def start(self):
        subprocess.run(_as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-l",
                                        str(self.folder / "pg.log"), "-o",
                                        (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                                         "-c fsync=off -c shared_buffers=16MB -c max_connections=40"), "start"]),
                       check=True, capture_output=True)
        return self

    def stop(self, mode: str = "fast"):
        # Not checked: stopping a server that is already down is fine.
        subprocess.run(_as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]),
                       capture_output=True, check=False)

    def psql(self, sql: str, database: str = "postgres"):
        subprocess.run([str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                        "-d", database, "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True)

    def app_database(self, name: str = "portal") -> str:
        """A database owned by an ordinary role, so row-level security binds the portal's connections."""
        self.psql("CREATE ROLE portal LOGIN NOSUPERUSER NOBYPASSRLS")
        self.psql(f"CREATE DATABASE {name} OWNER portal")
        return self.url(name, "portal")


class PrivateRedis:
    def __init__(self, folder: Path):
        self.folder, self.port, self.proc = folder, free_port(), None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen([exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.folder)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
        self.proc = None


def servers_available() -> bool:
    """PostgreSQL 15's server binaries and redis-server are installed (the fault tests start them)."""
    return os.access(PG_BIN / "initdb", os.X_OK) and bool(shutil.which("redis-server") or
                                                            os.access("/usr/bin/redis-server", os.X_OK))
