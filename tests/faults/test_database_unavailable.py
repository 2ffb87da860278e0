"""The database unreachable (restarting, down): pages and the API answer 503 "try again", never 500.
The restart itself, with a real server, is in test_processes.py."""
from tests.conftest import login
from tests.jobs.support import app_like, closed_port


def test_pages_and_api_answer_503_when_the_database_is_unreachable(make, clean_app):
    user = make.user("110105", "clerk")
    up = clean_app.test_client()
    login(up, user.username)
    down = app_like(clean_app, SQLALCHEMY_DATABASE_URI=f"postgresql://portal@127.0.0.1:{closed_port()}/portal",
                    PROPAGATE_UNEXPECTED=False)
    web = down.test_client()  # the same signed-in person, whose session the database must confirm
    for cookie in up._cookies.values():
        web.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    for method, path, kwargs in (("post", "/login", {"data": {"username": "u", "password": "p"}}),
                                 ("get", "/t/110105/members/", {}), ("get", "/healthz", {})):
        resp = getattr(web, method)(path, **kwargs)
        assert resp.status_code == 503, (path, resp.status_code)
        assert int(resp.headers["Retry-After"]) > 0
        assert "数据库暂时不可用，请稍后再试" in resp.get_data(as_text=True)
    api = web.get("/api/v1/t/110105/members", headers={"Authorization": f"Bearer {make.token(user)}"})
    assert api.status_code == 503
    assert api.get_json() == {"error": {"code": "unavailable", "message": "数据库暂时不可用，请稍后再试"}}
