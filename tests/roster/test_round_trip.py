"""An export edited in Excel and imported again: review (old → new), confirm, audit; an unchanged
file changes nothing; a confirm after the register moved on is a 409."""
import io
from datetime import date

from openpyxl import load_workbook

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.members import services as members
from portal.members.models import Member
from portal.roster import services
from portal.roster.layout import COLUMNS
from tests.conftest import login, scope
from tests.factories import id_number
from tests.roster import test_import
from tests.roster.test_import import xlsx

HEADERS = [h for h, _ in COLUMNS]
COL = {h: i for i, h in enumerate(HEADERS)}


def _register(make):
    one = make.org("110105", name="朝阳第一支部")
    two = make.org("110105", name="朝阳第二支部")
    ids = [make.member("110105", one, name=f"王{i}", id_number=id_number("110105", date(1980, 1, 1), i),
                       phone="13800002222", last_contact_on="2026-01-05").id for i in range(1, 4)]
    return one, two, ids


def _export(make) -> list[list]:
    principal = make.principal("110105", "clerk")
    with scope("110105"):
        data = services.export(principal, members.search(principal))
    return [[c.value for c in r] for r in load_workbook(io.BytesIO(data)).active.iter_rows()]


class _Run:
    """An import's outcome as plain values: ORM objects loaded in a tenant scope cannot be
    refreshed outside it on PostgreSQL."""

    def __init__(self, run):
        self.__dict__.update(run.to_dict())
        self.as_dict = run.to_dict()
        self.confirmed_by = run.confirmed_by


def run_import(make, code, content):
    return _Run(test_import.run_import(make, code, content))


def finished(run_id, code):
    return _Run(test_import.finished(run_id, code))


def _file(rows) -> bytes:
    return xlsx(rows[1:], headers=rows[0])


def _state(ids):
    with scope("110105"):
        db.session.expire_all()
        return {m.id: (m.name, m.phone, m.org.name, m.version) for m in db.session.execute(
            db.select(Member).filter(Member.id.in_(ids))).scalars()}


def _edited(make):
    rows = _export(make)
    by_name = {r[0]: r for r in rows[1:]}
    by_name["王2"][COL["联系电话"]] = "13900009999"
    by_name["王2"][COL["所在支部"]] = "朝阳第二支部"
    return rows


def test_edited_export_stops_for_review_then_confirm_writes_only_the_changes(client, make):
    _, _, ids = _register(make)
    before = _state(ids)
    rows = _edited(make)
    rows.append(["新人", "女", "汉族", id_number("110105", date(1990, 2, 2), 7), "", "本科", "2015-07-01", "正式党员",
                 "朝阳第一支部", "流出", "", "", "", "", "", "", "", "", "", ""])
    run = run_import(make, "110105", _file(rows))
    assert run.state == "review", run.errors
    assert (run.pending, run.unchanged, run.written) == (1, 2, 0)
    shown = {(c["field"], c["old"], c["new"]) for c in run.as_dict["changes"]}
    assert shown == {("phone", "13800002222", "13900009999"), ("org", "朝阳第一支部", "朝阳第二支部")}
    assert {c["member"] for c in run.as_dict["changes"]} == {ids[1]}
    assert _state(ids) == before  # nothing written before the confirmation
    with scope("110105"):
        assert db.session.execute(db.select(db.func.count()).select_from(Member)).scalar() == 3

    admin = make.user("110105", "tenant_admin")
    h = {"Authorization": f"Bearer {make.token(admin)}"}
    body = client.get(f"/api/v1/t/110105/imports/{run.id}", headers=h).get_json()
    assert body["state"] == "review" and len(body["changes"]) == 2
    assert set(body["changes"][0]) == {"row", "member", "field", "old", "new"}
    resp = client.post(f"/api/v1/t/110105/imports/{run.id}/confirm", headers=h)
    assert resp.status_code == 200, resp.get_json()
    done = finished(run.id, "110105")
    assert done.state == "done", done.errors
    assert (done.updated, done.written, done.unchanged) == (1, 1, 2)
    after = _state(ids)
    assert after[ids[1]][1:3] == ("13900009999", "朝阳第二支部")
    assert after[ids[0]] == before[ids[0]] and after[ids[2]] == before[ids[2]]  # untouched, same version
    with scope("110105"):
        entry = db.session.execute(db.select(AuditEntry).filter_by(
            action="update", object_type="member", object_id=str(ids[1]))).scalar_one()
        assert entry.before["phone"] == "13800002222" and entry.after["phone"] == "13900009999"
        assert entry.user_id == admin.id
        assert db.session.execute(db.select(db.func.count()).select_from(Member)).scalar() == 4
    # Confirming twice is a state conflict.
    assert client.post(f"/api/v1/t/110105/imports/{run.id}/confirm", headers=h).status_code == 409
    # The same edited file again: now it matches the register.
    again = run_import(make, "110105", _file(rows))
    assert again.state == "done" and (again.written, again.updated, again.unchanged) == (0, 0, 4)
    # The bulk-written entries (one per new member) extend the hash chain like any other.
    from portal.audit import chain
    assert chain.verify() == []
    with scope("110105"):
        created = db.session.execute(db.select(AuditEntry).filter_by(action="create", object_type="member")
                                     .order_by(AuditEntry.seq.desc())).scalars().first()
        assert created.summary == "新人" and created.after["id_number"].startswith("110105")
        assert "*" in created.after["id_number"]


def test_unchanged_export_changes_nothing(make):
    _, _, ids = _register(make)
    before = _state(ids)
    run = run_import(make, "110105", _file(_export(make)))
    assert run.state == "done" and (run.written, run.updated, run.unchanged) == (0, 0, 3)
    assert _state(ids) == before


def test_older_contact_and_dues_in_the_file_are_not_changes(make):
    _register(make)
    rows = _export(make)
    for r in rows[1:]:
        r[COL["最后联系日期"]] = "2025-12-01"
        r[COL["党费交至"]] = ""
    run = run_import(make, "110105", _file(rows))
    assert run.state == "done" and run.unchanged == 3


def test_confirm_after_the_register_changed_is_409_and_discard_writes_nothing(client, make):
    _, _, ids = _register(make)
    before = _state(ids)
    run = run_import(make, "110105", _file(_edited(make)))
    assert run.state == "review"
    clerk = make.user("110105", "clerk")
    h = {"Authorization": f"Bearer {make.token(clerk)}"}
    with scope("110105"):
        m = db.session.get(Member, ids[0])
        members.update(make.principal("110105"), m, {"employer": "另一家公司"})
        db.session.commit()
    resp = client.post(f"/api/v1/t/110105/imports/{run.id}/confirm", headers=h)
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "conflict"
    assert _state(ids)[ids[1]] == before[ids[1]]
    resp = client.post(f"/api/v1/t/110105/imports/{run.id}/discard", headers=h)
    assert resp.status_code == 200 and resp.get_json()["state"] == "rejected"
    assert client.post(f"/api/v1/t/110105/imports/{run.id}/discard", headers=h).status_code == 409
    assert client.post("/api/v1/t/110105/imports/999999/confirm", headers=h).status_code == 404
    assert client.post(f"/api/v1/t/320115/imports/{run.id}/confirm", headers=h).status_code == 404
    with scope("110105"):
        assert services.get(run.id).content is None
        db.session.rollback()
    assert _state(ids)[ids[1]] == before[ids[1]]


def test_review_page_lists_changes_and_confirms(client, make):
    _, _, ids = _register(make)
    run = run_import(make, "110105", _file(_edited(make)))
    clerk = make.user("110105", "clerk")
    login(client, clerk.username)
    # Only the starter of an import (or an office-wide role) reads it; a clerk is office-wide.
    page = client.get(f"/t/110105/roster/import/{run.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "13800002222" in text and "13900009999" in text and "确认修改并导入" in text
    assert client.get("/t/110105/members/").status_code in (200, 308)
    listing = client.get("/t/110105/members/", follow_redirects=True).get_data(as_text=True)
    assert "/t/110105/roster/import" in listing
    resp = client.post(f"/t/110105/roster/import/{run.id}/confirm")
    assert resp.status_code == 302
    done = finished(run.id, "110105")
    assert done.state == "done" and done.updated == 1
    assert _state(ids)[ids[1]][1] == "13900009999"
    again = client.post(f"/t/110105/roster/import/{run.id}/confirm", follow_redirects=True)
    assert again.status_code == 200 and "不在待确认状态" in again.get_data(as_text=True)


def test_export_needs_the_role_that_reads_whole_id_numbers(make):
    import pytest

    from portal.core.errors import ValidationFailed
    principal = make.principal("110105", "viewer")
    with scope("110105"), pytest.raises(ValidationFailed):
        services.export(principal, members.search(principal))
