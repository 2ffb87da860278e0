"""Issuing formal documents: numbering, storage, verification state.

Callers (the exchange, the register) build the template context; this module gives it a number,
a verification token, a stored PDF, and a life (valid, used, overdue, void). Services flush; the
caller owns the transaction and commits.

Rendering: one Renderer per application (and tenants folder), shared by every render in the
process so WeasyPrint's font configuration is built once; it is not thread-safe, so renders take a
lock. Without Redis ("inline" jobs) a document is rendered while it is issued; with Redis a
`letters.render` job row is written in the issuing transaction and handed to rq right after that
transaction commits (nothing is queued for a transaction that rolls back).
"""
import hashlib
import json
import logging
import threading
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import or_

from portal.audit.services import record
from portal.core import crypto
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.core.parsing import parse_date
from portal.extensions import db
from portal.i18n import _
from portal.jobs.queue import enqueue, get_job, schedule
from portal.jobs.queue import runs_inline as inline
from portal.letters import documents, numbering, verify
from portal.letters.models import (ACTIVITY_CARD, AGREEMENT, KIND_LABELS, KINDS, OVERDUE, STATES, USED,
                                   VALID, VOID, Letter, LetterBatch)
from portal.letters.render import LetterError, Renderer
from portal.orgs.models import Organization
from portal.tenancy import lookup
from portal.tenancy.context import current_tenant_id
from portal.tenancy.loader import tenant_asset
from portal.tenancy.models import Tenant
from portal.core import clock
from portal.orgs import scope
from portal.orgs import services as orgs

log = logging.getLogger(__name__)

RENDER_MODES = ("job", "now", "none")
MAX_VALIDITY_DAYS = 366
MAX_DB_INT = 2 ** 31 - 1

# Keys of `doc` that are computed from the Letter row at render time, never taken from callers.
_DOC_COMPUTED = ("number", "number_plain", "prefix", "year", "issued_on", "verify_url", "verify_code",
                 "verify_at", "qr_svg", "qr_png", "void")


def plain(value) -> str:
    """User text without control characters (PostgreSQL refuses NUL; none belongs on paper)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return "".join(c for c in text if c in "\n\t" or not (ord(c) < 32 or 127 <= ord(c) < 160)).strip()


# ---------------------------------------------------------------- context at rest

def _encode(value):
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, date):
        return {"__date__": value.isoformat()}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)  # lazy strings, Decimal, ...


def _decode(value):
    if isinstance(value, dict):
        if len(value) == 1 and "__date__" in value:
            return date.fromisoformat(value["__date__"])
        if len(value) == 1 and "__datetime__" in value:
            return datetime.fromisoformat(value["__datetime__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def seal_context(context: dict) -> str:
    """The context as encrypted JSON (it may hold whole ID numbers)."""
    return crypto.encrypt(json.dumps(_encode(context), ensure_ascii=False))


def open_context(letter: Letter) -> dict:
    text = crypto.decrypt(letter.context_enc or "")
    if text is None:
        raise ValidationFailed({"letter": _("文书内容无法解密（密钥已更换？）")})
    return _decode(json.loads(text))


# ---------------------------------------------------------------- issuer

def tenant_issuer(tenant: Tenant) -> dict:
    """The tenant's organization department as issuer; `seal` is relative to the tenants folder."""
    return {"name": tenant.committee or tenant.name, "address": tenant.address, "phone": tenant.phone,
            "fax": tenant.fax, "postcode": tenant.postcode, "seal": tenant.seal or ""}


def _resolve_issuer(issuer: dict | None, tenant: Tenant) -> dict:
    out = dict(issuer or tenant_issuer(tenant))
    seal = out.pop("seal", "")
    if not out.get("seal_path"):
        path = tenant_asset(current_app.config["TENANTS_DIR"], tenant, seal) if seal else None
        out["seal_path"] = str(path) if path else None
    return out


# ---------------------------------------------------------------- the renderer

_render_lock = threading.RLock()


def renderer():
    """The application's Renderer (one per tenants folder), built on first use."""
    app = current_app._get_current_object()
    cache = app.extensions.setdefault("letters_renderers", {})
    key = str(app.config["TENANTS_DIR"])
    r = cache.get(key)
    if r is None:
        with _render_lock:
            r = cache.get(key)
            if r is None:
                r = cache[key] = Renderer(template_dirs=[app.template_folder], static_root=app.static_folder,
                                          tenants_dir=key)
    return r


def write_pdf(r, document) -> bytes:
    """Write a laid-out document with the renderer's font handling."""
    writer = getattr(r, "_write", None)
    return writer(document) if writer else document.write_pdf()


def _tenant_of(letter: Letter) -> Tenant:
    return db.session.get(Tenant, letter.tenant_id)


def render_context(letter: Letter, tenant: Tenant | None = None) -> dict:
    """The full template context: the stored one plus the computed doc and issuer parts."""
    tenant = tenant or _tenant_of(letter)
    ctx = open_context(letter)
    doc = dict(ctx.get("doc") or {})
    doc.update(number=letter.number, number_plain=str(letter.seq), prefix=tenant.letter_prefix,
               year=letter.year, issued_on=letter.issued_on, verify_code=letter.verify_code,
               void=letter.state == VOID)
    if not doc.get("verify_url"):
        doc["verify_url"] = verify.verify_url(letter.token)
    doc["verify_at"] = verify.lookup_url()
    ctx["doc"] = doc
    ctx["issuer"] = _resolve_issuer(ctx.get("issuer"), tenant)
    if letter.kind == ACTIVITY_CARD:
        ctx.setdefault("card_no", letter.number)
    if letter.kind == AGREEMENT and isinstance(ctx.get("agreement"), dict):
        # the agreement prints its document's number, the one the list and /verify show
        ctx["agreement"]["number"] = letter.number
    return ctx


def _needs_render(letter: Letter) -> bool:
    return letter.rendered_at is None or (letter.state == VOID and not letter.pdf_void)


def store_pdf(letter: Letter, pdf: bytes) -> None:
    letter.pdf = pdf
    letter.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    letter.pdf_void = letter.state == VOID
    letter.rendered_at = clock.utcnow()
    letter.render_count = (letter.render_count or 0) + 1
    db.session.flush()


def render_letter(letter: Letter) -> bytes:
    """Render the letter now and store the PDF (flushes)."""
    pdf = _render_bytes(letter)
    store_pdf(letter, pdf)
    return pdf


def _render_bytes(letter: Letter, extra: dict | None = None) -> bytes:
    tenant = _tenant_of(letter)
    ctx = render_context(letter, tenant)
    ctx.update(extra or {})
    r = renderer()
    try:
        with _render_lock:
            pdf = r.render(letter.kind, ctx, tenant_code=tenant.code)
    except LetterError as exc:
        log.warning("letter %s could not be rendered: %s", letter.id, exc)
        raise ValidationFailed({"letter": _("文书无法生成：%(e)s", e=str(exc))})
    return pdf


def _lock(letter: Letter) -> Letter:
    """Re-read the letter under a row lock (PostgreSQL), so concurrent state changes serialize."""
    fresh = db.session.execute(db.select(Letter).filter_by(id=letter.id).with_for_update()
                               .execution_options(populate_existing=True)).scalar_one_or_none()
    if fresh is None:
        raise NotFound(_("文书不存在"))
    return fresh


def pdf_bytes(letter: Letter) -> bytes:
    """The stored PDF; when it is missing, damaged or lacks the void mark of a voided letter (its
    rendering job has not run yet), one rendered in memory. Reads never write: storing is the job's."""
    if not _needs_render(letter):
        pdf = letter.pdf
        if pdf is not None and hashlib.sha256(pdf).hexdigest() == letter.pdf_sha256:
            return pdf
        log.warning("letter %s: stored PDF missing or checksum mismatch, rendering in memory", letter.id)
    return _render_bytes(letter)


def render_transient(letter: Letter, extra: dict) -> bytes:
    """The letter rendered in memory with `extra` beside its stored context. Nothing is stored:
    this is for what must not be kept with the document (a member's self-service link, whose
    token exists only as a hash once the answer has gone)."""
    return _render_bytes(letter, extra)


# ---------------------------------------------------------------- background rendering

def runs_inline() -> bool:
    return inline()


def schedule_job(kind: str, params: dict, *, total: int = 0, user_id: int | None = None):
    """A job written in the caller's transaction (with its outbox entry) and sent to rq once it commits."""
    return schedule(kind, current_tenant_id(), params=params, total=total, user_id=user_id)


def render_later(letters: list[Letter], actor=None, *, force: bool = False, strict: bool = False):
    """Render in the background: an rq job after commit, or right now without Redis. `force`
    renders again letters already rendered. Returns the Job, or None when rendered inline."""
    letters = [x for x in letters if force or _needs_render(x)]
    if not letters:
        return None
    if runs_inline():
        for letter in letters:
            try:
                render_letter(letter)
            except ValidationFailed:
                if strict:
                    raise
        return None
    params = {"letter_ids": [x.id for x in letters]}
    if force:
        params["requested_at"] = clock.utcnow().isoformat()
    job = schedule_job("letters.render", params, total=len(letters), user_id=getattr(actor, "id", None))
    for letter in letters:
        letter.job_id = job.id
    db.session.flush()
    return job


# ---------------------------------------------------------------- issuing

def _unique_short_code() -> str:
    """A short code no letter of any tenant carries: checked in the index of lookup keys, whose
    primary key holds it unique across tenants (the letters themselves open to no other tenant)."""
    for _attempt in range(20):
        code = verify.new_short_code()
        if not lookup.taken(lookup.LETTER_CODE, lookup.digest(lookup.LETTER_CODE, code)):
            return code
    raise RuntimeError("no free short code")  # pragma: no cover - 31^8 codes


def _person_name(context: dict) -> str:
    member = context.get("member")
    if isinstance(member, dict):
        return str(member.get("name") or "")[:60]
    return ""


def _validity(validity_days, context: dict, today: date) -> date | None:
    if validity_days is not None:
        if isinstance(validity_days, bool) or not isinstance(validity_days, int) \
                or not 1 <= validity_days <= MAX_VALIDITY_DAYS:
            raise ValidationFailed({"validity_days": _("有效期应为1到%(n)d天", n=MAX_VALIDITY_DAYS)})
        return today + timedelta(days=validity_days)
    until = context.get("valid_until")
    if isinstance(until, datetime):
        return until.date()
    if isinstance(until, date):
        return until
    return None


def _create(kind: str, tenant: Tenant, seq: int, *, actor, subject_type: str, subject_id, context: dict,
            valid_until: date | None, today: date, audit: bool = True) -> Letter:
    ctx = dict(context or {})
    org_id = ctx.pop("_org_id", None)
    doc = {k: v for k, v in dict(ctx.get("doc") or {}).items() if k not in _DOC_COMPUTED}
    if not ctx.get("issuer"):
        ctx["issuer"] = tenant_issuer(tenant)
    token = verify.new_token()
    doc["verify_url"] = verify.verify_url(token)
    ctx["doc"] = doc
    letter = Letter(
        tenant_id=tenant.id, kind=kind, year=today.year, seq=seq,
        number=numbering.number_for(tenant, kind, today.year, seq),
        subject_type=str(subject_type)[:20], subject_id=subject_id, person_name=_person_name(ctx),
        org_id=org_id if isinstance(org_id, int) else None,
        issuer_name=str(ctx["issuer"].get("name") or "")[:100], issued_on=today, valid_until=valid_until,
        state=VALID, token=token, short_code=_unique_short_code(), context_enc=seal_context(ctx),
        created_by=getattr(actor, "id", None), render_count=0)
    db.session.add(letter)
    db.session.flush()
    verify.index(letter)
    if audit:
        record(actor, "issue", "letter", letter.id,
               after={"kind": kind, "number": letter.number, "subject": f"{subject_type}:{subject_id}",
                      "valid_until": valid_until},
               summary=f"{letter.kind_label} {letter.number} {letter.person_name}".strip())
    return letter


def _current_tenant() -> Tenant:
    tenant_id = current_tenant_id()
    if tenant_id is None:
        raise RuntimeError("letters are issued inside a tenant context")
    return db.session.get(Tenant, tenant_id)


def issue(kind: str, *, actor, subject_type: str, subject_id: int, context: dict,
          validity_days: int | None = None, render: str = "job"):
    """Issue a document of `kind` (render.KINDS) in the current tenant: take the next number of the
    tenant's yearly sequence for `kind` inside the caller's transaction (no gaps, no repeats), create
    the Letter row with its verification token and validity date (issue date + validity_days when
    given; else context["valid_until"] when it is a date), and render its PDF (render="job": an rq
    job after commit, inline without Redis; render="now": before returning; render="none": not stored until
    rendered on request; a download renders it in memory). Returns the Letter.

    The context is the print template's (render.py) without `doc`, which is computed here;
    `issuer` defaults to the tenant's organization department (with its seal). An optional
    context["_org_id"] names the organization the document concerns (a branch secretary sees the
    letters of their subtree); it is not printed."""
    if kind not in KINDS:
        raise ValueError(f"unknown letter kind {kind!r}")
    if render not in RENDER_MODES:
        raise ValueError(f"render must be one of {RENDER_MODES}")
    if not isinstance(context, dict):
        raise ValueError("context must be a dict")
    tenant = _current_tenant()
    today = clock.today()
    valid_until = _validity(validity_days, context, today)
    if validity_days is not None and "validity_days" not in context:
        context = {**context, "validity_days": validity_days}
    seq = numbering.next_number(tenant.id, kind, today.year)
    letter = _create(kind, tenant, seq, actor=actor, subject_type=subject_type, subject_id=subject_id,
                     context=context, valid_until=valid_until, today=today)
    if render == "now":
        render_letter(letter)
    elif render == "job":
        render_later([letter], actor)
    return letter


def issue_many(kind: str, items: list[tuple[str, int, dict]], *, actor) -> list[Letter]:
    """Issue several documents of one kind at once (a batch): one block of consecutive numbers.
    `items` are (subject_type, subject_id, context). Not rendered here: the batch job renders."""
    if kind not in KINDS:
        raise ValueError(f"unknown letter kind {kind!r}")
    tenant = _current_tenant()
    today = clock.today()
    numbers = numbering.next_numbers(tenant.id, kind, today.year, len(items))
    return [_create(kind, tenant, seq, actor=actor, subject_type=st, subject_id=sid, context=ctx,
                    valid_until=_validity(None, ctx, today), today=today)
            for seq, (st, sid, ctx) in zip(numbers, items)]


def void(actor, letter, reason: str = "") -> None:
    """Mark a letter void; it keeps its number. A void letter is not valid anywhere; its PDF is
    rendered again with the 作废 mark (a job after commit, at once without Redis)."""
    reason = plain(reason)
    if len(reason) > 200:
        raise ValidationFailed({"reason": _("作废原因不超过200个字符")})
    fresh = _lock(letter)
    if fresh.state == VOID:
        raise Conflict(_("该文书已作废"))
    if fresh.state == USED:
        raise Conflict(_("该文书已使用，不能作废"))
    before = fresh.state
    fresh.state = VOID
    fresh.void_reason = reason
    fresh.voided_at = clock.utcnow()
    if fresh.kind == ACTIVITY_CARD and fresh.subject_type == "member":
        documents.card_voided(actor, fresh)
    record(actor, "void", "letter", fresh.id, before={"state": before},
           after={"state": VOID, "reason": reason},
           summary=f"{fresh.kind_label} {fresh.number}")
    db.session.flush()
    render_later([fresh], actor)


def mark_used(actor, letter) -> None:
    """The letter did its work (the member arrived). Idempotent; a void letter cannot be used."""
    fresh = _lock(letter)
    if fresh.state == USED:
        return
    if fresh.state == VOID:
        raise Conflict(_("该文书已作废，不能再使用"))
    fresh.state = USED
    fresh.used_at = clock.utcnow()
    record(actor, "use", "letter", fresh.id, before={"state": VALID}, after={"state": USED},
           summary=f"{fresh.kind_label} {fresh.number}")
    db.session.flush()


def latest_for(subject_type: str, subject_id: int, kind: str):
    """The newest letter of `kind` for a subject, or None."""
    return db.session.execute(
        db.select(Letter).filter_by(subject_type=subject_type, subject_id=subject_id, kind=kind)
        .order_by(Letter.id.desc()).limit(1)).scalar_one_or_none()


def for_subject(subject_type: str, subject_id: int, limit: int = 20) -> list[Letter]:
    return list(db.session.execute(
        db.select(Letter).filter_by(subject_type=subject_type, subject_id=subject_id)
        .order_by(Letter.id.desc()).limit(limit)).scalars())


# ---------------------------------------------------------------- reading, for pages and the API

def scoped_query(principal):
    """The letters this principal may see (a branch secretary: those of their subtree)."""
    query = db.select(Letter)
    limit = scope.limit(principal)
    if limit is not None:
        sub = db.select(Organization.id).filter(orgs.subtree_filter(Organization.path, limit))
        query = query.filter(Letter.org_id.in_(sub))
    return query


def as_id(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_DB_INT else None


def get(principal, letter_id) -> Letter:
    number = as_id(letter_id)
    letter = None if number is None else db.session.execute(
        scoped_query(principal).filter(Letter.id == number)).scalar_one_or_none()
    if letter is None:
        raise NotFound(_("文书不存在"))
    return letter


def search(principal, *, kind: str = "", state: str = "", on=None, q: str = "", subject: str = ""):
    """Filtered letters, newest first; raises ValidationFailed on bad filters."""
    query = scoped_query(principal)
    errors = {}
    if kind:
        if kind not in KINDS:
            errors["kind"] = _("文书类型无效")
        else:
            query = query.filter(Letter.kind == kind)
    today = clock.today()
    if state:
        if state not in STATES:
            errors["state"] = _("状态应为：有效、已使用、已逾期、已作废")
        elif state == OVERDUE:
            query = query.filter(Letter.state == VALID, Letter.valid_until < today)
        elif state == VALID:
            query = query.filter(Letter.state == VALID,
                                 or_(Letter.valid_until.is_(None), Letter.valid_until >= today))
        else:
            query = query.filter(Letter.state == state)
    if on:
        try:
            day = parse_date(on)
        except ValueError:
            day = None
            errors["date"] = _("日期格式应为YYYY-MM-DD")
        if day:
            query = query.filter(Letter.issued_on == day)
    if subject:
        subject_type, _sep, subject_id = str(subject).partition(":")
        sid = as_id(subject_id)
        if not subject_type.isascii() or not subject_type.isalpha() or len(subject_type) > 20 or sid is None:
            errors["subject"] = _("应为 类型:编号，如 member:12")
        else:
            query = query.filter(Letter.subject_type == subject_type, Letter.subject_id == sid)
    text = plain(q)[:60]
    if text:
        code = verify.normalize_code(text)
        conditions = [Letter.person_name.contains(text, autoescape=True),
                      Letter.number.contains(text, autoescape=True)]
        if text.isascii() and text.isdigit() and len(text) <= 9:  # "²".isdigit() too, but int() refuses it
            conditions.append(Letter.seq == int(text))
        if code:
            conditions.append(Letter.short_code == code)
        query = query.filter(or_(*conditions))
    if errors:
        raise ValidationFailed(errors)
    return query.order_by(Letter.issued_on.desc(), Letter.id.desc())


def to_dict(letter: Letter) -> dict:
    state = letter.effective_state()
    return {
        "id": letter.id, "kind": letter.kind, "kind_label": letter.kind_label, "number": letter.number,
        "year": letter.year, "seq": letter.seq,
        "subject": {"type": letter.subject_type, "id": letter.subject_id},
        "member": letter.person_name or None, "issuer": letter.issuer_name,
        "issued_on": letter.issued_on.isoformat(),
        "valid_until": letter.valid_until.isoformat() if letter.valid_until else None,
        "state": state, "void_reason": letter.void_reason or None,
        "verify_code": letter.verify_code, "verify_url": verify.verify_url(letter.token),
        "rendered": letter.rendered_at is not None, "pdf_sha256": letter.pdf_sha256 or None,
        "render_count": letter.render_count,
    }


def kind_choices() -> list[tuple[str, str]]:
    return [(k, str(KIND_LABELS[k])) for k in KINDS]


# ---------------------------------------------------------------- user actions (pages and API)

def void_by_user(principal, letter: Letter, reason) -> None:
    """Voiding from a page or the API: a reason is required."""
    principal.require("letters")
    reason = plain(reason) if isinstance(reason, str) else ""
    if not reason:
        raise ValidationFailed({"reason": _("请填写作废原因")})
    void(principal.user, letter, reason)


def rerender(principal, letter: Letter):
    """Render the document again on request. Returns the job, or None when done inline."""
    principal.require("letters")
    record(principal.user, "render", "letter", letter.id, summary=f"{letter.kind_label} {letter.number}")
    return render_later([letter], principal.user, force=True, strict=True)


# ---------------------------------------------------------------- batches

def batch_query(principal):
    query = db.select(LetterBatch)
    limit = scope.limit(principal)
    if limit is not None:
        query = query.filter(LetterBatch.created_by == getattr(principal.user, "id", None))
    return query


def get_batch(principal, batch_id) -> LetterBatch:
    number = as_id(batch_id)
    batch = None if number is None else db.session.execute(
        batch_query(principal).filter(LetterBatch.id == number)).scalar_one_or_none()
    if batch is None:
        raise NotFound(_("批量任务不存在"))
    return batch


def recent_batches(principal, limit: int = 5) -> list[LetterBatch]:
    query = batch_query(principal).order_by(LetterBatch.id.desc()).limit(limit)
    return list(db.session.execute(query).scalars())


def batch_letters(batch: LetterBatch) -> list[Letter]:
    """The batch's letters in the batch's order."""
    return letters_by_ids(batch.letter_ids or [])


def letters_by_ids(ids) -> list[Letter]:
    """Letters of the current tenant in the given order (missing ids are left out)."""
    ids = [i for i in ids if isinstance(i, int)]
    found = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for letter in db.session.execute(db.select(Letter).filter(Letter.id.in_(chunk))).scalars():
            found[letter.id] = letter
    return [found[i] for i in ids if i in found]


def start_day_batch(principal, on, kind: str = "") -> LetterBatch:
    """All letters issued on a day (not void) in one printable PDF. The caller commits, then calls
    dispatch_batch."""
    principal.require("letters")
    try:
        day = parse_date(plain(on) if isinstance(on, str) else on)
    except (ValueError, TypeError):
        raise ValidationFailed({"date": _("日期格式应为YYYY-MM-DD")})
    if day is None:
        raise ValidationFailed({"date": _("请选择日期")})
    if kind and kind not in KINDS:
        raise ValidationFailed({"kind": _("文书类型无效")})
    query = scoped_query(principal).filter(Letter.issued_on == day, Letter.state != VOID)
    if kind:
        query = query.filter(Letter.kind == kind)
    ids = list(db.session.execute(query.with_only_columns(Letter.id)
                                  .order_by(Letter.kind, Letter.seq)).scalars())
    if not ids:
        raise ValidationFailed({"date": _("%(d)s 没有签发（未作废的）文书", d=day.isoformat())})
    title = _("%(d)s 签发的文书", d=day.isoformat()) + (f"（{KIND_LABELS[kind]}）" if kind else "")
    batch = LetterBatch(kind=LetterBatch.BATCH_DAY, title=title, on_date=day, letter_ids=ids, count=len(ids),
                        created_by=getattr(principal.user, "id", None))
    db.session.add(batch)
    db.session.flush()
    record(principal.user, "batch", "letter_batch", batch.id, after={"date": day, "count": len(ids)},
           summary=title)
    return batch


def dispatch_batch(batch: LetterBatch, user_id: int | None = None):
    """Start the batch's job (commits; inline without Redis). Call after committing the batch."""
    job = enqueue("letters.batch", batch.tenant_id, params={"batch_id": batch.id}, user_id=user_id,
                  total=batch.count)
    batch.job_id = job.id
    db.session.commit()
    return job


def batch_job(batch: LetterBatch):
    return get_job(batch.job_id) if batch.job_id else None
