"""Two people editing the same member: the second save is refused (409) with both versions shown,
and nothing is silently overwritten, on the page and through the API."""
import re

from portal.extensions import db
from portal.members import services
from portal.members.models import Member
from tests.conftest import login, scope
from tests.factories import last_month
from tests.members.conftest import bearer
from tests.members.test_pages import form_data

A = "110105"


def _row(member_id):
    with scope(A):
        db.session.expire_all()
        row = db.session.get(Member, member_id)
        values = (row.name, row.employer, row.version)
    db.session.rollback()
    return values


def test_second_page_save_gets_a_conflict_page_with_both_versions(make, clean_app, chaoyang, new_member):
    member = new_member(A, chaoyang["first"], name="原名", employer="原单位")
    with scope(A):
        number = services.id_number_of(db.session.get(Member, member.id))
    first, second = clean_app.test_client(), clean_app.test_client()
    login(first, make.user(A, "clerk", username="clerk-a").username)
    login(second, make.user(A, "clerk", username="clerk-b").username)
    # Both open the edit page on version 1.
    for client in (first, second):
        page = client.get(f"/t/{A}/members/{member.id}/edit")
        assert 'name="version" type="hidden" value="1"' in page.get_data(as_text=True)
    common = {"id_number": number, "version": "1", "dues_paid_through": last_month()}
    saved = first.post(f"/t/{A}/members/{member.id}/edit",
                       data=form_data(chaoyang["first"], name="甲改", employer="原单位", **common))
    assert saved.status_code == 302
    refused = second.post(f"/t/{A}/members/{member.id}/edit",
                          data=form_data(chaoyang["first"], name="原名", employer="乙单位", **common))
    assert refused.status_code == 409
    body = refused.get_data(as_text=True)
    assert "该党员信息已被他人修改，本次修改没有保存" in body
    table = body[body.index('id="conflict-versions"'):body.index("</table>", body.index('id="conflict-versions"'))]
    differing = re.findall(r'<tr class="table-warning" data-differs="1"><th scope="row">([^<]+)</th>'
                           r'<td>([^<]*)</td><td>([^<]*)</td></tr>', table)
    assert ("姓名", "甲改", "原名") in differing            # the other save, beside what this one sent
    assert ("工作单位", "原单位", "乙单位") in differing
    # The form keeps what the second person typed, now on the saved version: a deliberate resend.
    assert 'value="乙单位"' in body and 'name="version" type="hidden" value="2"' in body
    assert _row(member.id) == ("甲改", "原单位", 2)
    resent = second.post(f"/t/{A}/members/{member.id}/edit",
                         data=form_data(chaoyang["first"], name="甲改", employer="乙单位",
                                        **{**common, "version": "2"}))
    assert resent.status_code == 302
    assert _row(member.id) == ("甲改", "乙单位", 3)


def test_api_patch_naming_an_older_version_answers_409(make, client, chaoyang, new_member):
    member = new_member(A, chaoyang["first"], name="原名", employer="原单位")
    first, second = bearer(make.token(make.user(A, "clerk"))), bearer(make.token(make.user(A, "clerk")))
    url = f"/api/v1/t/{A}/members/{member.id}"
    seen = [client.get(url, headers=h).get_json()["version"] for h in (first, second)]
    assert seen == [1, 1]
    ok = client.patch(url, json={"employer": "甲单位", "version": 1}, headers=first)
    assert ok.status_code == 200 and ok.get_json()["version"] == 2
    stale = client.patch(url, json={"employer": "乙单位", "version": 1}, headers=second)
    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "conflict"
    assert "已被他人修改" in stale.get_json()["error"]["message"]
    assert _row(member.id) == ("原名", "甲单位", 2)


def test_a_save_losing_the_race_at_commit_gets_the_conflict_page(make, client, chaoyang, new_member, monkeypatch):
    """Both read version 1 and pass the check; the other commits first: the version column refuses
    this one's UPDATE, and the person sees the conflict page, not an error."""
    member = new_member(A, chaoyang["first"], name="原名", employer="原单位")
    with scope(A):
        number = services.id_number_of(db.session.get(Member, member.id))
    login(client, make.user(A, "clerk").username)
    real = services.update

    def other_commits_first(principal, row, data, **kwargs):
        # The other save lands between this request's read and its write (same transaction here,
        # so the test runs alike on SQLite and PostgreSQL).
        db.session.execute(db.update(Member).where(Member.id == row.id).values(version=Member.version + 1)
                           .execution_options(synchronize_session=False))
        return real(principal, row, data, **kwargs)
    monkeypatch.setattr(services, "update", other_commits_first)
    resp = client.post(f"/t/{A}/members/{member.id}/edit",
                       data=form_data(chaoyang["first"], name="迟到", id_number=number, version="1",
                                      dues_paid_through=last_month()))
    assert resp.status_code == 409
    body = resp.get_data(as_text=True)
    assert 'id="conflict-versions"' in body and "迟到" in body
    assert _row(member.id) == ("原名", "原单位", 1)
