"""The half-yearly list of study points to publish (学习积分公示): one set of rows for the print
page and the xlsx, so both always say the same."""
import io

from portal.extensions import db
from portal.standing import services

HEADERS = ("序号", "姓名", "所在组织", "本期学习次数", "本期积分", "本年累计积分", "年度目标", "情况")


def title(tenant_name: str, year: int, half: int | None) -> str:
    period = {1: "上半年", 2: "下半年"}.get(half, "全年")
    return f"{tenant_name}流动党员{year}年{period}学习积分公示"


def rows(principal, year: int, half: int | None, *, org: str = "") -> list[dict]:
    found = db.session.execute(services.points_query(principal, year, half=half, org=org)).unique().all()
    out = []
    for n, row in enumerate(found, 1):
        item = services.points_row(row)
        item["n"] = n
        item["status"] = (f"差{item['short_by']}分" if item["below_target"] else "已达标")
        out.append(item)
    return out


def to_xlsx(heading: str, items: list[dict]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    wb = Workbook()
    ws = wb.active
    ws.title = "学习积分公示"
    ws.append([heading])
    ws.cell(1, 1).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    ws.append(list(HEADERS))
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for item in items:
        ws.append([item["n"], item["member"]["name"], item["member"]["org"], item["activities"],
                   float(item["points"]), float(item["year_points"]), float(services.POINTS_TARGET),
                   item["status"]])
    for letter, width in zip("ABCDEFGH", (6, 12, 30, 12, 10, 12, 10, 10)):
        ws.column_dimensions[letter].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
