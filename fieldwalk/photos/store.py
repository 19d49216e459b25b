"""Where photo files live: content-addressed files on the filesystem behind one small interface.

A file is shared by every row with the same content, so nothing here deletes a file when a transaction
rolls back (another request's committed row may point to it). Files no row refers to are removed by
`flask photos gc` once they are older than a grace period; reusing a file renews its time so that a
request in flight keeps it.
"""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

VARIANTS = {"full": ".jpg", "thumb": ".thumb.jpg"}


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

    def save(self, sha256: str, variant: str, data: bytes) -> bool:
        """Write the file atomically unless it exists; returns True when it was new.

        An existing file gets a fresh modification time: the garbage collector's grace period then
        starts again, so it cannot remove the file before this request's row is committed.
        """
        target = self.path(sha256, variant)
        if target.is_file():
            try:
                os.utime(target)
            except FileNotFoundError:  # removed just now by the collector: write it again
                pass
            else:
                return False
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
        return True

    def read(self, sha256: str, variant: str = "full") -> bytes:
        """The file's bytes."""
        return self.path(sha256, variant).read_bytes()

    def stored(self) -> Iterator[tuple[str | None, Path]]:
        """Every file under the root as (sha256 of its photo, path); None for a temporary file left by an
        interrupted write."""
        if not self.root.is_dir():
            return
        for path in self.root.glob("*/*/*"):
            if path.is_file():
                yield (None if path.name.startswith(".tmp-") else path.name.split(".", 1)[0]), path
