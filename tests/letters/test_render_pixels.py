"""The compact-font patch (letters/render.py replaces parts of WeasyPrint's font embedding) must not
change what a letter looks like: every kind, rasterized with and without the compact fonts, gives
the same pixels. pyproject.toml pins WeasyPrint to the versions this test has passed on; moving
the pin means running it (and the size check) on the new version first."""
import subprocess
from importlib.metadata import version

import pytest

from portal.letters.render import Renderer
from portal.letters.models import KINDS
from tests.letters.test_render import read_pgm, sample

TESTED_WEASYPRINT = ("70.",)  # keep in step with pyproject.toml


def _pixels(pdf: bytes, tmp_path, name: str) -> list[tuple[int, int, bytes]]:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    pages = []
    for page in (1, 2):
        out = subprocess.run(["pdftoppm", "-r", "100", "-gray", "-f", str(page), "-l", str(page), str(path)],
                             capture_output=True, timeout=120)
        if out.returncode != 0 or not out.stdout:
            break
        pages.append(read_pgm(out.stdout))
    return pages


@pytest.fixture(scope="module")
def renderers(tmp_path_factory):
    static = tmp_path_factory.mktemp("static")
    return (Renderer(static_root=static, compact_fonts=True), Renderer(static_root=static, compact_fonts=False))


def test_the_weasyprint_in_use_is_one_the_patch_is_tested_on():
    assert version("weasyprint").startswith(TESTED_WEASYPRINT), version("weasyprint")


@pytest.mark.parametrize("kind", KINDS)
def test_compact_fonts_change_no_pixel(renderers, tmp_path, kind):
    compact, plain = renderers
    small, big = compact.render(kind, sample(kind)), plain.render(kind, sample(kind))
    assert len(small) < len(big)
    a, b = _pixels(small, tmp_path, "compact"), _pixels(big, tmp_path, "plain")
    assert a and len(a) == len(b)
    for (wa, ha, pa), (wb, hb, pb) in zip(a, b):
        assert (wa, ha) == (wb, hb)
        if pa != pb:
            differing = sum(1 for x, y in zip(pa, pb) if x != y)
            pytest.fail(f"{kind}: {differing} pixels differ")


def test_the_introduction_stays_under_its_size(renderers):
    # about 36 KB with the compact fonts (240 KB without): the budget keeps it there
    assert len(renderers[0].render("introduction", sample("introduction"))) < 38 * 1024
