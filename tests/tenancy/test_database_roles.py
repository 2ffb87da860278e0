"""PostgreSQL as the second wall: what a session of the application role can and cannot read or
change with plain SQL (docs/security.md, "The database as the second wall")."""
import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from portal.extensions import db
from tests import factories

ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(not ADMIN_URL, reason="needs PostgreSQL")


def _count(conn, table):
    return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def _world(make):
    for code in ("110105", "320115"):
        org = make.org(code, name=f"{code}第一党支部")
        make.member(code, org, name=f"{code}党员")


def test_the_cross_tenant_flag_alone_opens_no_personal_table(make):
    """Before: setting portal.cross_tenant to 'on' showed every tenant's members."""
    _world(make)
    db.session.remove()
    with db.engine.begin() as conn:
        # Written as the application writes it: a distributed database (Citus) forwards SET LOCAL
        # to the nodes holding the shards, not set_config(), whose value only the coordinator sees.
        conn.execute(text("SET LOCAL portal.cross_tenant = 'on'"))
        for table in ("members", "audit_entries"):
            assert _count(conn, table) == 0, table
        assert _count(conn, "organizations") == 2  # the joint registry stays readable across tenants
        assert _count(conn, "relationship_holds") == 2  # "who holds this ID number" (keyed hashes only)


def _role(conn, name, options):
    if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": name}).first():
        conn.execute(text(f"CREATE ROLE {name} LOGIN NOSUPERUSER {options}"))


def _as(url_base, role, database):
    return f"{url_base.split('://', 1)[0]}://{role}@{url_base.split('://', 1)[1].split('@', 1)[-1].rsplit('/', 1)[0]}/{database}"


@pytest.fixture
def two_roles(clean_app):
    """A database migrated by its owner for a separate application role, as docker/compose.yaml does."""
    from flask_migrate import upgrade

    from portal import create_app
    name = f"portal_roles_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        _role(conn, "portal_test_owner", "NOBYPASSRLS")
        _role(conn, "portal_test_app", "NOBYPASSRLS")
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER portal_test_owner'))
    settings = {k: v for k, v in clean_app.config.items() if k.isupper()}
    settings.update(SQLALCHEMY_DATABASE_URI=_as(ADMIN_URL, "portal_test_owner", name),
                    DATABASE_APP_ROLE="portal_test_app", JOBS_INLINE=True, REDIS_URL="")
    owner_app = create_app(settings)
    with owner_app.app_context():
        upgrade()
        from portal.tenancy.loader import sync_folder
        sync_folder(owner_app.config["TENANTS_DIR"])
        _world(factories.Factory(owner_app))
        db.session.remove()
        db.engine.dispose()
    app_engine = create_engine(_as(ADMIN_URL, "portal_test_app", name))
    yield app_engine, settings, name
    app_engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _refused(engine, sql, match, *, tenant_id=None):
    with engine.connect() as conn:
        if tenant_id is not None:
            conn.execute(text("SELECT set_config('portal.tenant_id', :t, false)"), {"t": str(tenant_id)})
        with pytest.raises(DBAPIError, match=match):
            conn.execute(text(sql))


def test_what_the_application_role_can_and_cannot_do(two_roles):
    engine, settings, _name = two_roles
    with engine.connect() as conn:
        ids = dict(conn.execute(text("SELECT code, id FROM tenants")).all())
        # Nothing without a tenant; nothing personal with only the cross-tenant flag.
        assert _count(conn, "members") == 0
        conn.execute(text("SELECT set_config('portal.cross_tenant', 'on', false)"))
        assert _count(conn, "members") == 0 and _count(conn, "contacts") == 0 and _count(conn, "audit_entries") == 0
        assert _count(conn, "organizations") == 2
        # What remains (docs/security.md): naming one tenant opens that tenant's rows.
        conn.execute(text("SELECT set_config('portal.cross_tenant', 'off', false)"))
        conn.execute(text("SELECT set_config('portal.tenant_id', :t, false)"), {"t": str(ids["320115"])})
        assert conn.execute(text("SELECT name FROM members")).scalars().all() == ["320115党员"]
    tenant = ids["110105"]
    # The audit trail cannot be changed, the policies and the trigger cannot be switched off.
    _refused(engine, "UPDATE audit_entries SET summary = 'x'", "permission denied", tenant_id=tenant)
    _refused(engine, "DELETE FROM audit_entries", "permission denied", tenant_id=tenant)
    _refused(engine, "TRUNCATE audit_entries", "permission denied")
    _refused(engine, "ALTER TABLE audit_entries DISABLE TRIGGER audit_append_only", "must be owner")
    _refused(engine, "ALTER TABLE members NO FORCE ROW LEVEL SECURITY", "must be owner")
    _refused(engine, "DROP POLICY tenant_isolation ON members", "must be owner")
    _refused(engine, "UPDATE alembic_version SET version_num = 'x'", "permission denied")
    # …and the portal runs as this role in production.
    from portal import create_app
    settings = {**settings, "ENV_NAME": "production", "SECRET_KEY": "s" * 40, "FIELD_KEY": "f" * 40,
                "PUBLIC_BASE_URL": "https://portal.example.gov.cn",
                "SQLALCHEMY_DATABASE_URI": str(engine.url.render_as_string(hide_password=False))}
    app = create_app(settings)
    client = app.test_client()
    assert client.post("/login", data={"username": "nobody", "password": "x" * 12}).status_code == 401
    with app.app_context():
        db.engine.dispose()
