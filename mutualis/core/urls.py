from django.urls import path

from mutualis.core import scheduler_views, views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("journal/", views.audit_log, name="audit"),
    path("systeme/planification/", scheduler_views.scheduler_page, name="scheduler"),
    path("systeme/planification/<slug:name>/suspendre/", scheduler_views.scheduler_job_pause, name="scheduler_pause"),
    path("systeme/planification/<slug:name>/relancer/", scheduler_views.scheduler_run_retry, name="scheduler_retry"),
]
