"""`flask demo seed --scale national`: a small national set on PostgreSQL has the asked counts, every
transfer and agreement state, members the app reads and finds, statistics that agree, tenants still
isolated; on SQLite or outside development it writes nothing."""
from collections import Counter
from datetime import date, datetime

import pytest
import time_machine
from sqlalchemy import text

from portal.auth.access import Principal
from portal.auth.models import User
from portal.core import clock, crypto
from portal.demo import seed as demo
from portal.demo.national import tree
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


@pytest.fixture
def seeded(dev_app):
    if not _postgres(dev_app):
        pytest.skip("the national set loads with COPY on PostgreSQL")
    with time_machine.travel(MOMENT, tick=False):
        result = invoke(dev_app, *SMALL)
    assert result.exit_code == 0, result.output
    return dev_app, result.output


def _all(model):
    return [row for rows in each_tenant(lambda: db.session.execute(db.select(model)).scalars().all())
            for row in rows]


def test_small_national_set_has_the_counts_and_every_state(seeded):
    app, output = seeded
    assert "registers:" in output and "/s" in output and "ETA" in output  # progress
    assert "analyze" in output and "DEMO ONLY" in output
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
        assert all(t.tenant_id != t.other_tenant_id for t in transfers)
        events = owned_rows(ex.TransferEvent)
        assert {e.transfer_id for e in events} == {t.id for t in transfers}
        agreements = owned_rows(ex.Agreement)
        assert len(agreements) == 30
        assert {a.state for a in agreements} == set(ex.AGREEMENT_STATES)
        covered = owned_rows(ex.AgreementMember)
        assert {c.agreement_id for c in covered} == {a.id for a in agreements}

        # An arrival moved the member: history at the sender, an active row at the receiver.
        by_id = {(m.tenant_id, m.id): m for m in register}
        for t in (t for t in transfers if t.state == ex.COMPLETED):
            assert by_id[(t.tenant_id, t.member_id)].status == "transferred"
            new = by_id[(t.other_tenant_id, t.new_member_id)]
            assert new.status == "active" and new.direction == "流入" and new.holds_relationship
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
        assert len(_all(Contact)) > 300
        assert len(_all(DuesPayment)) > len(active)
        holds = db.session.execute(db.select(RelationshipHold)).scalars().all()
        assert len(holds) == sum(m.holds_relationship for m in active)

        users = {u.username for u in db.session.execute(db.select(User)).scalars()}
        assert {f"{t.code}-{s}" for t in tenants for s in ("admin", "clerk", "viewer", "secretary")} <= users
        assert "110000-upper" in users


def test_members_read_and_found_through_the_app(seeded):
    app, _ = seeded
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
    app, _ = seeded
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
