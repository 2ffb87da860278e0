"""`flask demo seed`: users that can log in, an org tree and a plausible register per tenant,
written through the services; refused outside the development configuration; --if-empty."""
from collections import Counter
from datetime import date

import pytest

from portal.core import clock
from portal.audit.models import AuditEntry
from portal.auth.models import RoleGrant, User
from portal.core import crypto
from portal.demo import data as vocab
from portal.demo import seed as demo
from portal.extensions import db
from portal.members import idnumber
from portal.members.models import Contact, Member, RelationshipHold
from portal.members.rules import dues_bucket, lost_contact_cutoff
from portal.orgs.models import Organization
from portal.tenancy.context import cross_tenant
from tests.conftest import each_tenant
from portal.tenancy.models import Tenant
from tests.conftest import login

DEMO_CODES = ("110105", "320115", "410804", "620802", "653225")


@pytest.fixture
def dev_app(clean_app, monkeypatch):
    """The test app, switched to the development configuration for the duration of a test."""
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    monkeypatch.setitem(clean_app.config, "ENV_NAME", "development")
    return clean_app


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=["demo", "seed", *args])


def _everywhere(query) -> list:
    """Rows of every tenant: the register, contacts and audit trail are read tenant by tenant."""
    return [row for rows in each_tenant(lambda: db.session.execute(query).all()) for row in rows]


def counts(app) -> dict:
    with app.app_context(), cross_tenant():
        out = {model.__tablename__: sum(n for (n,) in _everywhere(db.select(db.func.count()).select_from(model)))
               for model in (User, RoleGrant, Organization, Member, Contact, RelationshipHold, AuditEntry)}
        db.session.remove()
        return out


def test_seed_fills_every_tenant_through_the_services_once(dev_app):
    """One seeded database serves both halves (a seed of the five demo tenants is the slow part):
    what `--if-empty` writes into an empty database, then that it leaves a filled one alone and a
    plain second run refuses."""
    result = invoke(dev_app, "--if-empty")
    assert result.exit_code == 0, result.output
    assert "DEMO ONLY" in result.output
    assert f"Password for every demo user: {demo.DEFAULT_PASSWORD}" in result.output
    assert result.output.count(demo.DEFAULT_PASSWORD) == 1  # printed once

    today = clock.today()
    with dev_app.app_context(), cross_tenant():
        tenants = {t.id: t for t in db.session.execute(db.select(Tenant)).scalars()}
        assert sorted(t.code for t in tenants.values()) == sorted(DEMO_CODES)
        users = {u.username: u for u in db.session.execute(db.select(User)).scalars()}
        for t in tenants.values():
            for suffix, role in (("admin", "tenant_admin"), ("clerk", "clerk"), ("viewer", "viewer"),
                                 ("secretary", "secretary")):
                user = users[f"{t.code}-{suffix}"]
                assert [(g.tenant_id, g.role) for g in user.grants] == [(t.id, role)]
            secretary_org = db.session.get(Organization, users[f"{t.code}-secretary"].grants[0].org_id)
            assert secretary_org.tenant_id == t.id and secretary_org.kind == "党支部"

        orgs = db.session.execute(db.select(Organization)).scalars().all()
        members = [m for (m,) in _everywhere(db.select(Member))]
        holds = db.session.execute(db.select(RelationshipHold)).scalars().all()
        contacts = [c for (c,) in _everywhere(db.select(Contact))]
        audit = _everywhere(db.select(AuditEntry.object_type, AuditEntry.action, AuditEntry.tenant_id))

        org_by_id = {o.id: o for o in orgs}
        for tid, t in tenants.items():
            own_orgs = [o for o in orgs if o.tenant_id == tid]
            kinds = Counter(o.kind for o in own_orgs)
            assert kinds["基层党委"] == 1 and kinds["党支部"] >= 2 and kinds["流动党员服务站"] == 1
            assert kinds["流动党员党支部"] + kinds["临时党支部"] >= 1
            top = next(o for o in own_orgs if o.kind == "基层党委")
            assert all(o.path.startswith(top.path) for o in own_orgs)
            assert all(o.contact_name and o.contact_phone and o.address for o in own_orgs)
            own = [m for m in members if m.tenant_id == tid]
            assert 200 <= len(own) <= 400, (t.code, len(own))
            assert {m.direction for m in own} == {"流出", "流入"}
            assert {m.sex for m in own} == {"男", "女"}
            assert {m.category for m in own} == {"正式党员", "预备党员"}
            assert len({m.education for m in own}) >= 6
            assert len({m.org_id for m in own}) >= 4
            assert all(org_by_id[m.org_id].tenant_id == tid for m in own)
            # outgoing members sit in origin/both organizations, incoming ones in host/both
            assert all(org_by_id[m.org_id].role in (("origin", "both") if m.direction == "流出" else ("host", "both"))
                       for m in own)
            buckets = Counter(dues_bucket(m.dues_paid_through, today) for m in own)
            assert {"on_time", "1_5m", "6_12m", "1_5y"} <= set(buckets), buckets
            assert buckets["on_time"] > len(own) / 3
            cutoff = lost_contact_cutoff(today, t.lost_contact_months)
            lost = [m for m in own if m.last_contact_on is None or m.last_contact_on < cutoff]
            assert 0.05 * len(own) < len(lost) < 0.35 * len(own)
            assert any(m.certificate_no for m in own)
            assert sum(1 for c in contacts if c.tenant_id == tid) >= 20
            # every member create and every org create wrote its audit entry, in its tenant
            made = Counter((ot, tenant) for ot, action, tenant in audit if action == "create")
            assert made[("member", tid)] == len(own) and made[("organization", tid)] == len(own_orgs)
            assert made[("user", tid)] == 4

        numbers = []
        allowed_prefixes = {code for code in DEMO_CODES} | {
            pl.code for p in vocab.PROFILES.values() for pl in p.origins}
        for m in members:
            number = crypto.decrypt(m.id_enc)
            normalized, born = idnumber.validate(number)  # check digit and a real birth date
            assert normalized == number and born == m.birth_date
            assert m.id_hash == crypto.keyed_hash(number) and m.id_masked == idnumber.mask(number)
            assert number[:6] in allowed_prefixes
            assert number[:6] == tenants[m.tenant_id].code or m.direction == "流入"
            assert (int(number[16]) % 2 == 1) == (m.sex == "男")  # GB 11643: odd = male
            assert date(1950, 1, 1) <= born <= date(2003, 12, 31)
            age_joined = m.joined_on.year - born.year - ((m.joined_on.month, m.joined_on.day) < (born.month, born.day))
            assert age_joined >= 18 and m.joined_on <= today
            assert len(m.phone) == 11 and m.phone.startswith("1") and m.phone.isdigit()
            numbers.append(number)
        assert len(set(numbers)) == len(numbers)  # unique across all tenants
        # one hold per ID number; exactly the members that hold their relationship have one
        held = {(h.tenant_id, h.member_id) for h in holds}
        assert held == {(m.tenant_id, m.id) for m in members if m.holds_relationship}
        assert len({h.id_hash for h in holds}) == len(holds)
        # contacts agree with the register: the newest record is the member's last contact
        newest = {}
        for c in contacts:
            newest[(c.tenant_id, c.member_id)] = max(newest.get((c.tenant_id, c.member_id), c.on), c.on)
        by_key = {(m.tenant_id, m.id): m for m in members}
        assert all(by_key[k].last_contact_on == on for k, on in newest.items())
        db.session.remove()

    # the printed password works for every role
    client = dev_app.test_client()
    for username in ("110105-admin", "653225-viewer"):
        login(client, username, demo.DEFAULT_PASSWORD)
        client.post("/logout")
    assert client.post("/login", data={"username": "110105-admin", "password": "wrong-password-1"}) \
        .status_code == 401

    before = counts(dev_app)
    assert before["members"] >= 1000

    again = invoke(dev_app, "--if-empty")
    assert again.exit_code == 0, again.output
    assert "demo data present" in again.output
    assert counts(dev_app) == before

    refused = invoke(dev_app)
    assert refused.exit_code != 0
    assert "already has users" in refused.output
    assert counts(dev_app) == before


@pytest.mark.parametrize("env_name", ["testing", "production", "staging"])
def test_refused_outside_development(clean_app, monkeypatch, env_name):
    monkeypatch.setitem(clean_app.config, "ENV_NAME", env_name)
    for args in ((), ("--if-empty",)):
        result = invoke(clean_app, *args)
        assert result.exit_code != 0
        assert "development configuration only" in result.output
    assert counts(clean_app)["users"] == 0 and counts(clean_app)["members"] == 0


def test_weak_demo_password_from_the_environment_is_refused(dev_app, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "short")
    result = invoke(dev_app)
    assert result.exit_code != 0
    assert "DEMO_PASSWORD rejected" in result.output
    assert counts(dev_app) == {**counts(dev_app), "users": 0, "organizations": 0, "members": 0}


def test_no_tenants_is_refused_with_a_hint(dev_app):
    with dev_app.app_context():
        db.session.execute(db.delete(Tenant))
        db.session.commit()
    result = invoke(dev_app)
    assert result.exit_code != 0
    assert "flask tenants sync" in result.output


def test_a_tenant_without_a_profile_gets_the_generic_one_and_the_given_password(dev_app, monkeypatch):
    from portal.tenancy.loader import upsert_tenant
    from portal.tenancy.context import tenant_scope
    with dev_app.app_context():
        tenant, _ = upsert_tenant({"code": "130104", "name": "石家庄市桥西区", "parent_region": "130100"})
        db.session.commit()
        assert "130104" not in vocab.PROFILES
        profile = vocab.generic_profile(tenant.code, tenant.name)
        with tenant_scope(tenant.id):
            result = demo.seed_tenant(tenant, profile, "Another-demo-pw-9", clock.today(), set(), {})
            db.session.commit()
        assert result.members == profile.members and result.orgs == len(profile.orgs)
        with tenant_scope(tenant.id):
            names = db.session.execute(db.select(Organization.name)).scalars().all()
            assert "中共石家庄市桥西区流动党员工作委员会" in names
        db.session.remove()
    login(dev_app.test_client(), "130104-clerk", "Another-demo-pw-9")
