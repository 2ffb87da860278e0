from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from portal.i18n import lazy


class LoginForm(FlaskForm):
    username = StringField(lazy("用户名"), validators=[DataRequired(lazy("请输入用户名")), Length(max=60)])
    password = PasswordField(lazy("密码"), validators=[DataRequired(lazy("请输入密码")), Length(max=200)])


class PasswordForm(FlaskForm):
    current = PasswordField(lazy("当前密码"), validators=[DataRequired(lazy("请输入当前密码"))])
    new = PasswordField(lazy("新密码"), validators=[DataRequired(lazy("请输入新密码")), Length(min=12, max=200,
                        message=lazy("密码长度应为12到200个字符"))])
    confirm = PasswordField(lazy("确认新密码"), validators=[EqualTo("new", message=lazy("两次输入的新密码不一致"))])


class SecondFactorForm(FlaskForm):
    code = StringField(lazy("验证码"), validators=[DataRequired(lazy("请输入验证码")), Length(max=20)],
                       description=lazy("手机验证器中的6位数字，或一个恢复码"))


class DisableSecondFactorForm(FlaskForm):
    password = PasswordField(lazy("当前密码"), validators=[DataRequired(lazy("请输入当前密码")), Length(max=200)])
    code = StringField(lazy("验证码"), validators=[DataRequired(lazy("请输入验证码")), Length(max=20)])


class TokenForm(FlaskForm):
    name = StringField(lazy("令牌名称"), validators=[Optional(), Length(max=60)])
