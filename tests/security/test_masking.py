"""Issue 8, "masking that unmasks": 130104********4769 beside birth_date 1991-03-17 is the whole
number. A role that sees the number masked sees no birth date (its age is enough)."""
from datetime import date

import time_machine

from tests.conftest import login
from tests.factories import id_number

A = "110105"
BORN = date(1991, 3, 17)
BIRTH_FORMS = ("1991-03-17", "1991年3月17日", "19910317", "1991/3/17")


@time_machine.travel(date(2026, 11, 20), tick=False)
def test_a_viewer_sees_the_age_but_no_birth_date(make, client):
    org = make.org(A, name="朝阳区某党支部")
    number = id_number(A, BORN, 476)
    member = make.member(A, org, name="王晓梅", sex="女", id_number=number)
    viewer, clerk = make.user(A, "viewer", username="v-mask"), make.user(A, "clerk", username="c-mask")
    vt, ct = make.token(viewer), make.token(clerk)

    for token, path in ((vt, f"/api/v1/t/{A}/members/{member.id}"), (vt, f"/api/v1/t/{A}/members")):
        resp = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 200
        body = resp.get_data(as_text=True)
        assert number not in body and not any(form in body for form in BIRTH_FORMS), body
    one = client.get(f"/api/v1/t/{A}/members/{member.id}", headers={"Authorization": f"Bearer {vt}"}).get_json()
    assert one["id_number"] == number[:6] + "********" + number[14:]
    assert one["birth_date"] is None and one["age"] == 35

    login(client, "v-mask")
    page = client.get(f"/t/{A}/members/{member.id}").get_data(as_text=True)
    assert "王晓梅" in page and "35岁" in page
    assert number not in page and not any(form in page for form in BIRTH_FORMS)

    # A role that sees the whole number also sees the birth date.
    whole = client.get(f"/api/v1/t/{A}/members/{member.id}", headers={"Authorization": f"Bearer {ct}"}).get_json()
    assert whole["id_number"] == number and whole["birth_date"] == "1991-03-17"
