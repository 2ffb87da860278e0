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
