"""Deadlines on the dashboard (each side, and per county for the upper level), the in-app inbox
with its header counter, and the same messages by email when SMTP is configured."""
import email
import re
import email.policy
import socketserver
import threading
from datetime import timedelta

import pytest
import time_machine

from portal.core import clock
from portal.exchange.models import Notification
from portal.extensions import db
from tests.conftest import login
from tests.exchange.conftest import A, B, C, rows


def submit(api, world, name="张三"):
    m = world.member(name=name)
    resp = api("a_clerk").post(f"/t/{A}/transfers", {"member": m.id, "to_org": world.code("b_branch")})
    assert resp.status_code == 201
    return resp.get_json()["id"]


def dash(api, who, code):
    body = api(who).get(f"/t/{code}/exchange/dashboard").get_json()
    return body["incoming"], body["outgoing"]


def test_dashboard_counts_for_each_side(api, world):
    tid = submit(api, world)
    incoming, outgoing = dash(api, "b_clerk", B)
    # Waiting for a reply from the first day, though not yet due.
    assert incoming == {"awaiting_reply": 1, "due": 0, "reply_overdue": 0, "returned": 0,
                        "returned_repeatedly": 0, "awaiting_arrival": 0, "letter_overdue": 0}
    # Jiangning replies within 15 days: due in the last three, overdue after.
    with time_machine.travel(clock.today() + timedelta(days=13), tick=False):
        assert dash(api, "b_clerk", B)[0]["due"] == 1
        assert dash(api, "a_clerk", A)[1]["due"] == 1
    with time_machine.travel(clock.today() + timedelta(days=16), tick=False):
        incoming, _ = dash(api, "b_clerk", B)
        assert incoming["reply_overdue"] == 1 and incoming["due"] == 0
        assert dash(api, "a_clerk", A)[1]["reply_overdue"] == 1
    for note in ("第一次", "第二次"):
        api("b_clerk").post(f"/t/{B}/transfers/{tid}/return", {"reason": "incomplete", "note": note})
        api("a_clerk").post(f"/t/{A}/transfers/{tid}/resubmit")
    assert dash(api, "a_clerk", A)[1]["returned_repeatedly"] == 1
    api("b_clerk").post(f"/t/{B}/transfers/{tid}/accept")
    incoming, outgoing = dash(api, "b_clerk", B)[0], dash(api, "a_clerk", A)[1]
    assert incoming["awaiting_arrival"] == 1 and outgoing["awaiting_arrival"] == 1
    with time_machine.travel(clock.today() + timedelta(days=31), tick=False):
        assert dash(api, "a_clerk", A)[1]["letter_overdue"] == 1
        assert dash(api, "b_clerk", B)[0]["letter_overdue"] == 1
        assert dash(api, "c_clerk", C) == ({k: 0 for k in incoming}, {k: 0 for k in incoming})


def test_dashboard_page_lists_what_is_due(client, api, world):
    submit(api, world)
    with time_machine.travel(clock.today() + timedelta(days=16), tick=False):
        login(client, "b-clerk")
        page = client.get(f"/t/{B}/exchange/dashboard").get_data(as_text=True)
        assert "答复已逾期" in page and "张三" in page
        cell = re.search(r'data-box="incoming" data-bucket="reply_overdue">\s*<div[^>]*>(\d+)<', page)
        assert cell and cell.group(1) == "1"
        login(client, "c-clerk")
        page = client.get(f"/t/{C}/exchange/dashboard").get_data(as_text=True)
        assert "张三" not in page and "没有等待办理的转接" in page


def test_upper_level_sees_counts_per_county(client, api, world):
    submit(api, world)
    reader = world.make.user(None, "upper_reader", username="js-reader", region="320000")
    token = world.make.token(reader)
    headers = {"Authorization": f"Bearer {token}"}
    with time_machine.travel(clock.today() + timedelta(days=16), tick=False):
        body = client.get("/api/v1/regions/320000/exchange", headers=headers).get_json()
        assert [r["tenant"]["code"] for r in body["items"]] == [B]
        assert body["items"][0]["incoming"]["reply_overdue"] == 1
        assert "张三" not in str(body)
        assert client.get("/api/v1/regions/320100/exchange", headers=headers).status_code == 200
        # Outside the reader's region, or a tenant clerk: nothing.
        assert client.get("/api/v1/regions/110000/exchange", headers=headers).status_code == 404
        assert client.get("/api/v1/regions/32/exchange", headers=headers).status_code == 404
        assert api("b_clerk").get("/regions/320000/exchange").status_code == 404
        login(client, "js-reader")
        page = client.get("/region/320000/exchange").get_data(as_text=True)
        assert "南京市江宁区" in page and "北京市朝阳区" not in page and "张三" not in page
        assert client.get("/region/110000/exchange").status_code == 404


def test_inbox_and_header_counter(client, api, world):
    tid = submit(api, world)
    api("b_clerk").post(f"/t/{B}/transfers/{tid}/return", {"reason": "not_our_area", "note": "不在本区"})
    # B got "new transfer"; A got "returned".
    assert [n.kind for n in rows(Notification, tenant_id=world.tenant_ids[B])] == ["transfer_submitted"]
    a_notes = rows(Notification, tenant_id=world.tenant_ids[A])
    assert [n.kind for n in a_notes] == ["transfer_returned"] and "不在本区" in a_notes[0].message
    assert a_notes[0].org_id == world.org_id("a_branch")
    body = api("a_clerk").get(f"/t/{A}/notifications").get_json()
    assert body["unread"] == 1 and body["items"][0]["subject"] == {"type": "transfer", "id": tid}
    login(client, "a-clerk")
    page = client.get(f"/t/{A}/exchange/transfers").get_data(as_text=True)
    assert 'id="nav-notifications"' in page and "data-unread>1</span>" in page
    page = client.get(f"/t/{A}/notifications").get_data(as_text=True)
    assert "转接申请被退回" in page and "不在本区" in page
    # Reading changes nothing: the message stays unread until marked read (a POST).
    assert "data-unread>1</span>" in client.get(f"/t/{A}/exchange/transfers").get_data(as_text=True)
    assert client.post(f"/t/{A}/notifications/read").status_code == 302
    page = client.get(f"/t/{A}/exchange/transfers").get_data(as_text=True)
    assert "data-unread" not in page
    assert api("a_clerk").get(f"/t/{A}/notifications?unread=1").get_json()["total"] == 0
    # The third tenant's inbox is empty.
    assert api("c_clerk").get(f"/t/{C}/notifications").get_json()["total"] == 0
    api("a_clerk").post(f"/t/{A}/transfers/{tid}/resubmit")
    api("b_clerk").post(f"/t/{B}/transfers/{tid}/accept")
    api("b_clerk").post(f"/t/{B}/transfers/{tid}/arrive")
    kinds = [n.kind for n in rows(Notification, tenant_id=world.tenant_ids[A])]
    assert kinds == ["transfer_returned", "transfer_accepted", "transfer_arrived"]
    assert api("a_clerk").post(f"/t/{A}/notifications/read").get_json()["marked"] == 2


class _Sink(socketserver.StreamRequestHandler):
    """Just enough SMTP to receive messages (no network beyond 127.0.0.1)."""

    def handle(self):
        self.wfile.write(b"220 sink\r\n")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode("ascii", "replace").strip().upper()
            if cmd.startswith(("EHLO", "HELO")):
                self.wfile.write(b"250 sink\r\n")
            elif cmd.startswith("DATA"):
                self.wfile.write(b"354 go\r\n")
                data = b""
                while True:
                    chunk = self.rfile.readline()
                    if chunk in (b".\r\n", b".\n", b""):
                        break
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                self.server.messages.append(email.message_from_bytes(data, policy=email.policy.default))
                self.wfile.write(b"250 ok\r\n")
            elif cmd.startswith("QUIT"):
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp(clean_app):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Sink)
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    saved = {k: clean_app.config.get(k) for k in ("SMTP_HOST", "SMTP_PORT", "JOBS_INLINE", "MAIL_BACKEND")}
    # The mail job runs in this process (a worker started earlier would not know this SMTP port);
    # real SMTP to the sink rather than Flask-Mailman's test outbox.
    clean_app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.server_address[1], JOBS_INLINE=True,
                            MAIL_BACKEND="smtp")
    yield server.messages
    clean_app.config.update(saved)
    server.shutdown()
    server.server_close()


def test_notifications_go_out_by_email_when_smtp_is_configured(api, world, smtp):
    world.users["b_clerk"].email = "jiangning@example.org"
    world.users["a_viewer"].email = "viewer@example.org"  # reads only: gets no exchange mail
    db.session.commit()
    tid = submit(api, world)
    assert len(smtp) == 1
    msg = smtp[0]
    assert msg["To"] == "jiangning@example.org"
    assert "收到新的转接申请" in msg["Subject"]
    assert "张三" in msg.get_content() and "北京市朝阳区" in msg.get_content()
    note = rows(Notification, tenant_id=world.tenant_ids[B])[0]
    assert note.emailed_at is not None
    # A (no address on file) gets the return in the inbox only.
    api("b_clerk").post(f"/t/{B}/transfers/{tid}/return", {"reason": "incomplete"})
    assert len(smtp) == 1 and rows(Notification, kind="transfer_returned")[0].emailed_at is not None


def test_no_email_without_smtp(api, world):
    world.users["b_clerk"].email = "jiangning@example.org"
    db.session.commit()
    submit(api, world)
    assert rows(Notification, tenant_id=world.tenant_ids[B])[0].emailed_at is None
