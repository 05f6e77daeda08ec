"""Personal-data routes under /donnees-personnelles/: retention rules, a person's data exported or
erased, the register of requests."""

from django.urls import path

from mutualis.privacy import views

app_name = "privacy"
urlpatterns = [
    path("", views.index, name="index"),
    path("conservation/<slug:kind>/", views.rule_edit, name="rule_edit"),
    path("registre/", views.request_list, name="requests"),
    path("personnes/<slug:kind>/<int:pk>/", views.subject, name="subject"),
    path("personnes/<slug:kind>/<int:pk>/export.<str:fmt>", views.export, name="export"),
    path("personnes/<slug:kind>/<int:pk>/effacement/", views.erase, name="erase"),
]
