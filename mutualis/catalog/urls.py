from django.urls import path, re_path

from mutualis.catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.application_index, name="list"),
    path("nouvelle/", views.application_create, name="create"),
    path("editeurs/nouveau/", views.vendor_create, name="vendor_create"),
    path("editeurs/<slug:slug>/", views.vendor_detail, name="vendor_detail"),
    path("editeurs/<slug:slug>/modifier/", views.vendor_edit, name="vendor_edit"),
    path("domaines/nouveau/", views.domain_create, name="domain_create"),
    path("matrice/", views.matrix, name="matrix"),
    re_path(r"^matrice\.(?P<fmt>csv|xlsx)$", views.matrix_export, name="matrix_export"),
    path("abonnements/<int:pk>/", views.subscription_edit, name="subscription_edit"),
    path("<slug:slug>/", views.application_detail, name="detail"),
    path("<slug:slug>/modifier/", views.application_edit, name="edit"),
    path("<slug:slug>/abonner/", views.subscription_create, name="subscribe"),
]
