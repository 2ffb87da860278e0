"""Migration 0011 on a database that already holds a register keeps what the register says."""
from datetime import date

from sqlalchemy import text

from portal import create_app
from portal.extensions import db
from portal.tenancy.context import cross_tenant, tenant_scope
from tests import factories
from tests.conftest import fresh_database_url, test_settings


def _agreement_with_attendance(origin, host, origin_org, host_org, member_id):
    from portal.exchange.models import Agreement, Attendance
    with cross_tenant():
        a = Agreement(tenant_id=origin, other_tenant_id=host, origin_org_id=origin_org, host_org_id=host_org,
                      starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), state="active")
        db.session.add(a)
        db.session.flush()
        for activity, present in (("6月主题党日活动", True), ("支部党员大会", False)):
            db.session.add(Attendance(tenant_id=origin, other_tenant_id=host, agreement_id=a.id,
                                      member_id=member_id, on=date(2026, 6, 18), activity=activity,
                                      present=present))
        db.session.flush()
    db.session.commit()


def test_upgrade_backfills_dues_and_certificates_from_the_register(tmp_path, worker_id, monkeypatch):
    from flask_migrate import downgrade, upgrade

    from portal.standing import services as standing
    # The register as it was written before 0011: no standing records follow it yet.
    monkeypatch.setattr(standing, "follow_register", lambda *args, **kwargs: None)
    app = create_app(test_settings(SQLALCHEMY_DATABASE_URI=fresh_database_url(tmp_path, f"{worker_id}mig"),
                                   JOBS_INLINE=True, REDIS_URL="", RATELIMIT_STORAGE_URI="memory://"))
    with app.app_context():
        upgrade(revision="0009")  # the revision before 0011
        from portal.tenancy.loader import sync_folder
        sync_folder(app.config["TENANTS_DIR"])
        make = factories.Factory(app)
        org = make.org("110105", name="第一党支部")
        paid = make.member("110105", org, name="李四", dues_paid_through="2026-08", moved_on="2025-03-02",
                           certificate_no="朝流证2025-001")
        unpaid = make.member("110105", org, name="王五", dues_paid_through="")
        tid = make.tenant("110105").id
        host_tid = make.tenant("320115").id
        host_org = make.org("320115", name="江宁开发区流动党员党支部", role="host")
        _agreement_with_attendance(tid, host_tid, org.id, host_org.id, paid.id)
        db.session.remove()
        monkeypatch.undo()

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
        with cross_tenant():
            life = db.session.execute(text(
                'SELECT tenant_id, member_id, "on", org_id, kind, note FROM org_life_records')).all()
        # Only the attendance marked present counts, on the origin's side, held by the host.
        assert [tuple(r)[:2] + (str(r[2]),) + tuple(r)[3:] for r in life] == [
            (tid, paid.id, "2026-06-18", host_org.id, "主题党日", "6月主题党日活动")]

        # The new rows are tenant-owned like the rest: an ORM read sees them only in their tenant.
        from portal.standing.models import DuesPayment
        with tenant_scope(tid):
            assert db.session.execute(db.select(DuesPayment.month)).scalars().all() == ["2026-08"]
        db.session.remove()
        downgrade(revision="0009")
        db.session.remove()
        db.engine.dispose()
