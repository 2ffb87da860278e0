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

from portal.core import clock
from portal.core.errors import PortalError
from portal.extensions import db
from portal.i18n import _
from portal.jobs.queue import handler, progress
from portal.jobs.queue import LETTERS
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
        # Times are kept to the second: a letter rendered in the second of the request is rendered again.
        elif services._needs_render(letter) or (since is not None and (letter.rendered_at is None
                                                                         or letter.rendered_at <= since)):
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
    """Lay out every letter of the batch, store the PDFs not stored yet, then write the combined
    PDF. A failure is recorded in Chinese for the page (the details go to the log); the numbers
    stay with their letters, so pressing 重新生成 finishes the same batch."""
    batch = db.session.get(LetterBatch, batch_id) if isinstance(batch_id, int) else None
    if batch is None:
        raise RuntimeError(_("批量任务不存在"))
    tenant = db.session.get(Tenant, batch.tenant_id)
    letters = services.batch_letters(batch)
    total = len(letters)
    if not total:
        raise RuntimeError(_("该批次没有可生成的文书"))
    progress(job, 0, total)
    r = services.renderer()
    documents = []
    stored = 0
    for done, letter in enumerate(letters, 1):
        document, pdf = _lay_out(r, letter, tenant)
        if pdf is not None:
            services.store_pdf(letter, pdf)
            letter.job_id = job.id
            stored += 1
        documents.append(document)
        if done % PROGRESS_EVERY == 0 or done == total:
            db.session.commit()
            progress(job, done, total)
    pages = [page for d in documents for page in d.pages]
    page_count = len(pages)
    try:
        with services._render_lock:
            combined = services.write_pdf(r, documents[0].copy(pages))
    except Exception:
        log.exception("batch %s: the combined PDF could not be written", batch.id)
        raise RuntimeError(_("合订PDF未能生成。各份文书的文号已保留，请点击“重新生成”重试。")) from None
    del documents, pages
    batch = db.session.get(LetterBatch, batch.id)
    batch.pdf = combined
    batch.pdf_sha256 = hashlib.sha256(combined).hexdigest()
    batch.rendered_at = clock.utcnow()
    db.session.commit()
    return {"batch_id": batch.id, "count": total, "stored": stored, "pages": page_count,
            "pdf_sha256": batch.pdf_sha256, "bytes": len(combined)}


def _lay_out(r, letter: Letter, tenant: Tenant):
    """(laid-out document, its PDF or None when the stored one is still good) of one letter."""
    try:
        context = services.render_context(letter, tenant)
        with services._render_lock:
            document = r.document(letter.kind, context, tenant_code=tenant.code)
            pdf = services.write_pdf(r, document) if services._needs_render(letter) else None
    except PortalError as exc:  # its message is meant for the office (in Chinese)
        raise RuntimeError(_("文书 %(n)s（%(p)s）未能生成：%(e)s。请处理后点击“重新生成”。",
                             n=letter.number, p=letter.person_name or "—",
                             e=getattr(exc, "message", "") or str(exc))) from None
    except Exception:
        log.exception("batch letter %s could not be rendered", letter.id)
        raise RuntimeError(_("文书 %(n)s（%(p)s）未能生成。请稍后点击“重新生成”重试。",
                             n=letter.number, p=letter.person_name or "—")) from None
    return document, pdf
