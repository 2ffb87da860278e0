"""Resident ID numbers (GB 11643): check digit, real birth date, masking."""
import re
import unicodedata
from datetime import date

from stdnum import exceptions
from stdnum.cn import ric

from portal.i18n import _
from portal.core import clock


class InvalidIdNumber(ValueError):
    pass


_SHAPE = re.compile(r"[0-9]{17}[0-9X]")


def normalize(raw: str) -> str:
    """Upper case, no spaces, full-width digits (typed with a Chinese input method) made ASCII."""
    text = unicodedata.normalize("NFKC", raw or "") if isinstance(raw, str) else str(raw or "")
    return "".join(text.split()).upper()


def looks_like(raw: str) -> bool:
    """Whether a text has the shape of an ID number (17 digits and a digit or X), valid or not."""
    return bool(_SHAPE.fullmatch(normalize(raw)))


def validate(raw: str) -> tuple[str, date]:
    """Return the normalized number and its birth date, or raise InvalidIdNumber (message in Chinese)."""
    number = normalize(raw)
    if not _SHAPE.fullmatch(number):
        raise InvalidIdNumber(_("身份证号应为18位（最后一位可为X）"))
    try:
        born = ric.get_birth_date(number)
    except (exceptions.ValidationError, ValueError):
        raise InvalidIdNumber(_("身份证号中的出生日期不是有效日期"))
    if born > clock.today() or born.year < 1900:
        raise InvalidIdNumber(_("身份证号中的出生日期不是有效日期"))
    # Only the check digit and the birth date: old region codes stay valid on real cards.
    if ric.calc_check_digit(number) != number[17]:
        raise InvalidIdNumber(_("身份证号校验位错误"))
    return number, born


def mask(number: str) -> str:
    number = normalize(number)
    if len(number) != 18:
        return "*" * len(number)
    return number[:6] + "*" * 8 + number[14:]


def check_digit(first17: str) -> str:
    """The GB 11643 check character for 17 digits (used by demo data and tests)."""
    return ric.calc_check_digit(first17 + "0")
