"""Routes of the failed notifications and jobs under /assistance/notifications/ (operator admins only)."""

from django.urls import path

from mutualis.helpdesk.views import supervision as views

urlpatterns = [
    path("notifications/echecs/", views.notification_failures, name="notification_failures"),
    path("notifications/<int:pk>/reessayer/", views.notification_retry, name="notification_retry"),
    path("notifications/taches/<uuid:job_id>/reessayer/", views.job_retry, name="job_retry"),
]
