"""Small helpers every API module uses: body parsing, pagination, the list shape."""
from flask import request
from sqlalchemy import func

from portal.core import paging
from portal.core.errors import ValidationFailed
from portal.core.parsing import parse_date
from portal.extensions import db
from portal.i18n import _

MAX_PER_PAGE = 200
MAX_PAGE = 1_000_000  # beyond this the SQL offset would overflow; no list is that long


def json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationFailed({"body": "请求体应为JSON对象"}, message="请求体应为JSON对象")
    return data


def page_args(default_per_page: int = 20) -> tuple[int, int]:
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", default_per_page))
    except ValueError:
        raise ValidationFailed({"page": "分页参数应为整数"})
    if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= MAX_PER_PAGE:
        raise ValidationFailed({"per_page": f"page 应≥1，per_page 应在1到{MAX_PER_PAGE}之间"})
    return page, per_page


def listing(query, to_dict, default_per_page: int = 20, *, key=None) -> dict:
    """The api.md list shape of `query`. With `key` (a model and the names of its sort columns,
    ending with id), a deep page is read by key (paging.numbered) instead of whole rows skipped."""
    page, per_page = page_args(default_per_page)
    if key is None:
        result = db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)
        return {"items": [to_dict(x) for x in result.items], "total": result.total, "page": page}
    model, columns = key
    total = db.session.execute(db.select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    rows = paging.numbered(query, model, columns, page=page, per_page=per_page) if total > (page - 1) * per_page else []
    return {"items": [to_dict(x) for x in rows], "total": total, "page": page}


def as_of_arg():
    """The optional ?as_of= date of a list (None when absent)."""
    raw = request.args.get("as_of", "")
    try:
        as_of = parse_date(raw) if raw else None
    except ValueError:
        raise ValidationFailed({"as_of": _("日期格式应为YYYY-MM-DD")})
    if as_of is not None and not 1900 <= as_of.year <= 2999:
        raise ValidationFailed({"as_of": _("日期无效")})
    return as_of
