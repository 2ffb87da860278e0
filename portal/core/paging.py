"""Pagination of list pages, one way: the page number from ?page= (whatever a person types into
the URL), the configured page size, and Flask-SQLAlchemy's paginate without a 404 past the end."""
from flask import current_app, request

from portal.extensions import db

MAX_PAGE = 100_000  # no list is that long; a bigger offset would only load the database


def page_arg() -> int:
    page = request.args.get("page", 1, type=int) or 1
    return min(max(page, 1), MAX_PAGE)


def paginate(query, *, per_page: int | None = None, page: int | None = None, count: bool = True):
    """One page of `query` for a list page (page from ?page= unless given; PER_PAGE rows unless
    given). A page past the end is empty, not an error."""
    return db.paginate(query, page=page or page_arg(), per_page=per_page or current_app.config.get("PER_PAGE", 20),
                       error_out=False, count=count)
