"""Forms of the standing pages. They render fields and carry CSRF; the rules (months, amounts,
dates, points, who may be named) live in standing.services, whose Chinese messages the views put
next to the fields."""
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from portal.i18n import lazy
from portal.core.forms import choices as options
from portal.standing.models import ORG_LIFE_KINDS


def _date(label):
    return StringField(label, validators=[Optional()], render_kw={"type": "date", "max": "9999-12-31"})


class DuesForm(FlaskForm):
    month = StringField(lazy("缴费月份"), render_kw={"type": "month", "placeholder": "YYYY-MM"})
    amount = StringField(lazy("金额（元，可不填）"), render_kw={"inputmode": "decimal", "maxlength": 14})

    def values(self) -> dict:
        return {"month": self.month.data, "amount": self.amount.data}


class OrgLifeForm(FlaskForm):
    on = _date(lazy("日期"))
    kind = SelectField(lazy("类型"), choices=options((k, k) for k in ORG_LIFE_KINDS), validate_choice=False)
    note = TextAreaField(lazy("内容"), render_kw={"rows": 1, "maxlength": 2000})

    def values(self) -> dict:
        return {"on": self.on.data, "kind": self.kind.data, "note": self.note.data}


class CertificateForm(FlaskForm):
    number = StringField(lazy("活动证编号"), render_kw={"maxlength": 40})
    issued_on = _date(lazy("发证日期"))

    def values(self) -> dict:
        return {"number": self.number.data, "issued_on": self.issued_on.data}


class StepForm(FlaskForm):
    """The date of a certificate's check or return (today when empty)."""
    on = _date(lazy("日期"))

    def values(self) -> dict:
        return {"on": self.on.data}


class ActivityForm(FlaskForm):
    title = StringField(lazy("活动名称"), render_kw={"maxlength": 200})
    on = _date(lazy("日期"))
    points = StringField(lazy("积分"), render_kw={"inputmode": "decimal", "maxlength": 6})
    org = SelectField(lazy("组织"), validate_choice=False)

    def values(self) -> dict:
        return {"title": self.title.data, "on": self.on.data, "points": self.points.data, "org": self.org.data}


class AttendeesForm(FlaskForm):
    org = SelectField(lazy("按组织添加全部党员"), validate_choice=False)
    lines = TextAreaField(lazy("按姓名或身份证号添加（每行一个）"), render_kw={"rows": 4})

    def values(self) -> dict:
        return {"org": self.org.data or "", "lines": self.lines.data or ""}
