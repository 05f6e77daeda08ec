"""Configuration routes under /assistance/configuration/: calendars, service-level policies,
categories and the priority matrix (operator staff only); refused inbound mail (operator admins)."""

from django.urls import path

from mutualis.helpdesk.views import configuration as views
from mutualis.helpdesk.views import supervision

CONFIG = "configuration/"
CAL = f"{CONFIG}calendriers/"
urlpatterns = [
    path(CONFIG, views.config_index, name="config"),
    path(CAL, views.calendar_list, name="config_calendars"),
    path(f"{CAL}nouveau/", views.calendar_create, name="config_calendar_create"),
    path(f"{CAL}<int:pk>/", views.calendar_detail, name="config_calendar"),
    path(f"{CAL}<int:pk>/modifier/", views.calendar_edit, name="config_calendar_edit"),
    path(f"{CAL}<int:pk>/plages/", views.interval_add, name="config_interval_add"),
    path(f"{CAL}<int:pk>/plages/<int:interval>/supprimer/", views.interval_remove, name="config_interval_remove"),
    path(f"{CAL}<int:pk>/fermetures/", views.closure_add, name="config_closure_add"),
    path(f"{CAL}<int:pk>/fermetures/<int:closure>/supprimer/", views.closure_remove, name="config_closure_remove"),
    path(f"{CONFIG}politiques/", views.policy_list, name="config_policies"),
    path(f"{CONFIG}politiques/nouvelle/", views.policy_create, name="config_policy_create"),
    path(f"{CONFIG}politiques/apercu/", views.policy_preview, name="config_policy_preview"),
    path(f"{CONFIG}politiques/<int:pk>/", views.policy_edit, name="config_policy_edit"),
    path(f"{CONFIG}politiques/<int:pk>/activation/", views.policy_set_active, name="config_policy_active"),
    path(f"{CONFIG}categories/", views.category_list, name="config_categories"),
    path(f"{CONFIG}categories/nouvelle/", views.category_create, name="config_category_create"),
    path(f"{CONFIG}categories/<int:pk>/", views.category_edit, name="config_category_edit"),
    path(f"{CONFIG}matrice/", views.priority_matrix, name="config_matrix"),
    path(f"{CONFIG}matrice/glpi/", views.priority_matrix_restore, name="config_matrix_restore"),
    path(f"{CONFIG}courriels-refuses/", supervision.inbound_refused, name="config_inbound_refused"),
]
