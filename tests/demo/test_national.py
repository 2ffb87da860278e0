"""`flask demo seed --scale national`: a small national set on PostgreSQL has the asked counts, every
transfer and agreement state, members the app reads and finds, statistics that agree, tenants still
isolated; on SQLite or outside development it writes nothing."""
import random
from collections import Counter
from datetime import date, datetime
from types import SimpleNamespace

import pytest
import time_machine
from sqlalchemy import text

from portal.auth.access import Principal
from portal.auth.models import User
from portal.core import clock, crypto
from portal.demo import seed as demo
from portal.demo.national import load as national
from portal.demo.national import registers, schema, tree
from portal.demo.national.people import NationalGenerator, Places, profile
from portal.exchange import models as ex
from portal.extensions import db
from portal.members import services as members
from portal.members.models import Contact, Member, RelationshipHold
from portal.orgs.models import Organization
from portal.reports import services as reports
from portal.standing.models import DuesPayment
from portal.tenancy.context import cross_tenant, tenant_scope
from portal.tenancy.models import Tenant
from tests.conftest import each_tenant, login, owned_rows
from tests.demo.test_seed import counts, dev_app, invoke  # noqa: F401 - the fixture

TODAY = date(2026, 11, 30)
MOMENT = datetime(2026, 11, 30, 10, 0, tzinfo=clock.LOCAL_ZONE)
SMALL = ("--scale", "national", "--tenants", "30", "--members", "3000", "--transfers", "300",
         "--agreements", "30", "--workers", "1")


def _postgres(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


def _schema(app) -> dict:
    """The bulk tables' indexes, foreign keys (and whether validated) and row-level security."""
    with app.app_context(), db.engine.connect() as conn:
        tables = {"t": list(schema.BULK_TABLES)}
        regclasses = "SELECT to_regclass(t) FROM unnest(CAST(:t AS text[])) t"
        return {
            "indexes": set(conn.execute(text(
                f"SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                f"WHERE indrelid = ANY({regclasses})"), tables).all()),
            "keys": set(conn.execute(text(
                f"SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
                f"WHERE contype = 'f' AND conrelid = ANY({regclasses})"), tables).all()),
            "rls": set(conn.execute(text(
                f"SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = ANY({regclasses})"),
                tables).all()),
        }


@pytest.fixture
def seeded(dev_app):
    if not _postgres(dev_app):
        pytest.skip("the national set loads with COPY on PostgreSQL")
    before = _schema(dev_app)
    with time_machine.travel(MOMENT, tick=False):
        result = invoke(dev_app, *SMALL)
    assert result.exit_code == 0, result.output
    return dev_app, result.output, before


def _all(model):
    return [row for rows in each_tenant(lambda: db.session.execute(db.select(model)).scalars().all())
            for row in rows]


def test_small_national_set_has_the_counts_and_every_state(seeded):
    app, output, _ = seeded
    assert "registers:" in output and "/s" in output and "ETA" in output  # progress
    assert "arrivals:" in output and "indexes:" in output and "analyze" in output and "DEMO ONLY" in output
    with app.app_context(), cross_tenant():
        tenants = db.session.execute(db.select(Tenant)).scalars().all()
        assert len(tenants) == 30
        real = {c.code: c for c in tree.counties()}
        assert all(t.code in real for t in tenants)  # codes of the real tree
        chaoyang = next(t for t in tenants if t.code == "110105")  # the tenants/ file kept its own row
        assert chaoyang.letter_prefix == "朝组"
        orgs = db.session.execute(db.select(Organization)).scalars().all()
        assert Counter(o.tenant_id for o in orgs) == {t.id: 9 for t in tenants}
        assert {o.kind for o in orgs} >= {"基层党委", "党支部", "流动党员党支部", "流动党员服务站"}

        register = _all(Member)
        assert len(register) == 3000
        transfers = owned_rows(ex.Transfer)
        assert len(transfers) == 300
        assert {t.state for t in transfers} == set(ex.TRANSFER_STATES)
        # The states in the plan's exact shares (55% arrived ...), dealt out whole.
        assert Counter(t.state for t in transfers) == Counter(national._exact(national.TRANSFER_SHARES, 300,
                                                                                random.Random(0)))
        assert all(t.tenant_id != t.other_tenant_id for t in transfers)
        events = owned_rows(ex.TransferEvent)
        assert {e.transfer_id for e in events} == {t.id for t in transfers}
        agreements = owned_rows(ex.Agreement)
        assert len(agreements) == 30
        assert {a.state for a in agreements} == set(ex.AGREEMENT_STATES)
        assert Counter(a.state for a in agreements) == Counter(national._exact(national.AGREEMENT_SHARES, 30,
                                                                                 random.Random(0)))
        assert all(a.tenant_id != a.other_tenant_id for a in agreements)
        covered = owned_rows(ex.AgreementMember)
        assert {c.agreement_id for c in covered} == {a.id for a in agreements}

        # An arrival moved the member: history at the sender, an active row at the receiver.
        by_id = {(m.tenant_id, m.id): m for m in register}
        arrived = [t for t in transfers if t.state == ex.COMPLETED]
        for t in arrived:
            old = by_id[(t.tenant_id, t.member_id)]
            assert old.status == "transferred" and not old.holds_relationship
            new = by_id[(t.other_tenant_id, t.new_member_id)]
            assert new.status == "active" and new.direction == "流入" and new.holds_relationship
            assert new.id_hash == old.id_hash and new.name == old.name and new.moved_on == t.arrived_on
        assert sum(m.status == "transferred" for m in register) == len(arrived) == 165
        for t in transfers:
            assert bool(t.letter_number) == (t.state in (ex.ACCEPTED, ex.OVERDUE, ex.COMPLETED))
            if t.state == ex.OVERDUE:
                assert t.letter_valid_until < TODAY
            if t.state == ex.ACCEPTED:
                assert t.letter_valid_until >= TODAY

        # Distributions of the seeds: both directions, every reason, 失联 members, dues history.
        active = [m for m in register if m.status == "active"]
        assert 0.2 < sum(m.direction == "流入" for m in active) / len(active) < 0.6
        assert {m.move_reason for m in active} == {"务工", "经商", "求学", "随迁", "其他"}
        contacts = _all(Contact)
        assert len(contacts) > 300
        assert all((c.tenant_id, c.member_id) in by_id for c in contacts)
        # Contact history: the newest record of a member falls on its last contact date.
        newest = {}
        for c in contacts:
            newest[(c.tenant_id, c.member_id)] = max(newest.get((c.tenant_id, c.member_id), c.on), c.on)
        assert all(by_id[key].last_contact_on == on for key, on in newest.items())
        # Dues history: the paid-through month and up to five before it, for every paying member
        # (also the arrived rows at their receivers).
        dues = _all(DuesPayment)
        months = {}
        for d in dues:
            months.setdefault((d.tenant_id, d.member_id), set()).add(d.month)
        paying = {key for key, m in by_id.items() if m.dues_paid_through}
        assert set(months) == paying
        assert all(max(months[key]) == by_id[key].dues_paid_through and 1 <= len(months[key]) <= 6
                   for key in paying)
        assert Counter(len(v) for v in months.values()).keys() >= {1, 2, 3, 4, 6}
        assert any(by_id[(t.other_tenant_id, t.new_member_id)].dues_paid_through for t in arrived)
        holds = db.session.execute(db.select(RelationshipHold)).scalars().all()
        assert len(holds) == sum(m.holds_relationship for m in active)

        users = {u.username for u in db.session.execute(db.select(User)).scalars()}
        assert {f"{t.code}-{s}" for t in tenants for s in ("admin", "clerk", "viewer", "secretary")} <= users
        assert "110000-upper" in users


def test_members_read_and_found_through_the_app(seeded):
    app, _, _ = seeded
    with app.app_context():
        tenant = db.session.execute(db.select(Tenant).filter_by(code="320115")).scalar_one()
        other = db.session.execute(db.select(Tenant).filter(Tenant.code != "320115")).scalars().first()
        clerk = db.session.execute(db.select(User).filter_by(username="320115-clerk")).scalar_one()
        principal = Principal(user=clerk, tenant=tenant, grant=clerk.grant_for(tenant.id))
        with tenant_scope(tenant.id):
            mine = db.session.execute(db.select(Member).filter_by(status="active")).scalars().all()
            assert mine
            member = mine[0]
            number = members.id_number_of(member)  # decrypts as the app does
            assert len(number) == 18 and crypto.keyed_hash(number) == member.id_hash
            found = db.session.execute(members.search(principal, q=number)).unique().scalars().all()
            assert [m.id for m in found] == [member.id]
            with time_machine.travel(MOMENT, tick=False):
                stats = reports.tenant_stats(principal, as_of=TODAY)
            assert stats["total"] == len(mine)
            first = db.session.execute(members.search(principal, direction="outgoing").limit(1)) \
                .unique().scalar_one()
        holder = members.holder(crypto.keyed_hashes(number))
        if member.holds_relationship:
            assert holder[2].id == tenant.id
        # Row-level security: in this tenant's transaction another tenant's register is empty.
        with tenant_scope(tenant.id):
            from portal.tenancy.scoping import apply_settings
            apply_settings()
            seen = db.session.execute(text("SELECT count(*) FROM members WHERE tenant_id = :o"),
                                      {"o": other.id}).scalar()
            assert seen == 0
        db.session.remove()

    client = app.test_client()
    login(client, "320115-clerk", demo.DEFAULT_PASSWORD)
    page = client.get("/t/320115/members/?direction=outgoing")
    assert page.status_code == 200
    assert first.name in page.get_data(as_text=True)  # the list's first row, in the app's own order
    assert client.get(f"/t/{other.code}/members/").status_code in (403, 404)
    # The member's page decrypts the ID number for the clerk; a viewer sees it masked.
    shown = client.get(f"/t/320115/members/{member.id}").get_data(as_text=True)
    assert number in shown
    viewer = app.test_client()
    login(viewer, "320115-viewer", demo.DEFAULT_PASSWORD)
    masked = viewer.get(f"/t/320115/members/{member.id}")
    assert masked.status_code == 200
    assert number not in masked.get_data(as_text=True) and member.id_masked in masked.get_data(as_text=True)


def test_row_level_security_binds_the_seeded_rows(seeded):
    """The load sets no policy aside: a tenant's transaction sees and writes only its own rows."""
    app, _, before = seeded
    assert _schema(app)["rls"] == before["rls"]
    assert all(enabled and forced for _name, enabled, forced in before["rls"])
    with app.app_context():
        a, b = db.session.execute(db.select(Tenant).order_by(Tenant.id).limit(2)).scalars().all()
        with tenant_scope(a.id):
            from portal.tenancy.scoping import apply_settings
            apply_settings()
            for table in ("members", "contacts", "dues_payments", "activity_certificates"):
                seen = db.session.execute(text(f"SELECT count(*), count(*) FILTER (WHERE tenant_id <> :a) "
                                               f"FROM {table}"), {"a": a.id}).one()
                assert seen[0] > 0 and seen[1] == 0, table
            with pytest.raises(Exception, match="row-level security"):
                db.session.execute(text("UPDATE members SET tenant_id = :b WHERE id = "
                                        "(SELECT min(id) FROM members)"), {"b": b.id})
        db.session.rollback()
        db.session.remove()


def test_indexes_and_keys_are_back_after_the_load(seeded):
    """Set aside during the load, the secondary indexes and foreign keys are back as the migrations
    made them (validated), and they hold: a contact of no member is refused."""
    app, _, before = seeded
    after = _schema(app)
    assert after == before
    assert any(name == "ix_members_tenant_name" for name, _ in after["indexes"])
    assert all(valid for _name, _definition, valid in after["keys"])
    with app.app_context():
        tenant = db.session.execute(db.select(Tenant).order_by(Tenant.id)).scalars().first()
        with tenant_scope(tenant.id):
            from portal.tenancy.scoping import apply_settings
            apply_settings()
            with pytest.raises(Exception, match="fk_contacts_tenant_id_member_id_members"):
                db.session.execute(text("INSERT INTO contacts (tenant_id, member_id, \"on\", channel, note, "
                                        "created_at) VALUES (:t, -1, '2026-01-01', '电话', '', now())"),
                                   {"t": tenant.id})
        db.session.rollback()
        db.session.remove()


def test_a_failed_load_puts_the_indexes_and_keys_back(dev_app, monkeypatch):
    if not _postgres(dev_app):
        pytest.skip("the national set loads with COPY on PostgreSQL")
    before = _schema(dev_app)
    done = []

    def fail_on_the_third(self):
        done.append(self.t.county.code)
        if len(done) == 3:
            raise RuntimeError("disk full")
        return real(self)

    real = registers.TenantWork.run
    monkeypatch.setattr(registers.TenantWork, "run", fail_on_the_third)
    with time_machine.travel(MOMENT, tick=False):
        result = invoke(dev_app, *SMALL)
    assert result.exit_code != 0 and len(done) == 3
    assert _schema(dev_app) == before


def test_generated_members_are_what_clean_makes(clean_app):
    """The load takes the generator's fields as model values without members.services.clean (the
    first rows of each tenant are checked): across counties of every kind, clean gives the same."""
    everywhere = tree.counties()
    picks = [c for c in everywhere if c.code in ("110105", "320115", "440305", "653122", "540102", "410811")]
    places = Places(picks, everywhere)
    with clean_app.app_context(), time_machine.travel(MOMENT, tick=False):
        for county in picks:
            orgs = {f"{county.code}-{n:04d}": registers.Org(n, f"{county.code}-{n:04d}", "支部", "党支部", role)
                    for n, role in enumerate(("origin", "host", "both"), start=1)}
            tenant = SimpleNamespace(code=county.code, name=county.name, letter_prefix="组")
            gen = NationalGenerator(tenant, profile(county, 0.4), random.Random(county.code), TODAY, orgs, places)
            for _ in range(400):
                fields, _hold, _contacts = gen.next()
                values = registers.typed(fields, orgs[fields["org"]])
                assert values == members.clean(fields, find_org=orgs.get)
        registers.check(fields, values, orgs.get)
        with pytest.raises(RuntimeError, match="education"):
            registers.check(dict(fields, education="大学"), dict(values, education="大学"), orgs.get)


def test_refused_on_sqlite_writes_nothing(dev_app):
    if _postgres(dev_app):
        pytest.skip("the SQLite refusal is tested on SQLite")
    before = counts(dev_app)
    result = invoke(dev_app, *SMALL)
    assert result.exit_code != 0
    assert "needs PostgreSQL" in result.output and "Nothing was written" in result.output
    assert counts(dev_app) == before
    with dev_app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(Tenant)).scalar() == 5


def test_refused_outside_development_writes_nothing(clean_app):
    before = counts(clean_app)
    result = clean_app.test_cli_runner().invoke(args=["demo", "seed", *SMALL])
    assert result.exit_code != 0
    assert "development configuration only" in result.output and "Nothing was written" in result.output
    assert counts(clean_app) == before


def test_transfers_of_every_state_open_for_both_sides(seeded):
    """Seeded transfers are pages the app serves: the sender's and the receiver's clerk open one of
    each state (a seeded letter has its number but no stored PDF: 404, never a 500)."""
    app, _, _ = seeded
    with app.app_context(), cross_tenant():
        codes = {t.id: t.code for t in db.session.execute(db.select(Tenant)).scalars()}
        picks = {}
        for t in owned_rows(ex.Transfer):
            picks.setdefault(t.state, (t.id, codes[t.tenant_id], codes[t.other_tenant_id]))
        db.session.remove()
    assert set(picks) == set(ex.TRANSFER_STATES)
    for state, (tid, sender, receiver) in picks.items():
        for code in (sender, receiver):
            client = app.test_client()
            login(client, f"{code}-clerk", demo.DEFAULT_PASSWORD)
            page = client.get(f"/t/{code}/exchange/transfers/{tid}")
            assert page.status_code == 200, (state, code)
        if state == ex.ACCEPTED:
            assert client.get(f"/t/{receiver}/exchange/transfers/{tid}/letter.pdf").status_code == 404
