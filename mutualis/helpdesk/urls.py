"""Helpdesk URLs under /assistance/: each part of the helpdesk keeps its routes in its own module."""

from django.urls import include, path

app_name = "helpdesk"
urlpatterns = [
    path("", include("mutualis.helpdesk.urls_tickets")),
    path("", include("mutualis.helpdesk.urls_survey")),
    path("", include("mutualis.helpdesk.urls_config")),
    path("", include("mutualis.helpdesk.urls_outbox")),
]
