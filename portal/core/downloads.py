"""File answers (PDFs, zips) for pages and the API alike."""
import io
import re

from flask import send_file


def safe_filename(text: str, fallback: str = "letter") -> str:
    """A download name without path separators, quotes or spaces (Chinese kept)."""
    return re.sub(r'[\s\\/:*?"<>|]+', "", text)[:120] or fallback


def file_response(data: bytes, filename: str, *, inline: bool = False, mimetype: str = "application/pdf"):
    """A download with its Chinese name (Werkzeug writes RFC 5987 filename*= and an ASCII fallback).
    Personal data: never cached."""
    resp = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=not inline, download_name=filename,
                     etag=False, max_age=0)
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
