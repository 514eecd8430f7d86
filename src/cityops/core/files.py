"""Photo and evidence storage: content-addressed files under CITYOPS_DATA_DIR/files.

A file is stored once under the SHA-256 of its bytes (`files/ab/cd/abcd...`), so saving the
same bytes twice gives the same key and costs nothing. The database keeps the key and the
content type; this store keeps only bytes. An S3-compatible store can replace it behind the
same calls.

Files derived from a stored one (a photo's thumbnail) are kept beside it as `<key>.<name>`,
made on first use and removed with it.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cityops.core.errors import NotFound

_KEY = re.compile(r"^[0-9a-f]{64}$")
_DERIVED = re.compile(r"^[a-z0-9_-]{1,32}$")


@dataclass(frozen=True)
class FileRef:
    """A stored file: its key (the SHA-256 of its bytes), size and content type."""

    key: str
    size: int
    content_type: str


class FileStore:
    """Files on the local filesystem, named by their content."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @classmethod
    def for_data_dir(cls, data_dir: str | Path) -> FileStore:
        """Return the store of an instance (DATA_DIR/files)."""
        return cls(Path(data_dir) / "files")

    def path(self, key: str) -> Path:
        """Return where a key lives; ValueError for anything but a SHA-256 hex digest."""
        if not _KEY.match(key):
            raise ValueError(f"not a file key: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def save(self, data: bytes, content_type: str) -> FileRef:
        """Store bytes (atomically, once per content) and return their reference."""
        key = hashlib.sha256(data).hexdigest()
        target = self.path(key)
        if not target.exists():
            _write(target, data)
        return FileRef(key=key, size=len(data), content_type=content_type)

    def derived(self, key: str, name: str, make: Callable[[bytes], bytes]) -> bytes:
        """Return the file `name` derived from a stored one, making and keeping it on first use.

        `make` must give the same bytes for the same input: concurrent first uses each write a
        complete file and the last rename wins, so the kept file is never partial or doubled.
        """
        if not _DERIVED.match(name):
            raise ValueError(f"not a derived file name: {name!r}")
        target = self.path(key).with_name(f"{key}.{name}")
        try:
            return target.read_bytes()
        except FileNotFoundError:
            pass
        data = make(self.read(key))
        _write(target, data)
        return data

    def exists(self, key: str) -> bool:
        """Say whether a file is stored under this key."""
        return self.path(key).is_file()

    def open(self, key: str) -> BinaryIO:
        """Open a stored file for reading; NotFound if it is missing."""
        try:
            return self.path(key).open("rb")
        except (FileNotFoundError, ValueError) as err:
            raise NotFound("No such file") from err

    def read(self, key: str) -> bytes:
        """Return a stored file's bytes; NotFound if it is missing."""
        with self.open(key) as f:
            return f.read()

    def delete(self, key: str) -> bool:
        """Remove a stored file and the files derived from it; return False if it was not there."""
        path = self.path(key)
        for derived in path.parent.glob(f"{key}.*"):
            derived.unlink(missing_ok=True)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True


def _write(target: Path, data: bytes) -> None:
    """Write a file atomically: a temporary file in the same folder, then a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
