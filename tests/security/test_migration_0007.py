"""Revision 0007 on a database that already holds data: finished uploads are dropped, waiting ones
and stored documents sealed, ended "all in the area" agreements keep a list; nothing else is lost."""
from datetime import date, timedelta

from flask_migrate import upgrade
from sqlalchemy import text

from portal.core import clock
from portal import create_app
from portal.extensions import db
from portal.tenancy.context import cross_tenant, tenant_scope
from tests import factories
from tests.conftest import fresh_database_url, test_settings
from tests.factories import id_number

A, B = "110105", "320115"
PLAIN_PDF = b"%PDF-1.4 introduction letter 110105198001010011 %%EOF"


def _raw(sql, **params):
    from portal.tenancy.models import Tenant
    a = db.session.execute(db.select(Tenant.id).filter_by(code=A)).scalar_one()
    with cross_tenant(acting_for=a):  # the uploads are A's personal rows
        value = db.session.execute(text(sql), params).scalar()
    db.session.rollback()
    return None if value is None else bytes(value) if isinstance(value, (bytes, memoryview)) else value


def test_upgrade_keeps_and_seals_existing_data(tmp_path, worker_id, monkeypatch):
    url = fresh_database_url(tmp_path, f"{worker_id}m")
    app = create_app(test_settings(SQLALCHEMY_DATABASE_URI=url, JOBS_INLINE=True, REDIS_URL=""))
    try:
        with app.app_context():
            upgrade(revision="0011")  # the revision before 0007
            from portal.tenancy.loader import sync_folder
            sync_folder(app.config["TENANTS_DIR"])
            make = factories.Factory(app)
            a_org = make.org(A, name="朝阳区流出党支部")
            b_org = make.org(B, name="江宁区流入党支部", role="host")
            make.member(A, a_org, name="在江宁党员", region="江苏省南京市江宁区", id_number=id_number(A, date(1980, 1, 1), 1))
            make.member(A, a_org, name="在深圳党员", region="广东省深圳市", id_number=id_number(A, date(1981, 1, 1), 2))
            ta, tb = make.tenant(A).id, make.tenant(B).id
            from portal.exchange.models import Agreement
            from portal.letters import services as letters
            # Today's issuing also indexes the letter's keys in lookup_keys, a table of revision
            # 0021 the schema of 0011 lacks; revision 0021 indexes the letters it finds.
            from portal.letters import verify
            monkeypatch.setattr(verify, "index", lambda letter: None)
            monkeypatch.setattr(letters, "_unique_short_code", verify.new_short_code)
            with tenant_scope(ta):
                letter = letters.issue("introduction", actor=None, subject_type="transfer", subject_id=1,
                                       context={"member": {"name": "李四", "sex": "男", "age": 36, "ethnicity": "汉族",
                                                           "category": "正式党员", "id_number": "110105198001010011"},
                                                "from_org": "甲", "to_org": "乙"}, validity_days=30, render="none")
                db.session.commit()
                letter_id = letter.id
            with cross_tenant(acting_for=ta):
                today = clock.today()
                ended = Agreement(tenant_id=ta, other_tenant_id=tb, origin_org_id=a_org.id, host_org_id=b_org.id,
                                  proposed_by_side="host", scope="all_in_area", duties_host=[], duties_origin=[],
                                  report_every="month", starts_on=today - timedelta(days=100), ends_on=today,
                                  state="terminated", signed_on=today - timedelta(days=90), number="x-1")
                db.session.add(ended)
                db.session.flush()
                ended_id = ended.id
                for state, content in (("done", b"plain done file"), ("queued", b"plain waiting file")):
                    db.session.execute(text(
                        "INSERT INTO roster_imports (tenant_id, filename, content, state, progress, rows, written, "
                        "unchanged) VALUES (:t, 'f.csv', :c, :s, 0, 0, 0, 0)"), {"t": ta, "c": content, "s": state})
                db.session.execute(text("UPDATE letters SET pdf = :p, pdf_sha256 = 'x' WHERE id = :i"),
                                   {"p": PLAIN_PDF, "i": letter_id})
                db.session.commit()

            upgrade()

            assert _raw("SELECT content FROM roster_imports WHERE state = 'done'") is None
            waiting = _raw("SELECT content FROM roster_imports WHERE state = 'queued'")
            assert waiting and b"plain" not in waiting
            sealed = _raw("SELECT pdf FROM letters WHERE id = :i", i=letter_id)
            assert sealed and not sealed.startswith(b"%PDF") and b"110105198001010011" not in sealed
            from sqlalchemy.orm import undefer

            from portal.letters.models import Letter
            from portal.roster.models import RosterImport
            with tenant_scope(ta):
                row = db.session.execute(db.select(Letter).filter_by(id=letter_id).options(undefer(Letter.pdf))) \
                    .scalar_one()
                assert row.pdf == PLAIN_PDF
                assert db.session.execute(db.select(RosterImport).filter_by(state="queued")).scalar_one().content \
                    == b"plain waiting file"
            names = _raw("SELECT name FROM agreement_members WHERE agreement_id = :a", a=ended_id)
            assert names == "在江宁党员"
            assert _raw("SELECT count(*) FROM agreement_members WHERE agreement_id = :a", a=ended_id) == 1
            assert _raw("SELECT count(*) FROM members") == 2
            db.session.remove()
    finally:
        with app.app_context():
            db.engine.dispose()
