"""Organization rules: codes unique across tenants, the tree, moves, validation, audit."""
import pytest

from portal.audit.models import AuditEntry
from portal.core.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.orgs import services
from portal.orgs.models import Organization
from tests.conftest import scope


def _audit(code, object_id):
    with scope(code):
        return db.session.execute(db.select(AuditEntry).filter_by(object_type="organization", object_id=object_id)
                                  .order_by(AuditEntry.id)).scalars().all()


def test_codes_are_unique_across_tenants_and_start_with_the_tenant(make):
    a = make.org("110105", name="朝阳区流动党员党委", kind="基层党委")
    b = make.org("320115", name="江宁区流动党员党委", kind="基层党委")
    assert a.code == "110105-0001"
    assert b.code == "320115-0001"
    with scope("320115"), pytest.raises(ValidationFailed) as err:
        services.create(None, {"name": "x", "kind": "党支部", "code": "110105-0001"})
    assert "本县区代码开头" in err.value.fields["code"]
    db.session.rollback()
    with scope("110105"), pytest.raises(ValidationFailed) as err:
        services.create(None, {"name": "x", "kind": "党支部", "code": "110105-0001"})
    assert err.value.fields["code"] == "组织代码已被使用"


def test_create_records_audit_and_fills_defaults(make):
    org = make.org("110105", name="望京街道流动党员服务站", kind="流动党员服务站")
    assert (org.role, org.region, org.accepting, org.path) == ("both", "110105", True, f"/{org.id}/")
    entries = _audit("110105", org.code)
    assert [e.action for e in entries] == ["create"]
    assert entries[0].after["name"] == "望京街道流动党员服务站"


@pytest.mark.parametrize("data, field", [
    ({"name": "", "kind": "党支部"}, "name"),
    ({"name": "x" * 101, "kind": "党支部"}, "name"),
    ({"name": "支部", "kind": "小组"}, "kind"),
    ({"name": "支部", "kind": "党支部", "role": "sender"}, "role"),
    ({"name": "支部", "kind": "党支部", "region": "1101"}, "region"),
    ({"name": "支部", "kind": "党支部", "contact_phone": "12345"}, "contact_phone"),
    ({"name": "支部", "kind": "党支部", "accepting": "maybe"}, "accepting"),
    ({"name": ["支部"], "kind": "党支部"}, "name"),
    ({"name": "支部", "kind": "党支部", "address": {"a": 1}}, "address"),
    ({"name": "支部", "kind": "党支部", "code": 17}, "code"),
    ({"name": "支部", "kind": "党支部", "parent": "110105-9999"}, "parent"),
    ({"name": "支部", "kind": "党支部", "parent": ["x"]}, "parent"),
])
def test_bad_input_is_refused_and_nothing_is_written(make, data, field):
    with scope("110105"):
        with pytest.raises(ValidationFailed) as err:
            services.create(None, data)
        assert field in err.value.fields
        db.session.rollback()
        assert db.session.execute(db.select(db.func.count()).select_from(Organization)).scalar() == 0
        assert db.session.execute(db.select(db.func.count()).select_from(AuditEntry)).scalar() == 0


def test_industries_accept_a_list(make):
    with scope("110105"):
        org = services.create(None, {"name": "建筑业流动党员党支部", "kind": "流动党员党支部",
                                     "industries": ["建筑", "物流"], "accepting": "否"})
        assert org.industries == "建筑、物流"
        assert org.accepting is False


def test_move_rewrites_the_paths_of_the_whole_subtree(make):
    root = make.org("110105", name="党委", kind="基层党委")
    other = make.org("110105", name="另一党委", kind="基层党委")
    general = make.org("110105", name="总支", kind="党总支", parent=root)
    branch = make.org("110105", name="支部", parent=general)
    with scope("110105"):
        services.move(None, general, other.code)
        db.session.commit()
        db.session.expire_all()
        moved = services.get(general.code)
        below = services.get(branch.code)
        assert moved.parent_id == other.id
        assert moved.path == f"/{other.id}/{general.id}/"
        assert below.path == f"/{other.id}/{general.id}/{branch.id}/"
        assert [o.code for o in services.descendants(services.get(other.code))] == [other.code, general.code,
                                                                                     branch.code]
        assert services.descendants(services.get(root.code)) == [services.get(root.code)]
    entries = _audit("110105", general.code)
    assert entries[-1].action == "move"
    assert entries[-1].before["parent"] == root.code and entries[-1].after["parent"] == other.code


def test_move_under_itself_or_its_descendants_is_refused(make):
    root = make.org("110105", name="党委", kind="基层党委")
    branch = make.org("110105", name="支部", parent=root)
    with scope("110105"):
        for target in (root.code, branch.code):
            with pytest.raises(ValidationFailed) as err:
                services.move(None, services.get(root.code), target)
            assert err.value.fields["parent"] == "不能移到自身或其下级组织之下"
            db.session.rollback()
        assert services.get(root.code).path == f"/{root.id}/"
        assert services.get(branch.code).path == f"/{root.id}/{branch.id}/"
    assert [e.action for e in _audit("110105", root.code)] == ["create"]


def test_move_to_the_top(make):
    root = make.org("110105", name="党委", kind="基层党委")
    branch = make.org("110105", name="支部", parent=root)
    with scope("110105"):
        services.move(None, branch, None)
        db.session.commit()
        assert branch.parent_id is None and branch.path == f"/{branch.id}/"


def test_update_records_only_the_changed_fields(make):
    org = make.org("110105", name="支部", contact_name="李四")
    with scope("110105"):
        services.update(None, org, {"contact_name": "王五", "name": "支部"})
        db.session.commit()
    last = _audit("110105", org.code)[-1]
    assert last.action == "update"
    assert last.before == {"contact_name": "李四"} and last.after == {"contact_name": "王五"}


def test_parent_by_name_must_be_unambiguous(make):
    make.org("110105", name="同名党委", kind="基层党委")
    make.org("110105", name="同名党委", kind="基层党委")
    with scope("110105"), pytest.raises(ValidationFailed) as err:
        services.create(None, {"name": "支部", "kind": "党支部", "parent": "同名党委"})
    assert "同名" in err.value.fields["parent"]


def test_another_tenants_org_is_not_found(make):
    b = make.org("320115", name="江宁支部")
    with scope("110105"), pytest.raises(NotFound):
        services.get(b.code)


def test_secretary_sees_only_their_subtree(make):
    root = make.org("110105", name="党委", kind="基层党委")
    mine = make.org("110105", name="一支部", parent=root)
    below = make.org("110105", name="一支部临时党支部", kind="临时党支部", parent=mine)
    other = make.org("110105", name="二支部", parent=root)
    sec = make.user("110105", "secretary", org=mine)
    from portal.auth.access import Principal
    with scope("110105"):
        principal = Principal(user=sec, tenant=make.tenant("110105"), grant=sec.grant_for(make.tenant("110105").id))
        seen = db.session.execute(services.visible_query(principal)).scalars().all()
        assert {o.code for o in seen} == {mine.code, below.code}
        assert services.get_visible(principal, below.code).code == below.code
        for code in (root.code, other.code):
            with pytest.raises(NotFound):
                services.get_visible(principal, code)


def test_tree_order_and_member_totals(make):
    root = make.org("110105", name="党委", kind="基层党委")
    b2 = make.org("110105", name="乙支部", parent=root)
    b1 = make.org("110105", name="甲支部", parent=root)
    make.member("110105", b1)
    make.member("110105", b1)
    make.member("110105", b2)
    with scope("110105"):
        rows = services.ordered(services.tree())
        assert [o.name for o in rows] == ["党委", "乙支部", "甲支部"]  # siblings by name (code point order)
        counts = services.member_counts()
        totals = services.subtree_totals(rows, counts)
        assert counts == {b1.id: 2, b2.id: 1}
        assert totals == {root.id: 3, b1.id: 2, b2.id: 1}
