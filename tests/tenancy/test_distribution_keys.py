"""Every key of a distributed table carries its distribution column (issue: keys that distribute).

Written over db.metadata, so a table another branch adds is checked the day it is merged."""
import pytest
from sqlalchemy import UniqueConstraint

from portal.extensions import db
from portal.tenancy.placement import distribution_column, plan


@pytest.fixture(scope="module")
def metadata(app):
    with app.app_context():
        yield db.metadata


def _placed(metadata):
    return {t.name: distribution_column(t) for t in metadata.sorted_tables}


def test_every_tenant_table_is_distributed_and_the_rest_are_reference(metadata):
    placed = _placed(metadata)
    for table in metadata.sorted_tables:
        col = placed[table.name]
        if col is None:
            assert "tenant_id" not in table.c or table.c.tenant_id.nullable, \
                f"{table.name} holds tenant rows but would be copied to every node"
        else:
            assert col in table.c and not table.c[col].nullable, f"{table.name}: no {col} to place rows by"
    assert placed["tenants"] is None and placed["users"] is None
    assert placed["members"] == "tenant_id" and placed["transfers"] == "tenant_id"
    assert placed["relationship_holds"] == "id_hash"
    names = [n for n, _ in plan(metadata)]
    assert names.index("tenants") < names.index("members")


def test_primary_keys_lead_with_the_distribution_column(metadata):
    bad = [f"{t.name} {list(t.primary_key.columns.keys())}" for t in metadata.sorted_tables
           if (col := distribution_column(t)) and list(t.primary_key.columns.keys())[:1] != [col]]
    assert not bad, "primary keys without their distribution column first: " + ", ".join(bad)


def test_unique_keys_lead_with_the_distribution_column(metadata):
    bad = []
    for t in metadata.sorted_tables:
        col = distribution_column(t)
        if not col:
            continue
        keys = [list(c.columns.keys()) for c in t.constraints if isinstance(c, UniqueConstraint)]
        keys += [list(i.columns.keys()) for i in t.indexes if i.unique]
        keys += [[c.name] for c in t.columns if c.unique]
        bad += [f"{t.name} {k}" for k in keys if k[:1] != [col]]
    assert not bad, "unique keys without their distribution column first: " + ", ".join(bad)


def test_foreign_keys_between_distributed_tables_lead_with_the_distribution_column(metadata):
    bad = []
    for t in metadata.sorted_tables:
        mine = distribution_column(t)
        for fk in t.foreign_key_constraints:
            target = fk.referred_table
            theirs = distribution_column(target)
            local = [c.name for c in fk.columns]
            remote = [e.column.name for e in fk.elements]
            if theirs is None:
                continue  # a reference table is on every node
            if mine is None:
                bad.append(f"{t.name} (reference) -> {target.name} (distributed)")
            elif local[:1] != [mine] or remote[:1] != [theirs]:
                bad.append(f"{t.name} {local} -> {target.name} {remote}")
    assert not bad, "foreign keys a distributed database cannot keep: " + ", ".join(bad)


def test_shared_rows_point_at_their_owner_and_their_parent(metadata):
    """transfers and agreements reach the owning side's register and organizations; what hangs off
    them reaches them by (tenant_id, id)."""
    def fks(name):
        return {(tuple(c.name for c in fk.columns), fk.referred_table.name)
                for fk in metadata.tables[name].foreign_key_constraints}
    assert (("tenant_id", "member_id"), "members") in fks("transfers")
    assert (("tenant_id", "from_org_id"), "organizations") in fks("transfers")
    assert (("tenant_id", "origin_org_id"), "organizations") in fks("agreements")
    assert (("tenant_id", "transfer_id"), "transfers") in fks("transfer_events")
    for child in ("agreement_members", "attendances", "notices"):
        assert (("tenant_id", "agreement_id"), "agreements") in fks(child)


def test_distribute_places_every_table_on_citus_and_refuses_elsewhere(ctx):
    """On a Citus coordinator (make test-citus) the session already distributed every table; on
    plain PostgreSQL or SQLite the command says there is nothing to distribute."""
    from portal.tenancy import citus
    with db.engine.connect() as conn:
        on_citus = citus.is_citus(conn)
        placed = dict(conn.execute(db.text(
            "SELECT logicalrelid::regclass::text, partmethod FROM pg_dist_partition")).all()) if on_citus else {}
    result = ctx.test_cli_runner().invoke(args=["tenants", "distribute"])
    if not on_citus:
        assert result.exit_code == 1 and "Citus" in result.output
        return
    assert result.exit_code == 0 and result.output == ""  # nothing left to place
    for name, column in plan(db.metadata):
        assert placed.get(name) == ("n" if column is None else "h"), name
