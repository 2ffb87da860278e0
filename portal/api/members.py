"""API routes of this feature (see api.md)."""
from portal.api.blueprint import bp  # noqa: F401
