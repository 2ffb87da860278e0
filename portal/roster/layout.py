"""The register's file layout (roster-import.md): the same headers for import and export."""
from portal.i18n import _
from portal.roster.reader import MAX_ROWS, UnreadableFile, read  # noqa: F401 - MAX_ROWS kept importable here

# (header, API field name); the order is the export order.
COLUMNS = (
    ("姓名", "name"), ("性别", "sex"), ("民族", "ethnicity"), ("身份证号", "id_number"), ("出生日期", "birth_date"),
    ("学历", "education"), ("入党日期", "joined_on"), ("党员类别", "category"), ("所在支部", "org"),
    ("流动方向", "direction"), ("流动日期", "moved_on"), ("流动原因", "move_reason"), ("流向地区", "region"),
    ("从事行业", "industry"), ("工作单位", "employer"), ("暂住地址", "address"), ("联系电话", "phone"),
    ("党费交至", "dues_paid_through"), ("最后联系日期", "last_contact_on"), ("活动证编号", "certificate_no"),
)
FIELD_OF = dict(COLUMNS)
HEADER_OF = {field: header for header, field in COLUMNS}
REQUIRED = ("姓名", "性别", "身份证号", "学历", "入党日期", "所在支部", "流动方向")


def _cell(value):
    """Excel stores long digit strings as numbers when typed carelessly; keep what can be kept."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return value


def read_table(content: bytes, filename: str) -> tuple[list[str], list[list]]:
    """Headers and data rows of an .xlsx or .csv (UTF-8 or GB18030) file, read within the
    reader's limits."""
    rows = read(content, filename)
    # In place: a second copy of 100,000 rows would double the import's memory.
    for i, row in enumerate(rows):
        row[:] = [_cell(v) for v in row]
    rows[:] = [r for r in rows if any(v not in (None, "") for v in r)]
    if not rows:
        raise UnreadableFile(_("文件是空的"))
    headers = [str(h).strip() if h is not None else "" for h in rows[0]]
    return headers, rows[1:]
