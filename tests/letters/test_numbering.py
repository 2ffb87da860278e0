"""Numbers on paper: per tenant, per kind, per year; no gaps, no repeats, also concurrently."""
import threading
from datetime import date, datetime

import pytest
import time_machine
from sqlalchemy.exc import IntegrityError

from portal.core import clock
from portal.core.errors import Conflict
from portal.extensions import db
from portal.letters import numbering, services
from portal.letters.models import Letter, LetterSequence
from tests.conftest import scope, tenant
from tests.letters.support import admin_principal, intro_context, issue_intro, reload


def _seqs(code="110105", kind="introduction"):
    with scope(code):
        return [x.seq for x in db.session.execute(
            db.select(Letter).filter_by(kind=kind).order_by(Letter.seq)).scalars()]


def test_numbers_run_from_one_with_the_tenant_prefix(make):
    p = admin_principal(make)
    letters = [issue_intro(p) for _ in range(4)]
    assert [x.seq for x in letters] == [1, 2, 3, 4]
    assert letters[0].number == "（朝组）字第 1 号"
    assert letters[3].number == "（朝组）字第 4 号"
    assert {x.year for x in letters} == {clock.today().year}
    with scope("110105"):
        seq = db.session.execute(db.select(LetterSequence).filter_by(kind="introduction")).scalar_one()
        assert seq.next_value == 5


def test_each_tenant_and_kind_has_its_own_sequence(make):
    p1 = admin_principal(make, "110105")
    p2 = admin_principal(make, "320115")
    assert issue_intro(p1).seq == 1
    assert issue_intro(p2, code="320115").seq == 1
    assert issue_intro(p1).seq == 2
    with scope("110105"):
        receipt = services.issue("receipt", actor=p1.user, subject_type="transfer", subject_id=1,
                                 context={**intro_context(), "letter_number": "x"}, render="none")
        db.session.commit()
    assert receipt.seq == 1
    prefix = tenant("320115").letter_prefix
    assert issue_intro(p2, code="320115").number == numbering.display(prefix, 2)


def test_a_new_year_starts_a_new_sequence(make):
    p = admin_principal(make)
    with time_machine.travel(datetime(2026, 12, 31, 10, 0), tick=False):
        assert issue_intro(p).seq == 1
        assert issue_intro(p).seq == 2
    with time_machine.travel(datetime(2027, 1, 1, 9, 0), tick=False):
        first = issue_intro(p)
    assert (first.year, first.seq) == (2027, 1)
    assert first.issued_on == date(2027, 1, 1)


def test_a_rolled_back_issue_gives_its_number_back(make):
    p = admin_principal(make)
    issue_intro(p)
    with scope("110105"):
        lost = services.issue("introduction", actor=p.user, subject_type="transfer", subject_id=9,
                              context=intro_context(), validity_days=30, render="none")
        assert lost.seq == 2
        db.session.rollback()
    again = issue_intro(p)
    assert again.seq == 2
    assert _seqs() == [1, 2]


def test_a_void_letter_keeps_its_number_and_the_next_does_not_reuse_it(make):
    p = admin_principal(make)
    first = issue_intro(p)
    with scope("110105"):
        services.void(p.user, first, "信息有误")
        db.session.commit()
    second = issue_intro(p)
    assert second.seq == 2
    voided = reload(first)
    assert (voided.seq, voided.number, voided.state, voided.void_reason) == (1, "（朝组）字第 1 号", "void", "信息有误")
    with scope("110105"):
        with pytest.raises(Conflict):
            services.void(p.user, voided, "again")
        db.session.rollback()


def test_a_used_letter_cannot_be_voided_and_a_void_one_cannot_be_used(make):
    p = admin_principal(make)
    a, b = issue_intro(p), issue_intro(p)
    with scope("110105"):
        services.mark_used(p.user, a)
        services.mark_used(p.user, a)  # idempotent
        db.session.commit()
        with pytest.raises(Conflict):
            services.void(p.user, a, "x")
        db.session.rollback()
        services.void(p.user, b, "x")
        db.session.commit()
        with pytest.raises(Conflict):
            services.mark_used(p.user, b)
        db.session.rollback()
    assert reload(a).state == "used" and reload(b).state == "void"


def test_the_database_refuses_a_repeated_number(make):
    p = admin_principal(make)
    letter = issue_intro(p)
    with scope("110105"):
        twin = Letter(kind="introduction", year=letter.year, seq=letter.seq, number=letter.number,
                      subject_type="transfer", subject_id=2, issued_on=letter.issued_on, token="t" * 30,
                      short_code="ZZZZZZZZ", context_enc="x")
        db.session.add(twin)
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_a_block_of_numbers_is_consecutive(make):
    p = admin_principal(make)
    issue_intro(p)
    with scope("110105"):
        block = numbering.next_numbers(tenant("110105").id, "introduction", clock.today().year, 5)
        db.session.commit()
    assert list(block) == [2, 3, 4, 5, 6]
    assert issue_intro(p).seq == 7


def test_latest_for_finds_the_newest_letter_of_a_subject(make):
    p = admin_principal(make)
    issue_intro(p)
    newest = issue_intro(p)
    with scope("110105"):
        assert services.latest_for("transfer", 1, "introduction").id == newest.id
        assert services.latest_for("transfer", 99, "introduction") is None
        assert services.latest_for("transfer", 1, "receipt") is None


def test_concurrent_issues_form_one_unbroken_run(make, ctx):
    """Many workers, each with its own session and transaction, issue at the same moment."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serializes writers; the row lock is exercised on PostgreSQL")
    p = admin_principal(make)
    tenant_id = tenant("110105").id
    user_id = p.user.id
    workers = 12  # within the connection pool (5 + 10 overflow): each worker holds one
    barrier = threading.Barrier(workers)
    results, errors = [], []

    def work(i):
        try:
            with ctx.app_context():
                from portal.auth.models import User
                from portal.tenancy.context import tenant_scope
                with tenant_scope(tenant_id):
                    user = db.session.get(User, user_id)
                    barrier.wait(timeout=30)
                    letter = services.issue("introduction", actor=user, subject_type="transfer", subject_id=i,
                                            context=intro_context(name=f"党员{i}"), validity_days=30,
                                            render="none")
                    db.session.commit()
                    results.append(letter.seq)
                db.session.remove()
        except Exception as exc:  # reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert sorted(results) == list(range(1, workers + 1))
    assert _seqs() == list(range(1, workers + 1))
    with scope("110105"):
        numbers = [x.number for x in db.session.execute(db.select(Letter).order_by(Letter.seq)).scalars()]
    assert len(set(numbers)) == workers
