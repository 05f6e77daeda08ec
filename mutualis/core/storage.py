"""The media folder's storage: a file appears whole under its name, or not at all.

Django's FileSystemStorage writes straight to the final name, so a disk that fills up mid-write
leaves a truncated file there (and a large upload moved from /tmp, a truncated copy). Here the
bytes go to a hidden temporary file in the same folder, flushed to disk, then linked under the
name (a hard link fails if the name is taken, like O_EXCL, and never shows a partial file); the
temporary file goes whatever the write's outcome (only a process killed mid-write leaves a
`.partial-…` file, which no row names and which can be deleted). S3 (STORAGE_URL) needs none of
this: an object is whole or absent."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from typing import Any

from django.core.files.storage import FileSystemStorage
from django.utils._os import safe_makedirs

PARTIAL_PREFIX = ".partial-"
# Filesystems without hard links (some network and FUSE mounts): rename instead, after a check.
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK}


class MediaStorage(FileSystemStorage):
    def _save(self, name: str, content: Any) -> str:
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        if self.directory_permissions_mode is not None:
            safe_makedirs(directory, self.directory_permissions_mode, exist_ok=True)
        else:
            os.makedirs(directory, exist_ok=True)
        descriptor, partial = tempfile.mkstemp(dir=directory, prefix=PARTIAL_PREFIX)
        try:
            with os.fdopen(descriptor, "wb") as out:
                for chunk in content.chunks():
                    out.write(chunk.encode() if isinstance(chunk, str) else chunk)
                out.flush()
                os.fsync(out.fileno())  # a full disk may only say so here (delayed allocation)
            os.chmod(partial, self.file_permissions_mode if self.file_permissions_mode is not None else 0o644)
            while True:
                try:
                    _publish(partial, full_path)
                    break
                except FileExistsError:
                    name = self.get_available_name(name)
                    full_path = self.path(name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
        self._ensure_location_group_id(full_path)  # type: ignore[attr-defined]  # Django's, untyped in the stubs
        return os.path.relpath(full_path, self.location).replace("\\", "/")


def _publish(partial: str, full_path: str) -> None:
    try:
        os.link(partial, full_path)
    except OSError as error:
        if error.errno not in _NO_LINKS:
            raise
        if os.path.lexists(full_path):
            raise FileExistsError(full_path) from None
        os.rename(partial, full_path)
