"""The register's own columns keep following the standing records when the register form, an
import or a transfer sets them: dues_paid_through becomes a payment, certificate_no the certificate
held; an edit may not set the dues month behind the payments recorded."""
from datetime import date

import time_machine

from portal.standing.models import ActivityCertificate, DuesPayment
from tests.exchange.conftest import A, B, world  # noqa: F401 - the exchange's three-tenant fixture
from tests.exchange.conftest import api as exchange_api  # noqa: F401
from tests.conftest import owned_rows
from tests.standing.conftest import api, member_row, rows

NOW = "2026-09-15 10:00 +0800"


@time_machine.travel(NOW, tick=False)
def test_register_values_become_records(client, county, member):
    m = member(dues_paid_through="2026-06", certificate_no="朝流证2025-0001", moved_on="2025-04-01")
    assert [(p.member_id, p.month, p.amount) for p in rows(DuesPayment)] == [(m.id, "2026-06", None)]
    assert [(c.number, c.issued_on, c.returned_on) for c in rows(ActivityCertificate)] == [
        ("朝流证2025-0001", date(2025, 4, 1), None)]
    clerk = api(client, county)
    # An older month recorded afterwards keeps the register's month as the latest.
    assert clerk.post(f"/members/{m.id}/dues", {"month": "2026-03"}).get_json()["dues_paid_through"] == "2026-06"
    # The held certificate must be returned before another is issued.
    assert clerk.post(f"/members/{m.id}/certificates", {"number": "新证"}).status_code == 409
    # Editing the register to a new certificate number returns the old certificate.
    resp = client.patch(f"/api/v1/t/110105/members/{m.id}", json={"certificate_no": "朝流证2026-0009"},
                        headers={"Authorization": f"Bearer {county.tokens['clerk']}"})
    assert resp.status_code == 200, resp.get_json()
    certs = [(c.number, c.returned_on) for c in rows(ActivityCertificate)]
    assert certs == [("朝流证2025-0001", date(2026, 9, 15)), ("朝流证2026-0009", None)]
    # The dues month cannot be edited behind what was recorded as paid.
    clerk.post(f"/members/{m.id}/dues", {"month": "2026-08"})
    resp = client.patch(f"/api/v1/t/110105/members/{m.id}", json={"dues_paid_through": "2026-07"},
                        headers={"Authorization": f"Bearer {county.tokens['clerk']}"})
    assert resp.status_code == 400
    assert resp.get_json()["error"]["fields"]["dues_paid_through"] == (
        "党费缴费记录已登记至2026-08；如需更正，请在党费记录中删除多登记的月份")
    assert member_row(m.id).dues_paid_through == "2026-08"
    resp = client.patch(f"/api/v1/t/110105/members/{m.id}", json={"dues_paid_through": "2026-09"},
                        headers={"Authorization": f"Bearer {county.tokens['clerk']}"})
    assert resp.status_code == 200 and resp.get_json()["dues_paid_through"] == "2026-09"
    assert sorted(p.month for p in rows(DuesPayment)) == ["2026-03", "2026-06", "2026-08", "2026-09"]


@time_machine.travel(NOW, tick=False)
def test_a_transfer_brings_the_dues_month_and_certificate_to_the_receiver(world, exchange_api):  # noqa: F811
    m = world.member(dues_paid_through="2026-08", certificate_no="朝流证2026-0042")
    a_clerk, b_clerk = exchange_api("a_clerk"), exchange_api("b_clerk")
    tid = a_clerk.post(f"/t/{A}/transfers", {"member": m.id, "to_org": world.code("b_branch"),
                                              "note": "外出务工满6个月"}).get_json()["id"]
    assert b_clerk.post(f"/t/{B}/transfers/{tid}/accept").status_code == 200
    done = b_clerk.post(f"/t/{B}/transfers/{tid}/arrive", {"arrived_on": "2026-09-15"})
    assert done.status_code == 200, done.get_json()
    b = world.tenant_ids[B]
    # The receiver's standing tables open to the receiver only: read in its tenant.
    [new_id] = {p.member_id for p in owned_rows(DuesPayment, DuesPayment.tenant_id == b)}
    assert [p.month for p in owned_rows(DuesPayment, DuesPayment.tenant_id == b)] == ["2026-08"]
    assert [(c.number, c.returned_on) for c in owned_rows(ActivityCertificate, ActivityCertificate.tenant_id == b)] \
        == [("朝流证2026-0042", None)]
    # The receiver records the next month on its own register.
    resp = b_clerk.post(f"/t/{B}/members/{new_id}/dues", {"month": "2026-07"})
    assert resp.status_code == 201 and resp.get_json()["dues_paid_through"] == "2026-08"
