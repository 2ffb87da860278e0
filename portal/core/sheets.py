"""Writing spreadsheets people open in Excel or WPS: text stays text.

An employer typed as ``=HYPERLINK("http://…?"&D2,"点击查看")`` must not come out as a live
formula next to the column of full ID numbers. In xlsx every text cell is written with the
string type (openpyxl would otherwise store a leading "=" as a formula); in csv, where a type
cannot be stated, a value beginning with = + - @, a tab or a carriage return gets a leading
apostrophe, which spreadsheet programs show as plain text. The register import removes that
apostrophe again, so an exported csv imports back unchanged.
"""
import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def workbook() -> Workbook:
    """A streaming workbook: rows are written as they come, memory stays flat."""
    return Workbook(write_only=True)


def row(ws, values, font=None) -> list:
    """Cells for ws.append(): text as strings whatever it starts with; numbers, dates and
    booleans as themselves (those are ours, never a user's formula)."""
    cells = []
    for value in values:
        cell = WriteOnlyCell(ws, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
        if font is not None:
            cell.font = font
        cells.append(cell)
    return cells


def save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_text(value) -> str:
    """A value for a csv cell, neutralised when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_TRIGGERS) else text


def from_csv_text(text: str) -> str:
    """The inverse of csv_text for the importer."""
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(CSV_TRIGGERS):
        return text[1:]
    return text
