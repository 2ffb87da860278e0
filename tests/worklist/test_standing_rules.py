"""Rules on the standing tables: six months without organizational life, activity certificates due
for the yearly check (from 30 days before the anniversary; a returned certificate never)."""
from datetime import date, datetime

from portal.extensions import db
from portal.members.models import Member
from portal.standing.models import ActivityCertificate, OrgLifeRecord
from portal.tenancy.context import tenant_scope
from portal.worklist import rules
from tests.worklist.conftest import TODAY, A, items, kinds_of, swept


def _registered_long_ago(world, name, **fields):
    m = world.member(name=name, last_contact_on="2026-11-20", **fields)
    with tenant_scope(m.tenant_id):
        db.session.execute(db.update(Member).where(Member.id == m.id).values(created_at=datetime(2025, 1, 1)))
        db.session.commit()
    return m


def _life(m, on):
    with tenant_scope(m.tenant_id):
        db.session.add(OrgLifeRecord(tenant_id=m.tenant_id, member_id=m.id, on=on, org_id=m.org_id, kind="主题党日"))
        db.session.commit()


def test_six_months_without_organizational_life(world, frozen):
    # TODAY 2026-12-01: a record on 2026-06-01 or later counts.
    inside = _registered_long_ago(world, "六月一日")
    _life(inside, date(2026, 6, 1))
    outside = _registered_long_ago(world, "五月底")
    _life(outside, date(2026, 5, 31))
    none = _registered_long_ago(world, "从未参加")
    newcomer = world.member(name="新登记", last_contact_on="2026-11-20")  # registered today
    swept(TODAY)
    assert kinds_of(A, inside.id) == set()
    assert kinds_of(A, outside.id) == {"no_org_life_6m"}
    assert kinds_of(A, none.id) == {"no_org_life_6m"}
    assert kinds_of(A, newcomer.id) == set()
    _life(outside, date(2026, 11, 28))
    swept(TODAY)
    assert kinds_of(A, outside.id) == set()  # the cause is gone


def _certificate(m, number, issued_on, last_checked_on=None, returned_on=None):
    with tenant_scope(m.tenant_id):
        cert = ActivityCertificate(tenant_id=m.tenant_id, member_id=m.id, number=number, issued_on=issued_on,
                                   last_checked_on=last_checked_on, returned_on=returned_on)
        db.session.add(cert)
        db.session.commit()
        return cert.id


def test_certificates_due_for_the_yearly_check(world, frozen):
    # TODAY + 30 days = 2026-12-31: due when the last check (or issue) was on 2025-12-31 or before.
    m = world.member(name="持证人", last_contact_on="2026-11-20")
    due = _certificate(m, "LD-1", date(2025, 12, 31))
    not_yet = _certificate(m, "LD-2", date(2026, 1, 1))
    checked = _certificate(m, "LD-3", date(2024, 3, 1), last_checked_on=date(2026, 1, 1))
    returned = _certificate(m, "LD-4", date(2020, 3, 1), returned_on=date(2026, 10, 1))
    swept(TODAY)
    found = {sid for _, st, sid, _ in items(A, "certificate_check_due")}
    assert found == {due}
    assert not_yet not in found and checked not in found and returned not in found
    with tenant_scope(m.tenant_id):
        item = db.session.execute(db.text("SELECT due_on, member_id FROM work_items WHERE subject_id = :c AND "
                                          "kind = 'certificate_check_due'"), {"c": due}).one()
    assert str(item.due_on) == "2026-12-31" and item.member_id == m.id


def test_a_leap_day_check_falls_due_on_28_february():
    assert rules.certificate_check_bound(date(2025, 1, 29)) == date(2024, 2, 29)   # horizon 2025-02-28
    assert rules.certificate_check_bound(date(2025, 1, 28)) == date(2024, 2, 27)
    assert rules.certificate_check_bound(date(2026, 12, 1)) == date(2025, 12, 31)
    assert rules.next_anniversary(date(2016, 2, 29), date(2027, 1, 1)) == date(2027, 2, 28)
    assert rules.next_anniversary(date(2016, 2, 29), date(2027, 3, 1)) == date(2028, 2, 29)
