"""Reading an uploaded register (.xlsx or .csv) within fixed bounds of rows, columns, cells,
uncompressed size and time, so that no file, however it is built, holds a worker for long or
takes its memory.

The xlsx reader is a streaming expat parser over the zip members rather than openpyxl: openpyxl
trusts the sheet's declared dimension (a 1.5 KB file claiming ``A1:XFD1048576`` makes it pad
every row to 16,384 cells) and builds each whole row before anyone can count it. Here every
limit is checked as the bytes arrive, and the declared dimension is never read.
"""
import csv
import io
import re
import time
import zipfile
from datetime import datetime
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

from portal.core.sheets import from_csv_text
from portal.i18n import _

MAX_ROWS = 100_000             # data rows, besides the header row
MAX_EMPTY_ROWS = 10_000        # row elements without values a sheet may hold besides those
MAX_COLUMNS = 200              # the layout has 20; room for an office's own extra columns
MAX_CELLS = 4_000_000          # cell elements in the sheet, empty or not
MAX_TEXT = 32_767              # characters in one cell: Excel's own limit
MAX_UNCOMPRESSED = 256 * 1024 * 1024     # all zip members we read, as declared and enforced by zipfile
MAX_SHARED_STRINGS_BYTES = 64 * 1024 * 1024
MAX_SHARED_STRINGS = 1_000_000
MAX_ZIP_MEMBERS = 1_000
MAX_SECONDS = 8.0              # reading only; validation of the rows comes after
# ... plus this much per cell counted in the sheet, so that a real register of 100,000 rows (two
# million cells, 12-30 s on a busy 2-core machine) is read, while the cell limit still bounds it.
SECONDS_PER_CELL = 25e-6
CHUNK = 64 * 1024

# Number formats of the Chinese Excel locales (ids 27-36 and 50-58) are all dates or times.
_LOCAL_DATE_FORMATS = set(range(27, 37)) | set(range(50, 59))
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SEP = "\x1f"  # namespace separator handed to expat: never part of a tag name
_COORD = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


class UnreadableFile(ValueError):
    """The file is refused; the message (Chinese) says why."""


class _Budget:
    """The time allowed for reading one file."""

    def __init__(self, seconds: float | None = None):
        self.deadline = time.monotonic() + (MAX_SECONDS if seconds is None else seconds)

    def extend(self, seconds: float):
        self.deadline += seconds

    def check(self):
        if time.monotonic() > self.deadline:
            raise UnreadableFile(_("文件过大或结构过于复杂，读取超时；请拆分后分批导入"))


def read(content: bytes, filename: str) -> list[list]:
    """All non-empty rows of the file (the first is the header row), values as str, float, int,
    bool or datetime. Raises UnreadableFile with a Chinese reason for anything refused."""
    name = (filename or "").lower()
    budget = _Budget()
    if name.endswith(".xlsx"):
        return _read_xlsx(content, budget)
    if name.endswith(".csv"):
        return _read_csv(content, budget)
    raise UnreadableFile(_("只接受.xlsx或.csv文件"))


# ---- csv ----

def _read_csv(content: bytes, budget: _Budget) -> list[list]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UnreadableFile(_("CSV文件编码无法识别，请使用UTF-8或GB18030"))
    # Counted before parsing: one line of millions of commas would be a row of millions of fields.
    if text.count(",") > MAX_CELLS:
        raise UnreadableFile(_("文件的单元格超过%(n)d个", n=MAX_CELLS))
    # newline="" lets the csv module itself split on \n, \r\n and a lone \r (old Mac exports).
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, cells = [], 0
    try:
        for row in reader:
            if len(rows) % 1000 == 0:
                budget.check()
            if len(row) > MAX_COLUMNS:
                raise UnreadableFile(_("第%(r)d行超过%(n)d列", r=reader.line_num, n=MAX_COLUMNS))
            cells += len(row)
            if cells > MAX_CELLS:
                raise UnreadableFile(_("文件的单元格超过%(n)d个", n=MAX_CELLS))
            for value in row:
                if len(value) > MAX_TEXT:
                    raise UnreadableFile(_("第%(r)d行有超过%(n)d个字符的内容", r=reader.line_num, n=MAX_TEXT))
            if any(v.strip() for v in row):
                rows.append([from_csv_text(v) for v in row])
                _check_rows(rows)
    except csv.Error as exc:
        # The csv module's own limits (a field over 131,072 characters, a stray quote at the end).
        raise UnreadableFile(_("CSV文件第%(r)d行格式有误（引号不成对或内容过长）", r=reader.line_num)) from exc
    return rows


def _check_rows(rows):
    if len(rows) > MAX_ROWS + 1:
        raise UnreadableFile(_("一次最多导入%(n)d行", n=MAX_ROWS))


# ---- xlsx ----

def _read_xlsx(content: bytes, budget: _Budget) -> list[list]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise UnreadableFile(_("无法读取该Excel文件，请确认是.xlsx格式")) from exc
    if len(members) > MAX_ZIP_MEMBERS:
        raise UnreadableFile(_("无法读取该Excel文件，请确认是.xlsx格式"))
    if sum(m.file_size for m in members) > MAX_UNCOMPRESSED:
        raise UnreadableFile(_("文件解压后超过%(n)dMB，请拆分后分批导入", n=MAX_UNCOMPRESSED // 2 ** 20))
    sizes = {m.filename: m.file_size for m in members}
    try:
        sheet, date1904 = _first_sheet(archive, sizes, budget)
        strings = []
        if "xl/sharedStrings.xml" in sizes:
            if sizes["xl/sharedStrings.xml"] > MAX_SHARED_STRINGS_BYTES:
                raise UnreadableFile(_("文件中的文字内容过多，请拆分后分批导入"))
            strings = _shared_strings(archive, budget)
        dates = _date_styles(archive, budget) if "xl/styles.xml" in sizes else set()
        if sheet not in sizes:
            raise UnreadableFile(_("无法读取该Excel文件，请确认是.xlsx格式"))
        budget.extend(_count_elements(archive, sheet, budget) * SECONDS_PER_CELL)
        return _sheet_rows(archive, sheet, strings, dates, date1904, budget)
    except (zipfile.BadZipFile, expat.ExpatError, EOFError, OSError, KeyError, ValueError) as exc:
        if isinstance(exc, UnreadableFile):
            raise
        raise UnreadableFile(_("无法读取该Excel文件，请确认是.xlsx格式")) from exc


def _parse(archive, member: str, budget: _Budget, start=None, end=None, text=None):
    """Feed one zip member through expat in chunks. Document type declarations are refused:
    a spreadsheet has none, and entities are how XML bombs are built."""
    parser = expat.ParserCreate(namespace_separator=_SEP)
    parser.buffer_text = True

    def doctype(*args):
        raise UnreadableFile(_("无法读取该Excel文件，请确认是.xlsx格式"))

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    if start:
        parser.StartElementHandler = start
    if end:
        parser.EndElementHandler = end
    if text:
        parser.CharacterDataHandler = text
    with archive.open(member) as stream:
        while True:
            budget.check()
            chunk = stream.read(CHUNK)
            parser.Parse(chunk, not chunk)
            if not chunk:
                break


_LOCAL_NAMES: dict[str, str] = {}


def _tag(name: str) -> str:
    """The local name of a namespaced tag, memoised: it is asked for millions of times."""
    local = _LOCAL_NAMES.get(name)
    if local is None:
        local = name.rpartition(_SEP)[2]
        if len(_LOCAL_NAMES) < 10_000:  # a file cannot grow the memo without bound
            _LOCAL_NAMES[name] = local
    return local


def _count_elements(archive, sheet: str, budget: _Budget):
    """Count row and cell tags in the raw bytes first (C speed, about a second for the largest
    file allowed), so that a sheet of millions of tiny rows is refused before the parser, which
    handles each element in Python, spends its time budget on it. Empty rows count too: a sheet
    with this many row elements is not a register."""
    rows = cells = 0
    tail = b""
    with archive.open(sheet) as stream:
        while True:
            budget.check()
            chunk = stream.read(CHUNK * 16)
            if not chunk:
                break
            # A tag split between two reads is still seen; the count may be off by one per read,
            # which does not matter for a limit.
            data = tail + chunk
            rows += data.count(b"<row")
            cells += data.count(b"<c ") + data.count(b"<c>")
            tail = data[-3:]
            if rows > MAX_ROWS + MAX_EMPTY_ROWS:
                raise UnreadableFile(_("工作表超过%(n)d行（含空行）；请删除多余的行后再导入",
                                       n=MAX_ROWS + MAX_EMPTY_ROWS))
            if cells > MAX_CELLS:
                raise UnreadableFile(_("文件的单元格超过%(n)d个", n=MAX_CELLS))
    return cells


def _first_sheet(archive, sizes, budget) -> tuple[str, bool]:
    """The sheet Excel opens the workbook on (its active tab), and whether dates count from 1904."""
    sheets, state = [], {"active": 0, "date1904": False}

    def start(name, attrs):
        tag = _tag(name)
        if tag == "sheet":
            sheets.append(attrs.get(f"{_REL_NS}{_SEP}id"))
        elif tag == "workbookView":
            state["active"] = _small_int(attrs.get("activeTab"), 0)
        elif tag == "workbookPr":
            state["date1904"] = attrs.get("date1904") in ("1", "true")

    if "xl/workbook.xml" not in sizes:
        raise UnreadableFile(_("无法读取该Excel文件，请确认是.xlsx格式"))
    _parse(archive, "xl/workbook.xml", budget, start=start)
    targets = {}

    def rel(name, attrs):
        if _tag(name) == "Relationship":
            targets[attrs.get("Id")] = attrs.get("Target", "")

    if "xl/_rels/workbook.xml.rels" in sizes:
        _parse(archive, "xl/_rels/workbook.xml.rels", budget, start=rel)
    if not sheets:
        raise UnreadableFile(_("文件是空的"))
    chosen = sheets[state["active"]] if state["active"] < len(sheets) else sheets[0]
    target = targets.get(chosen, "worksheets/sheet1.xml")
    path = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return path, state["date1904"]


def _small_int(value, default: int) -> int:
    return int(value) if value and value.isdigit() and len(value) < 7 else default


def _shared_strings(archive, budget) -> list[str]:
    """The shared string table; phonetic runs (<rPh>) are not part of the text."""
    strings: list[str] = []
    state = {"parts": None, "in_t": False, "phonetic": 0, "size": 0}

    def start(name, attrs):
        tag = _tag(name)
        if tag == "si":
            state["parts"], state["size"] = [], 0
            if len(strings) >= MAX_SHARED_STRINGS:
                raise UnreadableFile(_("文件中的文字内容过多，请拆分后分批导入"))
        elif tag == "rPh":
            state["phonetic"] += 1
        elif tag == "t" and not state["phonetic"]:
            state["in_t"] = True

    def end(name):
        tag = _tag(name)
        if tag == "si":
            strings.append("".join(state["parts"] or ()))
            state["parts"] = None
        elif tag == "rPh":
            state["phonetic"] -= 1
        elif tag == "t":
            state["in_t"] = False

    def text(data):
        if state["in_t"] and state["parts"] is not None:
            state["size"] += len(data)
            if state["size"] > MAX_TEXT:
                raise UnreadableFile(_("文件中有超过%(n)d个字符的单元格", n=MAX_TEXT))
            state["parts"].append(data)

    _parse(archive, "xl/sharedStrings.xml", budget, start=start, end=end, text=text)
    return strings


def _date_styles(archive, budget) -> set[int]:
    """Indexes of the cell styles whose number format shows a date."""
    custom: dict[int, str] = {}
    xfs: list[int] = []
    state = {"in_xfs": False}

    def start(name, attrs):
        tag = _tag(name)
        if tag == "numFmt":
            custom[_small_int(attrs.get("numFmtId"), -1)] = attrs.get("formatCode", "")
        elif tag == "cellXfs":
            state["in_xfs"] = True
        elif tag == "xf" and state["in_xfs"]:
            if len(xfs) > 65_536:
                raise UnreadableFile(_("无法读取该Excel文件，请确认是.xlsx格式"))
            xfs.append(_small_int(attrs.get("numFmtId"), 0))

    def end(name):
        if _tag(name) == "cellXfs":
            state["in_xfs"] = False

    _parse(archive, "xl/styles.xml", budget, start=start, end=end)

    def is_date(fmt_id: int) -> bool:
        if fmt_id in custom:
            return is_date_format(custom[fmt_id])
        if fmt_id in _LOCAL_DATE_FORMATS:
            return True
        return fmt_id in BUILTIN_FORMATS and is_date_format(BUILTIN_FORMATS[fmt_id])

    return {i for i, fmt_id in enumerate(xfs) if is_date(fmt_id)}


_COLUMN_OF: dict[str, int] = {}


def _column_number(ref: str) -> int:
    """The column of a cell reference such as "AB12" (memoised by its letters); 0 when the
    reference is not one, which puts the value nowhere."""
    m = _COORD.match(ref)
    if not m:
        return 0
    n = 0
    for ch in m[1]:
        n = n * 26 + ord(ch) - 64
    if len(_COLUMN_OF) < 20_000:
        _COLUMN_OF[m[1]] = n
    return n


class _SheetState:
    __slots__ = (
        "cells",
        "column",
        "in_inline",
        "in_value",
        "kind",
        "phonetic",
        "row",
        "row_number",
        "rows",
        "style",
        "text",
        "text_size",
    )

    def __init__(self):
        self.rows: list[list] = []
        self.row: dict[int, object] = {}
        self.row_number = 0
        self.column = 0
        self.cells = 0
        self.kind = "n"
        self.style = 0
        self.text: list[str] = []
        self.text_size = 0
        self.in_value = False
        self.in_inline = False
        self.phonetic = 0


def _sheet_rows(archive, sheet: str, strings: list[str], dates: set[int], date1904: bool,
                budget: _Budget) -> list[list]:
    s = _SheetState()
    epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900

    def refuse_column(column):
        raise UnreadableFile(_("第%(r)d行的内容超出第%(n)d列；请删除多余的列后再导入", r=s.row_number, n=MAX_COLUMNS))

    def start(name, attrs):
        tag = _tag(name)
        if tag == "c":
            s.cells += 1
            if s.cells > MAX_CELLS:
                raise UnreadableFile(_("文件的单元格超过%(n)d个", n=MAX_CELLS))
            if s.cells % 5000 == 0:
                budget.check()
            ref = attrs.get("r")
            s.column = (_COLUMN_OF.get(ref.rstrip("0123456789")) or _column_number(ref)) if ref else s.column + 1
            s.kind = attrs.get("t", "n")
            s.style = _small_int(attrs.get("s"), 0)
            s.text, s.text_size = [], 0
        elif tag == "v":
            s.in_value = True
        elif tag == "is":
            s.in_inline = True
        elif tag == "rPh":
            s.phonetic += 1
        elif tag == "t" and s.in_inline and not s.phonetic:
            s.in_value = True
        elif tag == "row":
            r = attrs.get("r")
            s.row_number = int(r) if r and r.isdigit() and len(r) < 9 else s.row_number + 1
            s.row, s.column = {}, 0

    def end(name):
        tag = _tag(name)
        if tag in ("v", "t"):
            s.in_value = False
        elif tag == "is":
            s.in_inline = False
        elif tag == "rPh":
            s.phonetic -= 1
        elif tag == "c":
            value = _cell_value(s, strings, dates, epoch)
            if value is not None and value != "" and s.column:
                if s.column > MAX_COLUMNS:
                    refuse_column(s.column)
                s.row[s.column] = value
        elif tag == "row":
            if s.row:
                width = max(s.row)
                s.rows.append([s.row.get(i) for i in range(1, width + 1)])
                _check_rows(s.rows)
            s.row = {}

    def text(data):
        if s.in_value:
            s.text_size += len(data)
            if s.text_size > MAX_TEXT:
                raise UnreadableFile(_("第%(r)d行有超过%(n)d个字符的内容", r=s.row_number, n=MAX_TEXT))
            s.text.append(data)

    _parse(archive, sheet, budget, start=start, end=end, text=text)
    return s.rows


def _cell_value(s: _SheetState, strings, dates, epoch):
    raw = "".join(s.text)
    kind = s.kind
    if kind == "inlineStr" or kind == "str":
        return raw
    if raw == "":
        return None
    if kind == "s":
        index = _small_int(raw.strip(), -1)
        if not 0 <= index < len(strings):
            raise UnreadableFile(_("无法读取该Excel文件，请确认是.xlsx格式"))
        return strings[index]
    if kind == "b":
        return raw.strip() in ("1", "true")
    if kind == "e":
        return raw  # an error value such as #N/A: validation reports it as the text it is
    if kind == "d":
        try:
            return datetime.fromisoformat(raw.strip())
        except ValueError:
            return raw
    try:
        number = float(raw) if any(c in raw for c in ".eE") else int(raw)
    except ValueError:
        return raw
    if s.style in dates:
        try:
            return from_excel(number, epoch)
        except (OverflowError, ValueError, TypeError):
            return raw
    return number
