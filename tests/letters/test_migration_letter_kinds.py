"""Migration 0005 on a database that already holds letters: every letter keeps its number, and
the next one of each kind continues its sequence (never a repeat, never a gap)."""
from datetime import datetime

import time_machine
from sqlalchemy import text

from portal import create_app
from portal.extensions import db
from tests.conftest import test_settings


def test_existing_letters_keep_their_numbers_through_the_migration(tmp_path):
    from flask_migrate import upgrade
    settings = test_settings(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.db'}", JOBS_INLINE=True,
                             REDIS_URL="", RATELIMIT_STORAGE_URI="memory://")
    app = create_app(settings)
    with app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO tenants (id, code, name, province, city, parent_region, committee, letter_prefix,"
                " letter_validity_days, reply_deadline_days, lost_contact_months, address, phone, fax,"
                " postcode, seal, active) VALUES (1, '110105', '北京市朝阳区', '北京市', '北京市', '110000',"
                " '中共北京市朝阳区委组织部', '朝组', 30, 15, 6, '', '', '', '', '', 1)"))
            conn.execute(text("INSERT INTO letter_sequences (tenant_id, kind, year, next_value) VALUES "
                              "(1, 'introduction', 2026, 3), (1, 'agreement', 2026, 2)"))
            for i, (kind, seq, number) in enumerate([("introduction", 1, "（朝组）字第 1 号"),
                                                     ("introduction", 2, "（朝组）字第 2 号"),
                                                     ("agreement", 1, "（朝组）字第 1 号")], 1):
                conn.execute(text(
                    "INSERT INTO letters (id, tenant_id, kind, year, seq, number, subject_type, person_name,"
                    " issuer_name, issued_on, state, void_reason, token, short_code, context_enc, pdf_sha256,"
                    " pdf_void, render_count) VALUES (:id, 1, :kind, 2026, :seq, :number, 'member', '李四',"
                    " '中共北京市朝阳区委组织部', '2026-03-01', 'valid', '', :token, :code, 'x', '', 0, 0)"),
                    {"id": i, "kind": kind, "seq": seq, "number": number, "token": f"t{i}",
                     "code": f"ABCDEFG{i}"})
        upgrade()
        with db.engine.connect() as conn:
            kept = conn.execute(text("SELECT kind, seq, number FROM letters ORDER BY id")).all()
            forms = conn.execute(text("SELECT letter_numbers FROM tenants")).scalar_one()
        assert [tuple(r) for r in kept] == [("introduction", 1, "（朝组）字第 1 号"),
                                            ("introduction", 2, "（朝组）字第 2 号"),
                                            ("agreement", 1, "（朝组）字第 1 号")]
        assert forms is None  # the defaults

        from portal.letters import services
        from portal.tenancy.context import tenant_scope
        with time_machine.travel(datetime(2026, 4, 1, 9, 0), tick=False), tenant_scope(1):
            side = {"name": "甲", "contact_name": "", "contact_phone": ""}
            agreement = services.issue("agreement", actor=None, subject_type="agreement", subject_id=9,
                                       context={"agreement": {"origin_org": side, "host_org": side}},
                                       render="none")
            intro = services.issue("introduction", actor=None, subject_type="transfer", subject_id=9,
                                   context={"member": {"name": "王五"}, "from_org": "甲", "to_org": "乙"},
                                   render="none")
            db.session.commit()
            assert (agreement.seq, agreement.number) == (2, "（朝组）协字第 2 号")
            assert (intro.seq, intro.number) == (3, "（朝组）字第 3 号")
        db.session.remove()
        db.engine.dispose()
