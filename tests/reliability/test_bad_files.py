"""Bad files given to the commands that read Pabulib files and audit exports: truncated, binary,
empty, and in the wrong encoding (CP949, UTF-16). Each gets a clear one-line error and exit code 2
(bad input), never a traceback, and nothing is stored."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from core import cli as cli_module
from core import cli_helpers
from core.engine import Engine
from core.plugins import make_plugin_manager
from tests.plugins.budget_vote.test_pabulib import SAMPLE

# a Korean description makes the encodings differ in bytes, as a file saved by a Korean
# spreadsheet (CP949) or by Windows Notepad (UTF-16) would
PABULIB = SAMPLE.replace("description;Jung-gu 2016 district projects (sample)", "description;중구 2016 주민참여예산")
BINARY = bytes(range(256)) * 8


def bad_files(good: bytes, text: str) -> dict[str, bytes]:
    cut = good[: len(good) // 2]
    cut = cut[: cut.rfind(b"\n") + 1] + cut[cut.rfind(b"\n") + 1:][:3]  # ends inside a line
    return {
        "truncated": cut,
        "binary": BINARY,
        "empty": b"",
        "cp949": text.encode("cp949", errors="replace"),  # what CP949 cannot hold becomes "?"
        "utf-16": text.encode("utf-16"),
    }


def assert_clean_refusal(result, name: str) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), (name, result.exception)
    assert result.exit_code == 2, (name, result.exit_code, result.output)
    assert "Traceback" not in result.output
    message = [line for line in result.output.splitlines() if line.strip()]
    assert len(message) == 1 and message[0].startswith(("Error:", "civic:")), (name, result.output)


PM = make_plugin_manager(allow={"budget_vote"})
CIVIC = cli_module.build_cli(PM)  # the civic command with the budget plugin's commands


@pytest.fixture
def plugins(monkeypatch, tmp_path):
    monkeypatch.setenv("CIVIC_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(cli_helpers, "_plugin_manager", PM)


@pytest.mark.parametrize("kind", ["truncated", "binary", "empty", "cp949", "utf-16"])
def test_budget_tally_of_a_bad_pabulib_file(kind, tmp_path, plugins):
    path = tmp_path / f"{kind}.pb"
    path.write_bytes(bad_files(PABULIB.encode("utf-8"), PABULIB)[kind])
    result = CliRunner().invoke(CIVIC, ["budget", "tally", "--pb", str(path)])
    assert_clean_refusal(result, kind)


@pytest.mark.parametrize("kind", ["truncated", "binary", "empty", "cp949", "utf-16"])
def test_budget_import_of_a_bad_pabulib_file(kind, tmp_path, plugins):
    path = tmp_path / f"{kind}.pb"
    path.write_bytes(bad_files(PABULIB.encode("utf-8"), PABULIB)[kind])
    db = str(tmp_path / "civic.db")
    result = CliRunner().invoke(CIVIC, ["budget", "import-pb", "--db", db, str(path)])
    assert_clean_refusal(result, kind)
    engine = Engine(db)
    try:
        assert engine.position == 0
    finally:
        engine.close()


def test_the_good_files_are_accepted(tmp_path, plugins):
    """The same file, well encoded, is read: the refusals above are about the bytes."""
    path = tmp_path / "good.pb"
    path.write_text(PABULIB, encoding="utf-8")
    assert CliRunner().invoke(CIVIC, ["budget", "tally", "--pb", str(path)]).exit_code == 0


@pytest.fixture(scope="module")
def export_text(tmp_path_factory) -> str:
    """A real export of a small store (a Pabulib import: a cycle, its roll and ballots)."""
    tmp = tmp_path_factory.mktemp("export")
    patch = pytest.MonkeyPatch()
    patch.setenv("CIVIC_HOME", str(tmp / "home"))
    patch.setattr(cli_helpers, "_plugin_manager", PM)
    try:
        (tmp / "good.pb").write_text(PABULIB, encoding="utf-8")
        db, out = str(tmp / "civic.db"), tmp / "export.jsonl"
        runner = CliRunner()
        assert runner.invoke(CIVIC, ["budget", "import-pb", "--db", db, str(tmp / "good.pb")]).exit_code == 0
        exported = runner.invoke(CIVIC, ["audit", "export", "--db", db, "--out", str(out)])
        assert exported.exit_code == 0, exported.output
        verified = runner.invoke(CIVIC, ["audit", "verify", "--log", str(out)])
        assert verified.exit_code == 0, verified.output
        return out.read_text(encoding="utf-8")
    finally:
        patch.undo()


@pytest.mark.parametrize("kind", ["truncated", "binary", "empty", "cp949", "utf-16"])
def test_audit_verify_of_a_bad_export(kind, tmp_path, plugins, export_text):
    assert not export_text.isascii()  # so the re-encoded copies differ from UTF-8
    path = tmp_path / f"{kind}.jsonl"
    path.write_bytes(bad_files(export_text.encode("utf-8"), export_text)[kind])
    result = CliRunner().invoke(CIVIC, ["audit", "verify", "--log", str(path)])
    assert_clean_refusal(result, kind)
