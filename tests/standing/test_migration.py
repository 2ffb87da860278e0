"""Migration 0011 on a database that already holds a register keeps what the register says."""
import uuid

from sqlalchemy import text

from portal import create_app
from portal.config import TestConfig
from portal.extensions import db
from portal.tenancy.context import cross_tenant, tenant_scope
from tests import conftest, factories


def _fresh_url(tmp_path, worker_id):
    if conftest.PG_ADMIN_URL:
        return conftest._pg_database(f"{worker_id}mig")
    return f"sqlite:///{tmp_path / f'mig-{uuid.uuid4().hex[:6]}.db'}"


def test_upgrade_backfills_dues_and_certificates_from_the_register(tmp_path, worker_id):
    from flask_migrate import downgrade, upgrade
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    settings.update(SQLALCHEMY_DATABASE_URI=_fresh_url(tmp_path, worker_id), JOBS_INLINE=True,
                    REDIS_URL="", RATELIMIT_STORAGE_URI="memory://")
    app = create_app(settings)
    with app.app_context():
        upgrade(revision="0004")
        from portal.tenancy.loader import sync_folder
        sync_folder(app.config["TENANTS_DIR"])
        make = factories.Factory(app)
        org = make.org("110105", name="第一党支部")
        paid = make.member("110105", org, name="李四", dues_paid_through="2026-08", moved_on="2025-03-02",
                           certificate_no="朝流证2025-001")
        unpaid = make.member("110105", org, name="王五", dues_paid_through="")
        tid = make.tenant("110105").id
        db.session.remove()

        upgrade(revision="0011")
        with cross_tenant():
            dues = db.session.execute(text(
                "SELECT tenant_id, member_id, month, amount FROM dues_payments")).all()
            certs = db.session.execute(text(
                "SELECT member_id, number, issued_on, returned_on FROM activity_certificates")).all()
        assert [tuple(r) for r in dues] == [(tid, paid.id, "2026-08", None)]
        assert len(certs) == 1
        assert certs[0].member_id == paid.id and certs[0].number == "朝流证2025-001"
        assert str(certs[0].issued_on) == "2025-03-02" and certs[0].returned_on is None
        assert unpaid.id not in {r.member_id for r in dues}

        # The new rows are tenant-owned like the rest: an ORM read sees them only in their tenant.
        from portal.standing.models import DuesPayment
        with tenant_scope(tid):
            assert db.session.execute(db.select(DuesPayment.month)).scalars().all() == ["2026-08"]
        db.session.remove()
        downgrade(revision="0004")
        db.session.remove()
        db.engine.dispose()
