"""The letters' files, one way for the pages and the API: a letter's PDF, a batch's bound PDF and
its zip of single PDFs."""
import io
import zipfile

from portal.core.downloads import safe_filename
from portal.core.errors import NotFound
from portal.extensions import db
from portal.i18n import _
from portal.letters import services


def letter_filename(letter) -> str:
    person = f"-{letter.person_name}" if letter.person_name else ""
    return safe_filename(f"{letter.kind_label}{letter.number}{person}") + ".pdf"


def batch_zip(batch) -> bytes:
    """The batch's per-letter PDFs in one zip (rendered on first need)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for index, letter in enumerate(services.batch_letters(batch), 1):
            archive.writestr(f"{index:04d}-{letter_filename(letter)}", services.pdf_bytes(letter))
    db.session.commit()
    return buffer.getvalue()


def batch_file(principal, batch_id, form: str) -> tuple[bytes, str, str]:
    """(data, download name, mimetype) of a batch as "pdf" (bound) or "zip"; NotFound before the
    batch's job has rendered it."""
    batch = services.get_batch(principal, batch_id)
    if form == "zip":
        if batch.rendered_at is None:
            raise NotFound(_("PDF尚未生成，请等待任务完成"))
        return batch_zip(batch), safe_filename(batch.title) + ".zip", "application/zip"
    if batch.rendered_at is None or batch.pdf is None:
        raise NotFound(_("合订PDF尚未生成，请等待任务完成"))
    return batch.pdf, safe_filename(batch.title) + ".pdf", "application/pdf"
