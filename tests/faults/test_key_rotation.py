"""`flask keys rotate` under load: while it moves every encrypted field, document and upload to the
new key in batches, lookups by ID number keep finding their holder and every number reads; after
it, the old key can go and everything still reads, and the audit chain still verifies."""
import threading
from datetime import date

import pytest

from portal.audit import chain
from portal.auth.access import Principal
from portal.auth.models import User
from portal.core import crypto
from portal.exchange import registry
from portal.exchange.models import AgreementMember
from portal.extensions import db
from portal.keys import rotate
from portal.letters.models import Letter, LetterBatch
from portal.members import services as members
from portal.members.models import Member, RelationshipHold
from portal.roster.models import RosterImport
from portal.tenancy.context import cross_tenant, tenant_scope
from portal.tenancy.models import Tenant
from tests.factories import id_number
from tests.faults.filled import A, fill
from tests.jobs.support import app_like

OLD, NEW = "the-old-field-key-of-the-office", "the-new-field-key-after-rotation"
REGISTER = 240


def _register(make, branch_code: str) -> dict:
    """REGISTER more members of A: number -> member id."""
    from types import SimpleNamespace
    org = SimpleNamespace(code=branch_code)
    out = {}
    for i in range(REGISTER):
        number = id_number(A, date(1960 + i % 30, 1 + i % 12, 1 + i % 28), 100 + i)
        out[number] = make.member(A, org, name=f"轮换{i}", id_number=number).id
    return out


def _lookups(app, tenant_id: int, numbers: dict, stop: threading.Event, seen: dict):
    """Load: find members by ID number (the register's search and the registry's holder), read their
    numbers, and save an edit now and then, until the rotation ends."""
    with app.app_context():
        tenant = db.session.get(Tenant, tenant_id)
        principal = Principal(user=None, tenant=tenant, grant=None)
        items = list(numbers.items())
        i = 0
        while not stop.is_set() or i < len(items):  # at least one full round
            number, member_id = items[i % len(items)]
            i += 1
            try:
                with tenant_scope(tenant_id):
                    found = db.session.execute(members.search(principal, q=number)).unique().scalars().all()
                    ok = [m.id for m in found] == [member_id] and members.id_number_of(found[0]) == number
                    holder = registry.holder_member(crypto.keyed_hashes(number))
                    ok = ok and holder is not None and holder.id == member_id
                    if i % 15 == 0:  # a person saves meanwhile: written under the new key at once
                        members.update(principal, found[0], {"phone": f"139{i:08d}"})
                    db.session.commit()
            except Exception as exc:  # noqa: BLE001 - any failure is a lookup that failed
                db.session.rollback()
                seen.setdefault("errors", []).append(f"{number}: {exc!r}")
                continue
            seen["lookups"] = seen.get("lookups", 0) + 1
            if not ok:
                seen.setdefault("missed", []).append(number)
        db.session.remove()


def _all_under(key_app, tenant_id, numbers) -> None:
    """With only the new key: every number reads and its lookups find the holder; documents open."""
    with key_app.app_context():
        tenant = db.session.get(Tenant, tenant_id)
        principal = Principal(user=None, tenant=tenant, grant=None)
        with tenant_scope(tenant_id):
            rows = db.session.execute(db.select(Member)).unique().scalars().all()
            assert rows and all(crypto.is_current(m.id_enc) for m in rows)
            assert all(m.id_hash == crypto.keyed_hash(members.id_number_of(m)) for m in rows)
            for number, member_id in numbers.items():
                found = db.session.execute(members.search(principal, q=number)).unique().scalars().all()
                assert [m.id for m in found] == [member_id], number
                assert members.id_number_of(found[0]) == number
                assert registry.holder_member(crypto.keyed_hashes(number)).id == member_id
            holds = db.session.execute(db.select(RelationshipHold)).scalars().all()
            by_id = {m.id: m.id_hash for m in rows}
            assert holds and all(h.id_hash == by_id[h.member_id] for h in holds)
            listed = db.session.execute(db.select(AgreementMember)).scalars().all()
            assert listed and all(x.id_hash == by_id[x.member_id] for x in listed)
            for letter in db.session.execute(db.select(Letter).options(db.undefer(Letter.pdf))).scalars():
                assert letter.pdf and letter.pdf.startswith(b"%PDF") and crypto.decrypt(letter.context_enc)
            batch = db.session.execute(db.select(LetterBatch).options(db.undefer(LetterBatch.pdf))).scalar_one()
            assert batch.pdf.startswith(b"%PDF-1.4 batch")
            assert db.session.execute(db.select(RosterImport)).scalar_one().content.startswith(b"PK")
        with cross_tenant():
            user = db.session.execute(db.select(User).filter_by(username="backup-clerk")).scalar_one()
            assert crypto.decrypt(user.totp_secret_enc) == "JBSWY3DPEHPK3PXP"
        db.session.rollback()
        assert chain.verify([tenant_id]) == []
        db.session.remove()


@pytest.mark.slow
def test_rotation_under_load_keeps_every_number_readable_and_found(make, ctx, monkeypatch):
    old = app_like(ctx, FIELD_KEY=OLD)
    with old.app_context():
        from tests.factories import Factory
        maker = Factory(old)
        ids = fill(maker)
        with cross_tenant():
            user = db.session.execute(db.select(User).filter_by(username="backup-clerk")).scalar_one()
            user.totp_secret_enc = crypto.encrypt("JBSWY3DPEHPK3PXP")
            db.session.commit()
        with tenant_scope(ids["tenant"]):
            branch_code = db.session.execute(db.text("SELECT code FROM organizations WHERE id = :i"),
                                             {"i": ids["orgs"][1]}).scalar_one()
        numbers = _register(maker, branch_code)
        with tenant_scope(ids["tenant"]):
            for mid in ids["members"]:
                m = db.session.get(Member, mid)
                numbers[members.id_number_of(m)] = mid
        db.session.remove()
    rotating = app_like(ctx, FIELD_KEY=NEW, FIELD_KEY_PREVIOUS=OLD, AUDIT_CHAIN_KEY=OLD)
    monkeypatch.setattr(rotate, "BATCH", 25)  # many small batches: the load runs between them
    stop, seen = threading.Event(), {}
    load = threading.Thread(target=_lookups, args=(rotating, ids["tenant"], numbers, stop, seen))
    load.start()
    try:
        with rotating.app_context():
            result = rotating.test_cli_runner().invoke(args=["keys", "rotate", "--quiet"])
            db.session.remove()
    finally:
        stop.set()
        load.join(timeout=300)
    assert result.exit_code == 0, result.output
    assert "done: every value is under the current key" in result.output
    assert "members.id_enc\t" in result.output
    assert seen.get("errors") is None and seen.get("missed") is None, seen
    assert seen["lookups"] >= len(numbers)
    # The old key removed: everything reads under the new one alone; the trail under its own key.
    _all_under(app_like(ctx, FIELD_KEY=NEW, AUDIT_CHAIN_KEY=OLD), ids["tenant"], numbers)
    # Run again: nothing left to move.
    with rotating.app_context():
        again = rotating.test_cli_runner().invoke(args=["keys", "rotate", "--quiet"])
        db.session.remove()
    assert again.exit_code == 0 and all(line.endswith("\t0") for line in again.output.splitlines()
                                        if "\t" in line), again.output


def test_rotate_refuses_without_the_old_key_or_an_audit_key(ctx):
    for settings, message in (({}, "FIELD_KEY_PREVIOUS is not set"),
                              ({"FIELD_KEY_PREVIOUS": OLD}, "AUDIT_CHAIN_KEY is not set")):
        app = app_like(ctx, FIELD_KEY=NEW, AUDIT_CHAIN_KEY="", **settings)
        with app.app_context():
            result = app.test_cli_runner().invoke(args=["keys", "rotate"])
        assert result.exit_code != 0 and message in result.output
