"""The joint registry (pages and API), the ID-number lookup, and the register page's one-step
offers when another tenant holds the relationship."""
from portal.auth import services as auth
from portal.exchange.models import Agreement, AgreementMember, Notification
from portal.extensions import db
from tests.conftest import login
from tests.exchange.conftest import A, B, C, rows
from tests.factories import id_number


def codes(resp):
    assert resp.status_code == 200, resp.get_json()
    return [e["code"] for e in resp.get_json()["items"]]


def test_registry_search_by_region_kind_role_and_words(api, world):
    get = api("c_clerk").get
    everything = codes(get("/registry?per_page=200"))
    assert set(world.codes.values()) <= set(everything)
    # A province, a city or a county code matches every organization below it.
    jiangsu = codes(get("/registry?region=320000"))
    assert sorted(jiangsu) == sorted([world.code("b_committee"), world.code("b_branch")])
    assert sorted(codes(get("/registry?region=320100"))) == sorted(jiangsu)
    assert sorted(codes(get("/registry?region=320115"))) == sorted(jiangsu)
    assert codes(get("/registry?region=320200")) == []
    assert codes(get("/registry?kind=流动党员党支部")) == [world.code("b_branch")]
    # "host" matches host and both; "origin" matches origin and both.
    hosts = codes(get("/registry?role=host"))
    assert world.code("b_branch") in hosts and world.code("c_branch") in hosts
    assert world.code("a_committee") not in hosts
    assert world.code("a_committee") in codes(get("/registry?role=origin"))
    # Words in the name, address or lines of work; several words must all match.
    assert codes(get("/registry?q=物流")) == [world.code("b_committee")]
    assert codes(get("/registry?q=江宁 开发区")) == [world.code("b_branch")]
    assert codes(get("/registry?q=上元大街")) == [world.code("b_committee")]
    entry = get("/registry?q=开发区").get_json()["items"][0]
    assert entry["tenant"] == {"code": B, "name": "南京市江宁区"} and entry["contact_name"] == "赵站长"
    assert "members" not in entry
    body = get("/registry?per_page=2&page=2").get_json()
    assert body["page"] == 2 and len(body["items"]) == 2 and body["total"] == len(everything)
    for bad in ("region=32", "region=abcdef", "kind=车间", "role=boss", "per_page=1000", "q=" + "字" * 101):
        resp = get(f"/registry?{bad}")
        assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "validation", bad


def test_registry_needs_a_role_somewhere(client, world):
    assert client.get("/api/v1/registry").status_code == 401
    user, _ = auth.create_user("nobody-here", "correct-horse-42")
    db.session.commit()
    token = world.make.token(user)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/registry", headers=headers).status_code == 404
    assert client.get("/api/v1/registry/lookup?id_number=x", headers=headers).status_code == 403
    login(client, "nobody-here")
    assert client.get("/registry").status_code == 404


def test_lookup_reveals_only_the_holding_organization(api, world):
    number = id_number(A, serial=321)
    world.member(id_number=number)
    body = api("b_clerk").get(f"/registry/lookup?id_number={number}").get_json()
    assert body["held"] is True
    assert body["org"]["code"] == world.code("a_branch") and body["org"]["tenant"]["code"] == A
    assert body["org"]["contact_name"] == "李支书"
    assert "张三" not in str(body) and "member" not in body
    other = id_number(B, serial=322)
    assert api("b_clerk").get(f"/registry/lookup?id_number={other}").get_json() == {"held": False}
    resp = api("b_clerk").get("/registry/lookup?id_number=110105199001011234")
    assert resp.status_code == 400 and "id_number" in resp.get_json()["error"]["fields"]
    assert api("b_clerk").get("/registry/lookup").status_code == 400
    # Only roles that act in the exchange may ask.
    assert api("a_viewer").get(f"/registry/lookup?id_number={number}").status_code == 403


def test_registry_and_lookup_pages(client, world):
    number = id_number(A, serial=323)
    world.member(id_number=number)
    login(client, "b-clerk")
    page = client.get("/registry?region=320000").get_data(as_text=True)
    assert "江宁开发区流动党员党支部" in page and "朝阳区" not in page and "转接至此" in page
    assert "没有符合条件" in client.get("/registry?q=不存在的组织").get_data(as_text=True)
    resp = client.get("/registry?region=12")
    assert resp.status_code == 400 and "地区代码应为6位数字" in resp.get_data(as_text=True)
    page = client.get(f"/registry/lookup?id_number={number}").get_data(as_text=True)
    assert "朝阳区某街道党支部" in page and "李支书" in page and "张三" not in page
    resp = client.get("/registry/lookup?id_number=123")
    assert resp.status_code == 400 and "18位" in resp.get_data(as_text=True)
    login(client, "a-viewer")
    assert client.get("/registry").status_code == 200
    assert client.get(f"/registry/lookup?id_number={number}").status_code == 403  # as the API: known, not allowed


def _register_incoming(client, number, org_code):
    return client.post(f"/t/{B}/members/new", data={
        "name": "张三", "sex": "男", "id_number": number, "education": "本科", "joined_on": "2015-07-01",
        "category": "正式党员", "org": org_code, "direction": "流入", "ethnicity": "汉族"})


def test_registering_a_member_held_elsewhere_offers_co_management_in_one_step(client, world):
    number = id_number(A, serial=324)
    m = world.member(id_number=number)
    login(client, "b-clerk")
    resp = _register_incoming(client, number, world.code("b_branch"))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert "北京市朝阳区 朝阳区某街道党支部" in page
    assert "propose" in page and "提议共管" in page and "请求" in page
    resp = client.post(f"/t/{B}/exchange/held-elsewhere/propose",
                       data={"id_number": number, "host_org": world.code("b_branch")})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    a = rows(Agreement)[0]
    assert a.proposed_by_side == "host" and a.state == "proposed"
    assert a.tenant_id == world.tenant_ids[A] and a.other_tenant_id == world.tenant_ids[B]
    assert a.origin_org_id == world.org_id("a_branch") and a.host_org_id == world.org_id("b_branch")
    assert [x.member_id for x in rows(AgreementMember)] == [m.id]
    note = rows(Notification, kind="agreement_proposed")[0]
    assert note.tenant_id == world.tenant_ids[A] and note.org_id == world.org_id("a_branch")


def test_registering_a_member_held_elsewhere_asks_for_a_transfer_in_one_step(client, world):
    number = id_number(A, serial=325)
    m = world.member(id_number=number)
    login(client, "b-clerk")
    resp = client.post(f"/t/{B}/exchange/held-elsewhere/request",
                       data={"id_number": number, "to_org": world.code("b_branch")})
    assert resp.status_code == 302
    note = rows(Notification, kind="transfer_requested")[0]
    assert note.tenant_id == world.tenant_ids[A] and note.subject_id == m.id
    assert note.data == {"member": m.id, "to_org": world.code("b_branch")}
    # The holder sees it and starts the transfer with one click (the form comes filled in).
    login(client, "a-clerk")
    page = client.get(f"/t/{A}/notifications").get_data(as_text=True)
    assert "请求将 张三 同志" in page and f"member={m.id}" in page
    page = client.get(f"/t/{A}/exchange/transfers/new?member={m.id}&to_org={world.code('b_branch')}") \
        .get_data(as_text=True)
    assert "江宁开发区流动党员党支部" in page and "张三" in page
    # Asking about a number nobody holds, or with an org of another tenant, is refused.
    login(client, "b-clerk")
    client.post(f"/t/{B}/exchange/held-elsewhere/request",
                data={"id_number": id_number(B, serial=326), "to_org": world.code("b_branch")})
    client.post(f"/t/{B}/exchange/held-elsewhere/request", data={"id_number": number, "to_org": world.code("c_branch")})
    assert len(rows(Notification, kind="transfer_requested")) == 1
    login(client, "c-clerk")
    assert "张三" not in client.get(f"/t/{C}/notifications").get_data(as_text=True)
