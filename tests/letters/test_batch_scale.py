"""Batches at the sizes a county office has: Chaoyang writes to 154 outgoing members at once, a
big district to several hundred. Each letter carries its own QR code image, so a batch lays out
hundreds of documents that all hold images until the combined PDF is written."""
import datetime as dt
import subprocess

import pytest

from portal.letters.render import Renderer
from tests.letters.support import flat, pdf_text

SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏水窦章云苏潘葛奚范彭郎鲁韦昌马苗凤花方俞任袁柳鲍史唐费廉岑薛雷贺倪汤"
GIVEN = "建国明华伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛超"


def names(count: int) -> list[str]:
    """Distinct, plausible names (surname, one or two given characters)."""
    out = []
    for i in range(count):
        first = SURNAMES[i % len(SURNAMES)]
        rest = GIVEN[(i // len(SURNAMES)) % len(GIVEN)] + GIVEN[(i * 7) % len(GIVEN)]
        out.append(first + rest)
    assert len(set(out)) == count
    return out


def page_count(pdf: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def open_letter_context(i: int, name: str) -> dict:
    return {"body": f"{name}同志：您在外工作辛苦了。", "member": {"name": name},
            "issuer": {"name": "中共北京市朝阳区委组织部"},
            "doc": {"number": f"（朝组）字第 {i} 号", "issued_on": dt.date(2026, 11, 23),
                    "verify_url": f"https://portal.example/verify/letter-{i}", "verify_code": "K7Q2-9XHD"}}


def test_a_combined_pdf_of_154_letters_each_with_its_own_qr_code():
    """Was: KeyError '…-source-' while writing, once more than 256 images had been cached (the
    cache was emptied under the documents still waiting to be written)."""
    people = names(154)
    pdf = Renderer().render_combined("open_letter",
                                     [open_letter_context(i, n) for i, n in enumerate(people, 1)])
    assert page_count(pdf) == 154
    text = flat(pdf_text(pdf))
    assert all(f"{n}同志：您在外工作辛苦了" in text for n in people)
    assert "（朝组）字第154号" in text


# ----------------------------------------------------------------------------- the batch job

import io  # noqa: E402
import zipfile  # noqa: E402

from portal.extensions import db  # noqa: E402
from portal.jobs.queue import wait  # noqa: E402
from portal.letters.models import Letter, LetterBatch  # noqa: E402
from tests.conftest import login, scope, tenant  # noqa: E402

BODY = "{{姓名}}同志：您在{{流向地区}}工作，{{支部}}惦记着您。"


def _outgoing(make, count: int) -> list[str]:
    branches = [make.org("110105", name="望京第一党支部"), make.org("110105", name="酒仙桥党支部")]
    people = names(count)
    for i, name in enumerate(people):
        make.member("110105", branches[i % 2], name=name, region=("江苏省南京市", "广东省深圳市")[i % 3 == 0])
    return people


def _batch(batch_id):
    from sqlalchemy.orm import undefer
    with scope("110105"):
        db.session.expire_all()
        return db.session.execute(db.select(LetterBatch).filter_by(id=batch_id)
                                  .options(undefer(LetterBatch.pdf))).scalar_one()


def _numbers():
    with scope("110105"):
        db.session.expire_all()
        return [(x.person_name, x.number) for x in db.session.execute(
            db.select(Letter).filter_by(kind="open_letter").order_by(Letter.seq)).scalars()]


@pytest.mark.slow
def test_the_open_letter_to_500_members_completes_with_one_page_each_and_a_zip(make, client):
    people = _outgoing(make, 500)
    headers = {"Authorization": f"Bearer {make.token(make.user('110105', 'clerk'))}"}
    resp = client.post("/api/v1/t/110105/letters/open-letter", json={"body": BODY}, headers=headers)
    assert resp.status_code == 202 and resp.get_json()["count"] == 500
    # generous: the machine may be shared (idle, the job takes about a minute)
    job = wait(resp.get_json()["job"], tenant("110105").id, timeout=900)
    assert job.state == "done" and not job.error and job.done_count == 500, job.error

    batch_id = resp.get_json()["batch"]
    combined = _batch(batch_id).pdf
    assert page_count(combined) == 500
    text = flat(pdf_text(combined))
    assert all(f"{n}同志：您在" in text for n in people)
    numbers = _numbers()
    assert len({n for _p, n in numbers}) == 500

    archive = client.get(f"/api/v1/t/110105/letters/batches/{batch_id}.zip", headers=headers)
    assert archive.status_code == 200 and archive.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.data)) as z:
        entries = z.namelist()
        assert len(entries) == 500
        assert all(any(n in e for e in entries) for n in people)
        for entry in entries[::50]:  # each file is that member's letter, alone
            page = z.read(entry)
            assert page_count(page) == 1
            person = next(n for n in people if n in entry)
            assert f"{person}同志：您在" in flat(pdf_text(page))


def test_a_failed_batch_says_why_in_chinese_and_finishes_with_the_same_numbers(make, client):
    people = _outgoing(make, 40)
    user = make.user("110105", "clerk")
    headers = {"Authorization": f"Bearer {make.token(user)}"}
    # one letter cannot be read (its stored context is damaged): the batch stops on it
    original = {}

    def damage(letter):
        original["context"] = letter.context_enc
        letter.context_enc = "damaged"

    from portal.letters import services
    real_issue_many = services.issue_many

    def issue_many(*args, **kwargs):
        letters = real_issue_many(*args, **kwargs)
        damage(letters[25])
        original["id"] = letters[25].id
        return letters

    services.issue_many = issue_many
    try:
        resp = client.post("/api/v1/t/110105/letters/open-letter", json={"body": BODY}, headers=headers)
    finally:
        services.issue_many = real_issue_many
    assert resp.status_code == 202
    batch_id = resp.get_json()["batch"]
    job = wait(resp.get_json()["job"], tenant("110105").id, timeout=120)
    state, error = job.state, job.error
    assert state == "failed"
    numbers = _numbers()
    broken = numbers[25][1]  # letters are numbered in the order they were issued
    assert error.startswith(f"文书 {broken}（") and "重新生成" in error
    assert "Error" not in error and "'" not in error

    login(client, user.username)
    page = client.get(f"/t/110105/letters/batches/{batch_id}").get_data(as_text=True)
    assert "失败" in page and f"文书 {broken}（" in page and "未能生成" in page

    with scope("110105"):
        letter = db.session.get(Letter, original["id"])
        letter.context_enc = original["context"]
        db.session.commit()
    again = client.post(f"/t/110105/letters/batches/{batch_id}/restart")
    assert again.status_code == 302
    job = wait(_batch(batch_id).job_id, tenant("110105").id, timeout=120)
    assert job.state == "done", job.error
    assert _numbers() == numbers  # nothing issued again, nothing renumbered
    batch = _batch(batch_id)
    assert page_count(batch.pdf) == 40
    text = flat(pdf_text(batch.pdf))
    assert all(f"{n}同志：您在" in text for n in people)


def test_a_failure_writing_the_combined_pdf_is_a_plain_chinese_message(make, client, monkeypatch):
    from portal.jobs.queue import runs_inline
    if not runs_inline():
        pytest.skip("patches the renderer in this process; the worker is another process")
    _outgoing(make, 6)
    from portal.letters import services

    def broken(r, document):
        if len(document.pages) > 1:
            raise KeyError("2cdf2058682f73ff79316804603b193e-source-")
        return real(r, document)

    real = services.write_pdf
    monkeypatch.setattr(services, "write_pdf", broken)
    headers = {"Authorization": f"Bearer {make.token(make.user('110105', 'clerk'))}"}
    resp = client.post("/api/v1/t/110105/letters/open-letter", json={"body": BODY}, headers=headers)
    job = wait(resp.get_json()["job"], tenant("110105").id)
    assert job.state == "failed"
    assert job.error == "合订PDF未能生成。各份文书的文号已保留，请点击“重新生成”重试。"
