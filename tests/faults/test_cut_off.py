"""A request or job cut off in the middle (client gone, worker timeout): its transaction rolls back
whole. A transfer step, a letter issue and a register import are each all or nothing."""
import io
from datetime import date
from types import SimpleNamespace

import pytest

from portal.audit.models import AuditEntry
from portal.exchange.models import Transfer, TransferEvent
from portal.extensions import db
from portal.letters.models import Letter, LetterSequence
from portal.members.models import Member
from portal.roster.models import RosterImport
from portal.tenancy.context import tenant_scope
from tests.conftest import each_tenant, owned_rows, scope, tenant
from tests.exchange.conftest import A, B, api, world  # noqa: F401  (fixtures)
from tests.factories import id_number
from tests.letters.support import admin_principal, intro_context


class Cut(Exception):
    """What the server raises in the request when the worker times out or the client is gone."""


def _count(model, code=None):
    query = db.select(db.func.count()).select_from(model)
    if code:
        with scope(code):
            return db.session.execute(query).scalar_one()
    return sum(each_tenant(lambda: db.session.execute(query).scalar_one()))


def _state(code=A):
    # Letters and their sequences open to their own tenant only: read tenant by tenant.
    seqs = sorted(owned_rows(LetterSequence), key=lambda s: s.id)
    out = {"letters": _count(Letter),
           "sequences": [(s.kind, s.next_value) for s in seqs],
           "events": len(owned_rows(TransferEvent)),
           "transfers": sorted((t.id, t.state, t.letter_id) for t in owned_rows(Transfer))}
    out["audit"] = _count(AuditEntry)
    out["members"] = _count(Member)
    db.session.rollback()
    return out


def test_a_transfer_step_cut_off_after_its_letter_leaves_nothing(api, world, clean_app, monkeypatch):  # noqa: F811
    m = world.member(name="截断")
    made = api("a_clerk").post(f"/t/{A}/transfers", {"member": m.id, "to_org": world.code("b_branch")})
    assert made.status_code == 201
    transfer_id = made.get_json()["id"]
    before = _state()
    from portal.exchange import transfers

    def cut(*args, **kwargs):  # the letter is numbered, the state moved, the event written: then cut
        raise Cut("worker timeout")
    monkeypatch.setattr(transfers, "_notify_sender", cut)
    monkeypatch.setitem(clean_app.config, "PROPAGATE_UNEXPECTED", False)
    resp = api("b_clerk").post(f"/t/{B}/transfers/{transfer_id}/accept")
    assert resp.status_code == 500
    assert _state() == before
    monkeypatch.undo()
    again = api("b_clerk").post(f"/t/{B}/transfers/{transfer_id}/accept")
    assert again.status_code == 200 and again.get_json()["state"] == "accepted"
    after = _state()
    assert after["letters"] == before["letters"] + 1 and after["events"] == before["events"] + 1
    letter, = owned_rows(Letter, Letter.id == after["transfers"][-1][2])
    assert letter.seq == 1  # the cut-off step took no number: no gap
    db.session.rollback()


def test_a_letter_issue_cut_off_while_rendering_takes_no_number(make, ctx, monkeypatch):
    principal = admin_principal(make)
    from portal.letters import services
    before = _state()

    def cut(letter):
        raise Cut("client gone")
    monkeypatch.setattr(services, "render_letter", cut)
    with scope(A):
        with pytest.raises(Cut):
            services.issue("introduction", actor=principal.user, subject_type="transfer", subject_id=1,
                           context=intro_context(), validity_days=30, render="now")
        db.session.rollback()  # what the request's error handler does
    assert _state() == before
    monkeypatch.undo()
    with scope(A):
        letter = services.issue("introduction", actor=principal.user, subject_type="transfer", subject_id=1,
                                context=intro_context(), validity_days=30, render="none")
        db.session.commit()
        assert letter.seq == 1


def _roster(org_code: str, count: int) -> bytes:
    from openpyxl import Workbook
    book = Workbook()
    book.active.append(["姓名", "性别", "身份证号", "学历", "入党日期", "所在支部", "流动方向"])
    for i in range(count):
        book.active.append([f"导入{i}", "男", id_number(A, date(1970, 1, 1 + i), 200 + i), "本科", "2000-07-01",
                            org_code, "流出"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_import_cut_off_after_some_rows_writes_none(make, ctx, monkeypatch):
    from portal.roster import services as roster
    org = make.org(A, name="导入党支部")
    user = make.user(A, "tenant_admin")
    tid = tenant(A).id
    with tenant_scope(tid):
        run = RosterImport(filename="名册.xlsx", content=_roster(org.code, 8), state="queued", created_by=user.id,
                           tenant_id=tid)
        db.session.add(run)
        db.session.commit()
        run_id = run.id
    before = _state()
    from portal.roster import bulk
    real, tables = bulk.insert, []

    def insert(table, rows, **kwargs):
        tables.append(table.name)
        if table.name == "relationship_holds":  # the members' rows are written, then the worker's time runs out
            raise Cut("job timeout")
        return real(table, rows, **kwargs)
    monkeypatch.setattr(bulk, "insert", insert)
    job = SimpleNamespace(id="cut", total=None, done_count=0, progress=0, heartbeat_at=None)
    with tenant_scope(tid):
        result = roster._run_job(job, run_id)
    assert result["state"] == "rejected"
    assert "未写入任何数据" in result["errors"][0]["message"]
    after = _state()
    assert after["members"] == before["members"] == 0
    assert after["audit"] == before["audit"]  # no member's creation recorded either
    assert tables == ["members", "relationship_holds"]  # the cut came after the members were inserted
