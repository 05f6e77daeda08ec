"""The public pages of a member's published acts (no login: the law makes them public), their PDF,
« vérifier un acte », and the embeddable list with its JSON and Atom feeds."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET, require_http_methods

from mutualis.core.middleware import CONTENT_SECURITY_POLICY
from mutualis.publication import selectors
from mutualis.publication.forms import ListFilter, VerifyForm
from mutualis.publication.models import PublishedAct
from mutualis.publication.services import MAX_PDF_BYTES

PAGE_SIZE = 50
FEED_SIZE = 50
# The embeddable list may sit in a frame of any site (a town's own); every other page keeps 'none'.
EMBED_CSP = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors *")


def _filtered(request: HttpRequest, slug: str) -> tuple[Any, ListFilter, Any]:
    member = selectors.public_member(slug)
    form = ListFilter(request.GET or None, years=selectors.published_years(member))
    nature = year = None
    if form.is_valid():
        nature, year = form.cleaned_data["nature"], form.cleaned_data["annee"]
    acts = selectors.published_acts(member=member, nature=nature, year=year)
    return member, form, acts


def _page(request: HttpRequest, acts: Any) -> tuple[Any, str]:
    page = Paginator(acts, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


@require_GET
def act_list(request: HttpRequest, slug: str) -> HttpResponse:
    member, form, acts = _filtered(request, slug)
    page, query = _page(request, acts)
    context = {"member": member, "form": form, "page": page, "query": query}
    return render(request, "publication/list.html", context)


@require_GET
@xframe_options_exempt
def act_embed(request: HttpRequest, slug: str) -> HttpResponse:
    member, form, acts = _filtered(request, slug)
    page, query = _page(request, acts)
    response = render(request, "publication/embed.html", {"member": member, "page": page, "query": query})
    response["Content-Security-Policy"] = EMBED_CSP
    return response


@require_GET
def act_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    member = selectors.public_member(slug)
    act = selectors.published_act(member=member, pk=pk)
    return render(request, "publication/act.html", {"member": member, "act": act})


@require_GET
def act_pdf(request: HttpRequest, slug: str, pk: int) -> FileResponse:
    member = selectors.public_member(slug)
    act = selectors.published_act(member=member, pk=pk)
    name = act.file_name if act.file_name.lower().endswith(".pdf") else f"{act.number}.pdf"
    if act.version > 1:
        name = f"{name[:-4]}-v{act.version}.pdf"
    return FileResponse(act.file.open("rb"), as_attachment=True, filename=name, content_type="application/pdf")


@require_http_methods(["GET", "POST"])
def act_verify(request: HttpRequest, slug: str) -> HttpResponse:
    """Whether a PDF is, byte for byte, one of the member's published acts. The upload is read to hash
    it and never stored (Django's temporary file goes with the request)."""
    member = selectors.public_member(slug)
    form = VerifyForm(request.POST or None, request.FILES or None)
    result: dict[str, Any] | None = None
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        digest = hashlib.sha256()
        head = b""
        if upload.size > MAX_PDF_BYTES:
            form.add_error(
                "file",
                _("Le fichier dépasse %(mb)s Mo : aucun acte publié n'est aussi gros.")
                % {"mb": MAX_PDF_BYTES // (1024 * 1024)},
            )
        else:
            for chunk in upload.chunks():
                if not head:
                    head = chunk[:5]
                digest.update(chunk)
            if head != b"%PDF-":
                form.add_error("file", _("Ce fichier n'est pas un PDF : seuls les actes en PDF sont publiés."))
        if not form.errors:
            sha256 = digest.hexdigest()
            result = {"sha256": sha256, "matches": selectors.acts_with_digest(member=member, sha256=sha256)}
    if form.errors:
        status = 400
    context = {"member": member, "form": form, "result": result, "max_mb": MAX_PDF_BYTES // (1024 * 1024)}
    return render(request, "publication/verify.html", context, status=status)


def _entry(request: HttpRequest, act: PublishedAct) -> dict[str, Any]:
    return {
        "id": act.pk,
        "nature": act.nature,
        "nature_label": act.get_nature_display(),
        "number": act.number,
        "subject": act.subject,
        "decision_date": act.decision_date.isoformat(),
        "published_at": act.published_at.isoformat(),
        "author": {"name": act.author_name, "title": act.author_title},
        "version": act.version,
        "replaces": act.replaces_id,
        "sha256": act.sha256,
        "size": act.size,
        "url": request.build_absolute_uri(reverse("publication:act", args=[act.member.slug, act.pk])),
        "pdf": request.build_absolute_uri(reverse("publication:pdf", args=[act.member.slug, act.pk])),
    }


@require_GET
def feed_json(request: HttpRequest, slug: str) -> JsonResponse:
    member = selectors.public_member(slug)
    acts = selectors.published_acts(member=member).select_related("member")[:FEED_SIZE]
    body = {
        "member": {"slug": member.slug, "name": member.name, "siren": member.siren},
        "acts": [_entry(request, a) for a in acts],
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"  # public data, read by the member's own site
    return response


@require_GET
def feed_atom(request: HttpRequest, slug: str) -> HttpResponse:
    member = selectors.public_member(slug)
    acts = list(selectors.published_acts(member=member).select_related("member")[:FEED_SIZE])
    feed = Atom1Feed(
        title=_("Actes publiés — %(member)s") % {"member": member.name},
        link=request.build_absolute_uri(reverse("publication:list", args=[member.slug])),
        description=_("Les derniers actes publiés par %(member)s.") % {"member": member.name},
        language="fr",
        feed_url=request.build_absolute_uri(request.path),
    )
    for act in acts:
        entry = _entry(request, act)
        title = f"{act.get_nature_display()} {act.number}" + (f" (version {act.version})" if act.version > 1 else "")
        feed.add_item(
            title=f"{title} — {act.subject}",
            link=entry["url"],
            description=_("Décision du %(date)s, par %(author)s, %(title)s. SHA-256 : %(sha)s")
            % {
                "date": act.decision_date.isoformat(),
                "author": act.author_name,
                "title": act.author_title,
                "sha": act.sha256,
            },
            unique_id=entry["url"],
            pubdate=act.published_at,
            updateddate=act.published_at,
            author_name=act.author_name,
            enclosures=[],
        )
    return HttpResponse(feed.writeString("utf-8"), content_type="application/atom+xml; charset=utf-8")


__all__ = ["act_detail", "act_embed", "act_list", "act_pdf", "act_verify", "feed_atom", "feed_json"]
