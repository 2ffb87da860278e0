from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from portal.i18n import lazy


class UserForm(FlaskForm):
    username = StringField(lazy("用户名"), validators=[DataRequired(lazy("请输入用户名")), Length(max=60)])
    display_name = StringField(lazy("姓名"), validators=[Optional(), Length(max=60)])
    role = SelectField(lazy("角色"), choices=[])
    org = SelectField(lazy("所属组织（支部书记）"), choices=[], validate_choice=False)


class TenantForm(FlaskForm):
    code = StringField(lazy("县区代码"), validators=[DataRequired(lazy("请输入县区代码")), Length(max=6)],
                       description=lazy("6位行政区划代码，如 320115"))
    name = StringField(lazy("名称"), validators=[DataRequired(lazy("请输入名称")), Length(max=60)],
                       description=lazy("如 南京市江宁区"))
    parent = StringField(lazy("上级地区代码"), validators=[Optional(), Length(max=6)],
                         description=lazy("市级或省级代码；留空则为所在市，如 320100"))


class PlatformAdminForm(FlaskForm):
    username = StringField(lazy("用户名"), validators=[DataRequired(lazy("请输入用户名")), Length(max=60)])
    display_name = StringField(lazy("姓名"), validators=[Optional(), Length(max=60)])
