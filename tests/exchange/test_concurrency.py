"""Two people acting on the same transfer at the same moment: exactly one succeeds, the other gets
a clean 409, on SQLite as on PostgreSQL. Real concurrent HTTP requests against a threaded server."""
import threading

import pytest

from portal.exchange.models import Transfer, TransferEvent
from portal.extensions import db
from portal.letters.models import Letter
from tests.exchange.conftest import A, B, http, rows


def race(requests: list[tuple]) -> list[tuple[int, dict]]:
    """Fire the requests at once (a barrier releases all threads together); answers in order."""
    barrier = threading.Barrier(len(requests))
    answers: list = [None] * len(requests)

    def worker(i, args):
        barrier.wait()
        answers[i] = http(*args)
    threads = [threading.Thread(target=worker, args=(i, args)) for i, args in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    return answers


def _submit(api, world, name):
    m = world.member(name=name)
    r = api("a_clerk").post(f"/t/{A}/transfers", {"member": m.id, "to_org": world.code("b_branch")})
    assert r.status_code == 201
    db.session.commit()
    db.session.remove()
    return r.get_json()["id"]


@pytest.mark.parametrize("round_", range(3))
def test_two_accepts_give_one_success_and_one_conflict(api, world, server, round_):
    second = world.make.user(B, "clerk", username=f"b-clerk-2-{round_}")
    second_token = world.make.token(second)
    tid = _submit(api, world, f"并发{round_}")
    url = f"{server}/api/v1/t/{B}/transfers/{tid}/accept"
    answers = race([("POST", url, world.tokens["b_clerk"]), ("POST", url, second_token)])
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200, 409], answers
    loser = next(body for status, body in answers if status == 409)
    assert loser["error"]["code"] == "conflict" and loser["error"]["message"]
    t = rows(Transfer, id=tid)[0]
    assert t.state == "accepted" and t.letter_count == 1
    # One acceptance in the history, one letter issued (the loser's number was given back).
    assert [e.action for e in rows(TransferEvent, transfer_id=tid)] == ["submit", "accept"]
    letters = rows(Letter, kind="introduction", subject_id=tid)
    assert len(letters) == 1 and letters[0].seq == 1


@pytest.mark.parametrize("round_", range(3))
def test_accept_against_cancel(api, world, server, round_):
    tid = _submit(api, world, f"撤销{round_}")
    answers = race([
        ("POST", f"{server}/api/v1/t/{B}/transfers/{tid}/accept", world.tokens["b_clerk"]),
        ("POST", f"{server}/api/v1/t/{A}/transfers/{tid}/cancel", world.tokens["a_clerk"]),
    ])
    statuses = [status for status, _ in answers]
    assert sorted(statuses) == [200, 409], answers
    t = rows(Transfer, id=tid)[0]
    accept_won = statuses[0] == 200
    assert t.state == ("accepted" if accept_won else "cancelled")
    events = [e.action for e in rows(TransferEvent, transfer_id=tid)]
    assert events == ["submit", "accept" if accept_won else "cancel"]
    assert len(rows(Letter, kind="introduction", subject_id=tid)) == (1 if accept_won else 0)
