"""The English catalog: Chinese is the default, ?lang=en switches (and sticks), and the compiled
catalog agrees with its source, placeholders included (a mismatch would break English pages)."""
import re
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.conftest import login

CATALOG = Path(__file__).resolve().parents[2] / "portal" / "translations" / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


def test_chinese_by_default_and_english_on_request(client):
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page and "Log in" not in page
    assert '<html lang="zh-CN">' in page

    english = client.get("/login?lang=en").get_data(as_text=True)
    assert "Log in" in english and "登录" not in english
    assert "Mobile Party Member Portal" in english
    assert '<html lang="en">' in english  # already on the first English page

    # the choice sticks for the session, and switches back
    again = client.get("/login").get_data(as_text=True)
    assert "Log in" in again and '<html lang="en">' in again
    assert "登录" in client.get("/login?lang=zh_Hans_CN").get_data(as_text=True)
    # an unknown language changes nothing
    assert "登录" in client.get("/login?lang=xx").get_data(as_text=True)


def test_errors_and_pages_after_login_speak_english(client, make):
    resp = client.post("/login?lang=en", data={"username": "nobody", "password": "wrong-password-1"})
    assert resp.status_code == 401
    assert "Incorrect username or password" in resp.get_data(as_text=True)

    api = client.get("/api/v1/t/110105/members?lang=en")
    assert api.status_code == 401
    assert api.get_json()["error"]["message"] == "Log in or send a valid token"

    make.user("110105", "tenant_admin", username="english-admin")
    login(client, "english-admin")
    home = client.get("/account?lang=en").get_data(as_text=True)
    assert "My account" in home and "Log out" in home and "Change password" in home


def test_compiled_catalog_matches_its_source_and_keeps_placeholders():
    po = read_po((CATALOG / "messages.po").open("rb"), locale="en")
    mo = read_mo((CATALOG / "messages.mo").open("rb"))
    compiled = {m.id: m.string for m in mo if m.id}
    translated = [m for m in po if m.id and m.string and "fuzzy" not in m.flags]
    assert len(translated) > 500
    problems = []
    for m in translated:
        if compiled.get(m.id) != m.string:
            problems.append(f"not compiled: {m.id}")
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        for source, text in zip(ids, strings):
            if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(text)):
                problems.append(f"placeholders differ: {source} -> {text}")
    assert problems == [], "run `pybabel compile -d portal/translations`:\n" + "\n".join(problems)
