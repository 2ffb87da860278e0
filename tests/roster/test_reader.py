"""The streaming reader gives the values openpyxl would: text, numbers, dates, the active sheet."""
import io
from datetime import date, datetime

from openpyxl import Workbook

from portal.roster import reader


def test_values_of_a_workbook_as_excel_writes_it(ctx):
    wb = Workbook()  # not write-only: shared strings and a styles part, as Excel writes them
    ws = wb.active
    ws.append(["姓名", "入党日期", "联系电话", "身份证号", "党费交至", "备注"])
    ws.append(["张三", datetime(2010, 7, 1), 13800001111, "110105198503010021", date(2026, 9, 1), True])
    ws["B2"].number_format = 'yyyy"年"m"月"d"日"'
    ws["E2"].number_format = "yyyy-mm"
    ws["F3"] = "=1+1"  # a formula: its cached value only (none here), never the formula text
    ws["C4"] = 1.5
    other = wb.create_sheet("说明")
    other.append(["这不是台账"])
    buf = io.BytesIO()
    wb.save(buf)
    rows = reader.read(buf.getvalue(), "a.xlsx")
    assert rows[0] == ["姓名", "入党日期", "联系电话", "身份证号", "党费交至", "备注"]
    assert rows[1] == ["张三", datetime(2010, 7, 1), 13800001111, "110105198503010021", datetime(2026, 9, 1), True]
    assert rows[2] == [None, None, 1.5]


def test_the_active_sheet_is_read(ctx):
    wb = Workbook()
    wb.active.append(["说明"])
    ws = wb.create_sheet("台账")
    ws.append(["姓名"])
    ws.append(["李四"])
    wb.active = 1
    buf = io.BytesIO()
    wb.save(buf)
    assert reader.read(buf.getvalue(), "a.xlsx") == [["姓名"], ["李四"]]
