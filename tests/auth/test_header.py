"""The header's entries and links are built once per tenant, role, language and mount point
(portal.web.header_nav, header_url): what each user sees must still follow them."""
import re

from tests.conftest import login


def _nav(page: str) -> list[tuple[str, str, bool]]:
    return [(label, href, "active" in cls) for cls, href, label in re.findall(
        r'<a class="nav-link text-danger-emphasis ([^"]*)" href="([^"]*)">([^<]+)</a>', page)]


def test_nav_follows_role_tenant_and_language(setup, clean_app):
    setup(lambda f: (f.user("110105", "tenant_admin", username="adm"), f.user("110105", "clerk", username="clk"),
                     f.user("320115", "clerk", username="clk2")))
    admin, clerk, other = clean_app.test_client(), clean_app.test_client(), clean_app.test_client()
    login(admin, "adm"), login(clerk, "clk"), login(other, "clk2")

    page = admin.get("/t/110105/worklist").get_data(as_text=True)
    nav = _nav(page)
    assert ("待办", "/t/110105/worklist", True) in nav and ("用户", "/t/110105/users", False) in nav
    assert [active for *_, active in nav].count(True) == 1
    clerk_nav = _nav(clerk.get("/t/110105/worklist").get_data(as_text=True))
    assert "用户" not in [label for label, *_ in clerk_nav] and ("待办", "/t/110105/worklist", True) in clerk_nav
    # The same role in another tenant: that tenant's URLs, not the cached ones of the first.
    assert ("待办", "/t/320115/worklist", True) in _nav(other.get("/t/320115/worklist").get_data(as_text=True))
    # Another page: another entry active.
    stats = _nav(clerk.get("/t/110105/reports/stats").get_data(as_text=True))
    assert ("统计", "/t/110105/reports/stats", True) in stats and ("待办", "/t/110105/worklist", False) in stats
    # English labels after switching, Chinese again after switching back.
    english = clerk.get("/t/110105/worklist?lang=en").get_data(as_text=True)
    assert "待办" not in [label for label, *_ in _nav(english)] and 'href="/account"' in english
    assert ("待办", "/t/110105/worklist", True) in _nav(clerk.get("/t/110105/worklist?lang=zh_Hans_CN")
                                                         .get_data(as_text=True))


def test_template_translations_keep_percent_and_escaping(app):
    with app.test_request_context("/"):
        from flask import render_template_string
        assert render_template_string("{{ _('100%%') }}|{{ _('共 %(n)d 项', n=3) }}|{{ _('<b>') }}") \
            == "100%|共 3 项|<b>"
        assert render_template_string("{{ _('%(x)s', x='<i>') }}") == "&lt;i&gt;"
