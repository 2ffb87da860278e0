"""Security headers on every answer.

A small after_request hook rather than flask-talisman: the policy is a handful of constant
headers, and keeping them here means one place to read and test them.

- Content-Security-Policy (HTML pages): scripts, styles, images, fonts and fetches only from the
  portal itself; no inline script or style (templates keep theirs in portal/static/), no
  plugins, no <base>, forms post only here, and no other site may frame a page.
- X-Frame-Options DENY for browsers that ignore frame-ancestors.
- X-Content-Type-Options nosniff: an uploaded file or JSON answer is never run as script.
- Referrer-Policy no-referrer: verification and self-service links carry tokens in their paths.
- Cache-Control no-store on everything but the static files: pages, PDFs and spreadsheets hold
  personal data, and a shared office computer's cache must not keep them.
- Strict-Transport-Security in production only (a development server speaks plain HTTP).
"""

CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HSTS = "max-age=31536000; includeSubDomains"


def init_app(app):
    production = app.config.get("ENV_NAME") == "production"

    @app.after_request
    def _security_headers(resp):
        headers = resp.headers
        if resp.mimetype == "text/html":
            # Only on HTML: Chromium's PDF viewer is itself a plugin that object-src 'none' would block.
            headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if not _is_static(app):
            headers["Cache-Control"] = "no-store"
            headers.pop("Expires", None)
            headers.pop("ETag", None)
        if production:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return resp


def _is_static(app) -> bool:
    from flask import request
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")
