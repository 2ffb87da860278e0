"""Formal (大写) and ordinary (小写) Chinese numerals on letters: hand-written expectations."""
import datetime as dt

import pytest

from portal.letters import numerals as n


@pytest.mark.parametrize("value, expected", [
    (1, "壹"), (2, "贰"), (9, "玖"),
    (10, "拾"), (11, "拾壹"), (15, "拾伍"), (19, "拾玖"),
    (20, "贰拾"), (21, "贰拾壹"), (30, "叁拾"), (90, "玖拾"),
    (100, "壹佰"), (101, "壹佰零壹"), (110, "壹佰壹拾"),
])
def test_count_upper(value, expected):
    assert n.count_upper(value) == expected


@pytest.mark.parametrize("value, expected", [
    (2026, "贰零贰陆"), (2030, "贰零叁零"), (1999, "壹玖玖玖"), (2100, "贰壹零零"),
])
def test_year_upper_is_digit_by_digit(value, expected):
    assert n.year_upper(value) == expected


@pytest.mark.parametrize("value, expected", [
    (1, "壹"), (9, "玖"), (10, "拾"), (11, "拾壹"), (12, "拾贰"),
])
def test_month_upper(value, expected):
    assert n.month_upper(value) == expected


@pytest.mark.parametrize("value, expected", [
    (1, "壹"), (10, "拾"), (15, "拾伍"), (20, "贰拾"), (23, "贰拾叁"), (30, "叁拾"), (31, "叁拾壹"),
])
def test_day_upper(value, expected):
    assert n.day_upper(value) == expected


def test_date_upper():
    assert n.date_upper(dt.date(2026, 11, 23)) == "贰零贰陆年拾壹月贰拾叁日"
    assert n.date_upper(dt.date(2027, 1, 10)) == "贰零贰柒年壹月拾日"
    assert n.date_upper(dt.date(2030, 10, 30)) == "贰零叁零年拾月叁拾日"


def test_year_month_upper_for_dues():
    assert n.year_month_upper(dt.date(2026, 11, 1)) == "贰零贰陆年拾壹月"
    assert n.year_month_upper(dt.date(2026, 3, 31)) == "贰零贰陆年叁月"


def test_lower_forms():
    assert n.year_lower(2026) == "二〇二六"
    assert n.count_lower(10) == "十"
    assert n.count_lower(11) == "十一"
    assert n.count_lower(30) == "三十"
    assert n.date_lower(dt.date(2026, 11, 23)) == "二〇二六年十一月二十三日"
    assert n.date_lower(dt.date(2026, 10, 10)) == "二〇二六年十月十日"
    assert n.year_month_lower(dt.date(2026, 1, 5)) == "二〇二六年一月"


def test_digit_strings_are_accepted():
    assert n.count_upper("30") == "叁拾"
    assert n.year_upper("2026") == "贰零贰陆"


@pytest.mark.parametrize("bad", [True, 1.5, None, "三十", "-3", "３０"])
def test_non_integers_are_refused(bad):
    with pytest.raises(TypeError):
        n.count_upper(bad)


def test_out_of_range_is_refused():
    with pytest.raises(ValueError):
        n.month_upper(13)
    with pytest.raises(ValueError):
        n.month_upper(0)
    with pytest.raises(ValueError):
        n.day_upper(32)
    with pytest.raises(ValueError):
        n.count_upper(-1)
    with pytest.raises(ValueError):
        n.year_upper(-2026)
