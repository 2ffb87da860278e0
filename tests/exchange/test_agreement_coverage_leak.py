"""Issue 8, "agreements reveal another tenant's members": a host that names another tenant's
organization as origin, with scope "all_in_area", must not read that tenant's register. Only the
origin decides whom an agreement covers; an ended agreement keeps the list it had when it ended."""
from datetime import timedelta

import time_machine

from portal.core import clock
from portal.worklist import sweep
from tests.conftest import login
from tests.exchange.conftest import A, B

NEXT_YEAR = (clock.today() + timedelta(days=365)).isoformat()


def _host_proposes(api, world):
    resp = api("b_clerk").post(f"/t/{B}/agreements", {
        "host_org": world.code("b_branch"), "origin_org": world.code("a_branch"), "scope": "all_in_area",
        "ends_on": NEXT_YEAR, "report_every": "month"})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _names(api, who, code, aid):
    resp = api(who).get(f"/t/{code}/agreements/{aid}")
    assert resp.status_code == 200, resp.get_json()
    return [m["name"] for m in resp.get_json()["members"]]


def _in_area(world, n, start=0):
    return [world.member(name=f"江宁务工党员{i:02d}", region="江苏省南京市江宁区秣陵街道")
            for i in range(start, start + n)]


def test_a_host_proposal_shows_no_origin_member_until_the_origin_countersigns(api, world, make, client):
    _in_area(world, 23)
    world.member(name="深圳务工党员", region="广东省深圳市南山区")
    b_viewer = make.user(B, "viewer", username="b-viewer")
    world.tokens["b_viewer"] = make.token(b_viewer)

    body = _host_proposes(api, world)
    aid = body["id"]
    assert body["members"] == []  # the answer to the proposal itself
    assert _names(api, "b_clerk", B, aid) == []
    assert _names(api, "b_viewer", B, aid) == []
    login(client, "b-viewer")
    page = client.get(f"/t/{B}/exchange/agreements/{aid}").get_data(as_text=True)
    assert "江宁务工党员" not in page
    # The origin sees its own members (it is deciding about them).
    assert len(_names(api, "a_clerk", A, aid)) == 23

    assert api("a_clerk").post(f"/t/{A}/agreements/{aid}/countersign").status_code == 200
    assert len(_names(api, "b_viewer", B, aid)) == 23
    # While it runs, "all in the area" follows the origin's register.
    world.member(name="新登记务工党员", region="南京市江宁区")
    assert "新登记务工党员" in _names(api, "b_clerk", B, aid)

    assert api("b_clerk").post(f"/t/{B}/agreements/{aid}/terminate", {"reason": "试点结束"}).status_code == 200
    frozen = _names(api, "b_clerk", B, aid)
    assert len(frozen) == 24
    world.member(name="终止后登记党员", region="南京市江宁区")
    assert _names(api, "b_clerk", B, aid) == frozen
    assert _names(api, "a_clerk", A, aid) == frozen


def test_a_withdrawn_host_proposal_never_shows_the_origin_register(api, world):
    _in_area(world, 5)
    aid = _host_proposes(api, world)["id"]
    assert api("b_clerk").post(f"/t/{B}/agreements/{aid}/terminate", {"reason": "撤回"}).status_code == 200
    _in_area(world, 3, start=10)
    assert _names(api, "b_clerk", B, aid) == []


def test_an_expired_agreement_keeps_the_list_it_had(api, world):
    _in_area(world, 2)
    ends = clock.today() + timedelta(days=10)
    resp = api("a_clerk").post(f"/t/{A}/agreements", {
        "host_org": world.code("b_branch"), "origin_org": world.code("a_branch"), "scope": "all_in_area",
        "ends_on": ends.isoformat()})
    aid = resp.get_json()["id"]
    # The origin proposed: it has decided, so the host sees whom it is asked to co-manage.
    assert len(_names(api, "b_clerk", B, aid)) == 2
    api("b_clerk").post(f"/t/{B}/agreements/{aid}/countersign")
    with time_machine.travel(ends + timedelta(days=1), tick=False):
        sweep.run()  # the nightly sweep ends it (reads never write)
        assert api("a_clerk").get(f"/t/{A}/agreements/{aid}").get_json()["state"] == "expired"
        world.member(name="过期后登记党员", region="南京市江宁区")
        assert sorted(_names(api, "b_clerk", B, aid)) == ["江宁务工党员00", "江宁务工党员01"]
