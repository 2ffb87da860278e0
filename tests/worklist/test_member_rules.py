"""The member rules of the sweep at their boundary days (domain.md "Time rules"): contact stages,
members abroad, dues, political birthdays; idempotence and items disappearing with their cause."""
from datetime import date

from portal.exchange.models import Notification
from portal.extensions import db
from portal.members import services as members
from portal.tenancy.context import tenant_scope
from tests.conftest import owned_rows
from tests.worklist.conftest import TODAY, A, at, items, kinds_of, swept


def member(world, name, **fields):
    return world.member(name=name, **fields)


def test_contact_stages_at_their_boundaries(world, frozen):
    # TODAY 2026-12-01, span 6 months: lost before 2026-06-01, suspension candidate before
    # 2025-12-01 (lost six months more), removal candidate before 2023-12-01 (two years more).
    cases = {
        "在联系": ("2026-06-01", set()),
        "刚失联": ("2026-05-31", {"lost_contact"}),
        "失联未满": ("2025-12-01", {"lost_contact"}),
        "拟停止": ("2025-11-30", {"suspension_candidate"}),
        "停止未满": ("2023-12-01", {"suspension_candidate"}),
        "拟除名": ("2023-11-30", {"removal_candidate"}),
    }
    ids = {name: member(world, name, last_contact_on=day, dues_paid_through="2026-11").id
           for name, (day, _) in cases.items()}
    never = member(world, "从未联系", dues_paid_through="2026-11").id
    swept(TODAY)
    for name, (_, expected) in cases.items():
        assert kinds_of(A, ids[name]) == expected, name
    assert kinds_of(A, never) == {"lost_contact"}


def test_the_tenant_sets_another_span(world, make, frozen):
    tenant = make.tenant(A)
    tenant.lost_contact_months = 3
    db.session.commit()
    near = member(world, "三月内", last_contact_on="2026-09-01").id
    far = member(world, "三月外", last_contact_on="2026-08-31").id
    swept(TODAY)
    assert kinds_of(A, near) == set() and kinds_of(A, far) == {"lost_contact"}


def test_members_abroad_are_contacted_every_six_months(world, frozen):
    ok = member(world, "新加坡", region="国外：新加坡", last_contact_on="2026-06-01").id
    due = member(world, "迪拜", region="境外 阿联酋迪拜", last_contact_on="2026-05-31").id
    home = member(world, "国内", region="江苏省南京市", last_contact_on="2026-05-31").id
    swept(TODAY)
    assert kinds_of(A, ok) == set()
    assert kinds_of(A, due) == {"abroad_contact_due"}
    assert kinds_of(A, home) == {"lost_contact"}


def test_six_months_without_dues(world, frozen):
    # In December, paid through May leaves June to November unpaid: six whole months.
    late = member(world, "欠六月", dues_paid_through="2026-05", last_contact_on="2026-11-20").id
    five = member(world, "欠五月", dues_paid_through="2026-06", last_contact_on="2026-11-20").id
    unknown = member(world, "未登记", dues_paid_through="", last_contact_on="2026-11-20").id
    hosted = member(world, "他处管理", dues_paid_through="2025-01", last_contact_on="2026-11-20",
                    direction="流入", holds_relationship=False).id
    swept(TODAY)
    assert kinds_of(A, late) == {"no_dues_6m"}
    assert kinds_of(A, five) == kinds_of(A, unknown) == kinds_of(A, hosted) == set()


def test_political_birthdays_in_the_next_seven_days(world, frozen):
    days = {"今天": "2015-12-01", "第七天": "2015-12-08", "第八天": "2015-12-09", "昨天": "2015-11-30",
            "今天入党": "2026-12-01"}
    ids = {n: member(world, n, joined_on=d, last_contact_on="2026-11-20").id for n, d in days.items()}
    swept(TODAY)
    birthdays = {sid for _, _, sid, _ in items(A, "political_birthday")}
    assert birthdays == {ids["今天"], ids["第七天"]}


def test_a_leap_day_joiner_is_greeted_on_28_february(world):
    with at(date(2027, 2, 20)):
        leap = member(world, "闰日", joined_on="2016-02-29", last_contact_on="2027-02-01").id
    swept(date(2027, 2, 20))
    assert kinds_of(A, leap) == set()  # 2027-02-28 is eight days ahead
    swept(date(2027, 2, 21))
    assert kinds_of(A, leap) == {"political_birthday"}


def test_sweep_is_idempotent_and_announces_each_item_once(world, frozen):
    lost = member(world, "失联者", last_contact_on="2026-01-10")
    first = swept(TODAY)
    assert first["lost_contact"] == 1 and first["added"] >= 1
    before = items(A)
    second = swept(TODAY)
    assert second["added"] == 0 and second["removed"] == 0 and second["notified"] == 0
    assert items(A) == before
    swept(date(2026, 12, 2))
    notes = owned_rows(Notification, Notification.kind == "work_item", Notification.subject_id == lost.id)
    assert len(notes) == 1 and "失去联系" in notes[0].message and "失联者" in notes[0].message
    assert notes[0].org_id == lost.org_id


def test_an_item_disappears_when_its_cause_is_gone(world, make, frozen):
    lost = member(world, "待联系", last_contact_on="2026-01-10")
    swept(TODAY)
    assert kinds_of(A, lost.id) == {"lost_contact"}
    tenant = make.tenant(A)
    with at(date(2026, 12, 2)), tenant_scope(tenant.id):
        from portal.auth.access import Principal
        m = members.get(Principal(user=None, tenant=tenant, grant=None), lost.id)
        members.record_contact(Principal(user=None, tenant=tenant, grant=None), m,
                               {"on": date(2026, 12, 2), "channel": "电话", "note": "已联系上"})
        db.session.commit()
    result = swept(date(2026, 12, 2))
    assert kinds_of(A, lost.id) == set() and result["removed"] == 1


def test_a_day_the_month_lacks_becomes_its_last_day(world, frozen):
    # Last contact 31 May + 6 months: lost since 30 November (SQLite would say 1 December).
    m = member(world, "月末", last_contact_on="2026-05-31")
    swept(TODAY)
    with tenant_scope(m.tenant_id):
        due = db.session.execute(db.text("SELECT due_on FROM work_items WHERE member_id = :m"), {"m": m.id}).scalar()
    assert str(due) == "2026-11-30"
