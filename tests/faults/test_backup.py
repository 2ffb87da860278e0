"""`flask tenants export` / `import`: one tenant's whole data in one encrypted archive, restored
into a fresh database row for row and document for document; an altered archive imports nothing."""
import hashlib

import pytest

from portal.audit import chain
from portal.extensions import db
from portal.letters.models import Letter
from portal.tenancy.context import cross_tenant, tenant_scope
from tests.faults.filled import A, fill
from tests.faults.support import archived_tables, fresh_database, table_rows
from tests.letters.support import pdf_text


def _scope(ids):
    """Which rows of each table belong in A's archive, said independently of the export code."""
    a, users = ids["tenant"], ids["users"]

    def where(table):
        cols = table.c
        if table.name == "tenants":
            return lambda t: t.c.id.in_([a, ids["other"]])
        if table.name == "users":
            return lambda t: t.c.id.in_(users)
        if "user_id" in cols and "tenant_id" not in cols:
            return lambda t: t.c.user_id.in_(users)
        if "other_tenant_id" in cols:
            return lambda t: (t.c.tenant_id == a) | (t.c.other_tenant_id == a)
        return lambda t: t.c.tenant_id == a
    return where


def _snapshot(ids, where=None) -> dict:
    with cross_tenant(acting_for=ids["tenant"]):
        out = {t.name: table_rows(t, where(t) if where else None) for t in archived_tables()}
    db.session.rollback()
    return out


def _cli(app, *args):
    # Its own app context: a command runs in the current one when there is one (the test's).
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
        db.session.remove()
    return result


@pytest.mark.slow
def test_export_then_import_into_a_fresh_database_is_the_same_byte_for_byte(make, ctx, tmp_path):
    ids = fill(make)
    assert chain.verify([ids["tenant"]]) == []
    source = _snapshot(ids, _scope(ids))
    empty = [name for name, rows in source.items() if not rows]
    assert empty == [], f"the test tenant has no rows in {empty}"
    with tenant_scope(ids["tenant"]):
        pdf = db.session.get(Letter, ids["letter"]).pdf
    db.session.rollback()
    assert pdf.startswith(b"%PDF")

    secret = tmp_path / "passphrase"
    secret.write_text("correct horse battery staple\n")
    archive = tmp_path / "110105.portal-archive"
    done = _cli(ctx, "tenants", "export", A, str(archive), "--passphrase-file", str(secret))
    assert done.exit_code == 0, done.output
    sealed = archive.read_bytes()
    assert "张备份".encode() not in sealed and b"%PDF" not in sealed  # encrypted, not merely packed

    target = fresh_database(ctx, tmp_path)
    try:
        # An altered archive (one byte) and a wrong passphrase are refused, and write nothing.
        altered = tmp_path / "altered"
        altered.write_bytes(sealed[:200] + bytes([sealed[200] ^ 1]) + sealed[201:])
        refused = _cli(target, "tenants", "import", str(altered), "--passphrase-file", str(secret))
        assert refused.exit_code != 0 and "altered" in refused.output
        wrong = tmp_path / "wrong"
        wrong.write_text("not the passphrase")
        refused = _cli(target, "tenants", "import", str(archive), "--passphrase-file", str(wrong))
        assert refused.exit_code != 0 and "passphrase is wrong" in refused.output
        with target.app_context():
            assert all(not rows for rows in _snapshot(ids).values())

        restored = _cli(target, "tenants", "import", str(archive), "--passphrase-file", str(secret))
        assert restored.exit_code == 0, restored.output
        assert "audit chain: verified" in restored.output
        with target.app_context():
            copy = _snapshot(ids)
            assert chain.verify([ids["tenant"]]) == []
            with tenant_scope(ids["tenant"]):
                letter = db.session.get(Letter, ids["letter"])
                restored_pdf, sha = letter.pdf, letter.pdf_sha256
            db.session.rollback()
            # A second import finds the tenant there and is refused.
            again = _cli(target, "tenants", "import", str(archive), "--passphrase-file", str(secret))
            assert again.exit_code != 0 and "already has the tenant" in again.output
            db.session.remove()
        left_out = restored.output.split("left out", 1)[1] if "left out" in restored.output else ""
        for name, rows in source.items():
            if copy[name] != rows:
                # Only the other county's rows may be missing, and only when the import said so:
                # they need that county's register (its own archive), here absent.
                assert f"{name} " in left_out, (name, restored.output)
                have, want = {repr(r) for r in copy[name]}, {repr(r): r for r in rows}
                assert have < set(want), name
                columns = [c.name for c in db.metadata.tables[name].columns]
                assert all(dict(zip(columns, want[k])).get("tenant_id") != ids["tenant"]
                           for k in set(want) - have), name
        assert restored_pdf == pdf and hashlib.sha256(restored_pdf).hexdigest() == sha
        assert "张备份" in pdf_text(restored_pdf).replace(" ", "")
    finally:
        with target.app_context():
            db.session.remove()
            db.engine.dispose()
