"""The first screen is the work: landing after login, the list with counts, filters, pagination
and empty state, a secretary's subtree, the tenant admin's counts per organization, the upper
level's counts per county, the API of api.md, the greeting letter and the daily digest."""
import re
from datetime import date
from types import SimpleNamespace

from portal.extensions import db
from portal.worklist import digest
from portal.worklist.models import WorklistDigest
from tests.conftest import login
from tests.factories import PASSWORD
from tests.worklist.conftest import TODAY, A, B, at, swept


def _lost(world, n, org="a_branch", prefix="失联"):
    return [world.member(name=f"{prefix}{i}", org=org, last_contact_on="2026-01-10",
                         dues_paid_through="2026-11").id for i in range(n)]


def test_clerk_lands_on_the_work_list(client, world, frozen):
    _lost(world, 1)
    swept(TODAY)
    resp = client.post("/login", data={"username": "a-clerk", "password": PASSWORD})
    assert client.get(resp.headers["Location"]).headers["Location"].endswith(f"/t/{A}/worklist")
    page = client.get(f"/t/{A}/worklist").get_data(as_text=True)
    assert "失联0 同志失去联系，自 2026-07-10 起" in page
    assert 'data-kind="lost_contact"' in page and "去处理" in page


def test_empty_state_filters_and_bad_input(client, world, frozen):
    login(client, "a-clerk")
    page = client.get(f"/t/{A}/worklist").get_data(as_text=True)
    assert "没有待办事项。" in page
    _lost(world, 2)
    world.member(name="生日", joined_on="2015-12-05", last_contact_on="2026-11-20", dues_paid_through="2026-11")
    swept(TODAY)
    page = client.get(f"/t/{A}/worklist", query_string={"kind": "political_birthday"}).get_data(as_text=True)
    assert "2026-12-05 是 生日 同志入党 11 周年纪念日" in page and "失联0" not in page
    resp = client.get(f"/t/{A}/worklist", query_string={"kind": "nonsense", "org": "x" * 500})
    assert resp.status_code == 400 and "待办类型应为" in resp.get_data(as_text=True)
    assert client.get(f"/t/{A}/worklist", query_string={"page": "-3"}).status_code == 200


def test_api_shape_filters_and_pagination(client, world, api, frozen):
    ids = _lost(world, 25)
    swept(TODAY)
    body = api("a_clerk").get(f"/t/{A}/worklist", query_string={"kind": "lost_contact", "per_page": 10,
                                                                 "page": 3}).get_json()
    assert body["total"] == 25 and body["page"] == 3 and len(body["items"]) == 5
    item = body["items"][0]
    assert set(item) == {"kind", "subject", "org", "due_on", "summary"}
    assert item["kind"] == "lost_contact" and item["subject"]["type"] == "member"
    assert item["subject"]["id"] in ids and item["org"] == world.code("a_branch")
    assert item["due_on"] == "2026-07-10" and "失去联系" in item["summary"]
    by_org = api("a_clerk").get(f"/t/{A}/worklist", query_string={"org": world.code("a_committee")}).get_json()
    assert by_org["total"] == 25
    bad = api("a_clerk").get(f"/t/{A}/worklist", query_string={"kind": "x"})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "validation"
    assert "kind" in bad.get_json()["error"]["fields"]
    other = api("a_clerk").get(f"/t/{A}/worklist", query_string={"org": world.code("b_branch")})
    assert other.status_code == 400 and "org" in other.get_json()["error"]["fields"]
    assert api("b_clerk").get(f"/t/{B}/worklist").get_json()["total"] == 0
    assert api("c_clerk").get(f"/t/{A}/worklist").status_code == 404


def test_most_urgent_first(client, world, api, frozen):
    _lost(world, 1)
    with at(date(2026, 11, 2)):
        m = world.member(name="待转接", last_contact_on="2026-11-01", dues_paid_through="2026-11")
        assert api("a_clerk").post(f"/t/{A}/transfers", {"member": m.id, "to_org": world.code("b_branch")}
                                   ).status_code == 201
    swept(TODAY)  # the reply was due 2026-11-17: overdue for Jiangning, the other side for Chaoyang
    kinds = [i["kind"] for i in api("a_clerk").get(f"/t/{A}/worklist").get_json()["items"]]
    assert kinds == ["awaiting_other_side", "lost_contact"]
    assert api("b_clerk").get(f"/t/{B}/worklist").get_json()["items"][0]["summary"] == \
        "待转接 同志的转接申请答复已逾期 14 天"


def test_secretary_sees_their_subtree_and_admin_the_counts_per_org(client, world, make, frozen):
    made = make.org(A, name="朝阳区第二党支部", parent=world.orgs["a_committee"])
    second = SimpleNamespace(id=made.id, code=made.code)  # plain values: RLS hides rows outside a tenant
    _lost(world, 2)
    world.member(name="二支部失联", org="a_branch", last_contact_on="2026-01-10", dues_paid_through="2026-11")
    make.member(A, second, name="别处失联", last_contact_on="2026-01-10", dues_paid_through="2026-11")
    swept(TODAY)
    secretary = make.user(A, "secretary", org=second, username="sec2")
    login(client, secretary.username)
    page = client.get(f"/t/{A}/worklist").get_data(as_text=True)
    assert "别处失联" in page and "失联0" not in page and "worklist-orgs" not in page
    assert client.get(f"/t/{A}/worklist", query_string={"org": world.code("a_branch")}).status_code == 400
    client.post("/logout")
    admin = make.user(A, "tenant_admin", username="admin-a")
    login(client, admin.username)
    page = client.get(f"/t/{A}/worklist").get_data(as_text=True)
    table = page[page.index('id="worklist-orgs"'):]
    assert re.search(rf'data-org="{world.code("a_branch")}".*?<td class="fw-bold">3</td>', table, re.DOTALL)
    assert re.search(rf'data-org="{second.code}".*?<td class="fw-bold">1</td>', table, re.DOTALL)


def test_upper_level_sees_counts_per_county(client, world, make, frozen):
    _lost(world, 3)
    swept(TODAY)
    make.user(None, "upper_reader", username="beijing", region="110000")
    resp = client.post("/login", data={"username": "beijing", "password": PASSWORD})
    assert client.get(resp.headers["Location"]).headers["Location"].endswith("/region/110000/worklist")
    page = client.get("/region/110000/worklist").get_data(as_text=True)
    row = page[page.index(f'data-tenant="{A}"'):]
    assert '<td class="fw-bold" data-total>3</td>' in row[:400]
    assert "失联0" not in page  # aggregates only
    assert B not in page  # Jiangning is not under Beijing
    assert client.get("/region/320000/worklist").status_code == 404


def test_greeting_letter_for_a_political_birthday(client, world, frozen):
    m = world.member(name="李红", joined_on="2011-12-06", last_contact_on="2026-11-20")
    swept(TODAY)
    login(client, "a-clerk")
    page = client.get(f"/t/{A}/worklist", query_string={"kind": "political_birthday"}).get_data(as_text=True)
    assert f"/t/{A}/worklist/greetings/{m.id}" in page
    letter = client.get(f"/t/{A}/worklist/greetings/{m.id}").get_data(as_text=True)
    assert "亲爱的李红同志" in letter and "2026年12月6日是您加入中国共产党15周年的政治生日" in letter
    assert "朝阳区某街道党支部" in letter and "/static/print-greeting.css" in letter
    assert "@page { size: A4" in client.get("/static/print-greeting.css").get_data(as_text=True)
    assert client.get(f"/t/{A}/worklist/greetings/999999").status_code == 404


def test_daily_digest_is_sent_once_per_organization(clean_app, world, make, frozen):
    _lost(world, 2)
    swept(TODAY)
    clerk = world.users["a_clerk"]
    clerk.email = "clerk@example.cn"
    db.session.commit()
    mailman = clean_app.extensions["mailman"]
    mailman.outbox = []
    from portal.tenancy.context import tenant_scope
    tid = world.tenant_ids[A]
    with tenant_scope(tid):
        first = digest.send(tid, TODAY)
        second = digest.send(tid, TODAY)
    assert first["sent"] == 1 and second == {"sent": 0, "already_sent": 1}
    assert len(mailman.outbox) == 1
    message = mailman.outbox[0]
    assert message.to == ["clerk@example.cn"] and "今日待办 2 项" in message.subject
    assert "失去联系：2" in message.body and "失联0 同志失去联系" in message.body
    with tenant_scope(tid):
        rows = db.session.execute(db.select(WorklistDigest)).scalars().all()
    assert len(rows) == 1 and rows[0].sent_at is not None and rows[0].items == 2


def test_the_sweep_queues_the_digest_when_smtp_is_configured(clean_app, world, frozen):
    from portal.jobs.models import Job
    from tests.conftest import owned_rows
    _lost(world, 1)
    swept(TODAY)
    assert owned_rows(Job, Job.kind == "worklist.digest") == []
    clean_app.config["SMTP_HOST"] = "mail.invalid"
    try:
        swept(TODAY, A)
    finally:
        clean_app.config["SMTP_HOST"] = ""
    jobs = owned_rows(Job, Job.kind == "worklist.digest")
    assert [(j.tenant_id, j.params["on"]) for j in jobs] == [(world.tenant_ids[A], "2026-12-01")]


def test_pages_read_by_kind_show_the_list_in_urgency_order(client, world, api, frozen):
    """The page reads only the kinds its rows fall into (by the counts): page by page, including
    pages that span two kinds and one past the end, it shows exactly the whole list's order."""
    from flask import current_app
    _lost(world, 7)
    for i in range(6):
        world.member(name=f"生日{i}", joined_on=f"201{i}-12-05", last_contact_on="2026-11-20",
                     dues_paid_through="2026-11")
    swept(TODAY)
    whole = api("a_clerk").get(f"/t/{A}/worklist", query_string={"per_page": 100}).get_json()
    expected = [(i["kind"], f'{i["subject"]["type"]}-{i["subject"]["id"]}') for i in whole["items"]]
    assert len({k for k, _s in expected}) >= 2 and whole["total"] == len(expected)
    login(client, "a-clerk")
    current_app.config["PER_PAGE"] = 4
    try:
        shown, number = [], 1
        while True:
            page = client.get(f"/t/{A}/worklist", query_string={"page": number}).get_data(as_text=True)
            rows = re.findall(r'<tr data-item="([^"]+)" data-subject="([^"]+)"', page)
            if not rows:
                break
            assert f"第 {number} / {-(-len(expected) // 4)} 页，共 {len(expected)} 条" in page
            shown += rows
            number += 1
        assert shown == expected and number == -(-len(expected) // 4) + 1
        only = client.get(f"/t/{A}/worklist", query_string={"kind": "political_birthday", "page": 2})
        rows = re.findall(r'<tr data-item="([^"]+)" data-subject="([^"]+)"', only.get_data(as_text=True))
        assert rows == [r for r in expected if r[0] == "political_birthday"][4:8]
    finally:
        current_app.config["PER_PAGE"] = 20
