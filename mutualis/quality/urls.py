"""Quality routes under /qualite/: dashboards, time spent, monthly reports."""

from django.urls import path

from mutualis.quality import views, views_knowledge, views_vendors

app_name = "quality"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("graphiques/<str:name>/<str:token>.svg", views.chart, name="chart"),
    path("temps-passe/", views.time_spent, name="time_spent"),
    path("engagements/", views.commitments, name="commitments"),
    path("editeurs/", views_vendors.vendor_compliance_page, name="vendors"),
    path("connaissances/", views_knowledge.knowledge_page, name="knowledge"),
    path("adherents/<slug:slug>/", views.member, name="member"),
    path("adherents/<slug:slug>/rapports/", views.report_list, name="reports"),
    path("adherents/<slug:slug>/rapports/produire/", views.report_produce, name="report_produce"),
    path("adherents/<slug:slug>/rapports/<str:month>/v<int:version>.pdf", views.report_pdf, name="report_pdf"),
    path("adherents/<slug:slug>/rapports/<str:month>/v<int:version>.html", views.report_html, name="report_html"),
]
