"""Every page of the URL map at 390 px: the document is never wider than the phone's viewport.

The isolation sweep's world gives tenant B an object of every kind (members, transfers, letters,
agreements, standing records, a self-report); B's administrator then opens every GET page of the
URL map with B's values in chromium at 390×844. Answers that are not HTML pages (PDF, xlsx, zip,
JSON) are skipped, and so are the printed forms, which are A4 by design (PRINT_PAGES)."""

import pytest

from tests.e2e.conftest import login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
WIDTH = 390
# Printed on A4 paper: their width is the sheet's, on any screen.
PRINT_PAGES = {
    "worklist.greeting": "the political-birthday greeting letter, an A4 sheet",
    "standing.publish_print": "the half-year points notice, an A4 sheet",
}
SKIP = {"auth.logout", "static"}


def _url(rule, foreign):
    from tests import test_isolation_sweep as sweep

    values = {}
    for name in set(rule.arguments) - set(rule.defaults or {}):
        if name == "tenant":
            values[name] = sweep.B
            continue
        converter = rule._converters.get(name)
        if hasattr(converter, "items"):
            values[name] = sorted(converter.items)[0]
            continue
        spec = sweep._kind_of(rule, name)
        if spec is None:
            return None
        if isinstance(spec, tuple):
            values[name] = spec[1][0] if spec[0] == "values" else spec[1]
            continue
        if foreign.get(spec) is None:
            return None
        values[name] = foreign[spec]
    return rule.build(values, append_unknown=False)[1]


def test_every_page_fits_390_px(make, live_server, browser):
    from tests import test_isolation_sweep as sweep

    world = sweep.build_world(make)
    from flask import current_app

    rules = sorted(
        (
            r
            for r in current_app.url_map.iter_rules()
            if "GET" in r.methods
            and not r.rule.startswith("/api/")
            and r.endpoint not in SKIP
            and not r.endpoint.endswith(".static")
            and r.endpoint not in PRINT_PAGES
        ),
        key=lambda r: r.rule,
    )
    context = browser.new_context(viewport={"width": WIDTH, "height": 844}, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    too_wide, unfilled, seen = [], [], 0
    # Logged out first: the login form, /verify and a member's link page; then every page as B's admin.
    public = [
        r for r in rules if getattr(current_app.view_functions[r.endpoint], "_access", None) == "public"
    ]
    for rule in public + [None] + rules:
        if rule is None:
            login(page, live_server, "sweep-b-admin", PASSWORD)
            continue
        url = _url(rule, world.foreign)
        if url is None:
            unfilled.append(rule.rule)
            continue
        # Documents (PDF, xlsx, zip) would start a download: look at the answer's type first.
        head = context.request.get(live_server + url, max_redirects=0)
        if "text/html" not in (head.headers.get("content-type") or "") or 300 <= head.status < 400:
            continue
        page.goto(live_server + url)
        seen += 1
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > WIDTH:
            culprit = page.evaluate(
                """w => { const out = [];
                for (const el of document.querySelectorAll('body *')) {
                  const r = el.getBoundingClientRect();
                  if (r.right > w + 1 && !el.children.length) { out.push(el.tagName + "." + el.className); }
                  if (out.length > 2) break; }
                return out.join(', '); }""",
                WIDTH,
            )
            too_wide.append(f"{url} ({rule.endpoint}): {width} px; {culprit}")
    context.close()
    assert unfilled == [], f"URL values this test cannot fill: {unfilled}"
    assert seen > 40
    assert too_wide == [], f"{len(too_wide)} pages wider than {WIDTH} px:\n" + "\n".join(too_wide)
