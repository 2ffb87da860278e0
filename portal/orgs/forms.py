"""Forms of the organization pages. They render fields and check CSRF; the rules live in services."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.core.forms import choices
from portal.core.labels import options as labelled
from portal.i18n import lazy
from portal.orgs.models import KINDS, ROLE_LABELS, ROLES


class OrgForm(FlaskForm):
    code = StringField(lazy("组织代码"), validators=[Optional(), Length(max=24)],
                       description=lazy("留空则自动编号；全平台唯一，以本县区代码开头"))
    name = StringField(lazy("名称"), validators=[DataRequired(lazy("请输入名称")), Length(max=100)])
    kind = SelectField(lazy("组织类型"), choices=lambda: choices(labelled(KINDS)))
    parent = SelectField(lazy("上级组织"), choices=[], validate_choice=False)
    role = SelectField(lazy("流入地/流出地"), choices=[], default="both")
    region = StringField(lazy("所在地区代码"), validators=[Optional(), Length(max=6)],
                         description=lazy("6位行政区划代码，留空则为本县区"))
    address = StringField(lazy("地址"), validators=[Optional(), Length(max=200)])
    contact_name = StringField(lazy("联系人"), validators=[Optional(), Length(max=40)])
    contact_phone = StringField(lazy("联系电话"), validators=[Optional(), Length(max=40)])
    industries = TextAreaField(lazy("主要行业"), validators=[Optional(), Length(max=500)],
                               description=lazy("流动党员从事的主要行业，用顿号分隔"))
    accepting = BooleanField(lazy("接收新的流动党员"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = choices((r, ROLE_LABELS[r]) for r in ROLES)

    def data_for_service(self, *, with_code: bool, with_parent: bool) -> dict:
        data = {k: getattr(self, k).data for k in ("name", "kind", "role", "region", "address", "contact_name",
                                                    "contact_phone", "industries", "accepting")}
        if with_code:
            data["code"] = (self.code.data or "").strip()
        if with_parent:
            data["parent"] = self.parent.data or None
        return data


class MoveForm(FlaskForm):
    parent = SelectField(lazy("新的上级组织"), choices=[], validate_choice=False)
