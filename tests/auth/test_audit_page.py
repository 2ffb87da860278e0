"""The audit trail page /t/<t>/audit: tenant admins only; member changes appear with masked IDs."""
from portal.auth.access import Principal
from portal.extensions import db
from portal.members import services as members
from tests.conftest import login, scope
from tests.factories import id_number


def test_lists_a_member_change_with_the_id_number_masked(make, client):
    org = make.org("110105", name="第一党支部")
    first, second = id_number("110105", serial=11), id_number("110105", serial=12)
    member = make.member("110105", org, name="李明", id_number=first)
    admin = make.user("110105", "tenant_admin", username="admin")
    with scope("110105"):
        tenant = make.tenant("110105")
        principal = Principal(user=admin, tenant=tenant, grant=admin.grant_for(tenant.id))
        members.update(principal, members.get(principal, member.id), {"id_number": second, "phone": "13700001111"})
        db.session.commit()
    login(client, "admin")
    html = client.get("/t/110105/audit/").get_data(as_text=True)
    assert "李明" in html and "admin" in html and "修改" in html and "身份证号" in html
    from portal.members.idnumber import mask
    assert mask(first) in html and mask(second) in html and "********" in mask(first)
    assert first not in html and second not in html  # never in clear
    assert "13700001111" in html
    html = client.get("/t/110105/audit/?type=organization").get_data(as_text=True)
    assert "第一党支部" in html and "李明" not in html
    html = client.get("/t/110105/audit/?type=agreement").get_data(as_text=True)
    assert "没有此类对象的审计记录" in html


def test_masked_values_are_what_is_stored(make):
    from portal.audit.models import AuditEntry
    org = make.org("110105")
    number = id_number("110105", serial=21)
    make.member("110105", org, id_number=number)
    with scope("110105"):
        entry = db.session.execute(db.select(AuditEntry).filter_by(object_type="member")).scalar_one()
    stored = entry.after["id_number"]
    assert stored != number and stored[:6] == number[:6] and "*" in stored
    assert "id_enc" not in entry.after and "id_hash" not in entry.after


def test_only_tenant_admins_see_the_trail(make, client):
    make.org("110105")
    for role in ("clerk", "viewer"):
        make.user("110105", role, username=role)
    login(client, "clerk")
    assert client.get("/t/110105/audit/").status_code == 403
    make.user("320115", "tenant_admin", username="other-admin")
    other = make.app.test_client()
    login(other, "other-admin")
    assert other.get("/t/110105/audit/").status_code == 404


def test_empty_trail(make, client):
    make.user("653225", "tenant_admin", username="admin")
    login(client, "admin")
    # The admin's own creation is the first entry; nothing of another type is there.
    assert "还没有审计记录" not in client.get("/t/653225/audit/").get_data(as_text=True)
    assert "没有此类对象的审计记录" in client.get("/t/653225/audit/?type=member").get_data(as_text=True)
