"""Migration 0009 on a database with a trail already in it: the old entries are linked into the
chain (oldest first) and kept, so verify passes on them and catches a later change."""
import pytest
from sqlalchemy import text

from portal import create_app
from portal.extensions import db


@pytest.fixture
def old_database(app, tmp_path, worker_id):
    """A fresh database at revision 0004 (before the chain), holding entries written then."""
    from flask_migrate import upgrade

    from tests.conftest import PG_ADMIN_URL, _pg_database
    url = _pg_database(worker_id) if PG_ADMIN_URL else f"sqlite:///{tmp_path / 'old.db'}"
    settings = {k: v for k, v in app.config.items() if k.isupper()}
    settings.update(SQLALCHEMY_DATABASE_URI=url, JOBS_INLINE=True, REDIS_URL="")
    old = create_app(settings)
    with old.app_context():
        upgrade(revision="0010")  # the revision before 0009
        from portal.tenancy.loader import sync_folder
        sync_folder(old.config["TENANTS_DIR"])
        with db.engine.begin() as conn:
            ids = dict(conn.execute(text("SELECT code, id FROM tenants")).all())
            postgres = conn.dialect.name == "postgresql"
            for code, n in (("110105", 3), ("320115", 2)):
                if postgres:
                    conn.execute(text("SELECT set_config('portal.tenant_id', :t, true)"), {"t": str(ids[code])})
                for i in range(n):
                    conn.execute(text(
                        "INSERT INTO audit_entries (tenant_id, at, user_id, username, action, object_type, object_id, "
                        "summary, before, after) VALUES (:t, :at, 1, 'admin', 'update', 'member', :o, :s, NULL, :a)"),
                        {"t": ids[code], "at": f"2026-11-0{i + 1} 08:00:00.123456", "o": str(i), "s": f"旧记录{i}",
                         "a": '{"phone": "13800000000"}'})
        db.session.remove()
    yield old, ids
    with old.app_context():
        db.engine.dispose()


def test_old_entries_are_chained_and_kept(old_database):
    from flask_migrate import upgrade

    from portal.audit.models import AuditEntry
    from portal.tenancy.context import tenant_scope
    old, ids = old_database
    with old.app_context():
        upgrade()
        with tenant_scope(ids["110105"]):
            rows = db.session.execute(db.select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
            assert [(r.seq, r.summary, r.after) for r in rows] == [
                (1, "旧记录0", {"phone": "13800000000"}), (2, "旧记录1", {"phone": "13800000000"}),
                (3, "旧记录2", {"phone": "13800000000"})]
            assert rows[1].prev_hash == rows[0].hash and rows[0].prev_hash == ""
        db.session.remove()
        runner = old.test_cli_runner()
        result = runner.invoke(args=["audit", "verify"])
        assert result.exit_code == 0, result.output
        with db.engine.begin() as conn:  # a change after the migration shows
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT set_config('portal.tenant_id', :t, true)"), {"t": str(ids["320115"])})
                conn.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_append_only"))
            conn.execute(text("UPDATE audit_entries SET summary = '改过' WHERE summary = '旧记录1' AND tenant_id = :t"),
                         {"t": ids["320115"]})
            if conn.dialect.name == "postgresql":
                conn.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER audit_append_only"))
        result = runner.invoke(args=["audit", "verify"])
        assert result.exit_code == 1 and "320115" in result.output and "被修改" in result.output
