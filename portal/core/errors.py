"""Errors that services raise and both pages and the API turn into clear answers."""


class PortalError(Exception):
    status = 400
    code = "error"

    def __init__(self, message: str = "", fields: dict | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(PortalError):
    status = 400
    code = "validation"

    def __init__(self, fields: dict | None = None, message: str = ""):
        if not message:
            message = "；".join(str(v) for v in (fields or {}).values()) or "输入有误"
        super().__init__(message, fields)


class Conflict(PortalError):
    """The state changed under the caller (e.g. a transfer already accepted)."""
    status = 409
    code = "conflict"


class NotFound(PortalError):
    status = 404
    code = "not_found"


class Forbidden(PortalError):
    status = 403
    code = "forbidden"


class RateLimited(PortalError):
    """Too many requests of one kind (api.md: 429)."""
    status = 429
    code = "rate_limited"
