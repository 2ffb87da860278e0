"""Background work of the exchange: the daily sweep (overdue letters, expired agreements) as an rq
job and a CLI command for cron, and the notification mail job (notifications.py)."""
from datetime import date

import click
from flask.cli import AppGroup

from portal.exchange import agreements, transfers
from portal.jobs.queue import handler

exchange_cli = AppGroup("exchange", help="Transfers and agreements between tenants.")


def sweep(today: date | None = None, *, tenant_id: int | None = None) -> dict:
    """Turn letters past their validity into `overdue` transfers and end agreements past their end
    date. Idempotent: running it twice changes nothing the second time."""
    return {"overdue": transfers.sweep_overdue(today, tenant_id=tenant_id),
            "expired": agreements.sweep_expired(today, tenant_id=tenant_id)}


@handler("exchange.sweep")
def sweep_job(job, **_params):
    return sweep(tenant_id=job.tenant_id)


@exchange_cli.command("sweep")
def sweep_command():
    """Run the deadline sweep for every tenant (schedule daily)."""
    result = sweep()
    click.echo(f"overdue transfers: {result['overdue']}, expired agreements: {result['expired']}")
