from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup

from portal.i18n import _
from portal.jobs import dispatcher, queue, schedule

rq_cli = AppGroup("rq", help="Background jobs (rq).")


def _require_redis():
    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: jobs run inline, no worker is needed")


@rq_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--queue", "queues", multiple=True, type=click.Choice(["letters", "default"]),
              help="Listen only on this queue (repeatable); default: all of the app's queues.")
@click.option("--no-dispatcher", is_flag=True, help="Do not run the outbox dispatcher thread.")
def worker(burst, queues, no_dispatcher):
    """Run an rq worker with the app loaded once (letters first, then the rest)."""
    from rq import Queue, SimpleWorker

    _require_redis()
    conn = queue.redis_connection()
    # Send what waited while no worker (or no Redis) was there, before taking jobs.
    dispatcher.tick()
    thread = None
    if not no_dispatcher and not burst:
        thread = dispatcher.Dispatcher(current_app._get_current_object())
        thread.start()
    names = queue.queue_names(queues or queue.QUEUES)
    # SimpleWorker: no fork per job, so warm state (fonts, renderer) is reused across jobs.
    try:
        SimpleWorker([Queue(n, connection=conn) for n in names], connection=conn).work(burst=burst)
    finally:
        if thread is not None:
            thread.stopped.set()


@rq_cli.command("scheduler")
def scheduler():
    """rq's cron scheduler: the daily sweep at SWEEP_AT (Asia/Shanghai), plus the outbox dispatcher."""
    from rq.cron import CronScheduler

    _require_redis()
    schedule.use_local_zone()
    cron_line = schedule.cron_line(current_app.config.get("SWEEP_AT", "02:30"))
    cron = CronScheduler(connection=queue.redis_connection(), name=f"{queue.queue_name('cron')}")
    cron.register(schedule.daily_sweep, queue_name=queue.queue_name(queue.DEFAULT), cron=cron_line,
                  job_timeout=600, name="daily_sweep")
    click.echo(f"daily sweep at {current_app.config.get('SWEEP_AT', '02:30')} Asia/Shanghai (cron {cron_line})")
    thread = dispatcher.Dispatcher(current_app._get_current_object())
    thread.start()
    try:
        cron.start()
    finally:
        thread.stopped.set()


@rq_cli.command("dispatch")
def dispatch():
    """One dispatcher round: send the outbox, queue again jobs left running by a dead worker."""
    _require_redis()
    result = dispatcher.tick()
    click.echo(f"sent: {result['sent']}, requeued: {result['requeued']}")


@click.command("sweep")
@click.option("--as-of", "as_of", default=None, help="The day to sweep as (YYYY-MM-DD); default today.")
@click.option("--tenant", "tenant_code", default=None, help="Only this tenant (its code).")
def sweep_command(as_of, tenant_code):
    """Run the daily sweep now, in this process (no Redis needed)."""
    from portal.worklist import sweep
    day = None
    if as_of:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            raise click.BadParameter(_("日期格式应为YYYY-MM-DD"), param_hint="--as-of")
    try:
        result = sweep.run(day, tenant_code=tenant_code)
    except (LookupError, ValueError):  # the work list's run() names an unknown tenant with ValueError
        raise click.BadParameter(_("没有代码为 %(c)s 的县区", c=tenant_code), param_hint="--tenant")
    click.echo(", ".join(f"{k}: {v}" for k, v in result.items()))
