"""Labels for the Chinese values the register stores (男, 本科, 党支部, …). The stored value stays
Chinese, as the field's documents and other systems expect; only what is shown is translated.
Each label is written out so that message extraction finds it."""
from portal.i18n import lazy

VALUE_LABELS = {
    # sex
    "男": lazy("男"), "女": lazy("女"),
    # education, canonical and synonyms
    "研究生": lazy("研究生"), "博士": lazy("博士"), "硕士": lazy("硕士"), "本科": lazy("本科"), "大学": lazy("大学"),
    "专科": lazy("专科"), "大专": lazy("大专"), "中专": lazy("中专"), "高中": lazy("高中"), "初中": lazy("初中"),
    "小学": lazy("小学"),
    # member category and direction
    "正式党员": lazy("正式党员"), "预备党员": lazy("预备党员"), "流出": lazy("流出"), "流入": lazy("流入"),
    # reasons for moving
    "务工": lazy("务工"), "经商": lazy("经商"), "求学": lazy("求学"), "随迁": lazy("随迁"), "其他": lazy("其他"),
    # contact channels
    "电话": lazy("电话"), "微信": lazy("微信"), "短信": lazy("短信"), "面谈": lazy("面谈"), "走访": lazy("走访"),
    "上门": lazy("上门"), "信函": lazy("信函"), "网络": lazy("网络"), "报到": lazy("报到"),
    # organization kinds
    "基层党委": lazy("基层党委"), "党总支": lazy("党总支"), "党支部": lazy("党支部"), "临时党支部": lazy("临时党支部"),
    "流动党员党支部": lazy("流动党员党支部"), "流动党员服务站": lazy("流动党员服务站"),
    "驻外流动党员党组织": lazy("驻外流动党员党组织"),
}


def label(value) -> str:
    """The label of a stored value in the current language; unknown values as they are."""
    if value is None:
        return ""
    found = VALUE_LABELS.get(value)
    return str(found) if found is not None else str(value)


def options(values) -> list[tuple[str, str]]:
    """(value, label) pairs for a select of stored values."""
    return [(v, label(v)) for v in values]
