"""The transfer workflow through the pages: lists with counts, the submit form, the transfer page
with the steps allowed now, clear messages (and 409) for steps out of turn, the documents."""
from portal.exchange.models import Transfer
from portal.members.models import Member
from tests.conftest import login
from tests.exchange.conftest import A, B, C, pdf_text, rows


def html(resp) -> str:
    return resp.get_data(as_text=True)


def test_submit_accept_arrive_through_the_pages(client, world):
    m = world.member()
    login(client, "a-clerk")
    page = html(client.get(f"/t/{A}/exchange/transfers"))
    assert "这里还没有转接" in page
    # The form: choose a member by search, an addressee from the registry.
    page = html(client.get(f"/t/{A}/exchange/transfers/new?q=张三"))
    assert "张三" in page and f"member={m.id}" in page
    page = html(client.get(f"/t/{A}/exchange/transfers/new?member={m.id}&to_q=开发区"))
    assert "江宁开发区流动党员党支部" in page
    page = html(client.get(f"/t/{A}/exchange/transfers/new?member={m.id}&to_org={world.code('b_branch')}"))
    assert "提交转接" in page and "disabled" not in page.split("提交转接</button>")[0].rsplit("<button", 1)[1]
    resp = client.post(f"/t/{A}/exchange/transfers/new",
                       data={"member": m.id, "to_org": world.code("b_branch"), "note": "务工满半年"})
    assert resp.status_code == 302, html(resp)[:1000]
    tid = rows(Transfer)[0].id
    assert resp.headers["Location"].endswith(f"/t/{A}/exchange/transfers/{tid}")
    page = html(client.get(resp.headers["Location"]))
    assert "待接收" in page and "撤销转接" in page and "data-confirm" in page and "接收并开具介绍信" not in page
    page = html(client.get(f"/t/{A}/exchange/transfers?box=outgoing"))
    assert "张三" in page and 'data-count="submitted">1<' in page

    login(client, "b-clerk")
    page = html(client.get(f"/t/{B}/exchange/transfers?box=incoming"))
    assert "张三" in page
    page = html(client.get(f"/t/{B}/exchange/transfers/{tid}"))
    assert "接收并开具介绍信" in page and "请选择退回原因" in page and "撤销转接" not in page
    assert "务工满半年" in page and "办理记录" in page
    # A return without a reason is refused with a clear message; nothing changes.
    resp = client.post(f"/t/{B}/exchange/transfers/{tid}/return", data={"reason": ""})
    assert resp.status_code == 400 and "请选择退回原因" in html(resp)
    assert rows(Transfer, id=tid)[0].state == "submitted"
    resp = client.post(f"/t/{B}/exchange/transfers/{tid}/accept")
    assert resp.status_code == 302
    page = html(client.get(resp.headers["Location"]))
    assert "已接收，介绍信已开具" in page and "（朝组）字第 1 号" in page and "确认报到并出具回执" in page
    # Accepting again: a clear message on the page, answered 409.
    resp = client.post(f"/t/{B}/exchange/transfers/{tid}/accept")
    assert resp.status_code == 409 and "不能接收并开具介绍信" in html(resp) and "已开介绍信" in html(resp)
    pdf = client.get(f"/t/{B}/exchange/transfers/{tid}/letter.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "张三" in pdf_text(pdf.data)
    resp = client.post(f"/t/{B}/exchange/transfers/{tid}/arrive", data={"arrived_on": "2000-01-01"})
    assert resp.status_code == 400 and "早于介绍信开具日期" in html(resp)
    resp = client.post(f"/t/{B}/exchange/transfers/{tid}/arrive", data={})
    assert resp.status_code == 302
    page = html(client.get(resp.headers["Location"]))
    assert "已报到" in page and "下载回执PDF" in page
    assert [x.status for x in rows(Member, id_hash=m.id_hash)] == ["transferred", "active"]


def test_third_tenant_sees_nothing_on_the_pages(client, world):
    m = world.member()
    login(client, "a-clerk")
    client.post(f"/t/{A}/exchange/transfers/new", data={"member": m.id, "to_org": world.code("b_branch")})
    tid = rows(Transfer)[0].id
    login(client, "c-clerk")
    assert client.get(f"/t/{C}/exchange/transfers/{tid}").status_code == 404
    assert client.post(f"/t/{C}/exchange/transfers/{tid}/accept").status_code == 404
    assert client.get(f"/t/{C}/exchange/transfers/{tid}/letter.pdf").status_code == 404
    assert client.get(f"/t/{A}/exchange/transfers/{tid}").status_code == 404
    for box in ("outgoing", "incoming"):
        page = html(client.get(f"/t/{C}/exchange/transfers?box={box}"))
        assert "张三" not in page and "这里还没有转接" in page
    page = html(client.get(f"/t/{C}/exchange/dashboard"))
    assert "张三" not in page


def test_viewer_reads_but_cannot_act(client, world):
    m = world.member()
    login(client, "a-clerk")
    client.post(f"/t/{A}/exchange/transfers/new", data={"member": m.id, "to_org": world.code("b_branch")})
    tid = rows(Transfer)[0].id
    login(client, "a-viewer")
    page = html(client.get(f"/t/{A}/exchange/transfers/{tid}"))
    assert "张三" in page and "撤销转接" not in page and "发起转接" not in page
    assert client.post(f"/t/{A}/exchange/transfers/{tid}/cancel").status_code == 403
    assert client.get(f"/t/{A}/exchange/transfers/new").status_code == 403
    assert rows(Transfer, id=tid)[0].state == "submitted"


def test_form_errors_are_shown_next_to_fields(client, world):
    login(client, "a-clerk")
    resp = client.post(f"/t/{A}/exchange/transfers/new", data={"member": "", "to_org": ""})
    assert resp.status_code == 400 and "请选择党员" in html(resp)
    for garbage in ("/t/110105/exchange/transfers?box=x&state=%00&page=zz", "/t/110105/exchange/transfers?q=" + "长" * 500,
                    "/t/110105/exchange/transfers/new?member=abc&to_org=%FF", "/t/110105/exchange/transfers/99999"):
        resp = client.get(garbage)
        assert resp.status_code in (200, 400, 404), garbage
    assert client.post(f"/t/{A}/exchange/transfers/1/fly").status_code == 404
