"""Every text on the pages is in each catalogue's template, and each has its Korean translation:
the catalogues are extracted afresh from the sources (as ``make messages`` does) and compared."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = [ROOT / "core" / "web", *sorted(p for p in (ROOT / "plugins").iterdir() if (p / "locale").is_dir())]


def message_ids(path: Path) -> dict[str, str]:
    with path.open("rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0]: m.string if isinstance(m.string, str) else m.string[0]
                for m in read_po(fh) if m.id}


@pytest.mark.parametrize("folder", CATALOGUES, ids=lambda p: p.name)
def test_every_text_is_extracted_and_has_a_korean_translation(folder, tmp_path):
    sources = [str(folder)] + ([str(ROOT / "core" / "http.py")] if folder.name == "web" else [])
    fresh = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"),
                    "-k", "_", "-k", "gettext", "-k", "ngettext", "-k", "N_", "--no-location", "--omit-header",
                    "-o", str(fresh), *sources], check=True, capture_output=True, cwd=ROOT)
    wanted = set(message_ids(fresh))
    assert len(wanted) > 20
    korean = message_ids(folder / "locale" / "ko" / "LC_MESSAGES" / "messages.po")
    assert sorted(wanted - set(korean)) == [], "texts missing from the catalogue: run `make messages`"
    assert [m for m in wanted if not korean[m]] == [], "texts without a Korean translation"
