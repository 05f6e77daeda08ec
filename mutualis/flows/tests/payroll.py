"""A payroll PDF as a payroll software prints it: one or more pages per agent, each page headed by the
agent's matricule. Written by hand (a few PDF objects, Helvetica), so tests and bench/flows.py build
thousands of pages in a blink without a PDF library."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PayslipPage:
    hr_id: str  # "" for a page that prints no matricule (a continuation page)
    name: str
    lines: tuple[str, ...] = ()


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _content(page: PayslipPage, number: int) -> bytes:
    rows = [f"BULLETIN DE PAIE - page {number}", f"Agent : {page.name}"]
    if page.hr_id:
        rows.insert(1, f"Matricule : {page.hr_id}")
    rows.extend(page.lines)
    ops = ["BT", "/F1 11 Tf", "14 TL", "50 780 Td"]
    for row in rows:
        ops.append(f"({_escape(row)}) Tj T*")
    ops.append("ET")
    return "\n".join(ops).encode("latin-1")


def payroll_pdf(pages: Sequence[PayslipPage]) -> bytes:
    """A valid PDF 1.4 with one page per item, cross-reference table included."""
    objects: list[bytes] = []
    count = len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(count))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for i, page in enumerate(pages):
        stream = _content(page, i + 1)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
