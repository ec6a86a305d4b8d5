"""The ledger's files outside the store: the signing key (0600, beside the database;
``CIVIC_LEDGER_KEY`` moves it) and the newest checkpoint kept next to it, so that a truncated or
rewritten store cannot pass ``civic audit verify --db``."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from core.instance import load_or_create_private_file
from core.ledger.checkpoint import Checkpoint, NoteError, SigningKey, VerifierKey, default_origin, note_text


def read_verifier_key(path: str | os.PathLike[str]) -> VerifierKey | None:
    """The public half of a ledger key file, without creating one."""
    path = Path(path)
    if not path.exists():
        return None
    return SigningKey.parse(path.read_text(encoding="utf-8")).verifier


def checkpoint_path_for(key_path: Path) -> Path:
    name = key_path.name
    stem = name[: -len(".key")] if name.endswith(".key") else name
    return key_path.with_name(stem + ".checkpoint")


class LedgerFiles:
    """Where the key and the outside checkpoint of one store live, and reading and writing them."""

    def __init__(self, default_key_path: Path, *, key_path: str | os.PathLike[str] | None = None,
                 checkpoint_path: str | os.PathLike[str] | None = None) -> None:
        self._default_key_path = default_key_path
        self._key_path = Path(key_path) if key_path else None
        self._checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
        self._key: SigningKey | None = None
        self._verifier: tuple[Path, VerifierKey] | None = None  # read once per key file

    @property
    def key_path(self) -> Path:
        if self._key_path is not None:
            return self._key_path
        return Path(os.environ.get("CIVIC_LEDGER_KEY") or self._default_key_path)

    @property
    def checkpoint_path(self) -> Path:
        if self._checkpoint_path is not None:
            return self._checkpoint_path
        return Path(os.environ.get("CIVIC_LEDGER_CHECKPOINT") or checkpoint_path_for(self.key_path))

    @property
    def key(self) -> SigningKey:
        """The instance's signing key, generated on first use."""
        if self._key is None:
            fresh = SigningKey.generate(os.environ.get("CIVIC_LEDGER_ORIGIN") or default_origin())
            text = load_or_create_private_file(self.key_path, (str(fresh) + "\n").encode())
            self._key = SigningKey.parse(text.decode("utf-8"))
        return self._key

    @property
    def verifier_key(self) -> VerifierKey:
        return self.key.verifier

    @property
    def origin(self) -> str:
        return self.key.name

    def existing_verifier_key(self) -> VerifierKey | None:
        """The public key if the key file exists (never creates it)."""
        path = self.key_path
        if self._verifier is not None and self._verifier[0] == path:
            return self._verifier[1]
        found = self._key.verifier if self._key is not None else read_verifier_key(path)
        if found is not None:
            self._verifier = (path, found)
        return found

    def outside_checkpoint(self) -> str | None:
        """The newest checkpoint note kept outside the store, if any."""
        try:
            return self.checkpoint_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def write_outside(self, note: str, origin: str, size: int) -> None:
        """Keep ``note`` (a signed checkpoint of ``size`` leaves) outside the store, unless a
        larger checkpoint of the same origin is kept there already."""
        path = self.checkpoint_path
        current = self.outside_checkpoint()
        if current is not None:
            try:
                kept = Checkpoint.parse(note_text(current))
                if kept.origin == origin and kept.size > size:
                    return
            except NoteError:
                pass  # unreadable: replace it
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(note, encoding="utf-8")
        os.replace(tmp, path)
