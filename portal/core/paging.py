"""Pagination of list pages: the page number from ?page= (whatever a person types into the URL),
the configured page size, and Flask-SQLAlchemy's paginate without a 404 past the end; for long
lists with a stable order (the register), reading by the sort key instead of an offset (seek)."""
from flask import current_app, request
from sqlalchemy import tuple_

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


class Page:
    """Page `page` of a list of `total` rows, read by the caller (by offset, or sliced from a list in
    memory), with the attributes of Flask-SQLAlchemy's Pagination the `pager` macro reads."""

    def __init__(self, items, *, page: int, per_page: int, total: int):
        self.items, self.page, self.per_page, self.total = items, page, per_page, total
        self.pages = max(1, -(-total // per_page))
        self.has_prev, self.has_next = page > 1, page < self.pages
        self.prev_num, self.next_num = page - 1, page + 1


def in_memory(rows: list, page: int, per_page: int) -> Page:
    """The page of a list already read whole (a page past the end shows the last one)."""
    page = min(max(page, 1), max(1, -(-len(rows) // per_page)))
    start = (page - 1) * per_page
    return Page(rows[start:start + per_page], page=page, per_page=per_page, total=len(rows))


class SeekPage(Page):
    """One page of a list read by its sort key (keyset or seek pagination) instead of an offset.

    The page after this one starts past its last row (?after=<id>), the one before ends before its
    first row (?before=<id>); either is an index range read, so page 150 costs what page 2 costs.
    A page named by its number alone (the first page, an address typed in) is read by `numbered`.
    Besides Page's attributes, the query arguments of the neighbouring pages (`prev_args`,
    `next_args`); whether they exist is what the read found, not what the count says."""

    def __init__(self, items, *, page: int, per_page: int, total: int, has_prev: bool, has_next: bool):
        super().__init__(items, page=page, per_page=per_page, total=total)
        self.has_prev, self.has_next = has_prev, has_next

    @property
    def prev_args(self) -> dict:
        return {"page": self.prev_num, "before": self.items[0].id, "after": None}

    @property
    def next_args(self) -> dict:
        return {"page": self.next_num, "after": self.items[-1].id, "before": None}


def seek(query, model, key: tuple[str, ...], *, page: int, per_page: int, total: int,
         after: int | None = None, before: int | None = None, descending: bool = False) -> SeekPage:
    """The page of `query` (a select of `model`) ordered by the columns `key`, which end with `id`
    and are never NULL. `after`/`before` name the row the page follows or precedes (an id); a row
    that is gone by then (deleted, moved to another list) falls back to the page's number."""
    columns = [getattr(model, name) for name in key]
    page = min(max(page, 1), max(1, -(-total // per_page)))
    anchor_id = after if after is not None else before
    if anchor_id is not None and 0 < anchor_id < 2 ** 31:
        # The anchor's key read inside the same statement, so the address carries an id, never a
        # name; read through `query` itself, so a row the reader may not see (another branch's
        # member, a row since moved to another list) anchors nothing and its name cannot be
        # located among the visible ones.
        values = [query.with_only_columns(getattr(model, name)).filter(model.id == anchor_id).order_by(None)
                  .correlate(None).scalar_subquery() for name in key]
        forward = after is not None
        later = forward != descending
        bound = tuple_(*columns) > tuple_(*values) if later else tuple_(*columns) < tuple_(*values)
        order = [c.asc() if later else c.desc() for c in columns]
        rows = db.session.execute(query.filter(bound).order_by(None).order_by(*order).limit(per_page + 1)) \
            .scalars().all()
        if rows:
            more = len(rows) > per_page
            rows = rows[:per_page]
            if forward:
                return SeekPage(rows, page=page, per_page=per_page, total=total, has_prev=True, has_next=more)
            return SeekPage(rows[::-1], page=page, per_page=per_page, total=total, has_prev=more, has_next=True)
    rows = numbered(query, model, key, page=page, per_page=per_page, descending=descending, extra=1)
    return SeekPage(rows[:per_page], page=page, per_page=per_page, total=total, has_prev=page > 1,
                    has_next=len(rows) > per_page)


def numbered(query, model, key: tuple[str, ...], *, page: int, per_page: int, descending: bool = False,
             extra: int = 0) -> list:
    """Rows of page `page` (from 1) of `query` ordered by `key` (and `extra` rows beyond, to tell
    whether a next page exists), for a caller that has only the number: the API's ?page=, an
    address typed in. The offset is walked over the key columns alone and the page's rows are then
    read by id, so on a deep page the database sorts and skips narrow key tuples instead of whole
    register rows. One statement."""
    order = [getattr(model, name).desc() if descending else getattr(model, name) for name in key]
    if page == 1:
        return db.session.execute(query.order_by(None).order_by(*order).limit(per_page + extra)).scalars().all()
    ids = query.with_only_columns(model.id).order_by(None).order_by(*order) \
        .limit(per_page + extra).offset((page - 1) * per_page)
    # The ids already passed the query's filters; the outer read is by key alone.
    return db.session.execute(db.select(model).filter(model.id.in_(ids.scalar_subquery())).order_by(*order)) \
        .scalars().all()
