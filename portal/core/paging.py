"""The page number of a list page, from ?page=, whatever a person types into the URL."""
from flask import request

MAX_PAGE = 100_000  # no list is that long; a bigger offset would only load the database


def page_arg() -> int:
    page = request.args.get("page", 1, type=int) or 1
    return min(max(page, 1), MAX_PAGE)
