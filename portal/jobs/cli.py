import click
from flask import current_app
from flask.cli import AppGroup

rq_cli = AppGroup("rq", help="Background jobs.")


@rq_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(burst):
    """Run an rq worker inside the app context."""
    from rq import Queue, SimpleWorker
    from portal.jobs.queue import queue_name, redis_connection
    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: jobs run inline, no worker is needed")
    conn = redis_connection()
    # SimpleWorker: no fork per job, so warm state (fonts, renderer) is reused across jobs.
    SimpleWorker([Queue(queue_name(), connection=conn)], connection=conn).work(burst=burst)
