"""Production logs are JSON lines without personal numbers: the app's own records, and gunicorn's
access and error lines as the image runs it (docker/gunicorn.conf.py)."""
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import requests

from portal import create_app
from portal.core import logs
from tests.conftest import until
from tests.factories import id_number
from tests.faults.support import free_port

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {"SECRET_KEY": "s3cr3t-" + "x" * 40, "FIELD_KEY": "f13ld-" + "y" * 40,
              "PUBLIC_BASE_URL": "https://portal.example.gov.cn"}
NUMBER = id_number("110105")
TERM = "张三丰"


def test_a_production_log_line_is_json_and_carries_no_id_number_or_search_term(tmp_path):
    create_app({**PRODUCTION, "ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})
    handler = logs.json_lines()
    assert [h for h in logging.getLogger().handlers if isinstance(h.formatter, logs.JsonFormatter)] == [handler]
    out = io.StringIO()
    previous = handler.setStream(out)
    try:
        log = logging.getLogger("portal.members.services")
        log.info("GET /t/110105/members/?q=%s&id_number=%s answered", TERM, NUMBER)
        try:
            raise ValueError(f"no member with {NUMBER}")
        except ValueError:
            log.exception("lookup of %s failed", NUMBER)
    finally:
        handler.setStream(previous)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    entries = [json.loads(line) for line in lines]
    assert entries[0]["level"] == "INFO" and entries[0]["logger"] == "portal.members.services"
    assert entries[0]["message"] == f"GET /t/110105/members/?{logs.REDACTED} answered"
    assert entries[0]["time"].endswith("+00:00")
    assert entries[1]["level"] == "ERROR" and "ValueError" in entries[1]["exception"]
    for line in lines:
        assert NUMBER not in line and TERM not in line


def test_gunicorn_as_the_image_runs_it_logs_json_without_the_query(tmp_path):
    port = free_port()
    env = {**os.environ, **PRODUCTION, "PORTAL_ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}",
           "WEB_CONCURRENCY": "1", "WEB_THREADS": "2"}
    env.pop("REDIS_URL", None)
    errors = open(tmp_path / "stderr", "wb")
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen([str(gunicorn), "-c", str(ROOT / "docker" / "gunicorn.conf.py"), "-b", f"127.0.0.1:{port}",
                             "portal:create_app()"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    try:
        def answers():
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code in (200, 503)
            except requests.RequestException:
                return False
        assert until(answers, timeout=30)
        r = requests.get(f"http://127.0.0.1:{port}/t/110105/members/", params={"q": TERM, "id_number": NUMBER},
                         allow_redirects=False, timeout=10)
        assert r.status_code < 500
        assert until(lambda: "/t/110105/members/" in (tmp_path / "stderr").read_text(encoding="utf-8"), timeout=10)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        errors.close()
    lines = (tmp_path / "stderr").read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]  # every line, the master's too
    access = [e for e in entries if e["logger"] == "gunicorn.access" and "/t/110105/members/" in e["message"]]
    assert len(access) == 1 and f"?{logs.REDACTED}" in access[0]["message"]
    assert any(e["logger"] == "gunicorn.error" for e in entries)
    text = "\n".join(lines)
    assert NUMBER not in text and TERM not in text and "%E5%BC%A0" not in text
