"""Uploads: one executable filter for every path, judged on the name Windows will use (trailing
dots and spaces, case, Unicode tricks, double extensions) and on the first bytes; request bodies
refused above the cap before they are read, chunked ones included."""

from __future__ import annotations

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import RequestFactory

from mutualis.core.middleware import RequestGuardMiddleware
from mutualis.core.uploads import check_upload, denied_extension, normalised_name
from mutualis.finance.forms import ExecutionImportForm
from mutualis.helpdesk import services
from mutualis.procurement.forms import DecpImportForm

REFUSED = [
    "facture.exe",
    "facture.exe.",
    "facture.exe. . ",
    "FACTURE.EXE",
    "rapport.pdf.exe",
    "rapport.exe.pdf",
    "ｆａｃｔｕｒｅ.ｅｘｅ",  # full-width letters, NFKC makes them ASCII
    "facture\u202efdp.exe",  # right-to-left override: shown as "facture exe.pdf"
    "facture.e\u200bxe",  # zero-width space inside the extension
    "facture.exe::$DATA",  # NTFS stream
    "C:\\Users\\agent\\facture.exe",
    "../../facture.exe",
    *(
        f"piece{ext}"
        for ext in (
            ".hta",
            ".vbs",
            ".js",
            ".jse",
            ".wsf",
            ".ps1",
            ".scr",
            ".lnk",
            ".msc",
            ".iso",
            ".img",
            ".bat",
            ".cmd",
            ".com",
            ".dll",
            ".msi",
            ".jar",
            ".cpl",
            ".reg",
            ".vbe",
            ".settingcontent-ms",
            ".library-ms",
            ".search-ms",
            ".searchconnector-ms",
            ".diagcab",
            ".one",
            ".appref-ms",
            ".application",
            ".gadget",
            ".xll",
            ".wsh",
            ".url",
            ".website",
            ".chm",
            ".hlp",
            ".inf",
            ".pif",
            ".vhd",
            ".vhdx",
        )
    ),
    "a.hta;.txt",  # IIS-style truncation at ";"
    "rapport.exe;.pdf",
    "Rapport.VBS ;.docx",
]
ACCEPTED = ["facture.pdf", "scan 2026.12.04.pdf", "Compte-rendu v2.3.docx", "photo.JPG", "tableau.xlsx", "notes"]


@pytest.mark.parametrize("name", REFUSED)
def test_it_refuses_an_executable_whatever_its_disguise(name):
    with pytest.raises(ValidationError):
        check_upload(SimpleUploadedFile(name, b"%PDF-1.7 harmless"))


@pytest.mark.parametrize("name", ACCEPTED)
def test_it_accepts_ordinary_documents(name):
    check_upload(SimpleUploadedFile(name, b"%PDF-1.7 harmless"))
    assert denied_extension(name) is None


@pytest.mark.parametrize("head", [b"MZ\x90\x00", b"\x7fELF\x02", b"\xcf\xfa\xed\xfe", b"L\x00\x00\x00\x01\x14\x02\x00"])
def test_it_refuses_a_program_renamed_as_a_document(head):
    with pytest.raises(ValidationError):
        check_upload(SimpleUploadedFile("releve.pdf", head + b"\x00" * 64))


def test_it_normalises_the_name_as_windows_reads_it():
    assert normalised_name("Dossier\\FACTURE.Exe. ") == "facture.exe"


def test_it_keeps_the_size_limit(settings):
    with pytest.raises(ValidationError) as refused:
        check_upload(SimpleUploadedFile("a.pdf", b"x" * 11), field="attachments", max_bytes=10)
    assert "attachments" in refused.value.message_dict


# --- every upload path uses it -----------------------------------------------------------------


def test_it_is_the_helpdesk_attachments_check(db):
    """Tickets, followups, mail attachments and request-form file answers call this one."""
    with pytest.raises(ValidationError) as refused:
        services.check_upload(SimpleUploadedFile("facture.exe. ", b"%PDF"))
    assert "exécutables" in refused.value.message_dict["attachments"][0]


@pytest.mark.parametrize("form_class", [ExecutionImportForm, DecpImportForm])
def test_it_is_the_imports_check(db, form_class):
    form = form_class(data={}, files={"file": SimpleUploadedFile("export.csv.js ", b"a;b\n")})

    assert not form.is_valid()
    assert "file" in form.errors


# --- bodies capped before they are read --------------------------------------------------------


def _guard(reached: list[bool]) -> RequestGuardMiddleware:
    def view(request):
        reached.append(True)
        return HttpResponse(request.body[:10])

    return RequestGuardMiddleware(view)


def test_it_refuses_an_announced_body_above_the_cap_without_reading_it(settings):
    settings.MAX_REQUEST_BYTES = 1000
    reached: list[bool] = []
    stream = io.BytesIO(b"x" * 10)
    request = RequestFactory().post("/assistance/", data=b"", content_type="application/octet-stream")
    request.META["CONTENT_LENGTH"] = "5000000000"
    request.META["wsgi.input"] = stream
    request._stream = stream

    response = _guard(reached)(request)

    assert response.status_code == 413
    assert not reached and stream.tell() == 0


def test_it_refuses_a_chunked_body_above_the_cap_after_reading_the_cap_only(settings):
    settings.MAX_REQUEST_BYTES = 1000
    reached: list[bool] = []
    stream = io.BytesIO(b"x" * 50_000)
    request = RequestFactory().post("/api/v1/tickets/", data=b"", content_type="application/json")
    request.META.pop("CONTENT_LENGTH", None)
    request.META["HTTP_TRANSFER_ENCODING"] = "chunked"
    request.META["wsgi.input"] = stream

    response = _guard(reached)(request)

    assert response.status_code == 413
    assert json.loads(response.content)["detail"].startswith("requête trop volumineuse")
    assert not reached and stream.tell() <= 1001


def test_it_hands_a_small_chunked_body_to_the_view(settings):
    settings.MAX_REQUEST_BYTES = 1000
    reached: list[bool] = []
    request = RequestFactory().post("/assistance/", data=b"", content_type="application/octet-stream")
    request.META.pop("CONTENT_LENGTH", None)
    request.META["HTTP_TRANSFER_ENCODING"] = "chunked"
    request.META["wsgi.input"] = io.BytesIO(b"0123456789abc")

    response = _guard(reached)(request)

    assert reached and response.content == b"0123456789"


def test_it_refuses_a_large_upload_through_the_whole_stack(client, world, settings):
    settings.MAX_REQUEST_BYTES = 2000
    client.force_login(world.agent_a)

    response = client.post("/assistance/modeles/nouveau/", {"file": SimpleUploadedFile("a.pdf", b"x" * 5000)})

    assert response.status_code == 413


def test_it_answers_a_json_body_above_the_memory_limit_with_413(client, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    client.force_login(world.staff)

    response = client.post("/api/v1/tickets/", json.dumps({"title": "x" * 500}), content_type="application/json")

    assert response.status_code == 413
    assert json.loads(response.content)["detail"].startswith("requête trop volumineuse")


def test_it_keeps_a_ticket_text_within_the_memory_limit(settings):
    from config import settings as production

    # a ticket's longest text, JSON-escaped (up to two bytes per character), fits in memory
    assert production.DATA_UPLOAD_MAX_MEMORY_SIZE >= 2 * production.HELPDESK_MAX_TEXT_BYTES
    assert production.MAX_REQUEST_BYTES > production.HELPDESK_MAX_ATTACHMENT_BYTES
