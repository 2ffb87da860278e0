"""The audit trail is a keyed hash chain: `flask audit verify` passes on what the services wrote and
names the first altered, inserted or deleted entry, exiting non-zero."""
import pytest
from sqlalchemy import text

from portal.audit.models import AuditEntry
from portal.extensions import db
from tests.conftest import scope


def _trail(make):
    """Five entries in 110105 (an org and four members), two in 320115."""
    org = make.org("110105", name="第一党支部")
    for i in range(4):
        make.member("110105", org, name=f"党员{i}")
    other = make.org("320115", name="江宁第一党支部")
    make.member("320115", other, name="王五")
    with scope("110105"):
        rows = db.session.execute(db.select(AuditEntry.id, AuditEntry.seq).order_by(AuditEntry.seq)).all()
    db.session.remove()
    assert [seq for _id, seq in rows] == [1, 2, 3, 4, 5]
    return [row_id for row_id, _seq in rows]


def _tamper(make, sql: str, **params):
    """Change the table behind the application's back, as someone with SQL access would."""
    tenant_id = make.tenant("110105").id
    db.session.remove()
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT set_config('portal.tenant_id', :t, true)"), {"t": str(tenant_id)})
            conn.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_append_only"))
        conn.execute(text(sql), {"tenant": tenant_id, **params})
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER audit_append_only"))


def _verify(make, *args):
    return make.app.test_cli_runner().invoke(args=["audit", "verify", *args])


def _output(result):
    return result.output  # Click 8.2+: stdout and stderr together


def test_an_untouched_trail_verifies(make):
    _trail(make)
    result = _verify(make)
    assert result.exit_code == 0, _output(result)
    assert "校验通过" in _output(result)


def test_an_altered_entry_is_named(make):
    ids = _trail(make)
    _tamper(make, "UPDATE audit_entries SET summary = '篡改' WHERE id = :id", id=ids[2])
    result = _verify(make)
    assert result.exit_code == 1
    out = _output(result)
    assert "110105" in out and "被修改" in out and f"id={ids[2]}" in out and "320115" not in out


def test_a_deleted_entry_is_found_at_the_entry_after_it(make):
    ids = _trail(make)
    _tamper(make, "DELETE FROM audit_entries WHERE id = :id", id=ids[1])
    result = _verify(make)
    assert result.exit_code == 1
    out = _output(result)
    assert "被删除" in out and f"id={ids[2]}" in out


def test_renumbering_after_a_deletion_does_not_hide_it(make):
    ids = _trail(make)
    _tamper(make, "DELETE FROM audit_entries WHERE id = :id", id=ids[1])
    _tamper(make, "UPDATE audit_entries SET seq = seq - 1 WHERE tenant_id = :tenant AND seq > 2")
    result = _verify(make)
    assert result.exit_code == 1 and f"id={ids[2]}" in _output(result)


def test_the_newest_entries_cut_off_are_found(make):
    ids = _trail(make)
    _tamper(make, "DELETE FROM audit_entries WHERE id IN (:a, :b)", a=ids[3], b=ids[4])
    result = _verify(make)
    assert result.exit_code == 1
    assert "链尾" in _output(result) and "序号 4" in _output(result)


@pytest.mark.parametrize("where", ["middle", "end"])
def test_an_inserted_entry_is_named(make, where):
    ids = _trail(make)
    with scope("110105"):
        model = db.session.get(AuditEntry, ids[2] if where == "middle" else ids[4])
        seq, prev = model.seq, model.prev_hash
        fields = {"at": model.at, "prev": prev if where == "middle" else model.hash,
                  "seq": seq if where == "middle" else seq + 1}
    if where == "middle":  # make room, as a careful forger would
        _tamper(make, "UPDATE audit_entries SET seq = seq + 1 WHERE tenant_id = :tenant AND seq >= :s", s=seq)
    _tamper(make, "INSERT INTO audit_entries (tenant_id, at, user_id, username, action, object_type, object_id, "
                  "summary, seq, prev_hash, hash) VALUES (:tenant, :at, NULL, 'admin', 'delete', 'member', '1', "
                  "'伪造', :seq, :prev, :fake)", fake="0" * 64, **fields)
    with scope("110105"):
        forged = db.session.execute(db.select(AuditEntry.id).filter_by(summary="伪造")).scalar_one()
    result = _verify(make)
    assert result.exit_code == 1
    out = _output(result)
    assert "被插入" in out and f"id={forged}" in out, out


def test_only_one_tenant_can_be_checked(make):
    ids = _trail(make)
    _tamper(make, "UPDATE audit_entries SET summary = '篡改' WHERE id = :id", id=ids[0])
    assert _verify(make, "--tenant", "320115").exit_code == 0
    assert _verify(make, "--tenant", "110105").exit_code == 1
    result = _verify(make, "--tenant", "999999")
    assert result.exit_code != 0 and "999999 不存在" in _output(result)


def test_the_application_role_cannot_change_entries_on_postgres(make):
    ids = _trail(make)
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    from sqlalchemy.exc import DBAPIError
    with scope("110105"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text("UPDATE audit_entries SET summary = 'x' WHERE id = :id"), {"id": ids[0]})
        db.session.rollback()
    with scope("110105"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": ids[0]})
        db.session.rollback()
