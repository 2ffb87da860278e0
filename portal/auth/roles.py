"""Roles per tenant and what each may do. One table decides; views only name a permission."""
from portal.i18n import lazy

TENANT_ADMIN = "tenant_admin"
SECRETARY = "secretary"
CLERK = "clerk"
VIEWER = "viewer"
UPPER_READER = "upper_reader"  # holds a region, not a tenant: aggregates only

TENANT_ROLES = (TENANT_ADMIN, SECRETARY, CLERK, VIEWER)
ALL_ROLES = TENANT_ROLES + (UPPER_READER,)

ROLE_LABELS = {
    TENANT_ADMIN: lazy("管理员"),
    SECRETARY: lazy("支部书记"),
    CLERK: lazy("业务员"),
    VIEWER: lazy("只读"),
    UPPER_READER: lazy("上级查看"),
}

# Permissions
READ = "read"                  # see the register, orgs, exchange
READ_ID = "read_id"            # see whole ID numbers
EDIT_REGISTER = "edit_register"
MANAGE_ORGS = "manage_orgs"
EXCHANGE = "exchange"          # act in transfers and agreements
LETTERS = "letters"            # issue and render documents
MANAGE_USERS = "manage_users"
AUDIT = "audit"

PERMISSIONS = {
    TENANT_ADMIN: {READ, READ_ID, EDIT_REGISTER, MANAGE_ORGS, EXCHANGE, LETTERS, MANAGE_USERS, AUDIT},
    CLERK: {READ, READ_ID, EDIT_REGISTER, MANAGE_ORGS, EXCHANGE, LETTERS},
    SECRETARY: {READ, READ_ID, EDIT_REGISTER, EXCHANGE, LETTERS},  # limited to their org subtree
    VIEWER: {READ},
    UPPER_READER: set(),
}


def allows(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, set())
