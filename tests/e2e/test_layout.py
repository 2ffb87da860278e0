"""In a real browser at 1366 px: the header fits one line in English and Chinese, and search
buttons keep their label on one line."""
import pytest

from tests.e2e.conftest import login
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e


def _height(page, selector: str) -> float:
    return page.eval_on_selector(selector, "e => e.getBoundingClientRect().height")


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_the_header_fits_one_line_at_1366(make, live_server, page, lang):
    make.user("110105", "tenant_admin", username="layout-admin")  # the role with the most menu entries
    page.goto(f"{live_server}/login?lang={lang}")
    login(page, live_server, "layout-admin", PASSWORD)
    page.goto(f"{live_server}/t/110105/members/")
    brand = _height(page, "nav.portal-nav .navbar-brand")
    assert _height(page, "nav.portal-nav") < brand * 2 + 20, "the header wraps onto a second line"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


def test_search_buttons_keep_their_label_on_one_line(make, live_server, page):
    make.user("110105", "clerk", username="layout-clerk")
    login(page, live_server, "layout-clerk", PASSWORD)
    page.goto(f"{live_server}/t/110105/exchange/transfers")
    button = "form:has(input[name=q]) button"
    line = page.eval_on_selector(button, "e => parseFloat(getComputedStyle(e).lineHeight)")
    assert _height(page, button) < line * 1.9
