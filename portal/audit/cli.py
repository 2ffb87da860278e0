import click
from flask.cli import AppGroup

from portal.audit import chain
from portal.extensions import db
from portal.i18n import _, lazy
from portal.tenancy.models import Tenant

audit_cli = AppGroup("audit", help="The audit trail.")

KIND_TEXT = {
    "altered": lazy("第一处被修改的记录"),
    "inserted": lazy("第一处被插入的记录"),
    "deleted": lazy("第一处被删除记录之后的记录"),
    "deleted_tail": lazy("链尾的记录被删除"),
}


@audit_cli.command("verify")
@click.option("--tenant", "tenant_code", default=None, help="Only this tenant's trail.")
def verify(tenant_code):
    """Check the hash chain of the audit trail; exit 1 at the first altered, inserted or deleted entry."""
    tenants = {t.id: t for t in db.session.execute(db.select(Tenant)).scalars()}
    ids = None
    if tenant_code:
        found = [t for t in tenants.values() if t.code == tenant_code]
        if not found:
            raise click.ClickException(_("县区 %(c)s 不存在", c=tenant_code))
        ids = [found[0].id]
    problems = chain.verify(ids)
    if not problems:
        click.echo(_("审计记录完整：%(n)d 个县区的哈希链均校验通过", n=len(ids or tenants)))
        return
    for p in problems:
        tenant = tenants.get(p.tenant_id)
        where = _("记录 id=%(i)s（序号 %(s)s）", i=p.entry_id, s=p.seq) if p.entry_id is not None \
            else _("序号 %(s)s 起", s=p.seq)
        click.echo(_("%(t)s %(n)s：%(k)s：%(w)s", t=tenant.code if tenant else p.tenant_id,
                     n=tenant.name if tenant else "", k=str(KIND_TEXT[p.kind]), w=where), err=True)
    raise SystemExit(1)
