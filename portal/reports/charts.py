"""Charts drawn on the server as SVG: horizontal bars for a table's cells, and a line chart of the
transfers in and out per year. Black, white and grey only, lines told apart by dash and marker,
so that a page prints the same on a black-and-white printer; no script, no style attribute (the
page's Content-Security-Policy allows neither), and the same markup goes into the PDF report."""
from markupsafe import Markup, escape

FONT = "Noto Sans CJK SC, WenQuanYi Micro Hei, sans-serif"
LABEL_W, BAR_W, ROW_H = 120, 220, 18


def _text(x, y, body, *, anchor="start", size=11, weight="normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-family="{FONT}" font-size="{size}" font-weight="{weight}" '
            f'text-anchor="{anchor}" fill="#000">{escape(body)}</text>')


def bars(title: str, items: list[tuple[str, int]], total: int | None = None) -> Markup:
    """One bar per (label, count), with the count and its share of `total` (default: their sum)."""
    total = sum(n for _, n in items) if total is None else total
    top = max((n for _, n in items), default=0) or 1
    height = 24 + ROW_H * max(len(items), 1)
    width = LABEL_W + BAR_W + 110
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="stats-chart" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}">', f"<title>{escape(title)}</title>",
             _text(0, 14, title, size=12, weight="bold")]
    for i, (label, n) in enumerate(items):
        y = 24 + i * ROW_H
        w = BAR_W * n / top
        share = f"{n * 100 / total:.1f}%" if total else "0.0%"
        parts.append(_text(LABEL_W - 6, y + 12, label, anchor="end"))
        parts.append(f'<rect x="{LABEL_W}" y="{y + 2}" width="{w:.1f}" height="{ROW_H - 6}" fill="#9a9a9a" '
                     f'stroke="#000" stroke-width="0.6"/>')
        parts.append(_text(LABEL_W + w + 4, y + 12, f"{n}（{share}）", size=10))
    parts.append("</svg>")
    return Markup("".join(parts))


def lines(title: str, years: dict, labels: tuple[str, str]) -> Markup:
    """Transfers in (solid, round markers) and out (dashed, square markers) per year."""
    keys = sorted(years)
    width, height, left, right, top, bottom = 460, 200, 40, 20, 34, 28
    peak = max([1] + [years[y]["in"] for y in keys] + [years[y]["out"] for y in keys])
    step = (width - left - right) / max(len(keys) - 1, 1)

    def point(i, n):
        x = left + (i * step if len(keys) > 1 else (width - left - right) / 2)
        return x, height - bottom - (height - top - bottom) * n / peak

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="stats-chart" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}">', f"<title>{escape(title)}</title>",
             _text(0, 14, title, size=12, weight="bold"),
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#000"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#000"/>',
             _text(left - 4, top + 4, str(peak), anchor="end", size=9),
             _text(left - 4, height - bottom, "0", anchor="end", size=9)]
    for i, year in enumerate(keys):
        x, _ = point(i, 0)
        parts.append(_text(x, height - bottom + 14, str(year), anchor="middle", size=9))
    for key, dash, label, lx in (("in", "", labels[0], width - 150), ("out", ' stroke-dasharray="5 3"', labels[1],
                                                                     width - 80)):
        pts = [point(i, years[y][key]) for i, y in enumerate(keys)]
        if len(pts) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            parts.append(f'<polyline points="{path}" fill="none" stroke="#000" stroke-width="1.5"{dash}/>')
        for (x, y), year in zip(pts, keys):
            n = years[year][key]
            if key == "in":
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#fff" stroke="#000"/>')
            else:
                parts.append(f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" fill="#000"/>')
            parts.append(_text(x, y - 6, str(n), anchor="middle", size=9))
        parts.append(f'<line x1="{lx}" y1="24" x2="{lx + 18}" y2="24" stroke="#000" stroke-width="1.5"{dash}/>')
        parts.append(_text(lx + 22, 28, label, size=10))
    parts.append("</svg>")
    return Markup("".join(parts))
