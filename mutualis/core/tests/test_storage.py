"""The media storage: a file appears whole under its name or not at all, also when the disk fills
up mid-write (a real tmpfs of a few hundred kilobytes, mounted when the tests run as root)."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from mutualis.core.storage import MediaStorage
from mutualis.core.uploads import StorageFull, files_kept_only_on_success


def files_in(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB filesystem of its own."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("tmpfs absent: mounting a tiny filesystem needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode:
        pytest.skip(f"tmpfs absent: mount refused ({mounted.stderr.strip()})")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_it_saves_a_file_whole_under_a_free_name(tmp_path):
    storage = MediaStorage(location=tmp_path)
    first = storage.save("helpdesk/T-1/note.txt", ContentFile(b"premier"))
    second = storage.save("helpdesk/T-1/note.txt", ContentFile(b"second"))
    assert first == "helpdesk/T-1/note.txt"
    assert second != first
    assert second.startswith("helpdesk/T-1/note_")
    assert (tmp_path / first).read_bytes() == b"premier"
    assert (tmp_path / second).read_bytes() == b"second"
    assert oct((tmp_path / first).stat().st_mode & 0o777) == oct(0o644)
    assert files_in(tmp_path) == sorted([first, second])  # no temporary file left


def test_it_leaves_nothing_when_the_disk_fills_up_mid_write(tiny_disk):
    storage = MediaStorage(location=tiny_disk)
    storage.save("kept.bin", ContentFile(b"x" * 100_000))
    with pytest.raises(OSError) as caught:
        storage.save("too-big.bin", SimpleUploadedFile("too-big.bin", b"y" * 300_000))
    assert caught.value.errno == errno.ENOSPC
    assert files_in(tiny_disk) == ["kept.bin"]  # no truncated file, no temporary one


def test_files_saved_by_a_failed_write_are_deleted_and_a_full_disk_says_so(tiny_disk):
    storage = MediaStorage(location=tiny_disk)
    with pytest.raises(StorageFull) as caught, files_kept_only_on_success(storage) as written:
        written.append(storage.save("a.bin", ContentFile(b"a" * 100_000)))
        written.append(storage.save("b.bin", ContentFile(b"b" * 100_000)))
        storage.save("c.bin", ContentFile(b"c" * 100_000))
    assert "plus de place" in caught.value.message_dict["attachments"][0]
    assert files_in(tiny_disk) == []


def test_other_failures_pass_through_after_the_files_are_deleted(tmp_path):
    storage = MediaStorage(location=tmp_path)
    with pytest.raises(RuntimeError), files_kept_only_on_success(storage) as written:
        written.append(storage.save("a.bin", ContentFile(b"a")))
        raise RuntimeError("la base a refusé la ligne")
    assert files_in(tmp_path) == []
