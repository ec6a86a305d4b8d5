import pytest


@pytest.fixture(autouse=True)
def _files_in_tmp(tmp_path, monkeypatch):
    """Files kept beside a PostgreSQL store (keys, photos) go under CIVIC_HOME: keep them in the
    test's own directory."""
    monkeypatch.setenv("CIVIC_HOME", str(tmp_path / "home"))
