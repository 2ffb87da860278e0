"""Region codes to names, and whether a free-text place lies in an area: cases written by hand."""
import pytest

from portal.core import areas


def test_names_of_codes_at_each_level():
    assert areas.name("320115") == "江苏省南京市江宁区"
    assert areas.name("110105") == "北京市朝阳区"
    assert areas.name("653225") == "新疆维吾尔自治区和田地区策勒县"
    assert areas.name("320100") == "江苏省南京市"
    assert areas.name("320000") == "江苏省"
    assert areas.name("999999", default="未知") == "未知"
    assert areas.name("12ab56") == "" and areas.lookup("") is None


@pytest.mark.parametrize("code, text, inside", [
    ("320115", "江苏省南京市江宁区", True),
    ("320115", "南京江宁区某工地", True),
    ("320115", "江苏省南京市江宁区苏州路", True),      # a street named after another city
    ("320115", "上海市静安区江宁路", False),            # 江宁 alone is a road elsewhere
    ("320115", "江苏省南京市", False),                  # the city, not the county
    ("110105", "北京市朝阳区", True),
    ("110105", "朝阳区", True),
    ("110105", "吉林省长春市朝阳区", False),            # the other 朝阳区
    ("320106", "江苏省南京市鼓楼区", True),
    ("320106", "江苏省徐州市鼓楼区", False),            # same province, another city
    ("320100", "南京", True),
    ("653225", "新疆和田策勒县", True),
    ("320115", "", False),
    ("999999", "江苏省南京市江宁区", False),
])
def test_a_place_lies_in_an_area(code, text, inside):
    assert areas.contains(code, text) is inside
