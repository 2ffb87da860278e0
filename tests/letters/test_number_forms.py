"""One number, one document: each kind counts in its own sequence and prints a form that tells it
apart; the list, the PDF and the verification page show the same string; a tenant may set its
own forms; the short code is printed with the address where it is typed in."""
import subprocess
from datetime import date, datetime
from types import SimpleNamespace

import pytest
import time_machine

from portal.extensions import db
from portal.letters import numbering, services, verify
from portal.letters.models import Letter
from portal.tenancy.loader import TenantFileError, read_tenant_file
from tests.conftest import scope, tenant
from tests.letters.support import admin_principal, flat, intro_context, pdf_text, reload

JSON = {"Accept": "application/json"}


def _agreement_context():
    side = {"contact_name": "张联系", "contact_phone": "13800000000"}
    return {"agreement": {
        # the exchange's own reference; the document prints its own number instead
        "number": "110105-2026-0001",
        "origin_org": {"name": "朝阳区望京街道党工委", **side}, "host_org": {"name": "江宁区流动党员党委", **side},
        "members": [{"name": "李四", "sex": "男", "id_number_masked": "110105********0011"}],
        "duties_host": ["组织参加组织生活"], "duties_origin": ["及时通报情况"], "report_every": "quarter",
        "starts_on": date(2026, 3, 1), "ends_on": date(2027, 2, 28), "signed_on": date(2026, 3, 1)}}


def _issue(principal, kind, context, code="110105"):
    """The issued letter's values (read inside the tenant: on PostgreSQL row-level security hides
    the row from a refresh outside it)."""
    with scope(code):
        letter = services.issue(kind, actor=principal.user, subject_type="member", subject_id=1,
                                context=context, render="now")
        db.session.commit()
        return SimpleNamespace(id=letter.id, seq=letter.seq, number=letter.number, token=letter.token,
                               verify_code=letter.verify_code)


def _open_letter_context(name="李四"):
    return {"body": f"{name}同志：您好。", "member": {"name": name}}


@time_machine.travel(datetime(2026, 3, 2, 9, 0), tick=False)
def test_introduction_agreement_and_open_letter_each_print_their_own_number(make, client):
    """Was: all three "（朝组）字第 1 号"; the agreement PDF printed 协议编号：110105-2026-0001."""
    p = admin_principal(make)
    headers = {"Authorization": f"Bearer {make.token(p.user)}"}
    intro = _issue(p, "introduction", {**intro_context(), "validity_days": 30})
    agreement = _issue(p, "agreement", _agreement_context())
    letter = _issue(p, "open_letter", _open_letter_context())
    assert (intro.seq, agreement.seq, letter.seq) == (1, 1, 1)
    assert intro.number == "（朝组）字第 1 号"
    assert agreement.number == "（朝组）协字第 1 号"
    assert letter.number == "（朝组）函字第 1 号"

    listed = {x["id"]: x["number"] for x in
              client.get("/api/v1/t/110105/letters", headers=headers).get_json()["items"]}
    for issued in (intro, agreement, letter):
        assert listed[issued.id] == issued.number
        assert client.get(f"/verify/{issued.token}", headers=JSON).get_json()["number"] == issued.number
        assert issued.number in client.get(f"/verify/{issued.token}").get_data(as_text=True)
        assert flat(issued.number) in flat(pdf_text(reload(issued).pdf))
    agreement_text = flat(pdf_text(reload(agreement).pdf))
    assert "协议编号：（朝组）协字第1号" in agreement_text and "110105-2026-0001" not in agreement_text

    login_page = client.get("/verify?code=" + agreement.verify_code, headers=JSON).get_json()
    assert login_page["number"] == agreement.number


def test_every_kind_has_a_form_of_its_own():
    samples = [numbering.format_number(form, prefix="朝组", n=1, year=2026, code="110105")
               for form in numbering.DEFAULT_FORMATS.values()]
    assert len(set(samples)) == len(numbering.DEFAULT_FORMATS) == 6
    assert numbering.format_number(numbering.DEFAULT_FORMATS["introduction"], prefix="", n=3, year=2026,
                                   code="110105") == "第 3 号"
    assert numbering.format_number(numbering.DEFAULT_FORMATS["agreement"], prefix=None, n=3, year=2026,
                                   code="110105") == "协字第 3 号"


def test_the_short_code_is_printed_with_the_address_where_it_is_typed_in(make, client):
    p = admin_principal(make)
    letter = _issue(p, "introduction", {**intro_context(), "validity_days": 30})
    with scope("110105"):
        address = verify.lookup_url()
    assert address.endswith("/verify")
    # in drawing order: the layout view interleaves the wrapped address with the title beside it
    text = flat(subprocess.run(["pdftotext", "-raw", "-", "-"], input=reload(letter).pdf,
                               capture_output=True, check=True).stdout.decode("utf-8"))
    assert address in text and letter.verify_code in text
    path = address.split("://", 1)[1].split("/", 1)[1]
    page = client.get(f"/{path}?code={letter.verify_code}", headers=JSON)
    assert page.status_code == 200 and page.get_json()["number"] == letter.number


@time_machine.travel(datetime(2026, 5, 6, 9, 0), tick=False)
def test_a_tenant_sets_its_own_forms(make, client):
    with scope("110105"):
        t = tenant("110105")
        t.letter_numbers = {"introduction": "朝组介字〔{year}〕{n:03d}号"}
        db.session.commit()
    p = admin_principal(make)
    first = _issue(p, "introduction", {**intro_context(), "validity_days": 30})
    assert first.number == "朝组介字〔2026〕001号"
    assert "朝组介字〔2026〕001号" in flat(pdf_text(reload(first).pdf))
    # the kinds it did not set keep the defaults
    assert _issue(p, "open_letter", _open_letter_context()).number == "（朝组）函字第 1 号"


def _tenant_file(tmp_path, extra: str):
    path = tmp_path / "320116.toml"
    path.write_text('code = "320116"\nname = "南京市六合区"\nletter_prefix = "六组"\n' + extra, "utf-8")
    return path


def test_a_tenant_file_with_its_own_forms_is_read_and_checked(ctx, tmp_path):
    data = read_tenant_file(_tenant_file(tmp_path, '[letter_numbers]\nreceipt = "六组回〔{year}〕{n}号"\n'))
    assert data["letter_numbers"] == {"receipt": "六组回〔{year}〕{n}号"}
    assert read_tenant_file(_tenant_file(tmp_path, ""))["letter_numbers"] is None


@pytest.mark.parametrize("table, message", [
    ('[letter_numbers]\nletter = "{n}"\n', "文书类型 letter 无效"),
    ('[letter_numbers]\nreceipt = "回字第号"\n', "应含有 {n}"),
    ('[letter_numbers]\nreceipt = "{n.__class__}"\n', "应含有 {n}"),
    ('[letter_numbers]\nreceipt = "{n}{secret}"\n', "只能使用"),
    ('[letter_numbers]\nreceipt = "（{prefix}）字第 {n} 号"\n', "introduction 与 receipt 的文号格式相同"),
    ('[letter_numbers]\nreceipt = 7\n', "不超过40个字符"),
    ('letter_numbers = "x"\n', "letter_numbers 应为"),
])
def test_bad_forms_in_a_tenant_file_are_refused_in_chinese(ctx, tmp_path, table, message):
    with pytest.raises(TenantFileError) as error:
        read_tenant_file(_tenant_file(tmp_path, table))
    assert "320116.toml" in str(error.value) and message in str(error.value)


def test_numbers_of_each_kind_never_repeat_and_never_skip(make):
    p = admin_principal(make)
    for _ in range(3):
        _issue(p, "introduction", {**intro_context(), "validity_days": 30})
    _issue(p, "open_letter", _open_letter_context())
    _issue(p, "introduction", {**intro_context(), "validity_days": 30})
    with scope("110105"):
        rows = db.session.execute(db.select(Letter.kind, Letter.seq, Letter.number)
                                  .order_by(Letter.kind, Letter.seq)).all()
    assert [(k, s) for k, s, _n in rows] == [("introduction", 1), ("introduction", 2), ("introduction", 3),
                                              ("introduction", 4), ("open_letter", 1)]
    assert len({n for _k, _s, n in rows}) == 5
