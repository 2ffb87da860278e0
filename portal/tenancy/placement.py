from portal.extensions import db
from portal.tenancy.scoping import TenantScoped
"""Where each table lives when the database is distributed (Citus), read from the metadata.

- Tenant-owned tables (TenantScoped) are distributed by `tenant_id` and colocated, so everything
  of one tenant sits on one node and a tenant's page joins locally. Rows two tenants share
  (transfers, agreements and what hangs off them) are placed by their owning tenant (the sender,
  the origin); the other side reads them across nodes (see docs/scaling.md).
- A table may name its own distribution column in `info["distribute_by"]`: the audit chain heads
  (by tenant_id, with the audit trail) and the cross-tenant `relationship_holds` index (by its
  keyed ID-number hash, the one rule that must hold across all tenants).
- Everything else (tenants, users and their logins, role grants) is a small reference table
  copied to every node.
"""
REFERENCE = "reference"


def distribution_column(table) -> str | None:
    """The column a table is distributed by, or None for a reference table."""
    if "distribute_by" in table.info:
        return table.info["distribute_by"]
    for mapper in db.Model.registry.mappers:
        if mapper.local_table is table and issubclass(mapper.class_, TenantScoped):
            return "tenant_id"
    return None


def plan(metadata) -> list[tuple[str, str | None]]:
    """(table, distribution column or None) in dependency order: reference tables first."""
    tables = [t for t in metadata.sorted_tables]
    refs = [(t.name, None) for t in tables if distribution_column(t) is None]
    dist = [(t.name, distribution_column(t)) for t in tables if distribution_column(t) is not None]
    return refs + dist
