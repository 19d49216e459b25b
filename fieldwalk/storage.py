"""Where photo files live: content-addressed files on the filesystem behind one small interface."""

import os
import tempfile
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

VARIANTS = {"full": ".jpg", "thumb": ".thumb.jpg"}
_NEW_FILES = "fieldwalk_new_files"


class PhotoStore:
    """Photo files named by the sha256 of their content, under a root folder (instance/photos)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, sha256: str, variant: str = "full") -> Path:
        """The file for a photo's variant ('full' or 'thumb'); the name is checked to be a hex digest."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}{VARIANTS[variant]}"

    def exists(self, sha256: str, variant: str = "full") -> bool:
        """True when the file is stored."""
        return self.path(sha256, variant).is_file()

    def save(self, sha256: str, variant: str, data: bytes, session: Session | None = None) -> bool:
        """Write the file atomically unless it exists; returns True when it was new.

        With a session, a new file is removed again if that session's transaction rolls back, so a
        failed request leaves no orphan files behind.
        """
        target = self.path(sha256, variant)
        if target.is_file():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
        if session is not None:
            session.info.setdefault(_NEW_FILES, []).append(target)
        return True

    def read(self, sha256: str, variant: str = "full") -> bytes:
        """The file's bytes."""
        return self.path(sha256, variant).read_bytes()


@event.listens_for(Session, "after_commit")
def _forget_new_files(session: Session) -> None:
    """Committed: the new files belong to saved rows now."""
    session.info.pop(_NEW_FILES, None)


@event.listens_for(Session, "after_soft_rollback")
def _remove_new_files(session: Session, _previous_transaction) -> None:
    """Rolled back: remove the files written for rows that were never saved."""
    for path in session.info.pop(_NEW_FILES, []):
        Path(path).unlink(missing_ok=True)
