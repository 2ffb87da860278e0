"""The rules of the register, at the service level: ID numbers, dates, the one-holder rule,
search and the dues and contact filters (with a fixed as_of), subtree limits, locking, audit."""
import json
from datetime import date, timedelta

import pytest

from portal.core import clock
from portal.audit.models import AuditEntry
from portal.core import crypto
from portal.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from portal.extensions import db
from portal.members import idnumber, rules, services
from portal.members.models import Contact, Member, RelationshipHold
from portal.tenancy.context import cross_tenant
from tests.conftest import scope, tenant
from tests.factories import id_number
from tests.members.conftest import count_members


def base(org_, **extra):
    data = {"name": "王五", "sex": "女", "id_number": id_number("110105", date(1988, 3, 9)), "education": "本科",
            "joined_on": "2012-06-30", "org": org_.code, "direction": "流出"}
    data.update(extra)
    return data


def errors_of(excinfo):
    return excinfo.value.fields


# ---- ID numbers ----

def test_id_number_check_digit_is_verified(make, chaoyang):
    good = id_number("110105", date(1990, 5, 17), 123)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    with scope("110105"), pytest.raises(ValidationFailed) as err:
        services.clean(base(chaoyang["first"], id_number=bad))
    assert errors_of(err) == {"id_number": "身份证号校验位错误"}


def test_impossible_birth_date_in_id_number(make, chaoyang):
    first17 = "11010519490230123"
    number = first17 + idnumber.check_digit(first17)  # the check digit is right, 30 February is not
    with scope("110105"), pytest.raises(ValidationFailed) as err:
        services.clean(base(chaoyang["first"], id_number=number))
    assert errors_of(err)["id_number"] == "身份证号中的出生日期不是有效日期"


@pytest.mark.parametrize("raw", ["", "1234", "11010519900517123", "1101051990051712345", "11010519900517123Y",
                                 "abc", "１１０１０５"])
def test_id_number_shape(make, chaoyang, raw):
    with scope("110105"), pytest.raises(ValidationFailed) as err:
        services.clean(base(chaoyang["first"], id_number=raw))
    assert "id_number" in errors_of(err)


def test_id_number_is_normalized_from_full_width_and_lower_case(make, chaoyang):
    number = id_number("110105", date(1990, 5, 17), 5)
    typed = " " + number.translate(str.maketrans("0123456789X", "０１２３４５６７８９x")) + " "
    with scope("110105"):
        values = services.clean(base(chaoyang["first"], id_number=typed))
    assert values["id_number"] == number
    assert values["birth_date"] == date(1990, 5, 17)


def test_mask():
    assert idnumber.mask("11010519900517123X") == "110105********123X"


# ---- dates ----

def test_joining_before_eighteen_is_refused(make, chaoyang):
    with scope("110105"), pytest.raises(ValidationFailed) as err:
        services.clean(base(chaoyang["first"], id_number=id_number("110105", date(2000, 6, 2)),
                            joined_on="2018-06-01"))
    assert errors_of(err) == {"joined_on": "入党时应年满18岁"}
    with scope("110105"):  # the eighteenth birthday itself is fine
        services.clean(base(chaoyang["first"], id_number=id_number("110105", date(2000, 6, 2)),
                            joined_on="2018-06-02"))


@pytest.mark.parametrize("key", ["joined_on", "moved_on", "last_contact_on"])
def test_future_dates_are_refused(make, chaoyang, key):
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    with scope("110105"), pytest.raises(ValidationFailed) as err:
        services.clean(base(chaoyang["first"], **{key: tomorrow}))
    assert errors_of(err)[key] == "不能晚于今天"


@pytest.mark.parametrize("value,message", [("2015-02-30", "日期格式应为YYYY-MM-DD"), ("15/7/2015", "日期格式应为YYYY-MM-DD"),
                                           ("1850-01-01", "日期无效"), (["2015-07-01"], "日期格式应为YYYY-MM-DD"),
                                           (True, "日期格式应为YYYY-MM-DD")])
def test_bad_dates(make, chaoyang, value, message):
    with scope("110105"), pytest.raises(ValidationFailed) as err:
        services.clean(base(chaoyang["first"], joined_on=value))
    assert errors_of(err)["joined_on"] == message


def test_office_date_forms_are_accepted(make, chaoyang):
    with scope("110105"):
        values = services.clean(base(chaoyang["first"], joined_on="2012年6月30日", moved_on="2020/3/1",
                                     dues_paid_through="2026年9月"))
    assert values["joined_on"] == date(2012, 6, 30)
    assert values["moved_on"] == date(2020, 3, 1)
    assert values["dues_paid_through"] == "2026-09"


def test_birth_date_must_agree_with_id_number(make, chaoyang):
    with scope("110105"), pytest.raises(ValidationFailed) as err:
        services.clean(base(chaoyang["first"], birth_date="1988-03-10"))
    assert errors_of(err) == {"birth_date": "出生日期与身份证号不一致"}


# ---- the other fields ----

def test_every_missing_required_field_is_named(make, chaoyang):
    with scope("110105"), pytest.raises(ValidationFailed) as err:
        services.clean({})
    assert set(errors_of(err)) == set(services.REQUIRED)
    assert set(errors_of(err).values()) == {"必填"}


@pytest.mark.parametrize("key,value", [
    ("sex", "男性"), ("education", "大学本科"), ("category", "党员"), ("direction", "流动"), ("move_reason", "旅游"),
    ("phone", "12345"), ("name", "张" * 41), ("employer", "x" * 101), ("org", "不存在的支部"),
    ("dues_paid_through", "2026-13"), ("name", ["张三"]), ("name", {"a": 1}), ("sex", True), ("name", "张\x00三"),
    ("employer", "\ud800"), ("org", "x" * 10000),
])
def test_bad_values_are_named_in_chinese(make, chaoyang, key, value):
    with scope("110105"), pytest.raises(ValidationFailed) as err:
        services.clean(base(chaoyang["first"], **{key: value}))
    assert list(errors_of(err)) == [key]
    assert len(errors_of(err)[key]) < 120


def test_defaults_and_english_direction_keys(make, chaoyang):
    with scope("110105"):
        values = services.clean(base(chaoyang["first"], direction="incoming", ethnicity="", category=""))
    assert values["direction"] == "流入"
    assert values["ethnicity"] == "汉族"
    assert values["category"] == "正式党员"


def test_partial_update_cannot_empty_a_required_field(make, chaoyang, new_member):
    member = new_member("110105", chaoyang["first"])
    with scope("110105"), pytest.raises(ValidationFailed) as err:
        services.clean({"joined_on": "", "name": None}, partial=True, current=member)
    assert errors_of(err) == {"joined_on": "必填", "name": "必填"}


# ---- creating: the ID number is encrypted, and held once ----

def test_create_encrypts_the_id_number(make, chaoyang, new_member):
    number = id_number("110105", date(1990, 5, 17), 321)
    member = new_member("110105", chaoyang["first"], id_number=number)
    with scope("110105"):
        row = db.session.execute(db.select(Member).filter_by(id=member.id)).scalar_one()
        assert row.id_enc != number and number not in row.id_enc
        assert row.id_hash == crypto.keyed_hash(number)
        assert row.id_masked == number[:6] + "********" + number[14:]
        assert services.id_number_of(row) == number
        hold = db.session.get(RelationshipHold, row.id_hash)
        assert hold.member_id == row.id and hold.org_id == chaoyang["first"].id


def test_same_number_twice_in_one_tenant(make, chaoyang, new_member):
    number = id_number("110105", serial=11)
    new_member("110105", chaoyang["first"], id_number=number, name="甲")
    with pytest.raises(ValidationFailed) as err:
        new_member("110105", chaoyang["other"], id_number=number, name="乙")
    assert "本县区台账中已有此身份证号" in errors_of(err)["id_number"] and "甲" in errors_of(err)["id_number"]
    db.session.rollback()
    assert count_members("110105") == 1


def test_held_in_another_tenant_is_a_conflict_naming_the_holder(make, chaoyang, new_member, new_org):
    number = id_number("110105", serial=12)
    new_member("110105", chaoyang["first"], id_number=number)
    jiangning = new_org("320115", name="江宁区流动党员服务站", kind="流动党员服务站")
    with pytest.raises(services.HeldElsewhere) as err:
        new_member("320115", jiangning, id_number=number, direction="流入")
    assert err.value.status == 409 and err.value.code == "conflict"
    assert isinstance(err.value, Conflict)
    assert "北京市朝阳区" in err.value.message and "第一党支部" in err.value.message
    assert "张联系" in err.value.fields["id_number"]
    db.session.rollback()
    assert count_members("320115") == 0


def test_co_managed_incoming_member_claims_no_hold(make, chaoyang, new_member, new_org):
    number = id_number("110105", serial=13)
    new_member("110105", chaoyang["first"], id_number=number)
    jiangning = new_org("320115", name="江宁区流动党员服务站", kind="流动党员服务站")
    member = new_member("320115", jiangning, id_number=number, direction="流入", holds_relationship=False)
    assert member.holds_relationship is False
    with cross_tenant():
        hold = db.session.get(RelationshipHold, crypto.keyed_hash(number))
        assert hold.tenant_id == tenant("110105").id
    assert count_members("320115") == 1


def test_only_incoming_members_may_leave_the_relationship_elsewhere(make, chaoyang, new_member):
    with pytest.raises(ValidationFailed) as err:
        new_member("110105", chaoyang["first"], direction="流出", holds_relationship=False)
    assert "holds_relationship" in errors_of(err)
    db.session.rollback()
    assert count_members() == 0


# ---- access within the tenant ----

def test_secretary_sees_and_registers_only_in_their_subtree(make, chaoyang, new_member):
    inside = new_member("110105", chaoyang["sub"], name="下级党员")
    outside = new_member("110105", chaoyang["other"], name="外支部党员")
    user = make.user("110105", "secretary", org=chaoyang["first"])
    principal = _principal(user, "110105")
    with scope("110105"):
        names = db.session.execute(services.search(principal)).scalars().all()
        assert [m.name for m in names] == ["下级党员"]
        assert services.get(principal, inside.id).id == inside.id
        with pytest.raises(NotFound):
            services.get(principal, outside.id)
        with pytest.raises(ValidationFailed) as err:
            services.create(principal, base(chaoyang["other"]))
        assert errors_of(err) == {"org": "只能登记本组织及下级组织的党员"}
        assert [o.name for o in services.allowed_orgs(principal)] == ["第一党支部", "第一支部临时党支部"]


def _principal(user, code):
    from portal.auth.access import Principal
    t = tenant(code)
    return Principal(user=user, tenant=t, grant=user.grant_for(t.id))


def test_get_refuses_ids_that_cannot_exist(make, chaoyang):
    principal = make.principal("110105", "clerk")
    with scope("110105"):
        for raw in ("abc", "-1", "0", str(2 ** 31), "9" * 40, None):
            with pytest.raises(NotFound):
                services.get(principal, raw)


def test_viewer_may_not_edit(make):
    principal = make.principal("110105", "viewer")
    with pytest.raises(Forbidden):
        services.ensure_can_edit(principal, None)


# ---- search ----

@pytest.fixture
def register(make, chaoyang, new_member):
    first, other = chaoyang["first"], chaoyang["other"]
    people = {
        "zhang": new_member("110105", first, name="张建国", phone="13911110001", employer="南京某建筑公司"),
        "li": new_member("110105", chaoyang["sub"], name="李红", phone="13911110002", employer="苏州100%电子厂"),
        "wang": new_member("110105", other, name="王建华", phone="010-65001234", employer="无锡纺织厂",
                            direction="流入"),
    }
    return people


def _names(principal, **kw):
    with scope("110105"):
        return sorted(m.name for m in db.session.execute(services.search(principal, **kw)).scalars())


def test_search_by_name_phone_employer_and_exact_id(make, register):
    p = make.principal("110105", "clerk")
    assert _names(p, q="建") == ["张建国", "王建华"]
    assert _names(p, q="1391111000") == ["张建国", "李红"]
    assert _names(p, q="65001234") == ["王建华"]
    assert _names(p, q="纺织") == ["王建华"]
    assert _names(p, q="100%") == ["李红"]      # % is a character, not a wildcard
    assert _names(p, q="%") == ["李红"]
    assert _names(p, q="_") == []
    with scope("110105"):
        number = services.id_number_of(register["li"])
    assert _names(p, q=number) == ["李红"]
    assert _names(p, q=number.lower()) == ["李红"]
    assert _names(p, q=number[:17] + ("1" if number[17] != "1" else "2")) == []
    assert _names(p, q=number[:10]) == []  # a part of an ID number finds nothing


def test_filters_direction_and_org_subtree(make, register, chaoyang):
    p = make.principal("110105", "clerk")
    assert _names(p, direction="outgoing") == ["张建国", "李红"]
    assert _names(p, direction="流入") == ["王建华"]
    assert _names(p, org=chaoyang["first"].code) == ["张建国", "李红"]
    assert _names(p, org=chaoyang["sub"].code) == ["李红"]
    assert _names(p, org=chaoyang["top"].code) == ["张建国", "李红", "王建华"]
    for bad in ({"direction": "sideways"}, {"org": "110105-9999"}, {"contact": "maybe"}, {"dues": "late"},
                {"q": "x" * 101}, {"q": "a\x00b"}):
        with scope("110105"), pytest.raises(ValidationFailed):
            services.search(p, **bad)


AS_OF = date(2026, 11, 15)


def test_dues_filter_follows_the_statistics_buckets(make, chaoyang, new_member):
    # As of 2026-11: unpaid months U = 2026·12+11 − (paid year·12 + month) − 1.
    paid = {"2026-10": "on_time", "2026-11": "on_time", "2026-09": "1_5m", "2026-05": "1_5m", "2026-04": "6_12m",
            "2025-10": "6_12m", "2025-09": "1_5y", "2021-10": "1_5y", "2021-09": "gt5y", "2010-01": "gt5y",
            "": "unknown"}
    for i, month in enumerate(paid):
        new_member("110105", chaoyang["first"], name=f"党员{i:02d}", dues_paid_through=month)
    p = make.principal("110105", "clerk")
    for bucket in rules.DUES_BUCKETS:
        expected = sorted(f"党员{i:02d}" for i, m in enumerate(paid) if paid[m] == bucket)
        assert _names(p, dues=bucket, as_of=AS_OF) == expected, bucket
        # The list filter and the statistics rule agree member by member.
        assert all(rules.dues_bucket(m, AS_OF) == bucket for m in paid if paid[m] == bucket)


def test_contact_filter_with_fixed_as_of(make, chaoyang, new_member):
    cutoff = rules.lost_contact_cutoff(AS_OF, 6)
    assert cutoff == date(2026, 5, 15)
    new_member("110105", chaoyang["first"], name="按期", last_contact_on="2026-05-15")
    new_member("110105", chaoyang["first"], name="差一天", last_contact_on="2026-05-14")
    new_member("110105", chaoyang["first"], name="从未联系")
    recorded = new_member("110105", chaoyang["first"], name="记录联系", last_contact_on="2025-01-01")
    p = make.principal("110105", "clerk")
    with scope("110105"):
        member = services.get(p, recorded.id)
        services.record_contact(p, member, {"on": "2026-08-01", "channel": "微信", "note": "在南京务工"})
        db.session.commit()
    assert _names(p, contact="in_contact", as_of=AS_OF) == ["按期", "记录联系"]
    assert _names(p, contact="lost", as_of=AS_OF) == sorted(["差一天", "从未联系"])


# ---- contacts ----

def test_record_contact(make, chaoyang, new_member):
    member = new_member("110105", chaoyang["first"], last_contact_on="2026-01-01")
    p = make.principal("110105", "clerk")
    with scope("110105"):
        m = services.get(p, member.id)
        contact = services.record_contact(p, m, {"on": "2026-03-02", "channel": "电话", "note": "已联系"})
        services.record_contact(p, m, {"on": "2026-02-01", "channel": "上门"})  # older: last contact stays
        db.session.commit()
        assert m.last_contact_on == date(2026, 3, 2)
        rows = db.session.execute(services.contacts_query(m)).scalars().all()
        assert [(c.on, c.channel) for c in rows] == [(date(2026, 3, 2), "电话"), (date(2026, 2, 1), "上门")]
        assert services.contact_to_dict(contact) == {"id": contact.id, "on": "2026-03-02", "channel": "电话",
                                                     "note": "已联系", "recorded_by": p.user.id,
                                                     "recorded_by_name": p.user.display_name or p.user.username}


@pytest.mark.parametrize("data,key", [
    ({"on": "2999-01-01", "channel": "电话"}, "on"), ({"on": "x", "channel": "电话"}, "on"),
    ({"on": "2026-01-01", "channel": "飞鸽"}, "channel"), ({"on": "2026-01-01", "channel": ["电话"]}, "channel"),
    ({"on": "2026-01-01", "channel": "电话", "note": "x" * 2001}, "note"),
    ({"on": "2026-01-01", "channel": "电话", "note": "a\x00"}, "note"),
])
def test_bad_contacts_write_nothing(make, chaoyang, data, key, new_member):
    member = new_member("110105", chaoyang["first"])
    p = make.principal("110105", "clerk")
    with scope("110105"):
        m = services.get(p, member.id)
        with pytest.raises(ValidationFailed) as err:
            services.record_contact(p, m, data)
        assert key in errors_of(err)
        db.session.rollback()
        assert db.session.execute(db.select(db.func.count()).select_from(Contact)).scalar_one() == 0


# ---- updates: optimistic locking and audit ----

def test_stale_version_changes_nothing(make, chaoyang, new_member):
    member = new_member("110105", chaoyang["first"], name="原名")
    p = make.principal("110105", "clerk")
    with scope("110105"):
        m = services.get(p, member.id)
        services.update(p, m, {"name": "第一次"}, expected_version=m.version)
        db.session.commit()
        assert m.version == 2
        with pytest.raises(Conflict):
            services.update(p, m, {"name": "第二次"}, expected_version=1)
        db.session.rollback()
        assert services.get(p, member.id).name == "第一次"


def test_audit_has_before_and_after_with_masked_id_numbers(make, chaoyang, new_member):
    old = id_number("110105", date(1985, 1, 2), 41)
    new = id_number("110105", date(1985, 1, 2), 42)
    member = new_member("110105", chaoyang["first"], id_number=old, name="审计")
    p = make.principal("110105", "clerk")
    with scope("110105"):
        m = services.get(p, member.id)
        services.update(p, m, {"id_number": new, "employer": "新单位"}, expected_version=m.version)
        services.record_contact(p, m, {"on": "2026-01-05", "channel": "电话", "note": "回访"})
        db.session.commit()
        entries = db.session.execute(db.select(AuditEntry).filter_by(object_type="member", object_id=str(m.id))
                                     .order_by(AuditEntry.id)).scalars().all()
    assert [e.action for e in entries] == ["create", "update", "contact"]
    create, update, contact = entries
    assert create.after["name"] == "审计" and create.after["id_number"] == idnumber.mask(old)
    assert update.before == {"id_number": idnumber.mask(old), "employer": "示例公司"}
    assert update.after == {"id_number": idnumber.mask(new), "employer": "新单位"}
    assert update.user_id == p.user.id
    assert contact.after == {"on": "2026-01-05", "channel": "电话", "note": "回访"}
    text = json.dumps([[e.before, e.after, e.summary] for e in entries], ensure_ascii=False)
    assert old not in text and new not in text
    assert crypto.keyed_hash(old) not in text


def test_changing_the_id_number_moves_the_hold(make, chaoyang, new_member):
    old = id_number("110105", date(1985, 1, 2), 51)
    new = id_number("110105", date(1985, 1, 2), 52)
    member = new_member("110105", chaoyang["first"], id_number=old)
    p = make.principal("110105", "clerk")
    with scope("110105"):
        m = services.get(p, member.id)
        services.update(p, m, {"id_number": new, "org": chaoyang["other"].code})
        db.session.commit()
    with cross_tenant():
        assert db.session.get(RelationshipHold, crypto.keyed_hash(old)) is None
        hold = db.session.get(RelationshipHold, crypto.keyed_hash(new))
        assert hold.member_id == member.id and hold.org_id == chaoyang["other"].id


def test_changing_to_a_number_held_elsewhere_is_refused(make, chaoyang, new_member, new_org):
    taken = id_number("320115", serial=61)
    jiangning = new_org("320115", name="江宁某支部")
    new_member("320115", jiangning, id_number=taken)
    member = new_member("110105", chaoyang["first"])
    p = make.principal("110105", "clerk")
    with scope("110105"):
        m = services.get(p, member.id)
        before = m.id_hash
        with pytest.raises(services.HeldElsewhere) as err:
            services.update(p, m, {"id_number": taken})
        assert "江宁某支部" in err.value.message
        db.session.rollback()
        assert services.get(p, member.id).id_hash == before
