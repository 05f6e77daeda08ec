"""Routes of the notification outbox under /assistance/notifications/ (operator admins only)."""

from django.urls import path

from mutualis.helpdesk import views_outbox as views

urlpatterns = [
    path("notifications/echecs/", views.notification_failures, name="notification_failures"),
    path("notifications/<int:pk>/reessayer/", views.notification_retry, name="notification_retry"),
]
