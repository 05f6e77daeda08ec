"""Pages of the knowledge base under /connaissances/: search, an article, votes, « ma question
est résolue »; for operator staff, writing, publishing and the versions; the htmx fragments that
suggest articles on a new request and let a staff answer cite one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mutualis.accounts.requests import signed_in
from mutualis.catalog.models import Application
from mutualis.core.forms import add_service_errors
from mutualis.core.tenancy import is_operator, may_write, require_operator_staff
from mutualis.knowledge import selectors, services
from mutualis.knowledge.forms import ArticleForm, SearchForm
from mutualis.knowledge.models import Article

# What the suggestion fragment reads of a new request's form: the text fields only.
IGNORED_PARAMETERS = {"csrfmiddlewaretoken"}
TYPED_MAX = 1000


def _may_author(request: HttpRequest) -> bool:
    return is_operator(request.user) and may_write(request.user)


@login_required
def article_index(request: HttpRequest) -> HttpResponse:
    actor = signed_in(request)
    applications = Application.objects.filter(
        pk__in=Article.objects.visible_to(actor).exclude(application=None).values("application_id")
    ).order_by("name")
    form = SearchForm(request.GET or None, applications=applications)
    text, application, category = "", None, None
    if form.is_valid():
        text = form.cleaned_data["q"] or ""
        application = form.cleaned_data["application"]
        category = form.cleaned_data["category"]
    articles = selectors.article_search(
        actor=actor,
        text=text,
        application=application.pk if application else None,
        category=category.pk if category else None,
    )
    return render(
        request,
        "knowledge/index.html",
        {
            "form": form,
            "articles": articles,
            "searched": bool(text or application or category),
            "limit": selectors.SEARCH_LIMIT,
            "can_author": _may_author(request),
        },
    )


@login_required
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    actor = signed_in(request)
    article = selectors.article_get(actor=actor, slug=slug)
    if article.is_published:
        services.article_read(article=article)
    return render(
        request,
        "knowledge/article.html",
        {
            "article": article,
            "votes": selectors.article_votes(article=article),
            "my_vote": selectors.vote_of(actor=actor, article=article),
            "can_vote": article.is_published and may_write(actor),
            "can_author": _may_author(request),
        },
    )


@login_required
@require_POST
def article_vote(request: HttpRequest, slug: str) -> HttpResponse:
    actor = signed_in(request)
    article = selectors.article_get(actor=actor, slug=slug)
    answer = request.POST.get("useful")
    if answer not in {"oui", "non"}:
        messages.error(request, _("Répondez « oui » ou « non »."))
    else:
        try:
            services.article_vote(actor=actor, article=article, useful=answer == "oui")
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Merci, votre avis est enregistré."))
    return redirect("knowledge:article", slug=article.slug)


@login_required
def article_create(request: HttpRequest) -> HttpResponse:
    require_operator_staff(request.user)
    actor = signed_in(request)
    if not may_write(actor):
        raise Http404("lecture seule")
    form = ArticleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.ARTICLE_FIELDS}
        try:
            article = services.article_create(actor=actor, data=data, publish="publish" in request.POST)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Article enregistré."))
            return redirect("knowledge:article", slug=article.slug)
    return render(request, "knowledge/form.html", {"form": form, "title": _("Nouvel article"), "creating": True})


@login_required
def article_edit(request: HttpRequest, slug: str) -> HttpResponse:
    require_operator_staff(request.user)
    actor = signed_in(request)
    if not may_write(actor):
        raise Http404("lecture seule")
    article = selectors.article_get(actor=actor, slug=slug)
    # The form only reads the fields (no _post_clean): the service applies them to the article.
    form = ArticleForm(request.POST or None, instance=article)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.ARTICLE_FIELDS}
        try:
            services.article_update(actor=actor, article=article, data=data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Article enregistré."))
            return redirect("knowledge:article", slug=article.slug)
    return render(
        request,
        "knowledge/form.html",
        {"form": form, "title": _("Modifier « %(title)s »") % {"title": article.title}, "article": article},
    )


@login_required
@require_POST
def article_publish(request: HttpRequest, slug: str) -> HttpResponse:
    require_operator_staff(request.user)
    actor = signed_in(request)
    article = selectors.article_get(actor=actor, slug=slug)
    publish = request.POST.get("publish") == "1"
    try:
        services.article_publish(actor=actor, article=article, published=publish)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Article publié.") if publish else _("Article repassé en brouillon."))
    return redirect("knowledge:article", slug=article.slug)


@login_required
def version_list(request: HttpRequest, slug: str) -> HttpResponse:
    require_operator_staff(request.user)
    article = selectors.article_get(actor=signed_in(request), slug=slug)
    return render(
        request, "knowledge/versions.html", {"article": article, "versions": selectors.version_list(article=article)}
    )


@login_required
def version_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    require_operator_staff(request.user)
    article = selectors.article_get(actor=signed_in(request), slug=slug)
    try:
        version, previous, lines = selectors.version_diff(article=article, number=number)
    except article.versions.model.DoesNotExist:
        raise Http404("version introuvable") from None
    return render(
        request,
        "knowledge/version.html",
        {"article": article, "version": version, "previous": previous, "lines": lines},
    )


def _typed(request: HttpRequest) -> str:
    """The text of a new request's form as typed so far (every field but the CSRF token)."""
    values = [
        value.strip()
        for key in request.GET
        if key not in IGNORED_PARAMETERS
        for value in request.GET.getlist(key)
        if value.strip() and not value.strip().isdigit()
    ]
    return " ".join(values)[:TYPED_MAX]


@login_required
def suggestions(request: HttpRequest) -> HttpResponse:
    """Up to five published articles matching what the agent types on a new request (htmx
    fragment, swapped into the page's live region)."""
    actor = signed_in(request)
    typed = _typed(request)
    articles = (
        selectors.article_search(actor=actor, text=typed, published_only=True, limit=selectors.SUGGESTION_LIMIT)
        if len(typed) >= 3
        else []
    )
    return render(
        request,
        "knowledge/includes/_suggestions.html",
        {"articles": articles, "typed": typed, "can_deflect": services.may_deflect(actor)},
    )


@login_required
@require_POST
def deflection_create(request: HttpRequest, slug: str) -> HttpResponse:
    actor = signed_in(request)
    article = selectors.article_get(actor=actor, slug=slug)
    try:
        services.deflection_record(actor=actor, article=article, typed=request.POST.get("typed", ""))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("knowledge:article", slug=article.slug)
    return redirect(f"{reverse('knowledge:resolved')}?article={article.slug}")


@login_required
def resolved(request: HttpRequest) -> HttpResponse:
    """The confirmation after « ma question est résolue »: no request was filed."""
    article = None
    slug = request.GET.get("article", "")
    if slug:
        article = Article.objects.visible_to(request.user).filter(slug=slug).first()
    return render(request, "knowledge/resolved.html", {"article": article})


@login_required
def cite(request: HttpRequest) -> HttpResponse:
    """Articles to cite in a staff answer (htmx fragment of the staff ticket page)."""
    require_operator_staff(request.user)
    text = request.GET.get("q", "")[:200]
    articles = (
        selectors.article_search(actor=signed_in(request), text=text, published_only=True, limit=8)
        if text.strip()
        else []
    )
    return render(
        request,
        "knowledge/includes/_cite_results.html",
        {"articles": articles, "text": text, "base": request.build_absolute_uri("/")[:-1]},
    )
