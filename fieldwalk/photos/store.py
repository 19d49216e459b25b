"""Where photo files live: content-addressed objects behind one small interface, with two backends.

`FilesystemStore` (the default) keeps them under a folder (instance/photos); `S3Store` (fieldwalk/photos/s3.py)
in a bucket of any S3-compatible object store. Both name an object by the sha256 of its content, in the same
layout (`ab/cd/<sha256>.jpg` and `….thumb.jpg`; on S3 under `S3_PREFIX/`), so a folder can be copied into a
bucket as it is.

An object is shared by every row with the same content, so nothing here deletes one when a transaction rolls
back (another request's committed row may point to it). Objects no row refers to are removed by
`flask photos gc` once they are older than a grace period; storing an object that is already there renews its
time (`put` returns False), so that a request in flight keeps it.
"""

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple, Protocol

VARIANTS = {"full": ".jpg", "thumb": ".thumb.jpg"}
_SHA256 = re.compile(r"[0-9a-f]{64}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,150}")


def checked_name(name: str) -> str:
    """A generated file's name (e.g. a protocol PDF's): one path segment of safe characters."""
    if not _NAME.fullmatch(name) or ".." in name:
        raise ValueError("not a file name the store takes")
    return name


def relative_key(sha256: str, variant: str) -> str:
    """The object's name inside the store; the digest is checked to be a sha256 hex digest."""
    if not _SHA256.fullmatch(sha256):
        raise ValueError("not a sha256 hex digest")
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}{VARIANTS[variant]}"


class StoredObject(NamedTuple):
    """One object in a store: its key, the sha256 of its photo (None for a left-over temporary file) and the
    time it was last written or renewed (seconds since the epoch)."""

    key: str
    sha256: str | None
    modified: float


class Opened(NamedTuple):
    """An object opened for streaming: a binary file-like stream (close it) and its size in bytes."""

    stream: BinaryIO
    size: int


class PhotoStore(Protocol):
    """What the app needs of a photo store. Missing objects raise FileNotFoundError from `open` and `read`."""

    def key(self, sha256: str, variant: str = "full") -> str:
        """The object's key, as `stored` lists it."""

    def exists(self, sha256: str, variant: str = "full") -> bool: ...

    def put(self, sha256: str, variant: str, data: bytes) -> bool:
        """Store the object unless it is there; True when it was new. An existing one is renewed (its time
        is set to now), so the collector's grace period starts again."""

    def open(self, sha256: str, variant: str = "full") -> Opened: ...

    def read(self, sha256: str, variant: str = "full") -> bytes: ...

    def stored(self) -> Iterator[StoredObject]:
        """Every object of the store, for the garbage collector."""

    def modified(self, key: str) -> float | None:
        """The object's time now (None when it is gone): read again just before the collector deletes it."""

    def delete(self, key: str) -> None:
        """Remove the object; nothing happens when it is already gone."""


class FileStore(Protocol):
    """Generated files that are not photos (protocol PDFs): named by the app, not by their content, in a
    namespace of their own that the photo collector never lists. The same two backends as photos, so a file
    made by the worker is served by any app server."""

    def put_file(self, name: str, data: bytes, content_type: str) -> str:
        """Store (or replace) the file; returns its key."""

    def open_file(self, key: str) -> Opened:
        """The file for streaming; FileNotFoundError when it is gone."""

    def delete(self, key: str) -> None: ...


class FilesystemStore:
    """Photo files named by the sha256 of their content, under a root folder (instance/photos)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def key(self, sha256: str, variant: str = "full") -> str:
        return relative_key(sha256, variant)

    def path(self, sha256: str, variant: str = "full") -> Path:
        """The file for a photo's variant ('full' or 'thumb')."""
        return self.root / self.key(sha256, variant)

    def exists(self, sha256: str, variant: str = "full") -> bool:
        return self.path(sha256, variant).is_file()

    def put(self, sha256: str, variant: str, data: bytes) -> bool:
        """Write the file atomically unless it exists; an existing file gets a fresh modification time."""
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

    def open(self, sha256: str, variant: str = "full") -> Opened:
        stream = self.path(sha256, variant).open("rb")
        return Opened(stream, os.fstat(stream.fileno()).st_size)

    def read(self, sha256: str, variant: str = "full") -> bytes:
        return self.path(sha256, variant).read_bytes()

    def stored(self) -> Iterator[StoredObject]:
        """Every file under the root; a temporary file left by an interrupted write has no sha256."""
        if not self.root.is_dir():
            return
        for path in self.root.glob("*/*/*"):
            try:
                if not path.is_file():
                    continue
                modified = path.stat().st_mtime
            except FileNotFoundError:
                continue
            sha256 = None if path.name.startswith(".tmp-") else path.name.split(".", 1)[0]
            yield StoredObject(path.relative_to(self.root).as_posix(), sha256, modified)

    def modified(self, key: str) -> float | None:
        try:
            return (self.root / key).stat().st_mtime
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)

    def put_file(self, name: str, data: bytes, content_type: str) -> str:
        """Write a generated file at the root, atomically (a reader never sees half of it)."""
        self.root.mkdir(parents=True, exist_ok=True)
        key = checked_name(name)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, self.root / key)
        return key

    def open_file(self, key: str) -> Opened:
        stream = (self.root / checked_name(key)).open("rb")
        return Opened(stream, os.fstat(stream.fileno()).st_size)
