"""Deep pages of the register (issue 12): the list page follows its next and previous links by the
sort key (keyset), the API reads a numbered page by key; on a register of thousands both give
exactly the pages an offset gives, and the statements of a page do not grow with its depth."""
import re
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.members.models import TRANSFERRED, Member
from portal.tenancy.context import tenant_scope
from tests.conftest import login, tenant
from tests.members.conftest import bearer
from tests.sqlcount import statements_of

CODE = "110105"
SIZE = 3_210  # page 150 of the API's 20 a page, and then some
PER_PAGE = 50


@pytest.fixture
def register(make, chaoyang):
    """SIZE register rows (bulk inserted), names repeating so the id decides ties, a fifth of them
    incoming; returns the outgoing tab's ids and all ids, each in the lists' order (name, id)."""
    tid = tenant(CODE).id
    rows = [{
        "tenant_id": tid, "name": f"党员{(n * 7) % 900:03d}", "sex": "男女"[n % 2], "ethnicity": "汉族",
        "id_enc": "", "id_hash": f"{n:064d}", "id_masked": "110105********0000",
        "birth_date": date(1960 + n % 40, 1 + n % 12, 1), "education": "本科", "joined_on": date(1990, 1, 1),
        "category": "正式党员", "org_id": chaoyang["first"].id, "direction": "流入" if n % 5 == 0 else "流出",
        "move_reason": "务工", "region": "广东省深圳市", "industry": "", "employer": "", "address": "", "phone": "",
        "dues_paid_through": "2026-10", "certificate_no": "", "holds_relationship": True, "status": "active",
        "version": 1, "created_at": datetime(2024, 1, 1), "updated_at": datetime(2024, 1, 1)} for n in range(SIZE)]
    with tenant_scope(tid):
        db.session.execute(sa.insert(Member.__table__), rows)
        db.session.commit()
        ordered = db.select(Member.id, Member.direction).order_by(Member.name, Member.id)
        everyone = db.session.execute(ordered).all()
    db.session.remove()
    return {"outgoing": [i for i, d in everyone if d == "流出"], "all": [i for i, _d in everyone]}


def _shown(resp) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-member="(\d+)"', resp.get_data(as_text=True))]


def _link(resp, label) -> str | None:
    """The href of the pager's link with this label (上一页 / 下一页), unescaped."""
    found = re.search(r'<a class="page-link" href="([^"]+)">' + label + "</a>", resp.get_data(as_text=True))
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.mark.slow
def test_next_and_previous_walk_the_register_page_by_page_as_the_offset_does(client, make, register):
    make.user(CODE, "tenant_admin", username="keyset-admin")
    login(client, "keyset-admin")
    expected = register["outgoing"]
    pages = [expected[i:i + PER_PAGE] for i in range(0, len(expected), PER_PAGE)]
    url = f"/t/{CODE}/members/?per_page={PER_PAGE}"
    first = client.get(url)
    assert _shown(first) == pages[0]
    walked, resp, links = [], first, []
    while True:
        walked.append(_shown(resp))
        following = _link(resp, "下一页")
        if following is None:
            break
        links.append(following)
        assert "None" not in following, following
        resp = client.get(following)
        assert resp.status_code == 200
    assert walked == pages
    assert all("after=" in link for link in links) and "第 %d / %d 页" % (len(pages), len(pages)) in resp.get_data(as_text=True)
    # and back from the last page to the first
    back = [_shown(resp)]
    while (previous := _link(resp, "上一页")) is not None:
        assert "before=" in previous
        resp = client.get(previous)
        back.append(_shown(resp))
    assert back[::-1] == pages
    # the page typed by its number is the same page
    assert _shown(client.get(f"{url}&page=17")) == pages[16]


@pytest.mark.slow
def test_a_page_after_a_row_that_has_gone_falls_back_to_its_number(client, make, register):
    make.user(CODE, "tenant_admin", username="keyset-admin")
    login(client, "keyset-admin")
    expected = register["outgoing"]
    gone = expected[PER_PAGE - 1]  # the last row of page 1, which page 2 would follow
    with tenant_scope(tenant(CODE).id):
        db.session.execute(sa.delete(Member.__table__).where(Member.__table__.c.id == gone))
        db.session.commit()
    db.session.remove()
    rest = [i for i in expected if i != gone]
    resp = client.get(f"/t/{CODE}/members/?per_page={PER_PAGE}&page=2&after={gone}")
    assert resp.status_code == 200
    assert _shown(resp) == rest[PER_PAGE:2 * PER_PAGE]
    for junk in ("x", "-1", "99999999999", ""):
        assert client.get(f"/t/{CODE}/members/?page=2&after={junk}").status_code == 200


@pytest.mark.slow
def test_the_api_pages_by_number_are_the_offset_pages(client, make, register):
    token = make.token(make.user(CODE, "tenant_admin", username="keyset-api"))
    expected = register["all"]
    for page, per_page in ((1, 20), (2, 20), (150, 20), (161, 20), (162, 20), (7, 200), (17, 200)):
        resp = client.get(f"/api/v1/t/{CODE}/members?page={page}&per_page={per_page}", headers=bearer(token))
        assert resp.status_code == 200
        body = resp.get_json()
        assert body["total"] == SIZE and body["page"] == page
        assert [m["id"] for m in body["items"]] == expected[(page - 1) * per_page:page * per_page], page


@pytest.mark.slow
def test_a_deep_page_runs_the_statements_of_a_shallow_one(clean_app, make, register):
    make.user(CODE, "tenant_admin", username="keyset-admin")
    token = make.token(make.user(CODE, "tenant_admin", username="keyset-api"))
    client = clean_app.test_client()
    login(client, "keyset-admin")
    expected = register["outgoing"]
    shallow, _r = statements_of(client, f"/t/{CODE}/members/?page=2&after={expected[19]}")
    deep, resp = statements_of(client, f"/t/{CODE}/members/?page=120&after={expected[119 * 20 - 1]}")
    assert _shown(resp) == expected[119 * 20:120 * 20]
    assert deep == shallow, (shallow, deep)
    api = client.application.test_client()
    shallow, _r = statements_of(api, f"/api/v1/t/{CODE}/members?page=2", bearer(token))
    deep, resp = statements_of(api, f"/api/v1/t/{CODE}/members?page=150", bearer(token))
    assert [m["id"] for m in resp.get_json()["items"]] == register["all"][149 * 20:150 * 20]
    assert deep == shallow, (shallow, deep)


def test_the_transferred_tab_walks_newest_first(client, make, chaoyang):
    """The history tab's order runs the other way (updated_at, id descending); its links too."""
    tid = tenant(CODE).id
    rows = [{
        "tenant_id": tid, "name": f"转出{n}", "sex": "男", "ethnicity": "汉族", "id_enc": "", "id_hash": f"{n:064d}",
        "id_masked": "110105********0000", "birth_date": date(1980, 1, 1), "education": "本科",
        "joined_on": date(1990, 1, 1), "category": "正式党员", "org_id": chaoyang["first"].id, "direction": "流出",
        "move_reason": "务工", "region": "", "industry": "", "employer": "", "address": "", "phone": "",
        "dues_paid_through": "", "certificate_no": "", "holds_relationship": False, "status": TRANSFERRED,
        "version": 1, "created_at": datetime(2024, 1, 1), "updated_at": datetime(2025, 1, 1 + n % 28)}
        for n in range(130)]
    with tenant_scope(tid):
        db.session.execute(sa.insert(Member.__table__), rows)
        db.session.commit()
        expected = db.session.execute(db.select(Member.id).filter_by(status=TRANSFERRED)
                                      .order_by(Member.updated_at.desc(), Member.id.desc())).scalars().all()
    db.session.remove()
    make.user(CODE, "tenant_admin", username="keyset-admin")
    login(client, "keyset-admin")
    resp = client.get(f"/t/{CODE}/members/?direction=transferred&per_page={PER_PAGE}")
    walked = [_shown(resp)]
    while (following := _link(resp, "下一页")) is not None:
        resp = client.get(following)
        walked.append(_shown(resp))
    assert walked == [expected[i:i + PER_PAGE] for i in range(0, len(expected), PER_PAGE)]
    previous = _link(resp, "上一页")
    assert "before=" in previous and _shown(client.get(previous)) == expected[PER_PAGE:2 * PER_PAGE]


def test_a_row_the_reader_may_not_see_anchors_nothing(client, make, new_member, chaoyang, register):
    """A branch secretary naming another branch's member as the row to follow learns nothing of
    where that member's name sorts: the page is the one its number names."""
    hidden = new_member(CODE, chaoyang["other"], name="党员450").id
    make.user(CODE, "secretary", username="keyset-secretary", org=chaoyang["first"])
    login(client, "keyset-secretary")
    by_number = _shown(client.get(f"/t/{CODE}/members/?per_page={PER_PAGE}&page=3"))
    assert by_number == register["outgoing"][2 * PER_PAGE:3 * PER_PAGE]
    assert _shown(client.get(f"/t/{CODE}/members/?per_page={PER_PAGE}&page=3&after={hidden}")) == by_number
    assert _shown(client.get(f"/t/{CODE}/members/?per_page={PER_PAGE}&page=3&before={hidden}")) == by_number
