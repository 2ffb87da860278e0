"""Helpers shared by the letters tests (not a test module)."""
import io
import subprocess
from datetime import date

from portal.auth.access import Principal
from portal.extensions import db
from portal.letters import services
from tests.conftest import scope, tenant


def pdf_text(data: bytes) -> str:
    """The text of a PDF as pdftotext reads it (layout kept, so Chinese stays in reading order)."""
    out = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=data,
                         capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def flat(text: str) -> str:
    """Without whitespace: the renderer may wrap or space out filled-in blanks."""
    return "".join(text.split())


def first_page_png(data: bytes) -> bytes:
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(data)
        subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", "-singlefile", str(source),
                        str(Path(folder) / "page")], capture_output=True, check=True)
        return (Path(folder) / "page.png").read_bytes()


def dark_fraction(png: bytes) -> float:
    from PIL import Image
    image = Image.open(io.BytesIO(png)).convert("L")
    pixels = image.tobytes()
    return sum(1 for p in pixels if p < 128) / len(pixels)


def admin_principal(make, code="110105"):
    t = tenant(code)
    user = make.user(code, "tenant_admin")
    return Principal(user=user, tenant=t, grant=user.grant_for(t.id))


def intro_context(name="李四", from_org="朝阳区某街道党工委", to_org="江宁区某流动党员党支部"):
    return {
        "member": {"name": name, "sex": "男", "age": 36, "ethnicity": "汉族", "category": "正式党员",
                   "id_number": "110105199005170011", "phone": "13912345678"},
        "from_org": from_org, "to_org": to_org, "dues_paid_through": date(2026, 11, 1),
    }


def issue_intro(principal, code="110105", render="none", **ctx):
    with scope(code):
        letter = services.issue("introduction", actor=principal.user, subject_type="transfer", subject_id=1,
                                context=intro_context(**ctx), validity_days=30, render=render)
        db.session.commit()
        return letter


def reload(letter, code="110105"):
    """The letter as stored now, PDF included (readable outside the tenant scope)."""
    from sqlalchemy.orm import undefer
    from portal.letters.models import Letter
    with scope(code):
        db.session.expire_all()
        query = db.select(Letter).filter_by(id=letter.id).options(undefer(Letter.pdf))
        return db.session.execute(query).scalar_one()
