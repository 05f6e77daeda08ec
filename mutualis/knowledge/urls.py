"""Knowledge base routes under /connaissances/."""

from django.urls import path

from mutualis.knowledge import views

app_name = "knowledge"
urlpatterns = [
    path("", views.article_index, name="index"),
    path("nouveau/", views.article_create, name="create"),
    path("suggestions/", views.suggestions, name="suggestions"),
    path("citer/", views.cite, name="cite"),
    path("resolue/", views.resolved, name="resolved"),
    path("<slug:slug>/", views.article_detail, name="article"),
    path("<slug:slug>/modifier/", views.article_edit, name="edit"),
    path("<slug:slug>/publication/", views.article_publish, name="publish"),
    path("<slug:slug>/vote/", views.article_vote, name="vote"),
    path("<slug:slug>/resolue/", views.deflection_create, name="deflect"),
    path("<slug:slug>/versions/", views.version_list, name="versions"),
    path("<slug:slug>/versions/<int:number>/", views.version_detail, name="version"),
]
