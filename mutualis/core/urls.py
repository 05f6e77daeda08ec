from django.urls import path

from mutualis.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("journal/", views.audit_log, name="audit"),
]
