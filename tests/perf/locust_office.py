"""Locust users for `make bench-web` (tests/perf/bench_web.py starts it; not a test module).

Each simulated office clerk logs in to one county once, as a clerk does at the start of the day, and
works through the day's mix: the work list, a register search, a member's page, a contact recorded,
the transfer inbox, accepting or returning a transfer, the joint registry, the statistics and a
letter's PDF. What a user clicks next comes
from the page it is on (member, transfer and letter links), so the same file drives any database
whose users exist: BENCH_WEB_USERS names a JSON file of [{"code", "username"}], BENCH_WEB_PASSWORD
their password.

Request names (the rows of the report) group by page, not by URL. The users are FastHttpUser
(geventhttpclient): the load generator shares the machine's two cores with the portal, and
requests' HttpUser spends several times more CPU per request than the server is allowed.
"""
from __future__ import annotations

import json
import os
import random
import re
from datetime import date
from itertools import count

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

USERS = json.loads(open(os.environ["BENCH_WEB_USERS"], encoding="utf-8").read())
PASSWORD = os.environ["BENCH_WEB_PASSWORD"]
THINK = [float(x) for x in os.environ.get("BENCH_WEB_THINK", "0.1,0.3").split(",")]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
REGISTRY_WORDS = ("党支部", "服务站", "流动党员", "党委")
_next_user = count()


def _ids(pattern: str, text: str) -> list[int]:
    return [int(x) for x in re.findall(pattern, text)]


class OfficeClerk(FastHttpUser):
    wait_time = between(*THINK)

    def on_start(self):
        person = USERS[next(_next_user) % len(USERS)]
        self.code, self.username = person["code"], person["username"]
        self.members: list[int] = []
        self.inbox: list[int] = []
        self.letters: list[int] = []
        self.csrf = ""
        self.login()

    def _keep_token(self, text: str) -> None:
        found = CSRF.search(text)
        if found:
            self.csrf = found.group(1)

    def page(self, name: str, path: str) -> str:
        with self.client.get(path, name=name, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}")
                return ""
            self._keep_token(r.text)
            return r.text

    def post(self, name: str, path: str, data: dict, ok=(302,)) -> None:
        with self.client.post(path, name=name, data={**data, "csrf_token": self.csrf}, allow_redirects=False,
                              catch_response=True) as r:
            # 409: another clerk of the county took the same transfer first, the promised answer.
            if r.status_code not in ok + (409,):
                r.failure(f"{r.status_code}")

    def login(self) -> None:
        form = self.page("login form", "/login")
        self._keep_token(form)
        with self.client.post("/login", name="log in", data={"username": self.username, "password": PASSWORD,
                                                              "csrf_token": self.csrf},
                              allow_redirects=False, catch_response=True) as r:
            if r.status_code != 302:
                r.failure(f"{r.status_code}")
        self.worklist()

    @task(14)
    def worklist(self):
        self.page("work list", f"/t/{self.code}/worklist")

    @task(20)
    def register_search(self):
        text = self.page("register search", f"/t/{self.code}/members/?q={random.choice(SURNAMES)}")
        found = _ids(rf'href="/t/{self.code}/members/(\d+)"', text)
        if found:
            self.members = found

    @task(18)
    def member_page(self):
        if not self.members:
            return self.register_search()
        self.page("member page", f"/t/{self.code}/members/{random.choice(self.members)}")

    @task(8)
    def record_contact(self):
        if not self.members:
            return self.register_search()
        member = random.choice(self.members)
        self.post("record a contact", f"/t/{self.code}/members/{member}/contacts",
                  {"on": date.today().isoformat(), "channel": "电话", "note": "电话联系，近况良好"})

    @task(10)
    def transfer_inbox(self):
        text = self.page("transfer inbox", f"/t/{self.code}/exchange/transfers?box=incoming&state=submitted")
        self.inbox = sorted(set(_ids(rf'href="/t/{self.code}/exchange/transfers/(\d+)"', text)))

    @task(5)
    def accept_or_return(self):
        if not self.inbox:
            return self.transfer_inbox()
        transfer = self.inbox.pop(random.randrange(len(self.inbox)))
        self.page("transfer page", f"/t/{self.code}/exchange/transfers/{transfer}")
        if random.random() < 0.7:
            self.post("accept or return", f"/t/{self.code}/exchange/transfers/{transfer}/accept", {})
        else:
            self.post("accept or return", f"/t/{self.code}/exchange/transfers/{transfer}/return",
                      {"reason": "incomplete", "note": "请补充党员证明材料"})

    @task(8)
    def registry_search(self):
        self.page("registry search", f"/registry?q={random.choice(REGISTRY_WORDS)}")

    @task(6)
    def statistics(self):
        self.page("statistics", f"/t/{self.code}/reports/stats")

    @task(5)
    def letter_pdf(self):
        if not self.letters:
            text = self.page("letters list", f"/t/{self.code}/letters/")
            self.letters = sorted(set(_ids(rf'/t/{self.code}/letters/(\d+)\.pdf', text)))
            if not self.letters:
                return
        with self.client.get(f"/t/{self.code}/letters/{random.choice(self.letters)}.pdf", name="letter PDF",
                             catch_response=True) as r:
            if r.status_code != 200 or not r.content.startswith(b"%PDF"):
                r.failure(f"{r.status_code}")
