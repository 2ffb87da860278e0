"""Revision 0018 on a database that already holds data: every row stays, the keys become
(tenant_id, …) as the models declare them, and a child row can no longer point at another
tenant's parent."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from portal import create_app
from portal.core import clock
from portal.extensions import db
from portal.tenancy.context import cross_tenant, tenant_scope
from tests import factories
from tests.conftest import fresh_database_url, test_settings

A, B = "110105", "320115"
TABLES = ("members", "organizations", "transfers", "transfer_events", "agreements", "agreement_members",
          "attendances", "notices", "letters")


def _counts(tenant_ids):
    out = {}
    for table in TABLES:
        total = 0
        for tid in tenant_ids:  # the register opens to its own tenant only
            with tenant_scope(tid):
                total += db.session.execute(text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"),
                                            {"t": tid}).scalar_one()
            db.session.rollback()
        out[table] = total
    return out


def _seed(app, make):
    from portal.exchange.models import Agreement, AgreementMember, Attendance, Notice, Transfer, TransferEvent
    from portal.letters import services as letters
    a_org = make.org(A, name="朝阳区流出党支部")
    b_org = make.org(B, name="江宁区流入党支部", role="host")
    m = make.member(A, a_org, name="转出党员")
    ta, tb = make.tenant(A).id, make.tenant(B).id
    now, today = clock.utcnow(), clock.today()
    # Written as a row: the services of today also index the letter's keys (lookup_keys, 0021),
    # a table the schema of 0012 does not have yet; revision 0021 indexes this letter.
    from portal.letters import verify
    from portal.letters.models import Letter
    with tenant_scope(ta):
        db.session.execute(sa.insert(Letter.__table__).values(
            tenant_id=ta, kind="introduction", year=today.year, seq=1, number="（朝组）字第 1 号",
            subject_type="transfer", subject_id=1, person_name="转出党员", issued_on=today,
            token=verify.new_token(), short_code=verify.new_short_code(),
            context_enc=letters.seal_context({"member": {"name": "转出党员"}})))
        db.session.commit()
    with cross_tenant(acting_for=ta):
        t = Transfer(tenant_id=ta, other_tenant_id=tb, member_id=m.id, member_name=m.name, member_snapshot={},
                     from_org_id=a_org.id, to_org_id=b_org.id, state="submitted", submitted_at=now,
                     reply_due_on=today + timedelta(days=15), created_at=now, updated_at=now)
        db.session.add(t)
        db.session.flush()
        db.session.add(TransferEvent(tenant_id=ta, other_tenant_id=tb, transfer_id=t.id, at=now, action="submit",
                                     to_state="submitted"))
        a = Agreement(tenant_id=ta, other_tenant_id=tb, origin_org_id=a_org.id, host_org_id=b_org.id,
                      duties_host=[], duties_origin=[], starts_on=today, ends_on=today + timedelta(days=300),
                      state="active", proposed_at=now)
        db.session.add(a)
        db.session.flush()
        db.session.add_all([
            AgreementMember(tenant_id=ta, other_tenant_id=tb, agreement_id=a.id, member_id=m.id, id_hash=m.id_hash,
                            name=m.name),
            Attendance(tenant_id=ta, other_tenant_id=tb, agreement_id=a.id, member_id=m.id, on=today,
                       activity="主题党日", recorded_at=now),
            Notice(tenant_id=ta, other_tenant_id=tb, agreement_id=a.id, from_side="host", kind="report", body="好",
                   posted_at=now),
        ])
        db.session.commit()
        return ta, tb, a.id


def test_upgrade_keeps_rows_and_makes_keys_distribute(tmp_path, worker_id):
    url = fresh_database_url(tmp_path, f"{worker_id}k")
    app = create_app(test_settings(SQLALCHEMY_DATABASE_URI=url, JOBS_INLINE=True, REDIS_URL=""))
    try:
        with app.app_context():
            upgrade(revision="0012")  # the revision before 0018
            from portal.tenancy.loader import sync_folder
            sync_folder(app.config["TENANTS_DIR"])
            ta, tb, agreement_id = _seed(app, factories.Factory(app))
            before = _counts([ta, tb])
            assert before["transfers"] == 1 and before["attendances"] == 1 and before["letters"] == 1

            upgrade()

            assert _counts([ta, tb]) == before
            from portal.letters import verify
            from portal.letters.models import Letter
            with tenant_scope(ta):
                token, code = db.session.execute(sa.select(Letter.token, Letter.short_code)).one()
            db.session.rollback()
            # Revision 0021 indexed the letter's keys: verification finds it across tenants.
            assert verify.find_by_token(token).number == verify.find_by_code(code).number == "（朝组）字第 1 号"
            if db.engine.dialect.name != "postgresql":
                return  # SQLite keeps its single-column keys (see the revision)
            found = inspect(db.engine)
            for table in db.metadata.sorted_tables:
                assert found.get_pk_constraint(table.name)["constrained_columns"] == \
                    list(table.primary_key.columns.keys()), table.name
                declared = {tuple(c.name for c in fk.columns) for fk in table.foreign_key_constraints}
                actual = {tuple(fk["constrained_columns"]) for fk in found.get_foreign_keys(table.name)}
                assert declared == actual, table.name
            uniques = {tuple(u["column_names"]) for u in found.get_unique_constraints("letters")}
            assert ("tenant_id", "token") in uniques and ("token",) not in uniques

            from portal.exchange.models import Attendance
            with cross_tenant(acting_for=tb):
                # the host's tenant_id with the origin's agreement: the composite key refuses it
                db.session.add(Attendance(tenant_id=tb, other_tenant_id=ta, agreement_id=agreement_id,
                                          member_id=1, on=date(2026, 1, 5), activity="x",
                                          recorded_at=clock.utcnow()))
                with pytest.raises(IntegrityError, match="fk_attendances_tenant_id_agreement_id_agreements"):
                    db.session.flush()
                db.session.rollback()
            db.session.remove()
    finally:
        with app.app_context():
            db.engine.dispose()
