"""Browser tests: the app served on 127.0.0.1 by a real HTTP server in a thread, driven by
Playwright in Debian's chromium (never a downloaded browser). CSRF is on, as in production."""
import threading

import pytest
from werkzeug.serving import make_server



@pytest.fixture
def live_server(clean_app):
    clean_app.config["WTF_CSRF_ENABLED"] = True
    server = make_server("127.0.0.1", 0, clean_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    clean_app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    pg = context.new_page()
    yield pg
    context.close()


def login(page, base: str, username: str, password: str):
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
