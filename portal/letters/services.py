"""Issuing formal documents: numbering, storage, verification state. (Interface; the letters
work fills it in.) Callers (the exchange, the register) build the template context; this module
gives it a number, a verification token, a stored PDF, and a life (valid, used, overdue, void)."""


def issue(kind: str, *, actor, subject_type: str, subject_id: int, context: dict,
          validity_days: int | None = None, render: str = "job"):
    """Issue a document of `kind` (render.KINDS) in the current tenant: take the next number of the
    tenant's yearly sequence for `kind` inside the caller's transaction (no gaps, no repeats), create
    the Letter row with its verification token and validity date (issue date + validity_days when
    given), and render its PDF (render="job": an rq job after commit, inline without Redis;
    render="now": before returning). Returns the Letter."""
    raise NotImplementedError


def void(actor, letter, reason: str = "") -> None:
    """Mark a letter void; it keeps its number."""
    raise NotImplementedError


def mark_used(actor, letter) -> None:
    """The letter did its work (the member arrived)."""
    raise NotImplementedError


def pdf_bytes(letter) -> bytes:
    """The stored PDF, rendered on first need."""
    raise NotImplementedError


def latest_for(subject_type: str, subject_id: int, kind: str):
    """The newest letter of `kind` for a subject, or None."""
    raise NotImplementedError
