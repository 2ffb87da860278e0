"""The dispatcher: sends what waits in the job outbox (Redis was down, a retry's back-off passed)
and queues again the jobs a dead worker left `running`. It runs as a thread inside every
`flask rq worker` and `flask rq scheduler`; several at once are harmless (a job runs once)."""
import logging
import threading

from portal.extensions import db
from portal.jobs import queue

log = logging.getLogger(__name__)


def tick() -> dict:
    """One round; returns what it did (also the body of `flask rq dispatch`)."""
    stale = queue.requeue_stale()
    sent = queue.dispatch_outbox()
    return {"requeued": stale, "sent": sent}


class Dispatcher(threading.Thread):
    def __init__(self, app, every: float | None = None):
        super().__init__(daemon=True, name="job-dispatcher")
        self.app = app
        self.every = float(every if every is not None else app.config.get("DISPATCH_INTERVAL", 10))
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(self.every):
            with self.app.app_context():
                try:
                    tick()
                except Exception:  # the next round tries again; Redis or the database may be back
                    log.warning("dispatcher round failed", exc_info=True)
                    db.session.rollback()
                finally:
                    db.session.remove()
