"""Background jobs of the letters feature (portal.jobs.queue handlers). They receive ids, run in
the tenant's scope, record progress every few documents, and are safe to run twice.

letters.render  render (or re-render) letters and store their PDFs
letters.batch   a batch (the open letter to all outgoing members, all letters of a day): every
                document laid out once with the process's one Renderer, the per-letter PDFs stored
                on their letters and one combined printable PDF stored on the batch
"""
import hashlib
import logging
from datetime import datetime

from portal.extensions import db
from portal.jobs.queue import LETTERS, handler, progress
from portal.letters import services
from portal.letters.models import Letter, LetterBatch
from portal.tenancy.models import Tenant

log = logging.getLogger(__name__)
PROGRESS_EVERY = 5


@handler("letters.render", queue=LETTERS, timeout=3600)
def render_job(job, letter_ids=(), requested_at=None):
    """Render the letters not rendered yet; with `requested_at` (a re-render request), also those
    rendered before that moment. Each letter commits on its own."""
    since = datetime.fromisoformat(requested_at) if requested_at else None
    ids = [i for i in letter_ids if isinstance(i, int)]
    total = len(ids)
    rendered = skipped = 0
    failed = []
    for done, letter_id in enumerate(ids, 1):
        letter = db.session.execute(
            db.select(Letter).filter_by(id=letter_id).with_for_update()).scalar_one_or_none()
        if letter is None:
            skipped += 1
        elif services._needs_render(letter) or (since is not None and (letter.rendered_at is None
                                                                         or letter.rendered_at < since)):
            try:
                services.render_letter(letter)
                rendered += 1
            except Exception as exc:  # one bad letter does not stop the others
                db.session.rollback()
                failed.append({"id": letter_id, "error": str(getattr(exc, "message", "") or exc)[:300]})
                log.exception("rendering letter %s failed", letter_id)
        else:
            skipped += 1
        db.session.commit()
        if done % PROGRESS_EVERY == 0 or done == total:
            progress(job, done, total)
    if failed and not rendered:
        raise RuntimeError("；".join(f"#{f['id']}: {f['error']}" for f in failed)[:1000])
    return {"rendered": rendered, "skipped": skipped, "failed": failed}


@handler("letters.batch", queue=LETTERS, timeout=3600)
def batch_job(job, batch_id=None):
    from portal.letters.render import LetterContextError
    batch = db.session.get(LetterBatch, batch_id) if isinstance(batch_id, int) else None
    if batch is None:
        raise RuntimeError("批量任务不存在")
    tenant = db.session.get(Tenant, batch.tenant_id)
    letters = services.batch_letters(batch)
    total = len(letters)
    progress(job, 0, total)
    r = services.renderer()
    documents = []
    stored = 0
    for done, letter in enumerate(letters, 1):
        context = services.render_context(letter, tenant)
        with services._render_lock:
            document = r.document(letter.kind, context, tenant_code=tenant.code)
            pdf = services.write_pdf(r, document) if services._needs_render(letter) else None
        if pdf is not None:
            services.store_pdf(letter, pdf)
            letter.job_id = job.id
            stored += 1
        documents.append(document)
        if done % PROGRESS_EVERY == 0 or done == total:
            db.session.commit()
            progress(job, done, total)
    if not documents:
        raise LetterContextError("no letters to combine")
    pages = [page for d in documents for page in d.pages]
    page_count = len(pages)
    with services._render_lock:
        combined = services.write_pdf(r, documents[0].copy(pages))
    del documents, pages
    batch = db.session.get(LetterBatch, batch.id)
    batch.pdf = combined
    batch.pdf_sha256 = hashlib.sha256(combined).hexdigest()
    batch.rendered_at = datetime.utcnow()
    db.session.commit()
    return {"batch_id": batch.id, "count": total, "stored": stored, "pages": page_count,
            "pdf_sha256": batch.pdf_sha256, "bytes": len(combined)}
