"""Forms of the member register. They render the fields and carry CSRF; the rules themselves
(ID check digit, dates, lists of values) live in services.clean, whose Chinese messages the views
put next to the fields. Labels are the headers of roster-import.md."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.core.forms import choices
from portal.i18n import lazy
from portal.core.labels import options as labelled
from portal.members.models import CATEGORIES, CONTACT_CHANNELS, DIRECTIONS, EDUCATIONS, MOVE_REASONS, SEXES

options = choices  # select options from (value, label) pairs (core.forms)

# The 56 recognized ethnic groups, offered as suggestions (the field stays free text, as in imports).
ETHNICITIES = (
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族", "满族", "侗族", "瑶族",
    "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "高山族", "拉祜族", "水族",
    "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族",
    "仡佬族", "锡伯族", "阿昌族", "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族",
    "保安族", "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族",
)

# The fields of the register in the order the form shows them (English names of api.md).
FORM_FIELDS = ("name", "sex", "ethnicity", "id_number", "birth_date", "education", "joined_on", "category",
               "org", "direction", "moved_on", "move_reason", "region", "industry", "employer", "address", "phone",
               "dues_paid_through", "last_contact_on", "certificate_no")


def _required():
    return [InputRequired(lazy("必填"))]


def _date(label, required=False):
    validators = _required() if required else [Optional()]
    return StringField(label, validators=validators, render_kw={"type": "date", "max": "9999-12-31"})


class MemberForm(FlaskForm):
    name = StringField(lazy("姓名"), validators=_required() + [Length(max=40, message=lazy("不超过40个字符"))])
    sex = SelectField(lazy("性别"), choices=lambda: options(labelled(SEXES)), validators=_required(),
                      validate_choice=False)
    ethnicity = StringField(lazy("民族"), default="汉族", render_kw={"list": "ethnicities"})
    id_number = StringField(lazy("身份证号"), validators=_required(),
                            render_kw={"maxlength": 18, "autocomplete": "off", "spellcheck": "false"})
    birth_date = _date(lazy("出生日期"))
    education = SelectField(lazy("学历"), choices=lambda: options([("", "—")] + labelled(EDUCATIONS)),
                            validators=_required(), validate_choice=False)
    joined_on = _date(lazy("入党日期"), required=True)
    category = SelectField(lazy("党员类别"), choices=lambda: options(labelled(CATEGORIES)), validate_choice=False)
    org = SelectField(lazy("所在支部"), choices=[], validators=_required(), validate_choice=False)
    direction = SelectField(lazy("流动方向"), choices=lambda: options(labelled(DIRECTIONS)), validators=_required(),
                            validate_choice=False)
    moved_on = _date(lazy("流动日期"))
    move_reason = SelectField(lazy("流动原因"), choices=lambda: options([("", "—")] + labelled(MOVE_REASONS)),
                              validate_choice=False)
    region = StringField(lazy("流向地区"), render_kw={"maxlength": 100})
    industry = StringField(lazy("从事行业"), render_kw={"maxlength": 60})
    employer = StringField(lazy("工作单位"), render_kw={"maxlength": 100})
    address = StringField(lazy("暂住地址"), render_kw={"maxlength": 200})
    phone = StringField(lazy("联系电话"), render_kw={"maxlength": 20, "inputmode": "tel"})
    dues_paid_through = StringField(lazy("党费交至"), render_kw={"type": "month", "placeholder": "YYYY-MM"})
    last_contact_on = _date(lazy("最后联系日期"))
    certificate_no = StringField(lazy("活动证编号"), render_kw={"maxlength": 40})
    # Only on creation, only for incoming members: the origin keeps the relationship (co-management).
    not_transferred = BooleanField(lazy("组织关系不转入（由流出地党组织保留，双向共管）"))
    version = HiddenField()

    def member_data(self) -> dict:
        """The submitted register fields, as services.clean takes them."""
        return {key: getattr(self, key).data for key in FORM_FIELDS}


class ContactForm(FlaskForm):
    on = _date(lazy("联系日期"), required=True)
    channel = SelectField(lazy("联系方式"), choices=lambda: options(labelled(CONTACT_CHANNELS)),
                          validators=_required(), validate_choice=False)
    note = TextAreaField(lazy("情况记录"), validators=[Length(max=2000, message=lazy("不超过2000个字符"))],
                         render_kw={"rows": 2})
