"""The seal prints as drawn: its SVG rasterized by a browser and the seal area of a rendered letter
(pdftoppm) are compared pixel by pixel, and the seal never lies over the date line."""
import io
import re
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from portal.letters import svg
from portal.letters.render import ROOT, Renderer
from tests.letters.test_render import sample

SEAL = ROOT / "tenants" / "110105" / "seal.svg"
SIZE = 200          # compared at 200 x 200 pixels
SEAL_MM = 40        # letters.css: .stamp .seal


def _red(rgb) -> bool:
    r, g, b = rgb
    return r > 150 and g < 140 and b < 140


def _raster(pdf: bytes, dpi: int) -> Image.Image:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile",
                        str(source), str(Path(folder) / "page")], check=True, capture_output=True)
        return Image.open(Path(folder) / "page.png").convert("RGB")


def _red_box(image: Image.Image) -> tuple[int, int, int, int]:
    px = image.load()
    xs, ys = [], []
    for y in range(image.height):
        for x in range(image.width):
            if _red(px[x, y]):
                xs.append(x)
                ys.append(y)
    assert xs, "no seal on the page"
    return min(xs), min(ys), max(xs) + 1, max(ys) + 1


def _mask(image: Image.Image) -> list[bool]:
    return [_red(p) for p in image.resize((SIZE, SIZE), Image.BILINEAR).getdata()]


@pytest.fixture
def browser_seal(browser) -> Image.Image:
    """The seal as a browser draws it, cut to the drawn ink (the suite's one chromium)."""
    markup = SEAL.read_text("utf-8")
    markup = re.sub(r'width="[^"]*" height="[^"]*"', 'width="800" height="800"', markup, count=1)
    page = browser.new_page(viewport={"width": 800, "height": 800})
    page.set_content(f'<body style="margin:0;background:#fff">{markup}</body>')
    png = page.screenshot(clip={"x": 0, "y": 0, "width": 800, "height": 800})
    page.close()
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return image.crop(_red_box(image))


def _letter_seal(kind: str = "open_letter") -> Image.Image:
    ctx = sample(kind)
    ctx["issuer"] = {**ctx["issuer"], "seal_path": str(SEAL)}
    dpi = 300
    page = _raster(Renderer().render(kind, ctx, tenant_code="110105"), dpi)
    box = _red_box(page)
    width_mm = (box[2] - box[0]) / dpi * 25.4
    assert 36 <= width_mm <= SEAL_MM + 0.5, f"seal {width_mm:.1f} mm wide"
    return page.crop(box)


def test_the_seal_on_a_letter_matches_its_svg_drawn_by_a_browser(browser_seal):
    """Was: ring text clipped to 委组织部, the star a red wedge, 示例 missing (the left half of every
    centred text cut off by WeasyPrint's opacity group)."""
    want, got = _mask(browser_seal), _mask(_letter_seal())
    both = sum(a and b for a, b in zip(want, got))
    either = sum(a or b for a, b in zip(want, got))
    assert both / either > 0.8, f"red pixels agree only {both / either:.0%}"
    # the left half inside the ring (text and star) is where the clipping showed
    inner = [i for i in range(SIZE * SIZE) if 0.2 * SIZE < i % SIZE < 0.5 * SIZE
             and 0.15 * SIZE < i // SIZE < 0.85 * SIZE]
    want_inner = sum(want[i] for i in inner)
    got_inner = sum(got[i] for i in inner)
    assert want_inner > 300 and 0.8 < got_inner / want_inner < 1.25, (want_inner, got_inner)


def _lines(pdf: bytes) -> list[tuple[str, float, float]]:
    """(text, top, bottom) in points of each line of the first page."""
    out = subprocess.run(["pdftotext", "-bbox-layout", "-f", "1", "-l", "1", "-", "-"], input=pdf,
                         capture_output=True, check=True).stdout.decode("utf-8")
    lines = []
    for m in re.finditer(r'<line xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">(.*?)</line>',
                         out, re.S):
        lines.append(("".join(re.findall(r">([^<]*)</word>", m.group(3))), float(m.group(1)),
                      float(m.group(2))))
    return lines


@pytest.mark.parametrize("kind", ["introduction", "certificate_letter", "activity_card", "receipt",
                                  "open_letter"])
def test_the_seal_never_covers_the_date_line(kind):
    ctx = sample(kind)
    ctx["issuer"] = {**ctx["issuer"], "seal_path": str(SEAL)}
    pdf = Renderer().render(kind, ctx, tenant_code="110105")
    dpi = 72  # one pixel per point, as pdftotext measures
    left, top, right, bottom = _red_box(_raster(pdf, dpi))
    dates = [(t, y0, y1) for t, y0, y1 in _lines(pdf) if t == "二〇二六年十一月二十三日"]
    assert dates, "no date line"
    # the stamp's date: the date line nearest below the seal's top
    text, date_top, date_bottom = min((d for d in dates if d[2] > top), key=lambda d: d[1])
    assert bottom <= date_top, f"seal ends at {bottom}pt, the date line starts at {date_top}pt"
    assert bottom - top >= 100  # a whole 40 mm seal (113 pt) was drawn


def test_element_opacity_is_folded_into_fill_and_stroke():
    data = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><g opacity="0.5">'
            b'<text x="5" y="5" text-anchor="middle" fill-opacity="0.5">A</text>'
            b'<circle cx="5" cy="5" r="4" style="opacity:0.8;stroke:red"/></g>'
            b'<image href="x.png" opacity="0.5" width="1" height="1"/></svg>')
    out = svg.printable(data).decode()
    assert "<g>" in out and ' opacity="0.5"' not in out.split("<image")[0]
    assert 'fill-opacity="0.25"' in out and 'stroke-opacity="0.5"' in out
    assert 'fill-opacity="0.4"' in out and 'stroke-opacity="0.4"' in out and "stroke:red" in out
    assert re.search(r'<image [^>]*opacity="0.5"', out)  # an image keeps its own opacity
    plain = b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="1" fill-opacity="0.5"/></svg>'
    assert svg.printable(plain) is plain
    assert svg.printable(b"<svg opacity='0.5'><broken") == b"<svg opacity='0.5'><broken"
