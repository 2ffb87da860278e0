"""The organizations API: list with filters and pagination, create, read, edit, move."""
from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.orgs import services
from portal.orgs.models import Organization
from tests.conftest import scope
from tests.orgs.helpers import plain


def _auth(make, code="110105", role="tenant_admin", **kw):
    user = make.user(code, role, **kw)
    return {"Authorization": f"Bearer {make.token(user)}"}


def test_list_with_filters_and_pagination(make, client):
    root = make.org("110105", name="党委", kind="基层党委", role="origin")
    for i in range(3):
        make.org("110105", name=f"建筑业支部{i}", parent=root, role="host", industries="建筑")
    make.org("320115", name="建筑业支部江宁")
    h = _auth(make, role="viewer")
    body = client.get("/api/v1/t/110105/orgs", headers=h).get_json()
    assert body["total"] == 4 and body["page"] == 1 and len(body["items"]) == 4
    first = body["items"][0]
    assert first == {"code": root.code, "name": "党委", "kind": "基层党委", "parent": None, "role": "origin",
                     "region": "110105", "address": "", "contact_name": "张联系", "contact_phone": "13800000000",
                     "industries": "", "accepting": True, "tenant": "110105"}
    assert body["items"][1]["parent"] == root.code
    body = client.get("/api/v1/t/110105/orgs?q=建筑&per_page=2&page=2", headers=h).get_json()
    assert body["total"] == 3 and body["page"] == 2 and len(body["items"]) == 1
    assert all("江宁" not in x["name"] for x in body["items"])
    assert client.get("/api/v1/t/110105/orgs?kind=基层党委", headers=h).get_json()["total"] == 1
    assert client.get("/api/v1/t/110105/orgs?role=host", headers=h).get_json()["total"] == 3
    assert client.get("/api/v1/t/110105/orgs?q=110105-0001", headers=h).get_json()["total"] == 1


def test_bad_filters_and_pages_are_400(make, client):
    h = _auth(make, role="viewer")
    for query in ("kind=小组", "role=sender", "per_page=500", "page=0", "page=x"):
        resp = client.get(f"/api/v1/t/110105/orgs?{query}", headers=h)
        assert resp.status_code == 400, query
        assert resp.get_json()["error"]["code"] == "validation"


def test_create_returns_201_and_writes_audit(make, client):
    root = make.org("110105", name="党委", kind="基层党委")
    h = _auth(make, role="clerk")
    resp = client.post("/api/v1/t/110105/orgs", headers=h, json={
        "name": "朝阳驻外流动党员党支部", "kind": "驻外流动党员党组织", "parent": root.code, "role": "host",
        "region": "320115", "address": "南京市江宁区", "contact_name": "孙联络", "contact_phone": "025-52280000",
        "industries": ["电子", "制造"], "accepting": False})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["code"].startswith("110105-") and body["parent"] == root.code
    assert (body["kind"], body["role"], body["region"], body["industries"], body["accepting"]) == \
        ("驻外流动党员党组织", "host", "320115", "电子、制造", False)
    with scope("110105"):
        entry = db.session.execute(db.select(AuditEntry).filter_by(object_id=body["code"])).scalar_one()
        assert entry.action == "create" and entry.username.endswith("clerk")


def test_create_with_own_code_and_duplicate_code(make, client):
    with scope("320115"):
        services.create(None, {"name": "江宁支部", "kind": "党支部", "code": "320115-A1"})
        db.session.commit()
    h = _auth(make)
    resp = client.post("/api/v1/t/110105/orgs", headers=h, json={"name": "甲", "kind": "党支部", "code": "110105-A1"})
    assert resp.status_code == 201 and resp.get_json()["code"] == "110105-A1"
    resp = client.post("/api/v1/t/110105/orgs", headers=h, json={"name": "乙", "kind": "党支部", "code": "110105-A1"})
    assert resp.status_code == 400
    assert resp.get_json()["error"]["fields"]["code"] == "组织代码已被使用"
    resp = client.post("/api/v1/t/110105/orgs", headers=h, json={"name": "丙", "kind": "党支部", "code": "320115-A1"})
    assert resp.status_code == 400 and "本县区代码开头" in resp.get_json()["error"]["fields"]["code"]


def test_bad_bodies_are_400_and_write_nothing(make, client):
    h = _auth(make)
    bodies = [None, [], "x", {"name": "支部"}, {"name": "支部", "kind": "党支部", "colour": "red"},
              {"name": 5, "kind": ["党支部"]}, {"name": "支部", "kind": "党支部", "accepting": "perhaps"},
              {"name": "支部", "kind": "党支部", "parent": {"code": "x"}}]
    for body in bodies:
        resp = client.post("/api/v1/t/110105/orgs", headers=h, json=body) if body is not None else \
            client.post("/api/v1/t/110105/orgs", headers=h, data="{not json", content_type="application/json")
        assert resp.status_code == 400, body
        error = resp.get_json()["error"]
        assert error["code"] == "validation" and error["message"]
    resp = client.post("/api/v1/t/110105/orgs", headers=h, json={"name": "支部", "kind": "党支部", "colour": "red"})
    assert resp.get_json()["error"]["fields"] == {"colour": "未知字段"}
    with scope("110105"):
        assert db.session.execute(db.select(db.func.count()).select_from(Organization)).scalar() == 0


def test_get_and_patch(make, client):
    root = make.org("110105", name="党委", kind="基层党委")
    other = make.org("110105", name="另一党委", kind="基层党委")
    branch = make.org("110105", name="支部", parent=root)
    below = make.org("110105", name="临时支部", kind="临时党支部", parent=branch)
    h = _auth(make)
    got = client.get(f"/api/v1/t/110105/orgs/{branch.code}", headers=h).get_json()
    assert got["name"] == "支部" and got["parent"] == root.code

    # A client may send back what it read, with changes.
    got.update(contact_name="周书记", accepting=False)
    resp = client.patch(f"/api/v1/t/110105/orgs/{branch.code}", headers=h, json=got)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["contact_name"] == "周书记" and resp.get_json()["accepting"] is False

    # PATCH with parent moves the org and everything below it.
    resp = client.patch(f"/api/v1/t/110105/orgs/{branch.code}", headers=h, json={"parent": other.code})
    assert resp.status_code == 200 and resp.get_json()["parent"] == other.code
    with scope("110105"):
        assert services.get(below.code).path == f"/{other.id}/{branch.id}/{below.id}/"
        audit = db.session.execute(db.select(AuditEntry).filter_by(object_id=branch.code)
                                   .order_by(AuditEntry.id)).scalars().all()
    assert [e.action for e in audit] == ["create", "update", "update"]
    assert audit[1].after == {"contact_name": "周书记", "accepting": False}
    assert audit[2].before["parent_id"] == root.id and audit[2].after["parent_id"] == other.id

    # Moving to the top with parent null.
    resp = client.patch(f"/api/v1/t/110105/orgs/{branch.code}", headers=h, json={"parent": None})
    assert resp.get_json()["parent"] is None


def test_patch_refusals(make, client):
    root = make.org("110105", name="党委", kind="基层党委")
    branch = plain(make.org("110105", name="支部", parent=root))
    root = plain(root)
    h = _auth(make)
    cases = [({"parent": branch.code}, "parent", "不能移到自身或其下级组织之下"),
             ({"parent": root.code, "name": ""}, "name", None),
             ({"code": "110105-9999"}, "code", "组织代码不能修改"),
             ({"kind": "小组"}, "kind", None),
             ({"parent": "110105-4040"}, "parent", "上级组织不存在")]
    for body, field, message in cases:
        resp = client.patch(f"/api/v1/t/110105/orgs/{root.code}", headers=h, json=body)
        assert resp.status_code == 400, body
        fields = resp.get_json()["error"]["fields"]
        assert field in fields and (message is None or fields[field] == message)
    with scope("110105"):
        db.session.expire_all()
        org = services.get(root.code)
        assert (org.name, org.kind, org.parent_id, org.path) == ("党委", "基层党委", None, f"/{root.id}/")
        assert db.session.execute(db.select(db.func.count()).select_from(AuditEntry)
                                  .filter_by(object_id=root.code)).scalar() == 1


def test_another_tenants_code_is_404(make, client):
    b = plain(make.org("320115", name="江宁支部"))
    h = _auth(make)
    assert client.get(f"/api/v1/t/110105/orgs/{b.code}", headers=h).status_code == 404
    resp = client.patch(f"/api/v1/t/110105/orgs/{b.code}", headers=h, json={"name": "改名"})
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/t/320115/orgs", headers=h).status_code == 404
    assert client.get("/api/v1/t/999999/orgs", headers=h).status_code == 404
    resp = client.post("/api/v1/t/110105/orgs", headers=h, json={"name": "x", "kind": "党支部", "parent": b.code})
    assert resp.status_code == 400
    with scope("320115"):
        assert services.get(b.code).name == "江宁支部"


def test_permissions(make, client):
    root = make.org("110105", name="党委", kind="基层党委")
    mine = make.org("110105", name="一支部", parent=root)
    root, mine_code = plain(root), mine.code
    viewer = _auth(make, role="viewer")
    resp = client.post("/api/v1/t/110105/orgs", headers=viewer, json={"name": "x", "kind": "党支部"})
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
    assert client.patch(f"/api/v1/t/110105/orgs/{root.code}", headers=viewer, json={"name": "y"}).status_code == 403
    with scope("110105"):
        sec = _auth(make, role="secretary", org=services.get(mine_code))
    body = client.get("/api/v1/t/110105/orgs", headers=sec).get_json()
    assert [x["code"] for x in body["items"]] == [mine_code]
    assert client.get(f"/api/v1/t/110105/orgs/{root.code}", headers=sec).status_code == 404
    assert client.get("/api/v1/t/110105/orgs").status_code == 401
    assert client.get("/api/v1/t/110105/orgs", headers={"Authorization": "Bearer pt_wrong"}).status_code == 401
