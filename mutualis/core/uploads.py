"""The one check every uploaded file passes (ticket attachments, form answers, mail attachments,
imports): no executable, whatever its name's disguise, and no file above the size limit.

The name is judged as Windows will see it once an agent saves it: trailing dots and spaces
dropped ("facture.exe. " runs as facture.exe), case folded, Unicode normalised (full-width
letters, invisible and right-to-left override characters removed), every extension of a double
one looked at ("facture.pdf.exe", "setup.exe.zip"), a ";" ending an extension ("a.hta;.txt").
The first bytes catch a renamed program.

And what a write that stores files does when the storage has no room (StorageFull,
files_kept_only_on_success): the files it saved go with its rolled-back rows, the writer reads why."""

from __future__ import annotations

import errno
import logging
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.storage import Storage
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# Run, or opened by something that runs code, on a Windows workstation (and a few elsewhere).
DENIED_EXTENSIONS = frozenset(
    {
        ".ade",
        ".adp",
        ".apk",
        ".app",
        ".application",
        ".appref-ms",
        ".appx",
        ".appxbundle",
        ".bas",
        ".bat",
        ".chm",
        ".cmd",
        ".com",
        ".cpl",
        ".crt",
        ".diagcab",
        ".dll",
        ".exe",
        ".gadget",
        ".hlp",
        ".hta",
        ".img",
        ".inf",
        ".ins",
        ".iso",
        ".isp",
        ".jar",
        ".js",
        ".jse",
        ".library-ms",
        ".lnk",
        ".mde",
        ".msc",
        ".msh",
        ".msi",
        ".msix",
        ".msp",
        ".mst",
        ".ocx",
        ".one",
        ".pif",
        ".ps1",
        ".ps1xml",
        ".ps2",
        ".psc1",
        ".psd1",
        ".psm1",
        ".reg",
        ".scf",
        ".scr",
        ".sct",
        ".search-ms",
        ".searchconnector-ms",
        ".settingcontent-ms",
        ".sh",
        ".shb",
        ".sys",
        ".url",
        ".vb",
        ".vbe",
        ".vbs",
        ".vhd",
        ".vhdx",
        ".website",
        ".ws",
        ".wsc",
        ".wsf",
        ".wsh",
        ".xll",
    }
)

# Windows PE ("MZ"), ELF, Mach-O (both byte orders, 32/64 bits) and Java class / universal
# binaries, Windows shortcuts (.lnk).
_MAGIC = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")
_MAGIC_4 = (b"\xca\xfe\xba\xbe", b"L\x00\x00\x00")
_SEPARATORS = re.compile(r"[\\/]")


def normalised_name(name: str) -> str:
    """The file name as the workstation will treat it: last path part (either slash), NFKC,
    without format characters (zero-width, bidi overrides), an NTFS stream suffix, or trailing
    dots and spaces, case-folded."""
    text = _SEPARATORS.split(name or "")[-1]
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if unicodedata.category(c) not in {"Cf", "Cc"})
    text = text.split(":", 1)[0]  # "facture.exe:flux" or "::$DATA" is facture.exe to NTFS
    return text.rstrip(". \t").casefold()


def denied_extension(name: str) -> str | None:
    """The first dangerous extension in the name, if any ("rapport.pdf.exe" → ".exe")."""
    parts = normalised_name(name).split(".")[1:]
    for part in parts:
        # IIS and some Windows tools cut the name at ";": "a.hta;.txt" is served or run as a.hta.
        suffix = "." + part.split(";", 1)[0].strip()
        if suffix in DENIED_EXTENSIONS:
            return suffix
    return None


def looks_executable(head: bytes) -> bool:
    return head.startswith(_MAGIC) or head[:4] in _MAGIC_4


def check_upload(upload: Any, *, field: str | None = None, max_bytes: int | None = None) -> None:
    """Raises ValidationError (under `field` when given) for an executable or an oversized file."""
    display = _SEPARATORS.split(upload.name or "fichier")[-1]

    def refuse(message: str) -> ValidationError:
        return ValidationError({field: message}) if field else ValidationError(message)

    if max_bytes is not None and upload.size is not None and upload.size > max_bytes:
        raise refuse(
            _("« %(name)s » pèse %(size)d octets : la limite est %(max)d octets")
            % {"name": display, "size": upload.size, "max": max_bytes}
        )
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if denied_extension(display) or looks_executable(head):
        raise refuse(_("« %(name)s » : les exécutables sont refusés") % {"name": display})


def validate_upload(upload: Any) -> None:
    """A form field validator: `forms.FileField(validators=[validate_upload])`."""
    check_upload(upload)


# --- Storage out of space ------------------------------------------------------------------------
# A disk full, a quota reached, a file above the filesystem's limit.
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class StorageFull(ValidationError):
    """The media storage had no room for a file: the write that carried it was abandoned whole.
    A ValidationError, so the form that sent the file shows it and keeps what was typed."""


def storage_full_message() -> str:
    return _(
        "Le serveur n'a plus de place pour enregistrer les pièces jointes : rien n'a été enregistré. "
        "Réessayez plus tard ou sans pièce jointe, et prévenez l'opérateur."
    )


@contextmanager
def files_kept_only_on_success(storage: Storage, *, field: str = "attachments") -> Iterator[list[str]]:
    """Yields a list for the names of the files saved in the block: if the block fails (its
    transaction rolled back, so no row names them), they are deleted again. A storage out of space
    becomes StorageFull on `field`, in French."""
    names: list[str] = []
    try:
        yield names
    except BaseException as error:
        for name in names:
            try:
                storage.delete(name)
            except Exception:
                logger.exception("could not delete %s, saved by a write that failed", name)
        if isinstance(error, OSError) and error.errno in NO_SPACE:
            logger.error("media storage full, the write is abandoned: %s", error)
            raise StorageFull({field: storage_full_message()}) from error
        raise
