"""Issue 8, "finding out at scale who is registered where": 970 lookups recovered a member's ID
number from a region code and a birth date; one CSV of 1,000 candidates did the same. Lookups are
limited per user and per tenant (429), each answer is audited, and an import is no bulk lookup."""
from datetime import date
from types import SimpleNamespace

from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.jobs.queue import wait
from portal.members.models import Member
from portal.roster import services as roster
from tests.conftest import login, scope, tenant
from tests.factories import id_number

A, B = "110105", "320115"
BORN = date(1988, 6, 1)


def _target(make):
    b_org = make.org(B, name="江宁区乙方党支部", role="both", contact_name="乙方书记")
    number = id_number(B, BORN, 537)
    make.member(B, b_org, name="江宁目标党员", id_number=number)
    return number, b_org


def _candidates():
    return [id_number(B, BORN, serial) for serial in range(1000)]


def _lookup_audit(code):
    """The tenant's lookup entries as plain values (rows cannot be refreshed outside the tenant)."""
    with scope(code):
        rows = db.session.execute(select(AuditEntry).filter_by(action="registry_lookup")
                                  .order_by(AuditEntry.id)).scalars().all()
        out = [SimpleNamespace(username=e.username, user_id=e.user_id, at=e.at, object_id=e.object_id,
                               after=e.after, summary=e.summary) for e in rows]
        db.session.rollback()
        return out


def test_a_sweep_of_1000_candidates_is_stopped_after_ten_answers(make, client):
    _target(make)
    clerk = make.user(A, "clerk", username="a-sweeper")
    auth = {"Authorization": f"Bearer {make.token(clerk)}"}
    answered, refused, found = 0, 0, False
    for candidate in _candidates():
        resp = client.get(f"/api/v1/registry/lookup?id_number={candidate}", headers=auth)
        if resp.status_code == 200:
            answered += 1
            found = found or resp.get_json()["held"]
        else:
            assert resp.status_code == 429, resp.get_data(as_text=True)
            error = resp.get_json()["error"]
            assert error["code"] == "rate_limited" and "过于频繁" in error["message"]
            refused += 1
    assert (answered, refused, found) == (10, 990, False)
    # Each answer is in the asker's audit trail: who, the masked number, the answer.
    trail = _lookup_audit(A)
    assert len(trail) == 10
    assert {e.username for e in trail} == {"a-sweeper"}
    assert trail[0].object_id == trail[0].after["id_number"] == _candidates()[0][:6] + "*" * 8 + _candidates()[0][14:]
    assert trail[0].after["answer"] == "未登记"
    assert not any(c in repr((e.after, e.summary, e.object_id)) for e in trail for c in _candidates())
    assert _lookup_audit(B) == []  # nothing of A's asking is written into the holder's trail


def test_the_answer_and_its_audit_entry_when_held(make, client):
    number, org = _target(make)
    org_code = org.code
    clerk = make.user(A, "clerk", username="a-honest")
    clerk_id = clerk.id
    resp = client.get(f"/api/v1/registry/lookup?id_number={number}",
                      headers={"Authorization": f"Bearer {make.token(clerk)}"})
    assert resp.status_code == 200 and resp.get_json()["org"]["code"] == org_code
    (entry,) = _lookup_audit(A)
    assert entry.after["answer"] == f"由 江宁区乙方党支部（{org_code}）持有"
    assert entry.at is not None and entry.user_id == clerk_id


def test_the_tenant_budget_binds_all_its_users(make, client, clean_app):
    _target(make)
    users = [make.user(A, "clerk", username=f"a-clerk-{i}") for i in range(2)]
    tokens = [{"Authorization": f"Bearer {make.token(u)}"} for u in users]
    candidates = iter(_candidates())
    old = clean_app.config["LOOKUP_LIMIT_TENANT"]
    clean_app.config["LOOKUP_LIMIT_TENANT"] = "12 per day"
    try:
        statuses = [client.get(f"/api/v1/registry/lookup?id_number={next(candidates)}", headers=tokens[0]).status_code
                    for _ in range(10)]
        statuses += [client.get(f"/api/v1/registry/lookup?id_number={next(candidates)}",
                                headers=tokens[1]).status_code for _ in range(4)]
    finally:
        clean_app.config["LOOKUP_LIMIT_TENANT"] = old
    assert statuses == [200] * 12 + [429, 429]


def test_the_lookup_page_answers_429_in_chinese(make, client):
    _target(make)
    make.user(A, "clerk", username="a-page-clerk")
    login(client, "a-page-clerk")
    statuses = [client.get(f"/registry/lookup?id_number={c}").status_code for c in _candidates()[:11]]
    assert statuses == [200] * 10 + [429]
    page = client.get(f"/registry/lookup?id_number={_candidates()[20]}").get_data(as_text=True)
    assert "过于频繁" in page


# ---- the import as a bulk lookup ----

HEADERS = ["姓名", "性别", "身份证号", "学历", "入党日期", "所在支部", "流动方向"]


def _csv(org_name, numbers) -> bytes:
    lines = [",".join(HEADERS)] + [f"候选{i},男,{n},本科,2010-07-01,{org_name},流出" for i, n in enumerate(numbers)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _import(make, code, content):
    principal = make.principal(code, "clerk")
    with scope(code):
        run_id = roster.start(principal, "名册.csv", content).id
        job_id = roster.get(run_id).job_id
    wait(job_id, tenant(code).id, timeout=300)
    with scope(code):
        db.session.expire_all()
        run = roster.get(run_id)
        out = (run.state, run.errors, run.written, roster.error_report(run))
        db.session.rollback()
        return out


def _held_in_b(make, n):
    b_org = make.org(B, name="江宁区乙方持有支部", role="both", contact_name="乙方持有人")
    numbers = [id_number(B, date(1970 + i, 1, 2), 100 + i) for i in range(n)]
    for i, number in enumerate(numbers):
        make.member(B, b_org, name=f"乙方持有党员{i}", id_number=number)
    return numbers


def test_a_file_of_1000_candidates_is_refused_with_counts_only(make):
    _target(make)
    a_org = make.org(A, name="朝阳区导入党支部")
    state, errors, written, report = _import(make, A, _csv(a_org.name, _candidates()))
    assert state == "rejected" and written == 0
    assert len(errors) == 1 and "1000" in errors[0]["message"]
    text = repr(errors) + report.decode("latin-1")
    assert "江宁" not in repr(errors) and "537" not in repr(errors)
    assert "乙方" not in text
    assert _lookup_audit(A) == []


def test_more_conflicts_than_the_threshold_are_counted_not_named(make):
    held = _held_in_b(make, 6)
    a_org = make.org(A, name="朝阳区导入党支部")
    fresh = [id_number(A, date(1990, 1, 1 + i), 300 + i) for i in range(20)]
    state, errors, written, _report = _import(make, A, _csv(a_org.name, fresh + held))
    assert state == "rejected" and written == 0
    assert len(errors) == 1 and "6行" in errors[0]["message"] and "26行" in errors[0]["message"]
    assert "乙方" not in repr(errors)


def test_a_few_conflicts_name_the_holder_and_are_audited(make):
    held = _held_in_b(make, 2)
    a_org = make.org(A, name="朝阳区导入党支部")
    state, errors, _written, _report = _import(make, A, _csv(a_org.name, held))
    assert state == "rejected"
    assert [e["row"] for e in errors] == [2, 3]
    assert all("江宁区乙方持有支部" in e["message"] for e in errors)
    assert len(_lookup_audit(A)) == 2


def test_registering_a_number_held_elsewhere_is_a_charged_and_audited_lookup(make, client):
    """Was: the register form and API named the holding organization of any number, free of the
    budget and of the trail. Now the refusal is one lookup like the others."""
    number, _ = _target(make)
    a_org = make.org(A, name="朝阳区登记党支部")
    clerk = make.user(A, "clerk", username="a-registrar")
    auth = {"Authorization": f"Bearer {make.token(clerk)}"}
    body = {"name": "试探", "sex": "男", "education": "本科", "joined_on": "2015-07-01", "org": a_org.code,
            "direction": "流入", "id_number": number}
    first = client.post("/api/v1/t/110105/members", json=body, headers=auth)
    assert first.status_code == 409 and "江宁区乙方党支部" in first.get_json()["error"]["fields"]["id_number"]
    trail = _lookup_audit(A)
    assert len(trail) == 1 and trail[0].after["via"] == "register" and number not in str(trail[0].after)
    statuses = [client.post("/api/v1/t/110105/members", json=body, headers=auth).status_code for _ in range(12)]
    assert statuses.count(429) >= 3  # the user's budget (10 a minute) is spent by the probes
    with scope(A):
        assert db.session.execute(select(db.func.count()).select_from(Member)).scalar_one() == 0
