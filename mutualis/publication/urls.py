"""Public routes of the published acts, under /actes/<member>/ (no login)."""

from django.urls import path

from mutualis.publication import views

app_name = "publication"

urlpatterns = [
    path("<slug:slug>/", views.act_list, name="list"),
    path("<slug:slug>/integration/", views.act_embed, name="embed"),
    path("<slug:slug>/verifier/", views.act_verify, name="verify"),
    path("<slug:slug>/actes.json", views.feed_json, name="json"),
    path("<slug:slug>/flux.atom", views.feed_atom, name="atom"),
    path("<slug:slug>/<int:pk>/", views.act_detail, name="act"),
    path("<slug:slug>/<int:pk>/acte.pdf", views.act_pdf, name="pdf"),
]
