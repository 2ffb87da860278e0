"""Forms of the letters pages. They render fields and carry the CSRF token; the rules (required,
limits, dates) live in the services, whose errors are put back on the fields."""
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from portal.i18n import lazy


class CertificateLetterForm(FlaskForm):
    to_place = StringField(lazy("前往地点"), validators=[Optional(), Length(max=100)],
                           render_kw={"placeholder": lazy("如：江苏省南京市江宁区"), "maxlength": 100})
    reason = StringField(lazy("外出事由"), validators=[Optional(), Length(max=200)],
                         render_kw={"placeholder": lazy("如：务工、经商、求学"), "maxlength": 200})
    valid_until = StringField(lazy("有效期至"), render_kw={"type": "date"})


class VoidForm(FlaskForm):
    reason = StringField(lazy("作废原因"), validators=[Optional(), Length(max=200)],
                         render_kw={"maxlength": 200, "placeholder": lazy("如：信息有误，需重新开具")})


class OpenLetterForm(FlaskForm):
    body = TextAreaField(lazy("正文"), render_kw={"rows": 12})
    org = SelectField(lazy("发给哪些党员"), choices=[], validate_choice=False)


class DayBatchForm(FlaskForm):
    date = StringField(lazy("签发日期"), render_kw={"type": "date"})
    kind = SelectField(lazy("文书类型"), choices=[], validate_choice=False)


def put_errors(form, fields: dict) -> bool:
    """Attach service errors to the form's fields; True when every error found a field."""
    placed = True
    for name, message in (fields or {}).items():
        field = getattr(form, name, None)
        if field is None or not hasattr(field, "errors"):
            placed = False
            continue
        field.errors = list(field.errors or []) + [str(message)]
    return placed
