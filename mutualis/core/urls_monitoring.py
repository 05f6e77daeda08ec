"""The monitoring endpoints, outside the `core` namespace: public or token-protected, they have no
line in the tenancy table of signed-in roles (core/tests/test_monitoring.py covers them)."""

from django.urls import path

from mutualis.core import views_monitoring

urlpatterns = [
    path("sante/", views_monitoring.health, name="health"),
    path("metriques/", views_monitoring.metrics, name="metrics"),
]
