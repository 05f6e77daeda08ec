"""Vendor clock routes under /marches/ (a contract's commitments)."""

from django.urls import path

from mutualis.ola import views

app_name = "ola"
urlpatterns = [
    path("<str:code>/engagements/nouveau/", views.commitment_create, name="commitment_create"),
    path("engagements/<int:pk>/modifier/", views.commitment_edit, name="commitment_edit"),
    path("engagements/<int:pk>/supprimer/", views.commitment_delete, name="commitment_delete"),
]
