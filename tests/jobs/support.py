"""Shared pieces of the job tests: a register upload (a job a person starts), a closed port, and an
app bound to the test database with other job settings."""
import io
import socket
from datetime import date

from openpyxl import Workbook

from portal import create_app
from tests.factories import id_number


def roster_file(code: str, org_code: str, name: str = "任务测试党员") -> bytes:
    book = Workbook()
    book.active.append(["姓名", "性别", "身份证号", "学历", "入党日期", "所在支部", "流动方向"])
    book.active.append([name, "男", id_number(code, date(1975, 5, 5), 141), "本科", "2000-07-01", org_code, "流出"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def closed_port() -> int:
    """A local port nothing listens on (Redis 'down')."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_like(app, **overrides):
    """Another app on the same database (a web process configured differently)."""
    settings = {k: v for k, v in app.config.items() if k.isupper()}
    settings.update(overrides)
    return create_app(settings)
