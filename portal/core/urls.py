"""Absolute addresses for paper and e-mail (QR codes, verification and self-service links).

They come from PUBLIC_BASE_URL and never from the request: the Host header is whatever the
client chose to send, and a letter printed with evil.example in its QR code sends the reader
there.
"""
from flask import current_app


def public_url(path: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/" + path.lstrip("/")
