"""The branch secretary's subtree: the one place that decides which organizations a principal's
work is limited to, for pages, the API, jobs and the CLI alike."""
from portal.core.errors import NotFound
from portal.extensions import db
from portal.i18n import _
from portal.orgs.models import Organization
from portal.tenancy.context import cross_tenant


def limit(principal) -> Organization | None:
    """The organization whose subtree bounds this principal (a branch secretary's grant), or None
    for a tenant-wide role. A grant naming an organization that no longer exists limits to nothing
    (NotFound), never to the whole tenant."""
    org_id = getattr(principal, "org_limit", None) if principal is not None else None
    if not org_id:
        return None
    # Read by primary key under the cross-tenant flag: exchange code asks from inside cross-tenant
    # blocks, and the grant names an organization of the principal's own tenant.
    with cross_tenant():
        org = db.session.get(Organization, org_id)
    if org is None:
        raise NotFound(_("组织不存在"))
    return org


def covers(principal, org: Organization | None) -> bool:
    """Whether `org` lies within the principal's subtree (always, for a tenant-wide role)."""
    root = limit(principal)
    return root is None or (org is not None and org.tenant_id == root.tenant_id and org.path.startswith(root.path))


def subtree_ids(org: Organization):
    """A select of the ids of `org` and the organizations below it (same tenant)."""
    return db.select(Organization.id).filter(Organization.tenant_id == org.tenant_id,
                                             Organization.path.startswith(org.path, autoescape=True))
