"""Every message the code and templates show has an English translation, in the catalog and in
the compiled file the app loads (`make i18n` refreshes both)."""
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po
from babel.support import Translations

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")


def _extracted(tmp_path) -> list[str]:
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), "-q", "extract", "-F", "babel.cfg", "-k", "_", "-k", "lazy", "-k", "lazy_gettext",
                    "--no-location", "-o", str(pot), "."], cwd=ROOT, check=True)
    with pot.open("rb") as fh:
        return [m.id for m in read_po(fh) if m.id]


def test_every_message_has_an_english_translation(tmp_path):
    with (ROOT / "portal/translations/en/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh)
    compiled = Translations.load(str(ROOT / "portal/translations"), ["en"])
    missing, stale = [], []
    for msgid in _extracted(tmp_path):
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        entry = catalog.get(msgid)
        text = entry.string if entry else None
        if isinstance(text, (tuple, list)):
            text = text[0]
        if not text or entry.fuzzy:
            missing.append(key)
        elif CJK.search(key) and compiled.gettext(key) == key:
            stale.append(key)
    assert not missing, f"{len(missing)} messages without English (run `make i18n`, then translate): {missing[:20]}"
    assert not stale, f"{len(stale)} messages translated in the .po but not compiled (`make i18n`): {stale[:20]}"
